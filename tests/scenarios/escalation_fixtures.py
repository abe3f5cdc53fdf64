"""Shared set-up of the escalation flow tests: the issue's exact escalation block on the demo desk."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from bot.demo_escalation import DEMO_ESCALATION as ESCALATION_BLOCK  # the exact block


def escalation_config(**tier_overrides):
    from bot.config import config_from_dict
    from integrations.emulators.seed import DEMO_CONFIG

    data = copy.deepcopy(DEMO_CONFIG)
    block = copy.deepcopy(ESCALATION_BLOCK)
    for name, extra in tier_overrides.items():
        next(t for t in block["tiers"] if t["name"] == name).update(extra)
    data["escalation"] = block
    return config_from_dict(data, source="tests")


@pytest.fixture
def esc_desk(seeded, slack_emu):
    """The demo desk plus what the escalation block names: channel C0T2, responders, helpdesk group 900."""
    zendesk, intercom = seeded
    slack_emu.add_channel("C0T2")
    for user, name in (("U0T2A", "tara"), ("U0T2B", "tom"), ("U0LEGAL", "lena"), ("U0AGENT", "ada")):
        slack_emu.add_user(user, name, email=f"{name}@deskwatch.example")
    zendesk.add_group(900, "Compliance review")
    intercom.add_team(900, "Compliance review")
    zendesk.add_user(5900, "Tara T2", email="tara@deskwatch.example")
    return zendesk, intercom


@pytest.fixture
def esc_bot(esc_desk, make_deps) -> Iterator:
    from tests.conftest import RunningBot
    from tests.helpers.bolt_server import start_bot

    deps = make_deps(escalation_config())
    server, stop = start_bot(deps)
    yield RunningBot(url=f"http://127.0.0.1:{server.server_port}", deps=deps)
    stop()
