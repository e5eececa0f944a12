"""Slow clients cannot take the production server down: gunicorn with the repo's
gunicorn.conf.py, on loopback, keeps answering the page and one-click unsubscribe while 50
connections dribble their request headers.

To see the finding this guards against, run it against the thread workers used before; it fails:

    PREFCENTER_SLOW_CLIENTS_GUNICORN_OPTIONS='--worker-class gthread --threads 8' \\
        .venv/bin/pytest -q -p no:cacheprovider tests/test_slow_clients.py
"""

from __future__ import annotations

import os
import re
import secrets
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter
from prefcenter.platform.config import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "slow-clients-emulator-key"
CONNECTIONS = 50
HOLD_SECONDS = 15.0  # how long the prober probes while the slow clients hold on
LINE_INTERVAL = 3.0  # seconds between a slow client's header lines
PROBE_TIMEOUT = 5.0
PROBE_PAUSE = 0.1
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# What the app and gunicorn read from the environment: none may leak in from the shell.
SERVER_VARIABLES = {
    *ENVIRONMENT.values(),
    "BIND",
    "PORT",
    "WEB_CONCURRENCY",
    "FORWARDED_ALLOW_IPS",
    "GUNICORN_CMD_ARGS",
}


@dataclass
class Server:
    url: str
    secret_key: str
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    command: list[str], env: dict[str, str], log: Path, where: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Start a server in `where` (the checkout unless told), in its own process group, so it
    and its workers stop together."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=where,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # still unreaped: the group id is still ours
        process.wait()


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited:\n{log.read_text(errors='replace')}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{process.args} did not answer in time:\n{log.read_text(errors='replace')}")


def server_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The standalone Courier emulator (demo workspace, in memory) on a loopback port."""
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    command = [sys.executable, "-m", "prefcenter.emulator", "--port", "0", "--api-key", API_KEY]
    process = start(command, server_env(), log)
    found: list[str] = []

    def listening() -> bool:
        found[:] = re.findall(r"listening on (http://127\.0\.0\.1:\d+)", log.read_text())
        return bool(found)

    try:
        wait_until(listening, process, log)
        yield found[0]
    finally:
        stop(process)


@pytest.fixture
def production(emulator_url: str, tmp_path: Path) -> Iterator[Server]:
    """gunicorn -c gunicorn.conf.py serving app:app, as `make serve` runs it, on loopback."""
    address = f"127.0.0.1:{free_port()}"
    url, secret_key, log = f"http://{address}", secrets.token_urlsafe(36), tmp_path / "gunicorn.log"
    env = {
        **server_env(),
        "COURIER_API_KEY": API_KEY,
        "COURIER_BASE_URL": emulator_url,
        "SECRET_KEY": secret_key,  # 48 characters
        "PUBLIC_BASE_URL": url,
        "BIND": address,
        "WEB_CONCURRENCY": "2",
    }
    options = os.environ.get("PREFCENTER_SLOW_CLIENTS_GUNICORN_OPTIONS", "").split()
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *options]
    server = Server(url, secret_key, start(command, env, log), log)

    def ready() -> bool:
        booted = server.log.read_text(errors="replace").count("Booting worker")
        healthy = httpx.get(f"{server.url}/healthz", trust_env=False).status_code == 200
        return booted >= 2 and healthy

    try:
        wait_until(ready, server.process, server.log)
        yield server
    finally:
        stop(server.process)


class SlowClients:
    """Connections that send a request line, then a header line every LINE_INTERVAL seconds,
    never the blank line ending the head; each reopened when the server closes it."""

    def __init__(self, url: str, count: int) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.head = f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
        self.count = count
        self.opened = self.closed_by_server = self.lines_sent = 0
        self.error: OSError | None = None  # what stopped the thread early, if anything
        self.selector = selectors.DefaultSelector()
        self.due: dict[socket.socket, float] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        now = time.monotonic()
        for i in range(self.count):
            self.open(now + LINE_INTERVAL * (i + 1) / self.count)  # staggered lines
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(PROBE_TIMEOUT)
        for sock in list(self.due):
            self.forget(sock)
        self.selector.close()

    def open(self, first_line_at: float) -> None:
        sock = socket.create_connection(self.address, timeout=PROBE_TIMEOUT)
        sock.sendall(self.head)
        sock.setblocking(False)
        self.opened += 1
        self.due[sock] = first_line_at
        self.selector.register(sock, selectors.EVENT_READ)

    def forget(self, sock: socket.socket) -> None:
        self.selector.unregister(sock)
        del self.due[sock]
        sock.close()

    def reopen(self, sock: socket.socket) -> None:
        self.forget(sock)
        self.closed_by_server += 1
        self.open(time.monotonic() + LINE_INTERVAL)

    def run(self) -> None:
        try:
            self.dribble()
        except OSError as exc:  # a reopen that failed: the test reports it
            self.error = exc

    def dribble(self) -> None:
        while not self.stopping.is_set():
            for key, _ in self.selector.select(0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    closed = not sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    closed = True
                if closed:
                    self.reopen(sock)
            now = time.monotonic()
            for sock, due in list(self.due.items()):
                if due <= now:
                    try:
                        sock.send(f"X-Slow-{self.lines_sent}: 1\r\n".encode())
                    except OSError:
                        self.reopen(sock)
                        continue
                    self.lines_sent += 1
                    self.due[sock] = due + LINE_INTERVAL


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[98]


def test_page_and_one_click_answer_while_slow_clients_hold_connections(
    production: Server,
) -> None:
    minter = LinkMinter.from_environment(
        SECRET_KEY=production.secret_key,
        COURIER_API_KEY=API_KEY,
        PUBLIC_BASE_URL=production.url,
        LINK_SIGNING_KEYS=[],
    )
    manage = minter.url(LinkClaims("probe-user", Purpose.MANAGE))
    unsubscribe = minter.url(
        LinkClaims("probe-user", Purpose.UNSUBSCRIBE, topic_id="pt_weekly_digest")
    )
    # A new connection for every probe, as each visitor and mail provider opens its own.
    fresh = httpx.Limits(max_keepalive_connections=0)
    page = httpx.Client(timeout=PROBE_TIMEOUT, limits=fresh, trust_env=False)
    one_click = httpx.Client(timeout=PROBE_TIMEOUT, limits=fresh, trust_env=False)
    probes: dict[str, Callable[[], httpx.Response]] = {
        "page": lambda: page.get(f"{production.url}/"),
        "one-click": lambda: one_click.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}),
    }
    latencies: dict[str, list[float]] = {kind: [] for kind in probes}
    outcomes: Counter[str] = Counter()

    with page, one_click:
        signed_in = page.get(manage)
        assert signed_in.status_code == 302 and page.cookies, "the manage link did not sign in"
        with SlowClients(production.url, CONNECTIONS) as slow:
            time.sleep(1.0)  # every slow client connected and started on its head
            deadline = time.monotonic() + HOLD_SECONDS
            while time.monotonic() < deadline:
                for kind, send in probes.items():
                    started = time.perf_counter()
                    try:
                        outcome = f"HTTP {send().status_code}"
                    except httpx.HTTPError as exc:  # timed out, refused, reset
                        outcome = type(exc).__name__
                    latencies[kind].append(time.perf_counter() - started)
                    outcomes[f"{kind}: {outcome}"] += 1
                    time.sleep(PROBE_PAUSE)

    figures = {k: f"{len(v)} probes, p99 {p99(v) * 1000:.0f} ms" for k, v in latencies.items()}
    seen = (
        f"{dict(outcomes)}; {figures}; slow clients: {slow.opened} opened, "
        f"{slow.closed_by_server} closed by the server, {slow.lines_sent} header lines sent, "
        f"error {slow.error}"
    )
    # The slow clients really were there, dribbling their heads, the whole time.
    assert slow.error is None, seen
    assert slow.opened >= CONNECTIONS and slow.lines_sent >= CONNECTIONS, seen
    assert set(outcomes) == {"page: HTTP 200", "one-click: HTTP 200"}, seen
    for kind, measured in latencies.items():
        assert len(measured) >= 10, seen
        assert p99(measured) < 1.0, f"{kind}: {seen}"
