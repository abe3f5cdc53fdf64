"""The poll is the safety net once webhooks arrive: a helpdesk with recent verified webhooks is synced
less often, the other at the base interval, and both go back to the base when webhooks stop."""

from __future__ import annotations

from bot.domain.model import Source
from bot.services.realtime import QUIET_AFTER, STRETCH
from jobs.sla import sync_job

BOTH = {Source.ZENDESK, Source.INTERCOM}


def test_a_helpdesk_sending_webhooks_is_polled_less_often_until_they_stop(
    make_deps, demo_config, seeded, clock
):
    deps = make_deps(demo_config)
    base = deps.config.schedule.sync_interval  # 15 s in the demo configuration
    assert {r.source for r in sync_job(deps, clock())} == BOTH
    deps.realtime.clock = clock  # webhook arrival times on the test's clock
    deps.realtime.submit(Source.ZENDESK, "101")

    clock.advance(base)
    assert [r.source for r in sync_job(deps, clock())] == [Source.INTERCOM]  # Zendesk: webhooks arrive
    clock.advance(base * (STRETCH - 1))  # STRETCH x base since Zendesk's last poll: the safety net runs
    assert {r.source for r in sync_job(deps, clock())} == BOTH
    clock.advance(QUIET_AFTER)  # no webhook for that long: back to the base interval at once
    assert {r.source for r in sync_job(deps, clock())} == BOTH
    clock.advance(base)
    assert {r.source for r in sync_job(deps, clock())} == BOTH
