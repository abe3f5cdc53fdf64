"""Shared HTTP plumbing for the local helpdesk/Slack emulators.

Each emulator is a `ThreadingHTTPServer` bound to 127.0.0.1 on port 0 (never a fixed port, so suites
can run side by side), serving from a daemon thread. State lives on the instance, never in class
attributes. Every request is recorded (method, path, query, headers, body) so tests assert on what
the real SDK clients actually sent, and faults are scripted explicitly per test: `fail_next` answers
with an error *without* touching state; `lose_response` and `hold_responses` let the request change
state and then lose or delay its response, the "did it happen or not?" case clients must survive.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    path_prefix: str
    method: str | None
    status: int
    remaining: int
    retry_after: int | None
    body: Any


LossMode = Literal["reset", "timeout", "close"]
_LOSS_MODES = ("reset", "timeout", "close")
_POLL_SECONDS = 0.05


@dataclass
class _Loss:
    path_prefix: str
    method: str | None
    mode: LossMode
    remaining: int
    delay: float


class ResponseHold:
    """Handle returned by `EmulatorServer.hold_responses`: matching requests are handled, then wait.

    Each held response is sent once `release()` is called; it is dropped (connection closed without a
    response) if the client disconnects first (a killed process, a client timeout) or the emulator stops.
    After `release()` new requests are no longer held. `set()`/`is_set()` mirror `threading.Event`.
    """

    def __init__(self, path_prefix: str, method: str | None) -> None:
        self.path_prefix = path_prefix
        self.method = method
        self._released = threading.Event()
        self._arrived = 0
        self._dropped = 0
        self._cond = threading.Condition()

    @property
    def arrived(self) -> int:
        """How many matching requests have been handled (their state change is done) so far."""
        with self._cond:
            return self._arrived

    @property
    def dropped(self) -> int:
        """How many held responses were never sent because the client left or the emulator stopped."""
        with self._cond:
            return self._dropped

    def wait_arrived(self, timeout: float = 5.0, count: int = 1) -> bool:
        """Block until `count` matching requests were handled (state changed); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._arrived >= count, timeout=timeout)

    def release(self) -> None:
        self._released.set()

    def is_released(self) -> bool:
        return self._released.is_set()

    set = release
    is_set = is_released

    def __enter__(self) -> ResponseHold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _matches(self, req: RecordedRequest) -> bool:
        return req.path.startswith(self.path_prefix) and (
            self.method is None or self.method.upper() == req.method
        )

    def _arrive(self) -> None:
        with self._cond:
            self._arrived += 1
            self._cond.notify_all()

    def _drop(self) -> None:
        with self._cond:
            self._dropped += 1


Route = Callable[[RecordedRequest, dict[str, str]], Response]


class EmulatorServer:
    """Base class: subclasses register routes in `__init__` with `self.route(method, pattern, fn)`.

    Patterns are paths with `{name}` segments, e.g. "/api/v2/tickets/{id}.json".
    """

    name = "emulator"

    def __init__(self) -> None:
        self._routes: list[tuple[str, list[str], Route]] = []
        self._faults: list[_Fault] = []
        self._losses: list[_Loss] = []
        self._holds: list[ResponseHold] = []
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        handler = _make_handler(self)
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # held and delayed responses give up instead of blocking shutdown
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL such as http://127.0.0.1:54321 (no trailing slash)."""
        assert self._server is not None, "emulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- routing ---------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, fn: Route) -> None:
        self._routes.append((method.upper(), pattern.strip("/").split("/"), fn))

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        parts = path.strip("/").split("/")
        for route_method, pattern, fn in self._routes:
            if route_method != method or len(pattern) != len(parts):
                continue
            params: dict[str, str] = {}
            for pat, part in zip(pattern, parts, strict=True):
                if "{" in pat:
                    prefix, rest = pat.split("{", 1)
                    name, suffix = rest.split("}", 1)
                    if not (part.startswith(prefix) and part.endswith(suffix)):
                        break
                    value = part[len(prefix) : len(part) - len(suffix) if suffix else None]
                    if not value:
                        break
                    params[name] = value
                elif pat != part:
                    break
            else:
                return fn, params
        return None

    # -- faults & log ----------------------------------------------------------------------------
    def fail_next(
        self,
        path_prefix: str,
        *,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        body: Any = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `count` requests whose path starts with `path_prefix` with `status`."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, method, status, count, retry_after, body))

    def lose_response(
        self,
        path_prefix: str,
        *,
        mode: LossMode = "reset",
        count: int = 1,
        delay: float = 35.0,
        method: str | None = None,
    ) -> None:
        """Handle the next `count` matching requests fully (state changes happen), then lose the response.

        This is the case `fail_next` cannot express: the server did the work but the client never
        learns it. What the real `slack_sdk.WebClient` (urllib) raises, checked with slack_sdk 3.48 on
        Python 3.11 (`tests/integrations/emulators/test_base.py`), none of them wrapped in `URLError`
        because urllib only wraps errors raised while *sending* the request:

        - "reset": the socket is closed with SO_LINGER 0, so the kernel sends RST and nothing is
          written. Raises `ConnectionResetError` (errno `ECONNRESET`, "Connection reset by peer").
        - "close": closed cleanly (FIN) without a byte of response. Raises
          `http.client.RemoteDisconnected` ("Remote end closed connection without response"), a
          subclass of `ConnectionResetError` and of `http.client.BadStatusLine`.
        - "timeout": nothing is sent for `delay` seconds (default 35, longer than WebClient's default
          30 s timeout), then the connection is closed without a response; it ends sooner if the
          client disconnects or the emulator stops. A client whose `timeout` is shorter raises
          `TimeoutError` ("timed out"; `socket.timeout` is the same class since Python 3.10).

        All three are `OSError`s. The SDK's default `ConnectionErrorRetryHandler` re-sends on "reset"
        and "close" (not on "timeout"): a non-idempotent call is then performed twice.
        """
        if mode not in _LOSS_MODES:
            raise ValueError(f"mode must be one of {_LOSS_MODES}, not {mode!r}")
        with self._lock:
            self._losses.append(_Loss(path_prefix, method, mode, count, delay))

    def hold_responses(self, path_prefix: str, *, method: str | None = None) -> ResponseHold:
        """Handle matching requests (state changes happen) but keep their responses until released.

        For tests that kill a client process right after the server accepted its call:
        `hold.wait_arrived()` returns once a matching request was handled.
        """
        hold = ResponseHold(path_prefix, method)
        with self._lock:
            self._holds.append(hold)
        return hold

    def calls(self, path_prefix: str = "", method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method.upper())
            ]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _take_fault(self, req: RecordedRequest) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if req.path.startswith(fault.path_prefix) and (
                    fault.method is None or fault.method.upper() == req.method
                ):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _take_loss(self, req: RecordedRequest) -> _Loss | None:
        with self._lock:
            for loss in self._losses:
                if req.path.startswith(loss.path_prefix) and (
                    loss.method is None or loss.method.upper() == req.method
                ):
                    loss.remaining -= 1
                    if loss.remaining <= 0:
                        self._losses.remove(loss)
                    return loss
        return None

    def _take_hold(self, req: RecordedRequest) -> ResponseHold | None:
        with self._lock:
            self._holds = [h for h in self._holds if not h.is_released()]
            return next((h for h in self._holds if h._matches(req)), None)

    def fault_response(self, fault: _Fault) -> Response:
        """Vendor-shaped body for a scripted fault; subclasses override for their error format."""
        body = fault.body if fault.body is not None else {"error": f"emulated status {fault.status}"}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(fault.status, body, headers)

    def not_found(self, req: RecordedRequest) -> Response:
        return Response(404, {"error": "not_found", "path": req.path})

    def handle(self, req: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(req)
        fault = self._take_fault(req)
        if fault is not None:
            return self.fault_response(fault)
        matched = self._match(req.method, req.path)
        if matched is None:
            return self.not_found(req)
        fn, params = matched
        return fn(req, params)


def _make_handler(emulator: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
            return

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k: v for k, v in self.headers.items()},
                body=body,
            )
            loss = emulator._take_loss(req)
            hold = emulator._take_hold(req)
            try:
                resp = emulator.handle(req)
            except Exception as exc:  # an emulator bug must surface as a 500, not a hung client
                resp = Response(500, {"error": "emulator_exception", "detail": repr(exc)})
            if hold is not None:
                hold._arrive()
                if not self._wait(hold.is_released, float("inf")):
                    hold._drop()
                    self.close_connection = True  # client gone or emulator stopping: nothing to send
                    return
            if loss is not None:
                self._lose(loss)
                return
            if isinstance(resp.body, (dict, list)):
                payload = json.dumps(resp.body).encode()
                content_type = "application/json; charset=utf-8"
            elif isinstance(resp.body, str):
                payload = resp.body.encode()
                content_type = "text/plain; charset=utf-8"
            else:
                payload = resp.body or b""
                content_type = "application/octet-stream"
            self.send_response(resp.status)
            headers = {"Content-Type": content_type, **resp.headers}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _client_gone(self) -> bool:
            """True once the peer closed its end (EOF or error); never consumes request bytes."""
            try:
                readable, _, _ = select.select([self.connection], [], [], _POLL_SECONDS)
                if not readable:
                    return False
                return self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                return True

        def _wait(self, done: Callable[[], bool], seconds: float) -> bool:
            """Wait until `done()` or `seconds` pass; False if the client left or the emulator stops."""
            deadline = time.monotonic() + seconds
            while not done() and time.monotonic() < deadline:
                if emulator._stopping.is_set() or self._client_gone():
                    return False
            return True

        def _lose(self, loss: _Loss) -> None:
            self.close_connection = True
            if loss.mode == "timeout":
                self._wait(lambda: False, loss.delay)
            elif loss.mode == "reset":
                # SO_LINGER 0: close() sends RST instead of FIN. Close the makefile reader too,
                # otherwise socket.close() only marks the socket closed and the fd stays open.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.rfile.close()
            # "close" and a finished "timeout": socketserver closes the connection (FIN), unanswered.

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    return Handler
