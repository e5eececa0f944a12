"""Rate limits shared through Redis: two gunicorn instances (two workers each) on loopback,
one Debian redis-server behind them, one allowance per address across all four processes."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter
from prefcenter.platform.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = secrets.token_urlsafe(48)
LIMIT = "5 per minute"
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if ready():
                return
        except (OSError, httpx.HTTPError, redis.RedisError):
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:]
    pytest.fail(f"{process.args[0]} did not start (exit code {process.poll()}):\n{tail}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's redis-server on a free loopback port, keeping nothing on disk."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail(
            "redis-server is not installed; run `make test`, which installs Debian's"
            " redis-server for this test",
            pytrace=False,
        )
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    log = workdir / "redis.log"
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        wait_until(client.ping, process, log)
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        stop(process)


@pytest.fixture(scope="module")
def instances(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two instances under gunicorn with the production config, both counting in Redis."""
    workdir = tmp_path_factory.mktemp("instances")
    # Only what the shell needs: none of the caller's prefcenter or Courier settings.
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFCENTER_", "COURIER_", "SECRET_KEY", "LINK_", "BRAND"))
        and key not in {"PUBLIC_BASE_URL", "EMBED_ALLOWED_ORIGINS", "BIND", "PORT"}
    }
    started: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for name in ("a", "b"):
            address = f"127.0.0.1:{free_port()}"
            env = {
                **base,
                "BIND": address,
                "WEB_CONCURRENCY": "2",
                # Opening a manage link makes no Courier call; nothing listens there.
                "COURIER_API_KEY": "shared-limits-test",
                "COURIER_BASE_URL": f"http://127.0.0.1:{free_port()}",
                "SECRET_KEY": SECRET_KEY,
                "PUBLIC_BASE_URL": f"http://{address}",
                "PREFCENTER_RATE_LIMIT_STORAGE_URI": redis_url,
                "PREFCENTER_RATE_LIMIT_LINKS": LIMIT,
            }
            log = workdir / f"gunicorn-{name}.log"
            command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            with log.open("wb") as output:
                process = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
                )
            started.append(process)
            url = f"http://{address}"

            def booted(url: str = url, log: Path = log) -> bool:
                workers = log.read_text(errors="replace").count("Booting worker")
                answer = httpx.get(f"{url}/healthz", trust_env=False, timeout=2)
                return workers >= 2 and answer.status_code == 200

            wait_until(booted, process, log)
            urls.append(url)
        yield urls
    finally:
        for process in started:
            stop(process)


def test_one_limit_holds_across_instances_and_workers(instances, redis_url):
    first, second = instances
    minter = LinkMinter.from_config(
        load_config({"SECRET_KEY": SECRET_KEY, "COURIER_API_KEY": "x"}, environ={})
    )
    statuses = []
    for base in (first, first, first, second, second, second):
        token = minter.mint(LinkClaims("shared-1", Purpose.MANAGE)).token
        # A fresh connection each time, so gunicorn may hand it to either worker.
        with httpx.Client(trust_env=False, timeout=10) as http:
            statuses.append(http.get(f"{base}/l/{token}").status_code)
    assert statuses == [302, 302, 302, 302, 302, 429]
    # The counters are in Redis, where every process reads them.
    with redis.Redis.from_url(redis_url) as store:
        assert any(b"links.open_link" in key for key in store.keys("*"))
