"""Socket Mode for the Slack emulator: `apps.connections.open` and the WebSocket it hands out.

What Slack does, and so what this does (https://docs.slack.dev/apis/events-api/using-socket-mode/):

- `apps.connections.open` takes an app-level token (`xapp-...`) only: a bot or user token answers
  `not_allowed_token_type`, any other token `invalid_auth`, none `not_authed`. It returns
  `{"ok": true, "url": "ws://127.0.0.1:PORT/link/?ticket=...&app_id=..."}`; each ticket opens one
  connection, once (a reused or unknown ticket is refused at the handshake with HTTP 401).
- On connect the server sends `{"type": "hello", "num_connections": N, "debug_info": {...},
  "connection_info": {"app_id": ...}}`.
- Deliveries are envelopes `{"envelope_id", "type": "slash_commands"|"interactive"|"events_api",
  "payload", "accepts_response_payload", "retry_attempt", "retry_reason"}`; the payload is the JSON
  Slack would POST over HTTP (a slash command's form fields as a dict). The app acks with
  `{"envelope_id": ..., "payload": {...}}` (payload optional): the acks and their payloads are recorded
  (a slash command's ack payload is what Slack shows the user, like an HTTP ack body).
- An envelope not acked within `ack_timeout` seconds is recorded as timed out; Events API envelopes are
  then re-delivered with `retry_attempt` + 1 and `retry_reason` "timeout" (up to 3 retries), as Slack
  retries events; slash commands and interactions are not retried (the user sees an error).
- `{"type": "disconnect", "reason": "refresh_requested"|"warning"|..., "debug_info": {...}}` asks the
  client to open a new connection (`request_reconnect`); the old one gets no new envelopes, and
  envelopes left unacked on a connection that closes are delivered again on the next one.

The WebSocket server (websockets' threaded sync server, 127.0.0.1 port 0) starts on the first
`apps.connections.open`, so emulators that never use Socket Mode run no extra thread.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from integrations.emulators.slack import SlackError

DEFAULT_APP_TOKEN = "xapp-1-A0DESKWATCH-1-deskwatch-emulator"
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
_MAX_EVENT_RETRIES = 3
_TICK_SECONDS = 0.05


@dataclass
class SocketAck:
    """One ack the app sent: `payload` is None when it sent none."""

    envelope_id: str
    type: str | None  # the acked envelope's type; None for an unknown envelope_id
    payload: dict[str, Any] | None
    connection: int
    retry_attempt: int | None
    late: bool = False  # arrived after the envelope had timed out


@dataclass
class _Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    connection: int | None = None  # the connection it was last sent on
    sent_at: float | None = None
    acked: bool = False
    timed_out: int = 0  # how many deliveries went unacked in time

    def wire(self) -> dict[str, Any]:
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": copy.deepcopy(self.payload),
            "accepts_response_payload": self.accepts_response_payload,
            "retry_attempt": self.retry_attempt,
            "retry_reason": self.retry_reason,
        }


@dataclass
class _Link:
    number: int
    ws: ServerConnection
    draining: bool = False
    open: bool = True
    received: list[dict[str, Any]] = field(default_factory=list)


class SlackSocketServer:
    """The Socket Mode side of a `SlackEmulator` (as `emu.socket`). Thread-safe."""

    APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

    def __init__(
        self, emulator: Any, *, app_token: str = DEFAULT_APP_TOKEN, ack_timeout: float = 3.0
    ) -> None:
        self.emulator = emulator
        self.app_token = app_token
        self.ack_timeout = ack_timeout
        self._cond = threading.Condition(threading.RLock())
        self._server: Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._tickets: dict[str, bool] = {}  # ticket -> used
        self._links: list[_Link] = []
        self._envelopes: dict[str, _Envelope] = {}
        self._pending: list[str] = []  # envelope ids waiting for a connection
        self._acks: list[SocketAck] = []
        self._disconnects: list[dict[str, Any]] = []

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._server is not None:
                return
            self._stopping.clear()
            self._server = serve(
                self._serve_link,
                "127.0.0.1",
                0,
                process_request=self._check_ticket,
                ping_interval=None,  # the SDK client pings; Slack does not need to
                compression=None,
            )
            for target, name in ((self._server.serve_forever, "ws"), (self._tick, "ws-acks")):
                thread = threading.Thread(target=target, name=f"slack-emulator-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        with self._cond:
            server, self._server = self._server, None
            links = list(self._links)
            self._stopping.set()
            self._cond.notify_all()
        if server is None:
            return
        server.shutdown()
        for link in links:
            link.ws.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    @property
    def port(self) -> int:
        assert self._server is not None, "socket server not started (no apps.connections.open yet)"
        return self._server.socket.getsockname()[1]

    # -- Web API ---------------------------------------------------------------------------------
    def apps_connections_open(self, call: Any) -> dict[str, Any]:
        """`apps.connections.open`: app-level token only; a single-use WebSocket URL."""
        token = call.token
        if token is None:
            raise SlackError("not_authed")
        if token.startswith(("xoxb-", "xoxp-", "xoxa-", "xoxe-")):
            raise SlackError("not_allowed_token_type")
        if token != self.app_token:
            raise SlackError("invalid_auth")
        self.start()
        ticket = str(uuid.uuid4())
        with self._cond:
            self._tickets[ticket] = False
        app_id = self.emulator.app_id
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={app_id}"}

    # -- test/demo API ---------------------------------------------------------------------------
    def send(
        self, type: str, payload: dict[str, Any], *, accepts_response_payload: bool | None = None
    ) -> str:
        """Deliver an envelope (now, or once a connection is open); returns its envelope_id."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"type must be one of {ENVELOPE_TYPES}, not {type!r}")
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive" and payload.get("type") in ("view_submission", "block_suggestion")
            )
        envelope = _Envelope(str(uuid.uuid4()), type, copy.deepcopy(payload), accepts_response_payload)
        with self._cond:
            self._envelopes[envelope.envelope_id] = envelope
            self._pending.append(envelope.envelope_id)
            self._flush()
        return envelope.envelope_id

    def slash_command(self, payload: dict[str, Any]) -> str:
        """A slash command: `payload` is the form Slack would POST, as a dict of its fields."""
        return self.send("slash_commands", {k: str(v) for k, v in payload.items()})

    def interactive(self, payload: dict[str, Any]) -> str:
        """A block action, view submission, shortcut...: the JSON of the HTTP `payload` field."""
        return self.send("interactive", payload)

    def event(self, payload: dict[str, Any]) -> str:
        """An Events API `event_callback` body."""
        return self.send("events_api", payload)

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        """The first ack of `envelope_id`; AssertionError if none comes within `timeout` seconds."""
        with self._cond:
            found = self._cond.wait_for(lambda: self._first_ack(envelope_id), timeout=timeout)
        if not found:
            raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s")
        return found

    def acks(self, envelope_id: str | None = None) -> list[SocketAck]:
        with self._cond:
            return [copy.deepcopy(a) for a in self._acks if envelope_id in (None, a.envelope_id)]

    def envelope(self, envelope_id: str) -> dict[str, Any]:
        """The envelope as last sent, plus `acked` and `timed_out` (how many deliveries went unacked)."""
        with self._cond:
            env = self._envelopes[envelope_id]
            return {**env.wire(), "acked": env.acked, "timed_out": env.timed_out}

    @property
    def connections(self) -> int:
        """How many WebSocket connections were ever accepted."""
        with self._cond:
            return len(self._links)

    @property
    def open_connections(self) -> int:
        with self._cond:
            return sum(1 for link in self._links if link.open)

    def wait_connections(self, count: int, *, open_: int | None = None, timeout: float = 10.0) -> None:
        """Block until `count` connections were accepted (and `open_` of them are open, if given)."""

        def ready() -> bool:
            if len(self._links) < count:
                return False
            return open_ is None or sum(1 for link in self._links if link.open) == open_

        with self._cond:
            if not self._cond.wait_for(ready, timeout=timeout):
                raise AssertionError(
                    f"timed out waiting for {count} socket connections (have {len(self._links)}, "
                    f"{sum(1 for link in self._links if link.open)} open)"
                )

    def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Send `disconnect` on every open connection: the client opens a new one. They get no new
        envelopes; Slack closes them itself a little later, the SDK client closes them on reconnect."""
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-emulator-1"},
        }
        with self._cond:
            targets = [link for link in self._links if link.open and not link.draining]
            for link in targets:
                link.draining = True
            self._disconnects.append(message)
        for link in targets:
            self._send(link, message)

    # -- internals -------------------------------------------------------------------------------
    def _first_ack(self, envelope_id: str) -> SocketAck | None:
        return next((copy.deepcopy(a) for a in self._acks if a.envelope_id == envelope_id), None)

    def _check_ticket(self, connection: ServerConnection, request: Any) -> Any:
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._cond:
            fresh = parts.path == "/link/" and self._tickets.get(ticket) is False
            if fresh:
                self._tickets[ticket] = True
        if not fresh:
            return connection.respond(401, "invalid_ticket\n")
        return None

    def _serve_link(self, ws: ServerConnection) -> None:
        with self._cond:
            link = _Link(number=len(self._links) + 1, ws=ws)
            self._links.append(link)
            live = sum(1 for other in self._links if other.open)
            self._cond.notify_all()
        hello = {
            "type": "hello",
            "num_connections": live,
            "debug_info": {
                "host": "applink-emulator-1",
                "build_number": 1,
                "approximate_connection_time": 3600,
            },
            "connection_info": {"app_id": self.emulator.app_id},
        }
        try:
            ws.send(json.dumps(hello))
            with self._cond:
                self._flush()
            for raw in ws:
                self._receive(link, raw)
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                link.open = False
                for env in self._envelopes.values():  # unacked here: deliver again on the next one
                    if (
                        env.connection == link.number
                        and not env.acked
                        and env.envelope_id not in self._pending
                    ):
                        self._pending.append(env.envelope_id)
                self._cond.notify_all()
                self._flush()

    def _receive(self, link: _Link, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            return  # Slack ignores what it cannot parse
        if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
            return
        payload = message.get("payload")
        with self._cond:
            link.received.append(message)
            env = self._envelopes.get(message["envelope_id"])
            if env is not None and env.envelope_id in self._pending:
                self._pending.remove(env.envelope_id)
            self._acks.append(
                SocketAck(
                    envelope_id=message["envelope_id"],
                    type=env.type if env is not None else None,
                    payload=copy.deepcopy(payload) if isinstance(payload, dict) else None,
                    connection=link.number,
                    retry_attempt=env.retry_attempt if env is not None else None,
                    late=env is not None and env.timed_out > 0,
                )
            )
            if env is not None:
                env.acked = True
            self._cond.notify_all()

    def _target(self) -> _Link | None:
        return next((link for link in reversed(self._links) if link.open and not link.draining), None)

    def _flush(self) -> None:
        """Send pending envelopes on the newest usable connection (called with the lock held)."""
        while self._pending:
            link = self._target()
            if link is None:
                return
            env = self._envelopes[self._pending.pop(0)]
            if env.acked:
                continue
            if env.connection is not None:  # its connection closed before the ack
                env.retry_attempt += 1
                env.retry_reason = "connection_closed"
            env.connection = link.number
            env.sent_at = time.monotonic()
            if not self._send(link, env.wire()):
                env.connection = None
                self._pending.insert(0, env.envelope_id)
                return

    def _send(self, link: _Link, message: dict[str, Any]) -> bool:
        try:
            link.ws.send(json.dumps(message))
            return True
        except (ConnectionClosed, OSError, RuntimeError):
            link.open = False
            return False

    def _tick(self) -> None:
        """Ack timeouts: record them; re-deliver Events API envelopes as Slack retries events."""
        while not self._stopping.wait(_TICK_SECONDS):
            now = time.monotonic()
            with self._cond:
                for env in self._envelopes.values():
                    if env.acked or env.sent_at is None or now - env.sent_at < self.ack_timeout:
                        continue
                    if env.envelope_id in self._pending:
                        continue
                    env.timed_out += 1
                    env.sent_at = None
                    if env.type == "events_api" and env.retry_attempt < _MAX_EVENT_RETRIES:
                        env.retry_attempt += 1
                        env.retry_reason = "timeout"
                        env.connection = None
                        self._pending.append(env.envelope_id)
                self._flush()
