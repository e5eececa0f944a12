"""The rate-limit store (Redis) stopping for real: sign-in and one-click keep working."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import redis

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import seed

from test_shared_limits import free_port, stop, wait_until


@pytest.fixture
def redis_server(tmp_path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed; run `make test`", pytrace=False)
    port = free_port()
    log = tmp_path / "redis.log"
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path), "--daemonize", "no"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        wait_until(client.ping, process, log)
        yield f"redis://127.0.0.1:{port}", process
    finally:
        client.close()
        if process.poll() is None:
            stop(process)


def test_a_lost_redis_leaves_sign_in_and_one_click_working(
    app_config, courier, courier_state, redis_server, caplog
):
    url, process = redis_server
    app = create_app(
        {**app_config, "RATELIMIT_STORAGE_URI": url, "PROPAGATE_EXCEPTIONS": False},
        courier=courier,
        environ={},
    )
    links = app.extensions["prefcenter"].links
    client = app.test_client()

    def sign_in() -> int:
        return client.get(f"/l/{links.make(_claims('user-1', Purpose.MANAGE))}").status_code

    assert sign_in() == 302
    stop(process)  # Redis goes away for real

    with caplog.at_level(logging.WARNING):
        answers = [sign_in() for _ in range(5)]
        token = links.make(_claims("user-1", Purpose.UNSUBSCRIBE, seed.TOPIC_DIGEST))
        one_click = app.test_client(use_cookies=False).post(
            f"/u/{token}", data={"List-Unsubscribe": "One-Click"}
        )

    assert answers == [302] * 5
    assert one_click.status_code == 200
    fallbacks = [r for r in caplog.records if "falling back" in r.getMessage().lower()]
    assert 1 <= len(fallbacks) <= 2  # said when it happens, not on every request


def _claims(user_id: str, purpose: Purpose, topic_id: str | None = None) -> LinkClaims:
    return LinkClaims(user_id, purpose, topic_id=topic_id)
