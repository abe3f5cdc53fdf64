"""Ticket link unfurls through signed `link_shared` deliveries to the running bot, answered with
`chat.unfurl` on the Slack emulator (which checks the target message, the URLs and the blocks)."""

from __future__ import annotations

import json

import pytest

from bot.blocks.ids import SlaActions, UnfurlActions, UnfurlBlocks
from bot.blocks.metadata import AlertButtonValue
from integrations.emulators.blockkit import validate_blocks
from jobs.sla import scan
from tests.helpers.slack_requests import block_action, link_shared, link_shared_payload
from tests.helpers.waiting import wait_for

ZD_101 = "https://deskwatch-demo.zendesk.com/agent/tickets/101"
ZD_102 = "https://deskwatch-demo.zendesk.com/agent/tickets/102"
ZD_108 = "https://deskwatch-demo.zendesk.com/agent/tickets/108"
IC_9001 = "https://app.intercom.com/a/inbox/abc123/inbox/conversation/9001"
DOMAINS = ("zendesk.com", "intercom.com")


def _share(bot, emu, text: str, *, channel: str = "C0BILLING", event_id: str = "EvLink1"):
    ts = emu.unfurl.post_user_message(channel, "U0MANAGER", text)
    event = emu.unfurl.link_shared_event(channel, ts, domains=DOMAINS)
    resp = link_shared(bot.events_url, secret=bot.secret, event=event, event_id=event_id)
    assert resp.status_code == 200
    return ts


def _unfurls_of(emu, ts: str) -> dict:
    return wait_for(
        lambda: next((m.get("unfurls") for m in emu.messages() if m["ts"] == ts and m.get("unfurls")), None),
        what="chat.unfurl on the shared message",
    )


def _fields(card: dict) -> list[str]:
    return [
        f["text"] for f in next(b for b in card["blocks"] if b["block_id"] == UnfurlBlocks.FIELDS)["fields"]
    ]


def _buttons(card: dict) -> list[dict]:
    return [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_zendesk_link_gets_a_live_card(seeded, running_bot, slack_emu, clock):
    scan(running_bot.deps, clock())  # synced copy + the posted breach alert for zd:101
    ts = _share(running_bot, slack_emu, f"customer is upset <{ZD_101}>")

    card = _unfurls_of(slack_emu, ts)[ZD_101]
    call = slack_emu.calls("/api/chat.unfurl")[0].json()
    assert call["channel"] == "C0BILLING" and call["ts"] == ts  # answered by channel + message ts
    assert validate_blocks(card["blocks"], surface="message") == []
    summary = card["blocks"][0]["text"]["text"]
    assert "zd:101" in summary and "Card payment declined twice at checkout" in summary
    fields = _fields(card)
    assert fields[:4] == [
        "*Status*\nOpen",
        "*Priority*\nUrgent",
        "*Assignee*\nAna Ruiz",
        "*Team*\nbilling (Billing)",
    ]
    assert ":rotating_light: Breached · First reply" in fields[4] and "breached 12m ago" in fields[4]
    assert "14:48 UTC" in fields[4]
    alert = next(a for a in running_bot.deps.store.all_alerts() if str(a.ref) == "zd:101")
    ack = next(b for b in _buttons(card) if b["action_id"] == SlaActions.ACKNOWLEDGE)
    assert AlertButtonValue.decode(ack["value"]).alert_id == alert.id
    assert UnfurlActions.ESCALATE not in {
        b["action_id"] for b in _buttons(card)
    }  # escalations not configured


def test_unsynced_ticket_is_read_from_the_helpdesk_and_unknown_team_says_so(seeded, running_bot, slack_emu):
    ts = _share(running_bot, slack_emu, f"stuck for weeks: {ZD_108}")  # no scan: not in the store

    card = _unfurls_of(slack_emu, ts)[ZD_108]
    fields = _fields(card)
    assert fields[3] == "*Team*\n_no team_ (Unassigned queue)"
    assert fields[2] == "*Assignee*\nUnassigned"
    assert SlaActions.ACKNOWLEDGE not in {b["action_id"] for b in _buttons(card)}  # no alert posted


def test_intercom_link_and_non_ticket_links(seeded, running_bot, slack_emu, clock):
    scan(running_bot.deps, clock())
    text = f"<{IC_9001}|the conversation>, <https://deskwatch-demo.zendesk.com/agent/filters/1> and <https://example.com/x>"
    ts = _share(running_bot, slack_emu, text)

    unfurls = _unfurls_of(slack_emu, ts)
    assert set(unfurls) == {IC_9001}  # the Zendesk view and the other site are not tickets: no card
    summary = unfurls[IC_9001]["blocks"][0]["text"]["text"]
    assert "ic:9001" in summary and "Intercom" in summary


def test_card_number_in_the_subject_is_masked_in_what_slack_received(seeded, running_bot, slack_emu, clock):
    scan(running_bot.deps, clock())
    ts = _share(running_bot, slack_emu, ZD_102)

    card = _unfurls_of(slack_emu, ts)[ZD_102]
    sent = slack_emu.calls("/api/chat.unfurl")[0].body.decode()
    assert "4111 1111 1111 1111" not in sent and "4111111111111111" not in sent
    assert "Refund not received for card [card •••• 1111]" in card["blocks"][0]["text"]["text"]


def test_missing_ticket_gets_no_unfurl_and_no_error(seeded, running_bot, slack_emu):
    ts = _share(running_bot, slack_emu, "https://deskwatch-demo.zendesk.com/agent/tickets/999999")
    _share(running_bot, slack_emu, "https://example.com/only", event_id="EvLink2")
    ts_ok = _share(running_bot, slack_emu, ZD_101, event_id="EvLink3")  # the listener is still fine

    _unfurls_of(slack_emu, ts_ok)
    assert not next(m for m in slack_emu.messages() if m["ts"] == ts).get("unfurls")
    assert len(slack_emu.calls("/api/chat.unfurl")) == 1
    assert not [m for m in slack_emu.messages() if m["user"] == slack_emu.bot_user_id]  # no error posted


def test_acknowledge_on_the_card_acknowledges_the_alert(seeded, running_bot, slack_emu, clock):
    deps = running_bot.deps
    scan(deps, clock())
    alert = next(a for a in deps.store.all_alerts() if str(a.ref) == "zd:101")
    ts = _share(running_bot, slack_emu, ZD_101)
    ack = next(
        b for b in _buttons(_unfurls_of(slack_emu, ts)[ZD_101]) if b["action_id"] == SlaActions.ACKNOWLEDGE
    )

    resp = block_action(
        running_bot.events_url,
        secret=running_bot.secret,
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        message_ts=ts,  # the click comes from the shared message, not from the alert
        action_id=ack["action_id"],
        value=ack["value"],
        block_id=UnfurlBlocks.ACTIONS.value,
        response_url=slack_emu.response_url("unfurl-ack"),
    )

    assert resp.status_code == 200
    updated = wait_for(
        lambda: next((m for m in slack_emu.messages() if m["ts"] == alert.ts and m.get("edited")), None),
        what="chat.update of the alert message",
    )
    assert deps.store.get_alert(alert.id).acked_by == "U0MANAGER"
    assert "<@U0MANAGER>" in repr(updated["blocks"])

    ts2 = _share(running_bot, slack_emu, ZD_101, event_id="EvLink2")  # a new card has no Acknowledge
    assert SlaActions.ACKNOWLEDGE not in {
        b["action_id"] for b in _buttons(_unfurls_of(slack_emu, ts2)[ZD_101])
    }


def test_composer_links_are_answered_by_unfurl_id(seeded, running_bot, slack_emu):
    event = slack_emu.unfurl.composer_link_shared_event("C0BILLING", "U0MANAGER", [ZD_101])

    link_shared(running_bot.events_url, secret=running_bot.secret, event=event)

    unfurls = wait_for(lambda: slack_emu.unfurl.composer_unfurls(event["unfurl_id"]), what="composer unfurl")
    assert set(unfurls) == {ZD_101}
    call = slack_emu.calls("/api/chat.unfurl")[0].json()
    assert call["source"] == "composer" and "channel" not in call


def test_escalate_on_the_card_opens_the_escalation_form(esc_bot, slack_emu, clock):
    ts = _share(esc_bot, slack_emu, ZD_101)
    escalate = next(
        b for b in _buttons(_unfurls_of(slack_emu, ts)[ZD_101]) if b["action_id"] == UnfurlActions.ESCALATE
    )

    block_action(
        esc_bot.events_url,
        secret=esc_bot.secret,
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        message_ts=ts,
        action_id=escalate["action_id"],
        value=escalate["value"],
        trigger_id=slack_emu.issue_trigger_id(),
        response_url=slack_emu.response_url("unfurl-esc"),
    )

    form = wait_for(
        lambda: next(
            (v for v in slack_emu.views() if "zd:101" in json.dumps(v) and v.get("private_metadata")), None
        ),
        what="the /escalate form for zd:101",
    )
    assert json.loads(form["private_metadata"])["ref"] == "zd:101"


# -- the emulator's chat.unfurl is as strict as Slack ------------------------------------------------
@pytest.fixture
def web(slack_emu):
    from slack_sdk import WebClient

    from tests.conftest import SLACK_TOKEN

    return WebClient(token=SLACK_TOKEN, base_url=slack_emu.api_url)


def _card() -> dict:
    return {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "card"}}]}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(ts="1.2", unfurls={ZD_101: _card()}), "invalid_arguments"),  # ts without channel
        (
            dict(channel="C0BILLING", ts="1.2", unfurl_id="x", source="composer", unfurls={}),
            "invalid_arguments",
        ),
        (dict(channel="C0NOPE", ts="1.2", unfurls={ZD_101: _card()}), "cannot_find_channel"),
        (dict(channel="C0BILLING", ts="1.2", unfurls={ZD_101: _card()}), "cannot_find_message"),
        (
            dict(unfurl_id="nope", source="conversations_history", unfurls={ZD_101: _card()}),
            "cannot_find_message",
        ),
        (dict(channel="C0BILLING", unfurls={ZD_102: _card()}), "cannot_unfurl_url"),
        (dict(channel="C0BILLING", unfurls=[_card()]), "invalid_unfurls_format"),
        (dict(channel="C0BILLING", unfurls={ZD_101: {"text": "x"}}), "invalid_unfurls_format"),
        (dict(channel="C0BILLING", unfurls={ZD_101: {"blocks": [{"type": "nope"}]}}), "invalid_blocks"),
    ],
)
def test_chat_unfurl_refuses_what_slack_refuses(slack_emu, web, kwargs, error):
    from slack_sdk.errors import SlackApiError

    ts = slack_emu.unfurl.post_user_message("C0BILLING", "U0MANAGER", f"<{ZD_101}>")
    if kwargs.get("channel") == "C0BILLING" and "ts" not in kwargs:
        kwargs["ts"] = ts
    with pytest.raises(SlackApiError) as exc:
        web.chat_unfurl(**kwargs)
    assert exc.value.response["error"] == error


def test_chat_unfurl_needs_links_write(slack_emu, web):
    from slack_sdk.errors import SlackApiError

    slack_emu.scopes = tuple(s for s in slack_emu.scopes if s != "links:write")
    ts = slack_emu.unfurl.post_user_message("C0BILLING", "U0MANAGER", ZD_101)
    with pytest.raises(SlackApiError) as exc:
        web.chat_unfurl(channel="C0BILLING", ts=ts, unfurls={ZD_101: _card()})
    assert exc.value.response["error"] == "missing_scope" and exc.value.response["needed"] == "links:write"


def test_chat_unfurl_accepts_a_json_string_and_unfurl_id(slack_emu, web):
    ts = slack_emu.unfurl.post_user_message("C0BILLING", "U0MANAGER", f"see {ZD_101}")
    event = slack_emu.unfurl.link_shared_event("C0BILLING", ts, domains=DOMAINS)

    web.api_call(
        "chat.unfurl",
        data={
            "unfurl_id": event["unfurl_id"],
            "source": "conversations_history",
            "unfurls": json.dumps({ZD_101: _card()}),
        },
    )

    assert next(m for m in slack_emu.messages() if m["ts"] == ts)["unfurls"] == {ZD_101: _card()}
    assert event["links"] == [{"domain": "zendesk.com", "url": ZD_101}]
    assert link_shared_payload(event=event)["event"]["type"] == "link_shared"
