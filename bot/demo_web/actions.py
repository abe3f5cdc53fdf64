"""What the demo page's controls do: the helpdesk pane's operations on the emulators, the clock rate, and
slash commands, clicks, modal submits and closes sent to the bot as signed Slack requests. Mixed into
`DemoWeb` (bot.demo_web.server), which holds the emulators, the signed client and the page state."""

from __future__ import annotations

import json
from typing import Any

from bot.demo_web import forms
from bot.demo_web.render import esc

RATES = (1, 60, 600)


def one(form, name: str) -> str:
    """The last value of a form field ("" when absent)."""
    values = form.get(name) or [""]
    return values[-1]


class DemoActions:
    def helpdesk_op(self, form) -> dict[str, Any]:
        ref, op, arg = one(form, "ref"), one(form, "op"), one(form, "arg")
        source, _, raw = ref.partition(":")
        now = self.clock()
        if source == "zd":
            tid = int(raw)
            if op == "reply":
                self.zendesk.agent_reply(tid, at=now, body="Thanks, we are on it (demo agent reply).")
            elif op == "solve":
                self.zendesk.upsert_ticket(id=tid, status="solved")
            elif op == "priority":
                self.zendesk.set_priority(tid, arg or None, at=now)
            elif op == "assign":
                self.zendesk.upsert_ticket(id=tid, assignee_id=int(arg))
        elif source == "ic":
            if op == "reply":
                admin = next(iter(self.intercom._admins))
                self.intercom.admin_reply(raw, admin, at=now, body="<p>Thanks, we are on it (demo reply)</p>")
            elif op == "solve":
                self.intercom.upsert_conversation(id=raw, state="closed", open=False)
            elif op == "priority":
                self.intercom.upsert_conversation(id=raw, priority=arg)
            elif op == "assign":
                self.intercom.upsert_conversation(id=raw, admin_assignee_id=arg)
        return {"status": f"{ref}: {op} done in the helpdesk; the bot sees it on its next sync"}

    def set_rate(self, form) -> dict[str, Any]:
        rate = int(one(form, "rate") or 1)
        if rate not in RATES:
            raise ValueError(f"rate must be one of {RATES}")
        self.clock.set_rate(rate)
        return {"status": f"demo time now runs ×{rate}"}

    # -- driving the bot -----------------------------------------------------------------------------
    def _response_url(self, channel: str) -> str:
        name = f"demo-web-{next(self._names)}"
        self._response_channels[name] = channel
        return self.slack.response_url(name)

    def command(self, form) -> dict[str, Any]:
        text, channel, user = one(form, "text"), one(form, "channel"), one(form, "user")
        if not text.startswith("/"):
            return {"status": "type a slash command, e.g. /escalate zd:103"}
        command, _, args = text.partition(" ")
        names = self.names()
        if channel == "HOME":
            channel = "C0ALERTS"
        r = self.signed.slash_command(
            command=command,
            text=args.strip(),
            user_id=user,
            user_name=names.get(user, user),
            channel_id=channel,
            channel_name=names.get(channel, channel),
            response_url=self._response_url(channel),
            trigger_id=self.slack.issue_trigger_id(),
        )
        return {
            "status": f"{command} → bot answered HTTP {r.status_code}"
            + (f": {r.text[:200]}" if r.text else "")
        }

    def action(self, form) -> dict[str, Any]:
        user, channel, ts = one(form, "user"), one(form, "channel"), one(form, "ts")
        block_id, action_id, value = one(form, "blockId"), one(form, "actionId"), one(form, "value")
        surface = one(form, "surface") or "message"
        names = self.names()
        if surface == "home":
            view = next((v for v in self.slack.views() if v["id"] == one(form, "viewId")), None)
            if view is None:
                raise LookupError("that Home tab is gone")
            el = forms.find_element(view["blocks"], block_id, action_id) or {
                "type": "button",
                "action_id": action_id,
            }
            r = self.signed.block_actions(
                user_id=user,
                user_name=names.get(user, user),
                action=forms.action_payload(el, block_id, value),
                container={"type": "view", "view_id": view["id"]},
                trigger_id=self.slack.issue_trigger_id(),
                view=view,
            )
            return {"status": f"{action_id} → HTTP {r.status_code}"}
        message = next((m for m in self.slack.messages(channel) if m["ts"] == ts), None)
        if message is None:
            ephemeral = next((e for e in self.slack.ephemerals(channel) if e["ts"] == ts), None)
            message = ephemeral or {"ts": ts, "text": "", "blocks": []}
        el = forms.find_element(message.get("blocks") or [], block_id, action_id) or {
            "type": "button",
            "action_id": action_id,
        }
        wire = {k: v for k, v in message.items() if k not in ("channel", "edited", "metadata", "_surface")}
        r = self.signed.block_actions(
            user_id=user,
            user_name=names.get(user, user),
            action=forms.action_payload(el, block_id, value),
            container={
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": surface == "ephemeral",
            },
            trigger_id=self.slack.issue_trigger_id(),
            response_url=self._response_url(channel),
            channel={"id": channel, "name": names.get(channel, channel)},
            message={"type": "message", "bot_id": self.slack.bot_id, **wire},
        )
        return {"status": f"{action_id} → bot answered HTTP {r.status_code}"}

    def submit(self, form) -> dict[str, Any]:
        view_id, user = one(form, "view_id"), one(form, "user")
        view = next((v for v in self.slack.views() if v["id"] == view_id), None)
        if view is None:
            raise LookupError(f"no view {view_id}")
        values = forms.state_values(view, lambda name: form.get(name, []))
        names = self.names()
        r = self.signed.view_submission(
            user_id=user,
            user_name=names.get(user, user),
            view=view,
            values=values,
            trigger_id=self.slack.issue_trigger_id(),
        )
        answer = json.loads(r.text) if r.text.strip().startswith("{") else {}
        if answer.get("response_action") == "errors":
            errors = "<br>".join(f"{esc(k)}: {esc(v)}" for k, v in answer.get("errors", {}).items())
            self._errors[view_id] = errors
            return {"status": "the bot refused the form", "errors": errors}
        self._errors.pop(view_id, None)
        action = answer.get("response_action")
        if action in ("update", "push") and isinstance(answer.get("view"), dict):
            # Slack shows the ack's view in place (a pushed one too, here: the page keeps one modal).
            with self._lock:
                self._acked[view_id] = (view["hash"], answer["view"])
            return {
                "status": f"submitted → the bot {'updated' if action == 'update' else 'pushed'} the modal"
            }
        with self._lock:
            if action == "clear":
                self._dismissed |= {v["id"] for v in self.slack.views() if v["type"] == "modal"}
            self._dismissed.add(view_id)
        return {"status": f"submitted → bot answered HTTP {r.status_code}"}

    def close(self, form) -> dict[str, Any]:
        view_id, user = one(form, "view_id"), one(form, "user")
        view = next((v for v in self.slack.views() if v["id"] == view_id), None)
        with self._lock:
            self._dismissed.add(view_id)
        if view and view.get("notify_on_close"):
            self.signed.view_closed(user_id=user, user_name=self.names().get(user, user), view=view)
        return {"status": "modal closed"}

    def home(self, form) -> dict[str, Any]:
        user = one(form, "user")
        r = self.signed.event(
            {"type": "app_home_opened", "user": user, "channel": self.slack.dm_channel(user), "tab": "home"},
            bot_user_id=self.slack.bot_user_id,
        )
        return {"status": f"app_home_opened → HTTP {r.status_code}"}
