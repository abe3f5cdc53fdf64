"""The deployment files agree with the code: docker-compose.yml (PostgreSQL + two Deskwatch replicas,
readiness on /readyz, env from .env), .env.example, and the Dockerfile (slim, non-root). No Docker
engine here: the image's entry command runs with the compose environment, outside Docker."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests
import yaml

from bot.config.settings import Settings
from integrations.emulators.seed import DEMO_CONFIG
from tests.helpers.live import live_stack
from tests.helpers.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}
POSTGRES_ENV = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _dockerfile_instruction(name: str) -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return [line.split(None, 1)[1].strip() for line in lines if line.startswith(f"{name} ")]


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def test_compose_runs_two_deskwatch_replicas_on_postgresql_with_readiness_checks():
    services = _compose()["services"]
    assert set(services) == {"postgres", "deskwatch"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["postgres"]["healthcheck"]["test"]

    app = services["deskwatch"]
    assert app["deploy"]["replicas"] == 2
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["env_file"] == ".env"
    assert app["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in app["environment"]["DATABASE_URL"]
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    # The image's own entry command, unchanged: `deskwatch serve` on port 3000.
    assert _dockerfile_instruction("ENTRYPOINT") == ['["deskwatch"]']
    assert app["command"] == json.loads(_dockerfile_instruction("CMD")[-1])
    assert app["command"][:1] == ["serve"]
    assert any(port.endswith(":3000") for port in app["ports"])
    assert app.get("stop_grace_period") and app.get("stop_signal", "SIGTERM") == "SIGTERM"


def test_every_variable_named_is_a_setting_or_a_postgres_one():
    app = _compose()["services"]["deskwatch"]
    assert set(app["environment"]) <= SETTINGS_ENV
    example = _env_example()
    assert set(example) <= SETTINGS_ENV | POSTGRES_ENV
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "POSTGRES_PASSWORD"} <= set(example)
    referenced = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert referenced <= set(example)


def test_the_image_is_slim_and_runs_as_a_non_root_user():
    users = _dockerfile_instruction("USER")
    assert users and users[-1] not in ("root", "0")
    assert all(base.startswith("python:") and "slim" in base for base in _dockerfile_instruction("FROM"))


def test_the_image_entry_command_with_the_compose_environment_serves_and_stops_on_sigterm(
    tmp_path, database_url
):
    """ENTRYPOINT + CMD as the container runs them, env as compose passes it (the database and the
    upstreams pointed at this test's), and SIGTERM as `docker compose stop` sends it."""
    app = _compose()["services"]["deskwatch"]
    entry = json.loads(_dockerfile_instruction("ENTRYPOINT")[-1]) + app["command"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    entry[entry.index("--port") + 1] = str(port)
    executable = shutil.which(entry[0], path=str(Path(sys.executable).parent)) or shutil.which(entry[0])
    assert executable, f"{entry[0]} (the image's ENTRYPOINT) is not installed"
    with live_stack(tmp_path, database_url, config=DEMO_CONFIG, seed=False) as stack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
            **{k: v for k, v in _env_example().items() if k not in POSTGRES_ENV and v},
            **app["environment"],
            **stack.env,  # the database and the emulators instead of postgres:5432 and the real APIs
        }
        proc = subprocess.Popen(
            [executable, *entry[1:]], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:

            def ready():
                try:
                    response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                except requests.ConnectionError:
                    return None
                return response if response.status_code == 200 else None

            body = wait_for(ready, timeout=30, what="/readyz 200").json()
            assert body["ready"] is True and body["database"] == "ok"
            assert body["leadership"]["leads"]
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, output
        assert '"event": "stopped"' in output
