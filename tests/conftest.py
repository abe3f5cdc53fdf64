"""Shared fixtures: an isolated database (SQLite, or PostgreSQL when DESKWATCH_TEST_DATABASE_URL points
at one), emulators on 127.0.0.1 port 0, settings built explicitly (never from the developer's env),
a fake clock, and the composed bot."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from tests.helpers.clock import FakeClock

pytest_plugins = ["tests.scenarios.escalation_fixtures"]  # esc_desk, esc_bot

# Property tests check correctness, not speed: a loaded CI host must not fail them on generation time.
hypothesis_settings.register_profile("deskwatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("deskwatch")

ENV_VARS = (
    "DESKWATCH_CONFIG",
    "DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "ZENDESK_SUBDOMAIN",
    "ZENDESK_EMAIL",
    "ZENDESK_API_TOKEN",
    "ZENDESK_URL",
    "ZENDESK_WEBHOOK_SECRET",
    "INTERCOM_ACCESS_TOKEN",
    "INTERCOM_CLIENT_SECRET",
    "INTERCOM_URL",
    "INTERCOM_API_KEY",
)

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
SLACK_TOKEN = "xoxb-test-token"


def pytest_report_header(config) -> str:
    url = os.environ.get("DESKWATCH_TEST_DATABASE_URL")
    return f"deskwatch test database: {'PostgreSQL ' + url if url else 'SQLite (per-test file)'}"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real tokens in a developer's shell never reach a test run."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)  # pydantic-settings matches case-insensitively
    monkeypatch.delenv("ZENPY_FORCE_NETLOC", raising=False)
    monkeypatch.delenv("ZENPY_FORCE_SCHEME", raising=False)


@pytest.fixture(autouse=True)
def _default_logging():
    """CLI tests configure structlog; every test starts from and returns to the defaults."""
    import structlog

    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a throw-away PostgreSQL schema."""
    base = os.environ.get("DESKWATCH_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'deskwatch-test.db'}"
        return
    schema = f"dw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slack_emu(clock):
    from integrations.emulators.seed import DEMO_CHANNELS
    from integrations.emulators.slack import SlackEmulator

    emu = SlackEmulator(
        token=SLACK_TOKEN,
        channels=DEMO_CHANNELS,
        users=("U0MANAGER", "U0PAYLEAD", "U0COMPLY"),
        wall_clock=lambda: clock().timestamp(),
    )
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def zendesk_emu(clock):
    from integrations.emulators.zendesk import ZendeskEmulator

    emu = ZendeskEmulator(now=clock)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def intercom_emu(clock):
    from integrations.emulators.intercom import IntercomEmulator

    emu = IntercomEmulator(now=clock)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def demo_config():
    from bot.config import config_from_dict
    from integrations.emulators.seed import DEMO_CONFIG

    return config_from_dict(DEMO_CONFIG, source="tests")


@pytest.fixture
def settings(database_url, slack_emu, zendesk_emu, intercom_emu):
    from bot.config import load_settings

    return load_settings(
        database_url=database_url,
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_emu.api_url,
        zendesk_subdomain="deskwatch-demo",
        zendesk_email=zendesk_emu.email,
        zendesk_api_token=zendesk_emu.token,
        zendesk_url=zendesk_emu.url,
        intercom_access_token=intercom_emu.token,
        intercom_url=intercom_emu.url,
    )


@pytest.fixture
def make_deps(settings, clock):
    """Build the real composition (store, adapters, WebClient with retry handlers) against emulators."""
    from bot.app import build_deps

    built = []

    def factory(config, **overrides):
        overrides.setdefault("post_interval", 0)  # pacing has its own tests; the rest need no waits
        deps = build_deps(settings, config, clock=clock, **overrides)
        built.append(deps)
        return deps

    yield factory
    for deps in built:
        deps.store.engine.dispose()


@pytest.fixture
def seeded(zendesk_emu, intercom_emu, clock):
    """The demo's fintech support desk, seeded at the fixed test time."""
    from integrations.emulators.seed import seed_intercom, seed_zendesk

    seed_zendesk(zendesk_emu, clock())
    seed_intercom(intercom_emu, clock())
    return zendesk_emu, intercom_emu


@dataclass
class RunningBot:
    url: str
    deps: object
    secret: str = SIGNING_SECRET

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"


@pytest.fixture
def running_bot(make_deps, demo_config) -> Iterator[RunningBot]:
    """`deskwatch serve`'s HTTP surface on 127.0.0.1:0 (without the scheduler: tests run jobs themselves)."""
    from tests.helpers.bolt_server import start_bot

    deps = make_deps(demo_config)
    server, stop = start_bot(deps)
    yield RunningBot(url=f"http://127.0.0.1:{server.server_port}", deps=deps)
    stop()
