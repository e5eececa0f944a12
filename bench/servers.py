"""Real servers on loopback for parts 3 and 5: the emulator CLI on a seeded SQLite file, the app
under gunicorn with the repo's gunicorn.conf.py, and a load generator with CPU accounting.

Servers start and stop through bench/load.py's helpers (own process groups, SIGTERM then
SIGKILL); a Servers object stops everything it started when its `with` block ends.
"""

from __future__ import annotations

import gzip
import http.client
import os
import random
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import httpx

from bench import load
from bench.common import BENCH_USER, BROWSER_HEADERS, WIRE_HEADERS
from bench.cpu import children, cpu_seconds, machine_busy, peak_memory_mb
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter
from prefcenter.emulator import Store
from prefcenter.emulator.seed import seed_catalog

READY_LINE = "bench: page captured in worker"  # printed by bench/bare_app.py once per worker


def seeded_db(path: Path, sections: int, per_section: int) -> Path:
    """A SQLite file for the emulator CLI holding the generated catalog (it will not reseed)."""
    store = Store(str(path))
    try:
        seed_catalog(store, sections, per_section)
    finally:
        store.close()
    return path


@dataclass
class Gunicorn:
    """One gunicorn master serving the bench's app module."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    settings: dict[str, str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        return children(self.pid)


@dataclass
class Servers:
    """Everything started for one part; stopped on exit, apps before the emulator."""

    workdir: Path
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    courier_url: str = ""
    emulator: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        for process in reversed(self.processes):  # the apps first: they are Courier's clients
            load.stop(process)

    def _base_env(self) -> dict[str, str]:
        # As bench/load.py: nothing from the caller's shell may change what is measured.
        return {k: v for k, v in os.environ.items() if k not in load.CONFIG_VARIABLES}

    def start_emulator(self, db: Path) -> str:
        """The emulator CLI on `db`, on a port it picks; its URL once it answers."""
        log = self.workdir / "emulator.log"
        command = [sys.executable, "-m", "prefcenter.emulator", "--port", "0"]
        command += ["--db", str(db), "--api-key", load.API_KEY]
        process = load.start(command, self._base_env(), log)
        self.processes.append(process)
        self.emulator = process

        def answers() -> bool:
            found = re.search(r"listening on (http://\S+)", log.read_text(errors="replace"))
            if not found:
                return False
            self.courier_url = found.group(1)
            response = httpx.get(
                f"{self.courier_url}/preferences/sections",
                headers={"Authorization": f"Bearer {load.API_KEY}"},
                trust_env=False,
            )
            return response.is_success

        load.wait_until(answers, process, "the Courier emulator")
        return self.courier_url

    def start_gunicorn(self, name: str, workers: int | None = None) -> Gunicorn:
        """gunicorn -c gunicorn.conf.py serving bench.bare_app:app; returns once every worker
        has captured its page (so none is still starting when the load begins)."""
        address = f"127.0.0.1:{load.free_port()}"
        url = f"http://{address}"
        env = {
            **self._base_env(),
            "BIND": address,
            "COURIER_API_KEY": load.API_KEY,
            "COURIER_BASE_URL": self.courier_url,
            "SECRET_KEY": self.secret_key,
            "PUBLIC_BASE_URL": url,
            **load.RAISED_LIMITS,
        }
        if workers is not None:
            env["WEB_CONCURRENCY"] = str(workers)
        settings = load.gunicorn_settings(env)
        log = self.workdir / f"gunicorn-{name}.log"
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        if "control_socket" in settings:
            command += ["--control-socket", str(self.workdir / f"gunicorn-{name}.ctl")]
        command.append("bench.bare_app:app")  # overrides the config's wsgi_app
        process = load.start(command, env, log)
        self.processes.append(process)

        def ready() -> bool:
            captured = log.read_text(errors="replace").count(READY_LINE)
            if captured < int(settings["workers"]):
                return False
            return httpx.get(f"{url}/healthz", trust_env=False).status_code == 200

        load.wait_until(ready, process, f"gunicorn ({name})")
        return Gunicorn(url=url, process=process, log=log, settings=settings)

    def start_app(self, name: str, workers: int | None = None, options: str = "") -> Gunicorn:
        """gunicorn -c gunicorn.conf.py serving the app itself (app:app), as `make serve` does;
        `options` are gunicorn flags that win over the config's (for comparing another setup).
        Returns once every worker has booted and /healthz answers."""
        address = f"127.0.0.1:{load.free_port()}"
        url = f"http://{address}"
        env = {
            **self._base_env(),
            "BIND": address,
            "COURIER_API_KEY": load.API_KEY,
            "COURIER_BASE_URL": self.courier_url,
            "SECRET_KEY": self.secret_key,
            "PUBLIC_BASE_URL": url,
            # Gunicorn ranks these flags above the config file and below the command line;
            # set even when empty, so the caller's shell cannot slip any in.
            "GUNICORN_CMD_ARGS": options,
            **load.RAISED_LIMITS,
        }
        if workers is not None:
            env["WEB_CONCURRENCY"] = str(workers)
        settings = load.gunicorn_settings(env)
        log = self.workdir / f"gunicorn-{name}.log"
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        if "control_socket" in settings:
            command += ["--control-socket", str(self.workdir / f"gunicorn-{name}.ctl")]
        process = load.start(command, env, log)
        self.processes.append(process)

        def ready() -> bool:
            booted = log.read_text(errors="replace").count("Booting worker")
            if booted < int(settings["workers"]):
                return False
            return httpx.get(f"{url}/healthz", trust_env=False).status_code == 200

        load.wait_until(ready, process, f"gunicorn ({name})")
        return Gunicorn(url=url, process=process, log=log, settings=settings)

    def signed_in_cookies(self, server: Gunicorn, user_id: str = BENCH_USER) -> httpx.Cookies:
        """The session cookie a person holds once their manage link has opened the page on
        `server`, as a browser keeps it: the page's first view adds the CSRF value to the
        session, so a cookie taken at the link's redirect would have every later view make
        and save that again, which a browser's views do not."""
        minter = LinkMinter.from_environment(
            SECRET_KEY=self.secret_key,
            COURIER_API_KEY=load.API_KEY,
            PUBLIC_BASE_URL=server.url,
            LINK_SIGNING_KEYS=[],
        )
        link = minter.url(LinkClaims(user_id, Purpose.MANAGE))
        with httpx.Client(trust_env=False, headers=BROWSER_HEADERS) as client:
            response = client.get(link, follow_redirects=True)
            opened = [r.status_code for r in response.history] == [302]
            if not opened or response.status_code != 200 or not client.cookies:
                raise RuntimeError(f"opening the manage link answered {response.status_code}")
            return httpx.Cookies(client.cookies)


# ---- the load generator ------------------------------------------------------------------------

# One request or action of one load-generating thread: (HTTP status, bytes received).
Action = Callable[[], tuple[int, int]]


class LoadGenerator:
    """`connections` threads, each on its own keep-alive connection carrying the signed-in
    cookie, asking for one path as fast as answers come, for a fixed time. They ask as a
    browser does over the network (WIRE_HEADERS: compressed answers accepted) and count the
    bytes as received, compressed or not.

    http.client rather than httpx: it takes less than half httpx's CPU per request, and the
    load generator shares the machine's cores with the server it measures.
    """

    def __init__(self, server: Gunicorn, cookies: httpx.Cookies, connections: int) -> None:
        self.server = server
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        self.headers = {**WIRE_HEADERS, "Cookie": cookie}
        self.connections = [connect(server) for _ in range(connections)]
        self.peak_memory: dict[int, float] = {}  # worker pid -> highest VmHWM seen, MiB

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def get(self, connection: http.client.HTTPConnection, path: str) -> tuple[int, int]:
        """One GET: (status, body bytes as received)."""
        status, _, body = exchange(connection, "GET", path, self.headers)
        return status, len(body)

    def run(self, path: str, seconds: float, emulator_pid: int | None = None) -> dict[str, float]:
        """Load `path` for `seconds`: requests per second and where the CPU went."""
        actions = [
            (lambda connection=connection: self.get(connection, path))
            for connection in self.connections
        ]
        return self.drive(actions, seconds, emulator_pid, what=path)

    def drive(
        self,
        actions: list[Action],
        seconds: float,
        emulator_pid: int | None = None,
        what: str = "actions",
    ) -> dict[str, float]:
        """Each action repeated by its own thread for `seconds`: actions answered 200 per
        second and where the CPU went."""
        counts = {"ok": 0, "failed": 0, "bytes": 0}
        lock = threading.Lock()
        start = threading.Barrier(len(actions) + 1)
        deadline = 0.0

        def hammer(action: Action) -> None:
            ok = failed = received = 0
            start.wait()
            while time.monotonic() < deadline:
                try:
                    status, size = action()
                except Exception:  # refused, reset, timed out, an unexpected answer: counted
                    failed += 1
                    continue
                if status == 200:
                    ok += 1
                    received += size
                else:
                    failed += 1
            with lock:
                counts["ok"] += ok
                counts["failed"] += failed
                counts["bytes"] += received

        threads = [
            threading.Thread(target=hammer, args=(action,), daemon=True, name="load")
            for action in actions
        ]
        for thread in threads:
            thread.start()
        server_cpu = cpu_seconds(self.server.pid)
        emulator_cpu = cpu_seconds(emulator_pid, with_children=False) if emulator_pid else 0.0
        own_cpu = time.process_time()
        busy = machine_busy()
        deadline = time.monotonic() + seconds
        started = time.perf_counter()
        start.wait()
        for thread in threads:
            thread.join(seconds + 2 * load.REQUEST_TIMEOUT)
        elapsed = time.perf_counter() - started
        server_cpu = cpu_seconds(self.server.pid) - server_cpu
        if emulator_pid:
            emulator_cpu = cpu_seconds(emulator_pid, with_children=False) - emulator_cpu
        own_cpu = time.process_time() - own_cpu
        busy = machine_busy() - busy
        for pid in self.server.workers():
            peak = peak_memory_mb(pid)
            if peak is not None:
                self.peak_memory[pid] = max(peak, self.peak_memory.get(pid, 0.0))
        if any(thread.is_alive() for thread in threads):
            raise RuntimeError(f"{what} still running past their timeout")
        ok = counts["ok"]
        per_request = 1000 / ok if ok else float("nan")
        return {
            "rps": ok / elapsed,
            "requests": ok,
            "failed": counts["failed"],
            "bytes_per_response": counts["bytes"] / ok if ok else 0.0,
            "server_cpu_ms_per_request": server_cpu * per_request,
            "emulator_cpu_ms_per_request": emulator_cpu * per_request,
            "loadgen_cpu_ms_per_request": own_cpu * per_request,
            # Cores in use, on average: ours, and whatever else the machine ran meanwhile.
            "server_cores": server_cpu / elapsed,
            "emulator_cores": emulator_cpu / elapsed,
            "loadgen_cores": own_cpu / elapsed,
            "other_cores": max(0.0, busy - server_cpu - emulator_cpu - own_cpu) / elapsed,
            "machine_busy_pct": 100 * busy / elapsed / (os.cpu_count() or 1),
        }


class Unexpected(Exception):
    """An answer other than the one a step expects (a save not redirected, no form, ...)."""


class Saver:
    """One person saving over and over on their own keep-alive connection, as a browser does:
    flip one switch, post the form, follow the redirect to the page that says "Saved", and
    take the next form from it. One save is that POST and that GET.

    Each saver is its own Courier user: saves of one person at once would meet each other's
    changes and save nothing (the page leaves a topic changed elsewhere alone).
    """

    def __init__(self, server: Gunicorn, cookies: httpx.Cookies) -> None:
        self.connection = connect(server)
        self.cookies = dict(cookies.items())
        self.random = random.Random()
        self.form: load.PostForm | None = None
        status, answer, body = self._get("/")
        if status != 200:
            raise RuntimeError(f"the page answered {status} before the first save")
        self.form = self._form(answer, body)

    def close(self) -> None:
        self.connection.close()

    def save(self) -> tuple[int, int]:
        """One save: (status of the page after it, bytes received for both requests)."""
        form, self.form = self.form, None  # a failed save leaves none: the next reloads
        if form is None:
            status, answer, body = self._get("/")
            if status != 200:
                return status, len(body)
            form = self._form(answer, body)
        switch = self.random.choice(form.toggles())
        switch["checked"] = "" if switch["checked"] else "checked"
        headers = {
            **self._headers(),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status, answer, body = exchange(self.connection, "POST", "/", headers, form.body().encode())
        self._keep_cookies(answer)
        if status != 302 or urlsplit(answer.getheader("Location", "")).path != "/":
            raise Unexpected(f"the save answered {status}, not a redirect to the page")
        page_status, page_answer, page = self._get("/")
        if page_status == 200:
            self.form = self._form(page_answer, page, saved=True)
        return page_status, len(body) + len(page)

    def _get(self, path: str) -> tuple[int, http.client.HTTPResponse, bytes]:
        status, answer, body = exchange(self.connection, "GET", path, self._headers())
        self._keep_cookies(answer)
        return status, answer, body

    def _headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {**WIRE_HEADERS, "Cookie": cookie}

    def _keep_cookies(self, answer: http.client.HTTPResponse) -> None:
        # The session changes on the way (the "Saved" message travels in it).
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:  # the server deleted it
                    self.cookies.pop(name, None)

    def _form(
        self, answer: http.client.HTTPResponse, body: bytes, saved: bool = False
    ) -> load.PostForm:
        html = decoded(answer, body).decode()
        if saved and "<h2>Saved</h2>" not in html:
            raise Unexpected('the page after a save does not say "Saved"')
        form = load.PostForm(html)
        if not form.found or not form.toggles():
            raise Unexpected("no preferences form on the page")
        return form


def connect(server: Gunicorn) -> http.client.HTTPConnection:
    address = urlsplit(server.url)
    return http.client.HTTPConnection(
        address.hostname or "127.0.0.1", address.port or 80, timeout=load.REQUEST_TIMEOUT
    )


def exchange(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[int, http.client.HTTPResponse, bytes]:
    """One request: (status, the response, its body as received). A kept-alive connection
    the server closed while idle (keepalive timeout, a recycled worker) is reopened once, as
    browsers do. The body stays as received; decoded() reads it."""
    for attempt in (1, 2):
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            received = response.read()
        except (http.client.HTTPException, OSError):
            connection.close()  # the next request opens a new connection
            if attempt == 2:
                raise
            continue
        if response.will_close:
            connection.close()
        return response.status, response, received
    raise AssertionError("unreachable")


DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "br": brotli.decompress,
    "gzip": gzip.decompress,
    "": lambda body: body,
}


def decoded(response: http.client.HTTPResponse, body: bytes) -> bytes:
    """The body as sent before any Content-Encoding."""
    encoding = (response.getheader("Content-Encoding") or "").strip().lower()
    if encoding not in DECODERS:
        raise Unexpected(f"an answer in an encoding not asked for: {encoding}")
    return DECODERS[encoding](body)
