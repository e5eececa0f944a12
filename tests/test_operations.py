"""Running the servers: what they refuse to start with, and what they never write to a log."""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter

from test_slow_clients import free_port, server_env, start, stop, wait_until

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VENV = BIN.parent


def run(
    command: list[str], env: dict[str, str], timeout: float = 60, **options: Any
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, **options
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
        # make adds its own status line: "make: *** [Makefile:N: run] Error 2" ("make[1]:"
        # when the tests themselves run under make, as `make test` runs them).
        assert len(lines) == 2 and re.match(r"make(\[\d+\])?: \*\*\*", lines[1]), result.stderr
    else:
        assert len(lines) == 1, result.stderr


def test_make_serve_without_an_api_key_says_why_and_points_at_make_run():
    env = {k: v for k, v in server_env().items() if k != "COURIER_API_KEY"}
    result = run(["make", "-s", "serve", f"VENV={VENV}"], env)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "COURIER_API_KEY is not set" in lines[0] and "make run" in lines[0]


def open_link(link: str) -> httpx.Response:
    """Open a link the way a browser would, waiting for a server that is still starting."""
    with httpx.Client(follow_redirects=True, timeout=10, trust_env=False) as browser:
        for _ in range(100):
            try:
                return browser.get(link)
            except httpx.ConnectError:
                time.sleep(0.1)
        return browser.get(link)


def test_make_run_logs_no_token_and_accepts_links_the_cli_mints(tmp_path):
    """The demo server (werkzeug) and `flask link` share the checkout's demo key; the request
    lines name the route, never the token."""
    port, log = free_port(), tmp_path / "make-run.log"
    base = f"http://127.0.0.1:{port}"
    env = server_env()
    server = start(["make", "-s", "run", f"PORT={port}", f"VENV={VENV}"], env, log)
    try:
        wait_until(lambda: "Open the demo:" in log.read_text(errors="replace"), server, log)
        minted = run(
            [str(BIN / "flask"), "--app", "app", "link", "user-1"],
            {**env, "PUBLIC_BASE_URL": base},
        )
        assert minted.returncode == 0, minted.stderr
        link = minted.stdout.split()[0]
        token = link.rsplit("/", 1)[1]
        page = open_link(link)
        assert page.status_code == 200 and "Security alerts" in page.text
        assert str(page.url) == f"{base}/"
        wait_until(lambda: "/l/<token>" in log.read_text(errors="replace"), server, log)
    finally:
        stop(server)
    output = log.read_text(errors="replace")
    assert token not in output
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)  # werkzeug colours its lines
    assert '"GET /l/<token> HTTP/1.1" 302' in plain  # werkzeug's own line, rewritten


def test_gunicorn_logs_no_token(tmp_path):
    emulator_log, log = tmp_path / "emulator.log", tmp_path / "gunicorn.log"
    api_key = "operations-emulator-key"
    command = [sys.executable, "-m", "prefcenter.emulator", "--port", "0", "--api-key", api_key]
    emulator = start(command, server_env(), emulator_log)
    server = None
    try:
        found: list[str] = []

        def listening() -> bool:
            found[:] = re.findall(
                r"listening on (http://127\.0\.0\.1:\d+)", emulator_log.read_text()
            )
            return bool(found)

        wait_until(listening, emulator, emulator_log)
        address = f"127.0.0.1:{free_port()}"
        secret_key = secrets.token_urlsafe(36)
        env = {
            **server_env(),
            "COURIER_API_KEY": api_key,
            "COURIER_BASE_URL": found[0],
            "SECRET_KEY": secret_key,
            "PUBLIC_BASE_URL": f"http://{address}",
            "BIND": address,
            "WEB_CONCURRENCY": "1",
        }
        server = start([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env, log)
        minter = LinkMinter.from_environment(
            SECRET_KEY=secret_key, PUBLIC_BASE_URL=f"http://{address}", COURIER_API_KEY=api_key
        )
        link = minter.url(LinkClaims("user-1", Purpose.MANAGE))
        token = link.rsplit("/", 1)[1]
        page = open_link(link)
        assert page.status_code == 200 and "Security alerts" in page.text
        wait_until(lambda: "/l/<token>" in log.read_text(errors="replace"), server, log)
    finally:
        if server is not None:
            stop(server)
        stop(emulator)
    output = log.read_text(errors="replace")
    assert token not in output and secret_key not in output


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_gunicorn_starts_a_worker_per_cpu_it_may_use():
    # In a container limited to some of the host's CPUs (or under taskset), a worker per
    # host CPU would crowd the few it has.
    env = {k: v for k, v in server_env().items() if k != "WEB_CONCURRENCY"}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--print-config"]
    one_cpu = {min(os.sched_getaffinity(0))}
    printed = run(command, env, preexec_fn=lambda: os.sched_setaffinity(0, one_cpu))
    assert printed.returncode == 0, printed.stderr
    assert re.search(r"^workers\s+= 1$", printed.stdout, re.M)
    printed = run(command, env)  # every CPU this test may use
    expected = len(os.sched_getaffinity(0))
    assert re.search(rf"^workers\s+= {expected}$", printed.stdout, re.M), printed.stdout


def test_gunicorn_workers_keep_a_native_poll_and_cooperative_sockets(tmp_path):
    # httpx checks idle pooled connections with a poll that never waits: native, it costs a
    # microsecond, where gevent's takes a trip through its loop. Sockets, select.select and
    # selectors must stay gevent's, or one slow Courier call would stall the whole worker.
    address = f"127.0.0.1:{free_port()}"
    env = {
        **server_env(),
        "COURIER_API_KEY": "operations-emulator-key",
        "COURIER_BASE_URL": "http://127.0.0.1:9",
        "SECRET_KEY": secrets.token_urlsafe(36),
        "PUBLIC_BASE_URL": f"http://{address}",
        "BIND": address,
        "WEB_CONCURRENCY": "1",
        "PYTHONPATH": str(ROOT / "tests"),
    }
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "worker_probe:app"]
    server = start(command, env, log)
    try:
        answers: list[httpx.Response] = []

        def answered() -> bool:
            try:
                answers.append(httpx.get(f"http://{address}/", trust_env=False))
            except httpx.TransportError:
                return False
            return True

        wait_until(answered, server, log)
    finally:
        stop(server)
    assert answers[-1].json() == {
        "poll is native": True,
        "select is gevent's": True,
        "socket is gevent's": True,
    }


def test_the_demo_key_is_one_per_checkout_and_private(tmp_path):
    instance = tmp_path / "instance"
    first = create_app({"TESTING": True}, environ={}, instance_path=instance)
    second = create_app({"TESTING": True}, environ={}, instance_path=instance)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    secret = instance / "demo-secret"
    assert secret.read_text().strip() == first.config["SECRET_KEY"]
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert [path.name for path in instance.iterdir()] == ["demo-secret"]
    # A real key is never replaced by the demo's.
    configured = create_app(
        {"TESTING": True}, environ={"SECRET_KEY": "k" * 48}, instance_path=instance
    )
    assert configured.config["SECRET_KEY"] == "k" * 48
