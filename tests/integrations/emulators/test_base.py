"""Lost and held responses of the shared emulator base, through real clients.

The exception each loss mode raises is what clients must classify as "outcome unknown", so it is
pinned here for both plain urllib and slack_sdk's `WebClient` (which adds no wrapping of its own).
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient

from integrations.emulators.base import EmulatorServer, RecordedRequest, Response
from integrations.emulators.slack import SlackEmulator

LOST = {
    "reset": ConnectionResetError,
    "close": http.client.RemoteDisconnected,
    "timeout": TimeoutError,
}


class CounterEmulator(EmulatorServer):
    """The smallest stateful emulator: POST /count adds one."""

    name = "counter"

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.route("POST", "/count", self._bump)
        self.route("GET", "/count", lambda req, params: Response(200, {"count": self.count}))

    def _bump(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        with self._lock:
            self.count += 1
            return Response(200, {"count": self.count})


@pytest.fixture
def counter() -> Iterator[CounterEmulator]:
    with CounterEmulator() as emulator:
        yield emulator


def bump(emulator: EmulatorServer, *, timeout: float = 5.0) -> int:
    request = urllib.request.Request(f"{emulator.url}/count", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(json.loads(response.read())["count"])


@pytest.mark.parametrize("mode", sorted(LOST))
def test_lost_response_raises_documented_error_after_state_changed(
    counter: CounterEmulator, mode: str
) -> None:
    counter.lose_response("/count", mode=mode)

    with pytest.raises(OSError) as excinfo:
        bump(counter, timeout=1)

    assert type(excinfo.value) is LOST[mode]
    assert counter.count == 1
    assert bump(counter) == 2  # count=1: the next call is answered


def test_reset_is_connection_reset_by_peer(counter: CounterEmulator) -> None:
    counter.lose_response("/count", mode="reset")

    with pytest.raises(ConnectionResetError) as excinfo:
        bump(counter)

    assert excinfo.value.errno == errno.ECONNRESET


def test_timeout_mode_closes_unanswered_after_delay(counter: CounterEmulator) -> None:
    counter.lose_response("/count", mode="timeout", delay=0.3)
    started = time.monotonic()

    with pytest.raises(http.client.RemoteDisconnected):
        bump(counter, timeout=5)

    assert 0.3 <= time.monotonic() - started < 4
    assert counter.count == 1


def test_lose_response_counts_and_filters_by_method(counter: CounterEmulator) -> None:
    counter.lose_response("/count", mode="close", count=2, method="POST")

    with urllib.request.urlopen(f"{counter.url}/count", timeout=5) as response:  # GET is not lost
        assert response.status == 200
    for _ in range(2):
        with pytest.raises(http.client.RemoteDisconnected):
            bump(counter)

    assert bump(counter) == 3


def test_lose_response_refuses_unknown_mode(counter: CounterEmulator) -> None:
    with pytest.raises(ValueError, match="mode"):
        counter.lose_response("/count", mode="drop")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", sorted(LOST))
def test_web_client_raises_the_same_errors_unwrapped(mode: str) -> None:
    with SlackEmulator() as emu:
        client = WebClient(token=emu.token, base_url=emu.api_url, timeout=1, retry_handlers=[])
        emu.lose_response("/api/auth.test", mode=mode)

        with pytest.raises(OSError) as excinfo:
            client.auth_test()

    assert type(excinfo.value) is LOST[mode]


def test_hold_sends_the_response_once_released(counter: CounterEmulator) -> None:
    hold = counter.hold_responses("/count")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(bump, counter)

        assert hold.wait_arrived(timeout=5)
        handled_while_held = counter.count
        waiting = not pending.done()
        hold.release()

        assert pending.result(timeout=5) == 1
    assert (handled_while_held, waiting, hold.arrived, hold.dropped) == (1, True, 1, 0)
    assert bump(counter) == 2  # released holds do not catch later requests


def test_wait_arrived_times_out_when_nothing_came(counter: CounterEmulator) -> None:
    hold = counter.hold_responses("/count")

    assert hold.wait_arrived(timeout=0.1) is False
    assert not hold.is_set()


def test_hold_drops_the_response_of_a_killed_client() -> None:
    """The `deskwatch sla scan` SIGKILL case: Slack has the post, the process never saw the answer."""
    with SlackEmulator() as emu:
        hold = emu.hold_responses("/api/chat.postMessage")
        script = (
            "import sys; from slack_sdk import WebClient; "
            "client = WebClient(token=sys.argv[1], base_url=sys.argv[2]); "
            "client.chat_postMessage(channel='C0ALERTS', text='x'); print('answered')"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", script, emu.token, emu.api_url], stdout=subprocess.PIPE, text=True
        )
        try:
            assert hold.wait_arrived(timeout=30)
            os.kill(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        deadline = time.monotonic() + 5
        while hold.dropped == 0 and time.monotonic() < deadline:
            time.sleep(0.02)

        assert proc.returncode == -signal.SIGKILL and out == ""
        assert [m["text"] for m in emu.messages()] == ["x"]
        assert hold.dropped == 1
        hold.release()
        assert WebClient(token=emu.token, base_url=emu.api_url).auth_test()["ok"] is True


def test_stopping_the_emulator_ends_held_responses(counter: CounterEmulator) -> None:
    hold = counter.hold_responses("/count")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(bump, counter)
        assert hold.wait_arrived(timeout=5)

        counter.stop()

        with pytest.raises(http.client.RemoteDisconnected):
            pending.result(timeout=5)
    assert hold.dropped == 1
