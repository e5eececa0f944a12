"""Running the servers: what they refuse to start with, and what they never write to a log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from test_slow_clients import server_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VENV = BIN.parent


def run(
    command: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


SERVERS = {
    "flask run": [str(BIN / "flask"), "--app", "app", "run", "--port", "0"],
    "gunicorn": [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
    "make run": ["make", "-s", "run", f"VENV={VENV}", "PORT=0"],
    "make serve": ["make", "-s", "serve", f"VENV={VENV}"],
}


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize(
    ("variable", "value"),
    [("SECRET_KEY", "too-short"), ("PREFCENTER_LOG_LEVEL", "loud")],
)
def test_a_settings_error_is_one_line_naming_the_variable_and_status_2(server, variable, value):
    env = {
        **server_env(),
        "COURIER_API_KEY": "some-key",
        "SECRET_KEY": "k" * 48,
        "BIND": "127.0.0.1:0",
        variable: value,
    }
    result = run(SERVERS[server], env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"prefcenter: {variable} "), result.stderr
    assert "Traceback" not in result.stderr and not result.stdout.strip()
    if server.startswith("make"):
        # make adds its own status line: "make: *** [Makefile:N: run] Error 2".
        assert len(lines) == 2 and lines[1].startswith("make: ***"), result.stderr
    else:
        assert len(lines) == 1, result.stderr


def test_make_serve_without_an_api_key_says_why_and_points_at_make_run():
    env = {k: v for k, v in server_env().items() if k != "COURIER_API_KEY"}
    result = run(["make", "-s", "serve", f"VENV={VENV}"], env)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "COURIER_API_KEY is not set" in lines[0] and "make run" in lines[0]
