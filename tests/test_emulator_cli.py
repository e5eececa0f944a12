"""`python -m prefcenter.emulator` as a real server, driven by the SDK over loopback HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import courier
import httpx
import pytest
from courier import Courier

from prefcenter.emulator import seed

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "cli-test-key"


def free_port() -> int:
    """A currently free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 15.0) -> None:
    """Block until the port accepts connections; fail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"emulator exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"emulator did not listen on port {port} within {timeout} s")


def start(*args: str, log: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """Run the CLI on a free port until the generator is closed."""
    port = free_port()
    # The project root on the path, so the child imports this checkout's prefcenter.
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefcenter.emulator", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            wait_for_port(port, proc)
            yield port, proc
        finally:
            proc.terminate()
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """An empty emulator served on loopback."""
    yield from start("--empty", "--api-key", API_KEY, log=tmp_path / "stderr.log")


def loopback_sdk(port: int, api_key: str = API_KEY) -> Courier:
    """The SDK talking real HTTP to the subprocess."""
    return Courier(api_key=api_key, base_url=f"http://127.0.0.1:{port}", max_retries=0, timeout=10)


def test_cli_serves_courier_api_over_loopback(
    empty_server: tuple[int, subprocess.Popen[str]],
) -> None:
    port, proc = empty_server
    with loopback_sdk(port) as sdk:
        assert sdk.workspace_preferences.list().results == []
        section = sdk.workspace_preferences.create(
            name="Alerts", has_custom_routing=True, routing_options=["email", "sms"]
        )
        topic = sdk.workspace_preferences.topics.create(
            section.id, name="Outages", default_status="OPTED_IN"
        )
        sdk.users.preferences.update_or_create_topic(
            topic.id,
            user_id="u1",
            topic={"status": "OPTED_OUT", "has_custom_routing": True, "custom_routing": ["sms"]},
        )

        prefs = sdk.users.preferences.retrieve("u1")
        assert [(p.topic_id, p.status, p.custom_routing, p.section_name) for p in prefs.items] == [
            (topic.id, "OPTED_OUT", ["sms"], "Alerts")
        ]
        with pytest.raises(courier.NotFoundError):
            sdk.users.preferences.retrieve_topic("pt_missing", user_id="u1")
    with loopback_sdk(port, api_key="wrong") as intruder:
        with pytest.raises(courier.AuthenticationError):
            intruder.workspace_preferences.list()
    # Raw HTTP too: a 405 is JSON over the real server as well.
    response = httpx.patch(
        f"http://127.0.0.1:{port}/preferences/sections",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 405
    assert response.json()["type"] == "invalid_request_error"

    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert f"http://127.0.0.1:{port}" in lines[0]
    assert API_KEY in lines[0]


def test_cli_keeps_a_connection_open_for_the_next_call(
    empty_server: tuple[int, subprocess.Popen[str]],
) -> None:
    # Courier's API answers many calls on one connection (HTTP/1.1 keep-alive), and the app's
    # pooled client counts on it; a server that closes after each answer makes every call pay
    # for a new connection. Two requests, one socket, both answered.
    port, _ = empty_server
    call = (
        f"GET /preferences/sections HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {API_KEY}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        answers = []
        for _ in range(2):
            sock.sendall(call)
            answers.append(_one_answer(sock))
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [b"HTTP/1.1 200 OK"] * 2
    assert all(b'"results":[]' in answer.replace(b" ", b"") for answer in answers)
    assert not any(b"connection: close" in answer.lower() for answer in answers)


@pytest.mark.parametrize(
    ("size", "status"), [(1000, 400), (1024 * 1024 + 1, 413), (3 * 1024 * 1024, 413)]
)
def test_a_chunked_body_is_held_to_the_same_limit_as_a_sized_one(
    empty_server: tuple[int, subprocess.Popen[str]], size: int, status: int
) -> None:
    # A body sent in chunks (no Content-Length) over the 1 MiB limit is refused as too large,
    # as one with a Content-Length is, rather than cut at the limit and read as bad JSON. One
    # under it is read whole (here: not a valid topic write, so 400 naming the field).
    port, _ = empty_server

    def chunks() -> Iterator[bytes]:
        body = b'{"topic": {"status": "' + b"x" * size + b'"}}'
        for at in range(0, len(body), 65536):
            yield body[at : at + 65536]

    with httpx.Client(trust_env=False, timeout=30) as client:
        answer = client.put(
            f"http://127.0.0.1:{port}/users/u1/preferences/t1",
            content=chunks(),
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        )
        after = client.get(
            f"http://127.0.0.1:{port}/preferences/sections",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
    assert answer.status_code == status, answer.text
    assert "JSON" not in answer.json()["message"]
    assert after.status_code == 200  # and the server goes on answering


def test_a_slow_body_holding_an_idempotency_key_does_not_stall_the_server(
    empty_server: tuple[int, subprocess.Popen[str]],
) -> None:
    # The first POST with a key holds it while its body is still arriving; a second with the
    # same key, complete, arrives meanwhile. Both must be answered, the second with the
    # first's response, and calls without a key in between must not wait for them.
    port, _ = empty_server
    body = b'{"name": "Alerts"}'
    head = (
        f"POST /preferences/sections HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {API_KEY}\r\nIdempotency-Key: k-1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as slow,
        socket.create_connection(("127.0.0.1", port), timeout=10) as quick,
    ):
        slow.sendall(head + body[:5])
        time.sleep(0.3)  # the slow request is in the server, its body half read
        quick.sendall(head + body)
        time.sleep(0.3)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as other:
            listed = other.get(
                "/preferences/sections", headers={"Authorization": f"Bearer {API_KEY}"}
            )
        assert listed.status_code == 200
        slow.sendall(body[5:])
        answers = [_one_answer(slow), _one_answer(quick)]
    assert [a.split(b" ", 2)[1] for a in answers] == [b"201"] * 2
    first, replayed = (a.split(b"\r\n\r\n", 1)[1] for a in answers)
    assert first == replayed  # one section made, its answer replayed


def _one_answer(sock: socket.socket) -> bytes:
    """Read one HTTP answer with a Content-Length body off `sock`, and nothing more."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed the connection; got {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(
            line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
        ).split(b":")[1]
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("the server closed the connection mid-answer")
        body += chunk
    return head + b"\r\n\r\n" + body


def test_cli_seeds_a_file_database_once(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.sqlite3")
    for attempt in range(2):
        server = start("--db", db, log=tmp_path / f"stderr{attempt}.log")
        port, _ = next(server)
        try:
            with loopback_sdk(port, api_key="emulator-key") as sdk:
                sections = sdk.workspace_preferences.list().results
                if attempt == 0:
                    sdk.users.preferences.update_or_create_topic(
                        "pt_weekly_digest", user_id="demo-user", topic={"status": "OPTED_IN"}
                    )
                else:
                    topic = sdk.users.preferences.retrieve_topic(
                        "pt_weekly_digest", user_id="demo-user"
                    ).topic
                    assert topic.status == "OPTED_IN"
        finally:
            server.close()
        assert [s.id for s in sections] == ["sec_account", "sec_activity", "sec_news"]
        assert sum(len(s.topics) for s in sections) == 7


SWITCH_FLAGS = [
    "--list-mode",
    "--unknown-user",
    "--no-channel-customization",
    "--routing-402-trigger",
    "--refuse-required-writes",
    "--tenant-default-status",
    "--catalog-without-default-status",
    "--extra-channel",
    "--legacy-topics",
    "--digest-schedules",
]


def test_help_lists_every_behaviour_switch() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "prefcenter.emulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    help_text = " ".join(result.stdout.split())  # argparse wraps lines
    for flag in SWITCH_FLAGS:
        assert flag in help_text
    for choices in ("{all,overrides}", "{empty,404}", "{routing,field}", "{tenant,workspace}"):
        assert choices in help_text
    # Each help line says which real Courier behaviour the switch shows.
    assert "402 'Channel delivery customization is not available for your plan'" in help_text
    assert "inbox in 2023" in help_text


@pytest.mark.parametrize(
    "args",
    [
        ["--extra-channel", "Not A Channel"],
        ["--empty", "--digest-schedules"],
        ["--list-mode", "some"],
    ],
)
def test_bad_switches_are_usage_errors(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "prefcenter.emulator", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_cli_switches_change_what_the_server_answers(tmp_path: Path) -> None:
    server = start(
        "--api-key",
        API_KEY,
        "--unknown-user",
        "404",
        "--list-mode",
        "overrides",
        "--no-channel-customization",
        "--extra-channel",
        "whatsapp",
        "--legacy-topics",
        "--digest-schedules",
        "--catalog-without-default-status",
        log=tmp_path / "stderr.log",
    )
    port, _ = next(server)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
            unknown = http.get("/users/u1/preferences")
            assert (unknown.status_code, unknown.json()["message"]) == (404, "User u1 not found")

            refused = http.put(
                "/users/u1/preferences/pt_comments",
                json={"topic": {"status": "OPTED_IN", "custom_routing": ["whatsapp"]}},
            )
            assert refused.status_code == 402

            chose = http.put(
                "/users/u1/preferences/pt_product_updates",
                json={"topic": {"status": "OPTED_IN", "digest_schedule_id": "sch_weekly"}},
            )
            assert chose.status_code == 200
            items = http.get("/users/u1/preferences").json()["items"]
            assert [(i["topic_id"], i.get("digest_schedule_id")) for i in items] == [
                ("pt_product_updates", "sch_weekly")
            ]

            topics = [
                t for s in http.get("/preferences/sections").json()["results"] for t in s["topics"]
            ]
            assert len(topics) == 7  # the legacy topics are not catalogued
            assert all("default_status" not in t for t in topics)
            legacy = http.get(f"/users/u1/preferences/{seed.LEGACY_TOPIC_PLAIN}").json()["topic"]
            assert legacy["topic_name"] == "Partner offers"

            section = http.post(
                "/preferences/sections", json={"name": "Chat", "routing_options": ["whatsapp"]}
            )
            assert section.json()["routing_options"] == ["whatsapp"]
        with loopback_sdk(port) as sdk:
            logs = sdk.workspace_preferences.list_logs(user_id="u1")
            assert [e.topic_id for e in logs.items] == ["pt_product_updates"]
    finally:
        server.close()
