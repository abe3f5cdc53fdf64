"""Shared HTTP plumbing for the local helpdesk/Slack emulators.

Each emulator is a `ThreadingHTTPServer` bound to 127.0.0.1 on port 0 (never a fixed port, so suites
can run side by side), serving from a daemon thread. State lives on the instance, never in class
attributes. Every request is recorded (method, path, query, headers, body) so tests assert on what
the real SDK clients actually sent, and faults are scripted explicitly per test (`fail_next`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
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


Route = Callable[[RecordedRequest, dict[str, str]], Response]


class EmulatorServer:
    """Base class: subclasses register routes in `__init__` with `self.route(method, pattern, fn)`.

    Patterns are paths with `{name}` segments, e.g. "/api/v2/tickets/{id}.json".
    """

    name = "emulator"

    def __init__(self) -> None:
        self._routes: list[tuple[str, list[str], Route]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        handler = _make_handler(self)
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
            try:
                resp = emulator.handle(req)
            except Exception as exc:  # an emulator bug must surface as a 500, not a hung client
                resp = Response(500, {"error": "emulator_exception", "detail": repr(exc)})
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

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    return Handler
