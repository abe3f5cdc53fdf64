"""No card number ever leaves: generated card numbers in ticket subjects, with random separators of
every kind and glued prefixes, go through the real path (Zendesk sync -> decision -> outbox ->
RedactingWebClient -> Slack emulator), and no request body Slack received holds one.

Property-based (hypothesis); one emulator set per test, a new breached ticket per example.
"""

from __future__ import annotations

import json
import string
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.emulators.seed import open_ticket
from jobs.sla import scan
from tests.helpers.cards import card_leaks_in_payload, longest_card_fragment, luhn_numbers, written_cards

_words = st.text(alphabet=string.ascii_letters + " .,:;!?()'\"#&-", max_size=30)
_glued = st.sampled_from(["", "+", "card", "Karte:", "n°", "9", "00", "x"])


@st.composite
def subjects(draw) -> tuple[str, str]:
    digits = draw(luhn_numbers())
    return draw(_words) + draw(_glued) + draw(written_cards(digits)) + draw(_glued) + draw(_words), digits


def test_generated_card_numbers_never_reach_slack(
    zendesk_emu, intercom_emu, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu.add_group(7, "Billing")
    deps = make_deps(demo_config)
    ticket_ids = iter(range(10_000, 20_000))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(subjects())
    def one_example(example: tuple[str, str]) -> None:
        subject, card = example
        ticket_id = next(ticket_ids)
        open_ticket(
            zendesk_emu,
            ticket_id,
            created=clock() - timedelta(hours=2),
            breach_at=clock() - timedelta(minutes=1),
        )
        zendesk_emu.upsert_ticket(id=ticket_id, subject=subject, updated_at=clock())
        slack_emu.reset_log()
        clock.advance(seconds=1)

        scan(deps, clock())

        [post] = [
            c for c in slack_emu.calls("/api/chat.postMessage") if f"zd:{ticket_id} " in c.json()["text"]
        ]
        body = json.loads(post.body)
        assert card_leaks_in_payload(body) == [], subject
        shown = body["text"].split(" - ", 1)[1]  # the subject as the fallback text shows it
        assert longest_card_fragment(shown, card) <= 4, (subject, shown)

    one_example()
