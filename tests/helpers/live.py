"""The demo desk on emulators seeded at the real current time, plus the environment a `deskwatch`
process needs to reach them: for tests of code paths that read the wall clock (CLI, serve)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.seed import DEMO_CONFIG, make_slack, seed_intercom, seed_zendesk
from integrations.emulators.slack import SlackEmulator
from integrations.emulators.zendesk import ZendeskEmulator


@dataclass
class LiveStack:
    env: dict[str, str]
    slack: SlackEmulator
    zendesk: ZendeskEmulator
    intercom: IntercomEmulator


@contextmanager
def live_stack(
    config_dir: Path,
    database_url: str,
    *,
    config: dict[str, Any] = DEMO_CONFIG,
    slack_token: str = "xoxb-live-test",
    slack: SlackEmulator | None = None,
    seed: bool = True,
) -> Iterator[LiveStack]:
    now = datetime.now(UTC)
    slack = slack or make_slack(slack_token)
    slack_token = slack.token
    zendesk, intercom = ZendeskEmulator(), IntercomEmulator()
    for emu in (slack, zendesk, intercom):
        emu.start()
    try:
        if seed:
            seed_zendesk(zendesk, now)
            seed_intercom(intercom, now)
        config_path = config_dir / "deskwatch.yaml"
        config_path.write_text(yaml.safe_dump(config))
        env = {
            "DESKWATCH_CONFIG": str(config_path),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": slack_token,
            "SLACK_SIGNING_SECRET": "live-signing-secret",
            "SLACK_API_URL": slack.api_url,
            "ZENDESK_SUBDOMAIN": "deskwatch-demo",
            "ZENDESK_EMAIL": zendesk.email,
            "ZENDESK_API_TOKEN": zendesk.token,
            "ZENDESK_URL": zendesk.url,
            "INTERCOM_ACCESS_TOKEN": intercom.token,
            "INTERCOM_URL": intercom.url,
        }
        yield LiveStack(env, slack, zendesk, intercom)
    finally:
        for emu in (slack, zendesk, intercom):
            emu.stop()
