"""slack/manifest.yaml against the code: every Slack method the code calls has its scope, every slash
command, shortcut and event the app listens to is registered, and each scope says why it is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.blocks.ids import Commands, Shortcuts
from bot.domain.qa_parse import Calibrate, CalibrationReport, Help, InlineScore, Queue, Report, parse_qa
from bot.domain.qa_types import Category, QaInputError, Rubric
from integrations.emulators.slack import DEFAULT_BOT_SCOPES

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_TEXT = (REPO_ROOT / "slack" / "manifest.yaml").read_text(encoding="utf-8")
MANIFEST = yaml.safe_load(MANIFEST_TEXT)
BOT_SCOPES = set(MANIFEST["oauth_config"]["scopes"]["bot"])
BOT_EVENTS = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
SOURCE_DIRS = ("bot", "handlers", "integrations", "jobs")

# Slack Web API method -> the bot scopes Deskwatch needs for the way it calls it (api.slack.com/methods).
# A method the code starts calling must be added here, which makes this test ask for its scope.
SCOPES_FOR = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write", "chat:write.public"},  # team/tier channels it was not invited to
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.getPermalink": set(),
    "chat.unfurl": {"links:write"},  # the live card under a posted ticket link
    "conversations.info": {"channels:read", "groups:read"},
    "conversations.history": {"channels:history", "groups:history", "im:history"},  # im: a lost DM
    "conversations.replies": {"channels:history", "groups:history"},
    "conversations.join": {"channels:join"},
    "conversations.open": {"im:write"},
    "usergroups.users.list": {"usergroups:read"},
    "users.info": {"users:read", "users:read.email"},  # the email maps a responder to a helpdesk agent
    "users.lookupByEmail": {"users:read.email"},  # a ticket's assignee (by email) to a Slack user, for QA
    "views.open": set(),
    "views.update": set(),
    "views.publish": set(),  # the App Home board
}
# Bolt event listener -> the manifest's bot events it needs, and each event's scope.
EVENTS_FOR = {
    "app_mention": {"app_mention"},
    "message": {"message.channels", "message.groups"},
    "link_shared": {"link_shared"},
    "app_home_opened": {"app_home_opened"},
}
EVENT_SCOPE = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "link_shared": "links:read",
    "app_home_opened": None,  # needs no scope
}

_CALL = re.compile(r"\.((?:auth|chat|conversations|usergroups|users|views)_[A-Za-z_]+)\(")
_NAMED = re.compile(r"\"((?:auth|chat|conversations|usergroups|users|views)\.[A-Za-z.]+)\"")
_EVENT = re.compile(r"app\.event\(\s*(?:\"(\w+)\"|\{\s*\"type\":\s*\"(\w+)\")")


def _sources() -> list[Path]:
    return [
        path
        for folder in SOURCE_DIRS
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if "emulators" not in path.parts
    ]


def _snake_to_method(name: str) -> str:
    family, _, rest = name.partition("_")
    return f"{family}.{rest.replace('_', '.')}" if family == "usergroups" else f"{family}.{rest}"


def slack_methods_called() -> set[str]:
    methods: set[str] = set()
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        methods.update(_snake_to_method(m) for m in _CALL.findall(text))
        methods.update(_NAMED.findall(text))
    return methods


def test_every_slack_method_the_code_calls_is_known_here() -> None:
    called = slack_methods_called()

    assert {"chat.postMessage", "usergroups.users.list", "conversations.open", "users.info"} <= called
    assert called - set(SCOPES_FOR) == set(), "add the new method and its scopes to SCOPES_FOR"


def test_manifest_requests_every_scope_the_code_needs() -> None:
    needed = {scope for method in slack_methods_called() for scope in SCOPES_FOR[method]}

    assert needed - BOT_SCOPES == set()
    assert {"usergroups:read", "users:read.email", "im:write", "im:history"} <= BOT_SCOPES


def test_the_emulators_token_has_every_scope_the_code_needs() -> None:
    """Tests run on the emulator's default token: it must hold what the app is granted in production."""
    needed = {scope for method in slack_methods_called() for scope in SCOPES_FOR[method]}

    assert needed - set(DEFAULT_BOT_SCOPES) == set()


def test_every_scope_and_bot_event_says_why_it_is_there() -> None:
    lines = MANIFEST_TEXT.splitlines()
    listed = [line.strip() for line in lines if re.match(r"^\s+- [a-z_.]+:?[a-z_.]*\s", line + " ")]
    for item in BOT_SCOPES | BOT_EVENTS:
        line = next(entry for entry in listed if entry.split()[1] == item)
        assert "#" in line and line.split("#", 1)[1].strip(), f"{item}: add a comment saying why"


def test_manifest_subscribes_to_every_event_the_app_listens_to() -> None:
    listened = set()
    for path in _sources():
        for plain, typed in _EVENT.findall(path.read_text(encoding="utf-8")):
            listened.add(plain or typed)

    assert listened == set(EVENTS_FOR), "add the new event to EVENTS_FOR and the manifest"
    needed = {event for name in listened for event in EVENTS_FOR[name]}
    assert needed <= BOT_EVENTS
    assert {EVENT_SCOPE[event] for event in BOT_EVENTS} - {None} <= BOT_SCOPES


def test_manifest_commands_and_shortcuts_match_the_handlers() -> None:
    features = MANIFEST["features"]
    commands = {c["command"]: c for c in features["slash_commands"]}
    shortcuts = {s["callback_id"]: s for s in features["shortcuts"]}

    assert set(commands) == {c.value for c in Commands}
    assert commands["/escalate"]["usage_hint"] == "[zd:101 | ic:9001 | ticket link]"
    assert set(shortcuts) == {s.value for s in Shortcuts}
    escalate = shortcuts[Shortcuts.ESCALATE_TICKET.value]
    assert escalate["type"] == "message" and escalate["name"] == "Escalate ticket"
    assert escalate["description"] and len(escalate["description"]) <= 80
    assert "commands" in BOT_SCOPES  # slash commands and shortcuts both need it
    urls = {c["url"] for c in features["slash_commands"]}
    urls |= {MANIFEST["settings"]["interactivity"]["request_url"]}
    urls |= {MANIFEST["settings"]["event_subscriptions"]["request_url"]}
    assert urls == {"https://deskwatch.example.com/slack/events"}


def test_qa_command_escapes_mentions_and_its_usage_hint_parses() -> None:
    """/qa needs the agent's user id: with should_escape a mention arrives as <@U123|name>, without it as
    plain "@name", which the parser refuses. Each form the usage hint shows must be one /qa understands."""
    qa = {c["command"]: c for c in MANIFEST["features"]["slash_commands"]}["/qa"]
    hint = qa["usage_hint"]
    rubric = Rubric(
        scale=5,
        pass_mark=80,
        categories=(Category("accuracy", "Correct resolution", 3), Category("empathy", "Empathy", 2)),
    )

    assert qa["should_escape"] is True
    assert hint.startswith("[") and hint.endswith("]")
    forms = [part.strip() for part in hint[1:-1].split(" | ")]
    assert forms == [
        "@agent zd:123 accuracy=4 …",
        "report [@agent|team] [30d]",
        "calibrate zd:123",
        "calibration report",
        "queue",
        "help",
    ]
    escaped = "<@U0ANA|ana> zd:123 accuracy=4 empathy=5"
    assert isinstance(parse_qa(escaped, rubric), InlineScore)
    with pytest.raises(QaInputError, match="is not a Slack mention"):
        parse_qa("@ana zd:123 accuracy=4 empathy=5", rubric)  # what should_escape: false would send
    assert isinstance(parse_qa("report <@U0ANA|ana> 30d", rubric), Report)
    assert isinstance(parse_qa("report team 30d", rubric), Report)
    assert isinstance(parse_qa("calibrate zd:123", rubric), Calibrate)
    assert isinstance(parse_qa("calibration report", rubric), CalibrationReport)
    assert isinstance(parse_qa("queue", rubric), Queue)
    assert isinstance(parse_qa("help", rubric), Help)
