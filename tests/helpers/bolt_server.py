"""`deskwatch serve`'s HTTP surface for tests, stopped cleanly."""

from __future__ import annotations

import threading


def start_bot(deps):
    """Bolt over HTTP on 127.0.0.1:0. Returns (server, stop): `stop` also waits for the lazy listeners,
    so none of them outlives the emulators it talks to (and logs another test's connection errors)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.app import build_bolt_app
    from bot.web import build_wsgi_app, make_http_server

    lazies = ThreadPoolExecutor(max_workers=10, thread_name_prefix="bolt-lazy")
    app = build_bolt_app(deps, listener_executor=lazies)
    server = make_http_server(build_wsgi_app(deps, app), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        lazies.shutdown(wait=True, cancel_futures=True)

    return server, stop
