# ruff: noqa: E501  (HTML fragments read better unbroken)
"""The demo workspace page: a WSGI app on 127.0.0.1 over the emulators' own state.

Reads what the emulated Slack stored (messages, ephemerals, response_url posts, views) and renders it;
clicks, slash commands and modal submits go to the bot as signed Slack requests; the helpdesk pane
calls the Zendesk/Intercom emulators' own methods; the clock control sets the demo clock's rate."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from bot.demo_web import render
from bot.demo_web.actions import DemoActions
from bot.demo_web.page import PAGE
from bot.demo_web.render import esc
from bot.demo_web.signing import SignedSlack


def start_bot_http(deps):
    """The bot's HTTP surface (Bolt at /slack/events) on 127.0.0.1, a free port. Returns (url, stop)."""
    from bot.app import build_bolt_app
    from bot.web import build_wsgi_app, make_http_server

    lazies = ThreadPoolExecutor(max_workers=8, thread_name_prefix="demo-bolt-lazy")
    server = make_http_server(
        build_wsgi_app(deps, build_bolt_app(deps, listener_executor=lazies)), "127.0.0.1", 0
    )
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-bot-http").start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        lazies.shutdown(wait=False, cancel_futures=True)

    return f"http://127.0.0.1:{server.server_port}", stop


class DemoWeb(DemoActions):
    """The page's server. Binds at once (so its URL can be printed first); `attach` wires the demo."""

    def __init__(self, port: int = 8080, host: str = "127.0.0.1") -> None:
        from bot.web import make_http_server

        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the demo page is served on 127.0.0.1 only")
        self._server = make_http_server(self, "127.0.0.1", port, threads=6)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="demo-web")
        self._thread.start()
        self._lock = threading.Lock()
        self._ready = False
        self._dismissed: set[str] = set()
        self._errors: dict[str, str] = {}
        # view id -> (the hash it had when submitted, the view the bot's ack put in its place): Slack applies
        # `response_action: update` itself, so the page shows it until the bot's next views.update.
        self._acked: dict[str, tuple[str, dict[str, Any]]] = {}
        self._response_channels: dict[str, str] = {}
        self._seen: dict[str, int] = {}  # channel -> messages read
        self._names = itertools.count(1)
        self._stop_bot = None

    def attach(self, *, slack, zendesk, intercom, clock, deps, signing_secret: str) -> None:
        self.slack, self.zendesk, self.intercom, self.clock, self.deps = slack, zendesk, intercom, clock, deps
        bot_url, self._stop_bot = start_bot_http(deps)
        self.signed = SignedSlack(
            bot_url + "/slack/events", signing_secret, team_id=slack.team_id, app_id=slack.app_id
        )
        with self._lock:
            self._dismissed = {v["id"] for v in slack.views() if v["type"] == "modal"}
            self._ready = True

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._stop_bot:
            self._stop_bot()

    # -- WSGI --------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        try:
            if method == "GET" and path == "/":
                return _send(start_response, "200 OK", PAGE, "text/html; charset=utf-8")
            query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            if method == "GET" and path == "/state":
                if not self._ready:
                    return _json(
                        start_response,
                        {
                            "sidebar": "Starting the demo…",
                            "main": "",
                            "helpdesk": "",
                            "title": "",
                            "clock": "",
                            "rate": 1,
                            "users": "",
                            "modal_id": None,
                        },
                    )
                return _json(
                    start_response, self.state(query.get("c", "C0ALERTS"), query.get("user", "U0MANAGER"))
                )
            if method == "POST" and path.startswith("/api/") and self._ready:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                form = parse_qs(environ["wsgi.input"].read(size).decode(), keep_blank_values=True)
                handler = {
                    "/api/action": self.action,
                    "/api/command": self.command,
                    "/api/submit": self.submit,
                    "/api/close": self.close,
                    "/api/helpdesk": self.helpdesk_op,
                    "/api/clock": self.set_rate,
                    "/api/home": self.home,
                }.get(path)
                if handler:
                    return _json(start_response, handler(form))
            return _send(start_response, "404 Not Found", "not found", "text/plain")
        except Exception as exc:  # shown to the demo user, who can retry
            return _json(
                start_response, {"status": f"error: {type(exc).__name__}: {exc}"}, "500 Internal Server Error"
            )

    # -- reading -------------------------------------------------------------------------------------
    def _channels(self) -> list[tuple[str, str, str | None]]:
        with self.slack._lock:  # the emulator's own registry (read-only)
            return [(c.id, _display(c.id, c.name), c.im_user) for c in self.slack._channels.values()]

    def _users(self) -> dict[str, str]:
        with self.slack._lock:
            return {uid: _display(uid, u["name"]) for uid, u in self.slack._users.items()}

    def names(self) -> dict[str, str]:
        users = self._users()
        names = dict(users)
        for cid, name, im_user in self._channels():
            names[cid] = f"@{users.get(im_user, im_user)}" if im_user else name
        names.setdefault(self.slack.bot_user_id, "Deskwatch")
        return names

    def state(self, channel: str, user: str) -> dict[str, Any]:
        names = self.names()
        messages = self.slack.messages()
        with self._lock:
            if channel != "HOME":
                self._seen[channel] = sum(1 for m in messages if m["channel"] == channel)
            seen = dict(self._seen)
        counts: dict[str, int] = {}
        for m in messages:
            counts[m["channel"]] = counts.get(m["channel"], 0) + 1
        side = ['<div class="sec">Channels</div>']
        dms = ['<div class="sec">Direct messages</div>']
        for cid, name, im_user in self._channels():
            unread = counts.get(cid, 0) - seen.get(cid, 0)
            badge = f'<span class="n">{unread}</span>' if unread > 0 else ""
            label = f"@ {esc(names[cid][1:])}" if im_user else f"# {esc(name)}"
            row = (
                f'<div class="ch{" sel" if cid == channel else ""}" data-channel="{esc(cid)}">'
                f"<span>{label}</span>{badge}</div>"
            )
            (dms if im_user else side).append(row)
        side.append('<div class="sec">Apps</div>')
        side.append(
            f'<div class="ch{" sel" if channel == "HOME" else ""}" data-channel="HOME"><span>🏠 Deskwatch Home</span></div>'
        )
        modal = self._open_modal()
        return {
            "sidebar": "".join(side + dms),
            "main": self._home(user, names)
            if channel == "HOME"
            else self._channel_html(channel, messages, names),
            "title": "Deskwatch — App Home" if channel == "HOME" else f"#{names.get(channel, channel)}",
            "helpdesk": self._helpdesk_html(),
            "clock": f"demo time {self.clock():%a %d %b %H:%M:%S} UTC",
            "rate": int(getattr(self.clock, "rate", 1)),
            "users": "".join(
                f'<option value="{esc(u)}"{" selected" if u == "U0MANAGER" else ""}>{esc(n)}</option>'
                for u, n in self._users().items()
            ),
            "modal_id": modal["id"] if modal else None,
            "modal_key": f"{modal['id']}/{modal['hash']}" if modal else None,
            "modal": self._modal_html(modal, names) if modal else "",
            "modal_errors": self._errors.get(modal["id"], "") if modal else "",
        }

    def _message_html(
        self, m: dict[str, Any], names: dict[str, str], *, cls: str = "msg", note: str = ""
    ) -> str:
        body = (
            render.blocks(m.get("blocks"), names)
            if m.get("blocks")
            else render.mrkdwn(m.get("text", ""), names)
        )
        author = names.get(m.get("user", ""), "Deskwatch") if m.get("user") else "Deskwatch"
        edited = ' <span class="meta">(edited)</span>' if m.get("edited") else ""
        stamp = datetime.fromtimestamp(float(m["ts"]), UTC).strftime("%H:%M:%S") if m.get("ts") else ""
        return (
            f'<div class="{cls}" data-ts="{esc(m.get("ts", ""))}" data-channel="{esc(m.get("channel", ""))}"'
            f' data-surface="{esc(m.get("_surface", "message"))}">'
            f'<div class="meta"><b>{esc(author)}</b> {stamp}{edited}{note}</div>{body}</div>'
        )

    def _channel_html(self, channel: str, messages: list[dict[str, Any]], names: dict[str, str]) -> str:
        mine = [m for m in messages if m["channel"] == channel]
        replies: dict[str, list[dict[str, Any]]] = {}
        top = []
        for m in mine:
            if m.get("thread_ts") and m["thread_ts"] != m["ts"]:
                replies.setdefault(m["thread_ts"], []).append(m)
                if m.get("reply_broadcast"):
                    top.append(m)
            else:
                top.append(m)
        out = []
        for m in top:
            if m.get("thread_ts") and m["thread_ts"] != m["ts"]:
                out.append(
                    self._message_html(m, names, note=" · replied to a thread, also sent to the channel")
                )
                continue
            out.append(self._message_html(m, names))
            thread = replies.get(m["ts"], [])
            if thread:
                inner = "".join(self._message_html(r, names) for r in thread)
                out.append(
                    f'<div class="thread"><div class="meta">{len(thread)} repl{"y" if len(thread) == 1 else "ies"}</div>{inner}</div>'
                )
        for e in self.slack.ephemerals(channel):
            e = {**e, "_surface": "ephemeral"}
            out.append(
                self._message_html(
                    e,
                    names,
                    cls="msg ephemeral",
                    note=f" · only visible to @{esc(names.get(e['user'], e['user']))}",
                )
            )
        for r in self.slack.responses():
            if self._response_channels.get(r["_name"]) != channel:
                continue
            how = "replaces the original" if r.get("replace_original") else "response"
            scope = "in the channel" if r.get("response_type") == "in_channel" else "only visible to you"
            out.append(
                self._message_html(
                    {**r, "channel": channel, "_surface": "ephemeral"},
                    names,
                    cls="msg ephemeral",
                    note=f" · {how}, {scope} (response_url)",
                )
            )
        return "".join(out) or '<div class="meta">No messages yet.</div>'

    def _home(self, user: str, names: dict[str, str]) -> str:
        view = next((v for v in self.slack.views() if v["type"] == "home" and v.get("user_id") == user), None)
        if view is None:
            return '<div class="meta">Deskwatch has not published a Home tab for this user yet.</div>'
        return (
            f'<div class="msg" data-ts="" data-channel="" data-surface="home" data-view-id="{esc(view["id"])}">'
            f"{render.blocks(view['blocks'], names)}</div>"
        )

    def _open_modal(self) -> dict[str, Any] | None:
        with self._lock:
            dismissed = set(self._dismissed)
        modals = [v for v in self.slack.views() if v["type"] == "modal" and v["id"] not in dismissed]
        if not modals:
            return None
        view = modals[-1]
        with self._lock:
            acked = self._acked.get(view["id"])
        if acked and acked[0] == view["hash"]:
            return {**view, **acked[1], "id": view["id"], "hash": f"{view['hash']}/ack"}
        return view

    def _modal_html(self, view: dict[str, Any], names: dict[str, str]) -> str:
        title = render.text_object(view.get("title"))
        body = "".join(render.block(b, names) for b in view.get("blocks") or [])
        close = render.text_object(view.get("close")) or "Cancel"
        submit = (  # a view without `submit` (a result, a notice) only closes
            f'<button type="submit" class="btn primary" id="m-submit">{render.text_object(view["submit"])}</button>'
            if view.get("submit")
            else ""
        )
        return (
            f'<h2>{title}</h2><div class="errors"></div>{body}<div class="m-foot">'
            f'<button type="button" class="btn" id="m-close">{close}</button>{submit}</div>'
        )

    # -- helpdesk pane -------------------------------------------------------------------------------
    def _helpdesk_html(self) -> str:
        now = self.clock()
        with self.zendesk._lock:
            ids = sorted(t.id for t in self.zendesk._tickets.values() if not t.deleted)
            agents = {uid: u["name"] for uid, u in self.zendesk._users.items() if u.get("role") != "end-user"}
        with self.intercom._lock:
            conv_ids = sorted(self.intercom._conversations, key=lambda c: int(c) if c.isdigit() else 0)
            admins = {aid: a.get("name", aid) for aid, a in self.intercom._admins.items()}
        rows = ["<h3>Zendesk tickets</h3><table>"]
        for tid in ids:
            t = self.zendesk.ticket_json(tid)
            if t.get("status") == "closed":
                continue
            due = [
                datetime.fromisoformat(m["breach_at"].replace("Z", "+00:00"))
                for m in (t.get("slas") or {}).get("policy_metrics", [])
                if m.get("stage") == "active" and m.get("breach_at")
            ]
            clock = _sla_clock(min(due) - now) if due else '<span class="meta">no SLA clock</span>'
            who = agents.get(t.get("assignee_id"), "unassigned")
            rows.append(
                f'<tr data-ref="zd:{tid}"><td><b>zd:{tid}</b> {esc(t.get("subject", ""))}<br>'
                f'<span class="meta">{esc(t.get("status"))} · {esc(t.get("priority") or "no priority")} · {esc(who)}</span>'
                f"<br>{clock}</td><td>"
                f'<button class="btn hd" data-op="reply">Reply</button> <button class="btn hd" data-op="solve">Solve</button><br>'
                f"{_select('priority', ['low', 'normal', 'high', 'urgent'], t.get('priority'))}"
                f'<button class="btn hd" data-op="priority">Set</button><br>'
                f"{_select('assign', list(agents.items()), t.get('assignee_id'))}"
                f'<button class="btn hd" data-op="assign">Assign</button></td></tr>'
            )
        rows.append("</table><h3>Intercom conversations</h3><table>")
        for cid in conv_ids:
            c = self.intercom.conversation(cid)
            if c.get("state") == "closed":
                continue
            waiting = c.get("waiting_since")
            clock = (
                _sla_clock(-(now - datetime.fromtimestamp(waiting, now.tzinfo)), waiting=True)
                if waiting
                else '<span class="meta">not waiting</span>'
            )
            who = admins.get(str(c.get("admin_assignee_id")), "unassigned")
            subject = render.esc(((c.get("source") or {}).get("subject") or c.get("title") or "")[:80])
            rows.append(
                f'<tr data-ref="ic:{esc(cid)}"><td><b>ic:{esc(cid)}</b> {subject}<br>'
                f'<span class="meta">{esc(c.get("state"))} · {esc(c.get("priority"))} · {esc(who)}</span><br>{clock}</td><td>'
                f'<button class="btn hd" data-op="reply">Reply</button> <button class="btn hd" data-op="solve">Close</button><br>'
                f"{_select('priority', ['priority', 'not_priority'], c.get('priority'))}"
                f'<button class="btn hd" data-op="priority">Set</button><br>'
                f"{_select('assign', list(admins.items()), str(c.get('admin_assignee_id')))}"
                f'<button class="btn hd" data-op="assign">Assign</button></td></tr>'
            )
        rows.append("</table>")
        return "".join(rows)


def _display(ident: str, name: str) -> str:
    """The seeded ids double as names (`C0BILLING` is "c0billing"): show "billing", as a workspace would."""
    if name == ident.lower() and name[:2] in ("c0", "u0") and len(name) > 2:
        return name[2:]
    return name


def _sla_clock(left: timedelta, *, waiting: bool = False) -> str:
    minutes = int(abs(left.total_seconds()) // 60)
    span = f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
    if waiting:
        return f'<span class="soon">⏱ customer waiting {span}</span>'
    if left.total_seconds() < 0:
        return f'<span class="late">⏱ breached {span} ago</span>'
    cls = "soon" if left <= timedelta(minutes=30) else "meta"
    return f'<span class="{cls}">⏱ due in {span}</span>'


def _select(cls: str, options: list, current: Any) -> str:
    items = []
    for opt in options:
        value, label = opt if isinstance(opt, tuple) else (opt, opt)
        mark = " selected" if str(value) == str(current) else ""
        items.append(f'<option value="{esc(value)}"{mark}>{esc(label)}</option>')
    return f'<select class="{cls}">{"".join(items)}</select>'


def _send(start_response, status: str, body: str, content_type: str):
    data = body.encode()
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            (
                "Content-Security-Policy",
                "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                "img-src 'self' http://127.0.0.1:*; connect-src 'self'",
            ),
        ],
    )
    return [data]


def _json(start_response, body: dict[str, Any], status: str = "200 OK"):
    return _send(start_response, status, json.dumps(body), "application/json")
