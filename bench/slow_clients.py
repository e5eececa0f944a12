"""Slow clients: do connections that send their request headers slowly stop the page?

    .venv/bin/python -m bench.slow_clients [--connections 50] [--seconds 60] [--interval 10]
                                           [--workers N] [--json PATH]

Everything runs on this machine over loopback: the emulator CLI, and in turn two production
servers, gunicorn with the repo's gunicorn.conf.py as it is ("current") and the same with the
thread workers it used before (`--worker-class gthread --threads 8`, "old gthread"). Against
each, `connections` slow clients send a request line, then one header line every `interval`
seconds and never the blank line that ends the head, each reopened as soon as the server
closes it; meanwhile one prober, on a new connection every time, views the preferences page
signed in and posts a one-click unsubscribe, in turn. A probe not answered 200 within
PROBE_TIMEOUT seconds has failed; latencies include failed probes. Exit status 1 if the
current setup failed a probe, 2 if a server would not start, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import load
from bench.common import BROWSER_HEADERS
from bench.servers import Gunicorn, Servers
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter

SETUPS = {"current": "", "old gthread": "--worker-class gthread --threads 8"}
KINDS = ("page", "one-click")
PROBE_USER = "probe-user"
PROBE_TOPIC = "pt_weekly_digest"
PROBE_TIMEOUT = 5.0  # seconds; the old setup never answers while the slow clients stay
PROBE_PAUSE = 0.1  # seconds between probes: the prober checks availability, not throughput
SETTLE = 1.0  # seconds between opening the slow clients and the first probe
CONNECT_TIMEOUT = 5.0


class SlowClients:
    """`count` connections that each send a request line, then one header line every
    `interval` seconds, never finishing the head; one is reopened whenever the server closes
    it, so `count` are open or opening throughout. One thread serves them all."""

    def __init__(self, url: str, count: int, interval: float) -> None:
        address = urlsplit(url)
        self.address = (address.hostname or "127.0.0.1", address.port or 80)
        self.head = f"GET / HTTP/1.1\r\nHost: {address.netloc}\r\n".encode()
        self.count, self.interval = count, interval
        self.opened = self.closed_by_server = self.failed_opens = self.lines_sent = 0
        self._selector = selectors.DefaultSelector()
        self._due: dict[socket.socket, float] = {}  # open connection -> when its next line goes
        self._missing = 0  # connections to reopen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        start = time.monotonic()
        for i in range(self.count):
            # Staggered, so the lines trickle in rather than arrive in bursts.
            self._open(start + self.interval * (i + 1) / self.count)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(CONNECT_TIMEOUT + 2)
        for sock in list(self._due):
            self._forget(sock)
        self._selector.close()

    def figures(self) -> dict[str, int]:
        return {
            "connections": self.count,
            "opened": self.opened,
            "closed_by_server": self.closed_by_server,
            "failed_opens": self.failed_opens,
            "header_lines_sent": self.lines_sent,
        }

    def _open(self, first_line_at: float) -> None:
        try:
            sock = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT)
            sock.sendall(self.head)
        except OSError:
            self.failed_opens += 1
            self._missing += 1
            return
        sock.setblocking(False)
        self.opened += 1
        self._due[sock] = first_line_at
        self._selector.register(sock, selectors.EVENT_READ)

    def _forget(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        del self._due[sock]
        sock.close()

    def _closed(self, sock: socket.socket) -> None:
        self._forget(sock)
        self.closed_by_server += 1
        self._missing += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            while self._missing and not self._stop.is_set():
                self._missing -= 1
                self._open(now + self.interval)
            wait = min([*self._due.values(), now + 0.2]) - now
            for key, _ in self._selector.select(max(0.0, min(wait, 0.2))):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # the server closed it (anything it answered first is ignored)
                    self._closed(sock)
            now = time.monotonic()
            for sock, due in list(self._due.items()):
                if due > now:
                    continue
                try:
                    sock.send(f"X-Slow-{self.lines_sent}: 1\r\n".encode())
                except OSError:
                    self._closed(sock)
                    continue
                self.lines_sent += 1
                self._due[sock] = due + self.interval


@dataclass
class Probes:
    """Each probe's latency and whether it was answered 200, by kind."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    answered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    problems: dict[str, int] = field(default_factory=dict)  # "kind: what went wrong" -> count

    def record(self, kind: str, seconds: float, problem: str | None) -> None:
        self.latencies[kind].append(seconds)
        if problem is None:
            self.answered[kind] += 1
        else:
            key = f"{kind}: {problem}"
            self.problems[key] = self.problems.get(key, 0) + 1

    def summary(self) -> dict[str, dict[str, Any]]:
        rows = {}
        for kind in KINDS:
            sent = len(self.latencies[kind])
            rows[kind] = {
                "sent": sent,
                "answered": self.answered[kind],
                "failures": sent - self.answered[kind],
                **load.percentiles_ms(self.latencies[kind]),
            }
        return rows


def probe(servers: Servers, server: Gunicorn, seconds: float) -> Probes:
    """View the page signed in and post a one-click unsubscribe, in turn, for `seconds`."""
    minter = LinkMinter.from_environment(
        SECRET_KEY=servers.secret_key,
        COURIER_API_KEY=load.API_KEY,
        PUBLIC_BASE_URL=server.url,
        LINK_SIGNING_KEYS=[],
    )
    unsubscribe = minter.url(LinkClaims(PROBE_USER, Purpose.UNSUBSCRIBE, topic_id=PROBE_TOPIC))
    # A new connection per probe, as a new visitor or a mail provider opens one.
    fresh = httpx.Limits(max_keepalive_connections=0)
    page = httpx.Client(
        base_url=server.url,
        cookies=servers.signed_in_cookies(server, PROBE_USER),
        headers=BROWSER_HEADERS,
        timeout=PROBE_TIMEOUT,
        limits=fresh,
        trust_env=False,
    )
    # Mail providers post without cookies.
    one_click = httpx.Client(timeout=PROBE_TIMEOUT, limits=fresh, trust_env=False)
    requests = {
        "page": lambda: page.get("/"),
        "one-click": lambda: one_click.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}),
    }
    probes = Probes()
    deadline = time.monotonic() + seconds
    with page, one_click:
        while time.monotonic() < deadline:
            for kind, send in requests.items():
                started = time.perf_counter()
                try:
                    status = send().status_code
                    problem = None if status == 200 else f"HTTP {status}"
                except httpx.HTTPError as exc:  # timed out, refused, reset
                    problem = type(exc).__name__
                probes.record(kind, time.perf_counter() - started, problem)
                time.sleep(PROBE_PAUSE)
    return probes


def run_setup(servers: Servers, name: str, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    """Start one setup, hold it with slow clients while probing, stop it: its figures and the
    gunicorn master's pid."""
    server = servers.start_app(name.replace(" ", "-"), args.workers, SETUPS[name])
    try:
        with SlowClients(server.url, args.connections, args.interval) as slow:
            time.sleep(SETTLE)
            started = time.monotonic()
            probes = probe(servers, server, args.seconds)
            elapsed = time.monotonic() - started
        return {
            "gunicorn_options": SETUPS[name] or "(none: gunicorn.conf.py as it is)",
            "worker_class": server.settings["worker_class"],
            "workers": int(server.settings["workers"]),
            "threads": int(server.settings["threads"]),
            "elapsed_s": round(elapsed, 1),
            "slow_clients": slow.figures(),
            "probes": probes.summary(),
            "problems": probes.problems,
        }, server.pid
    finally:
        load.stop(server.process)


def ratios(current: dict[str, Any], old: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Per kind: share of probes answered by each setup, and old latency over current."""
    rows = {}
    for kind in KINDS:
        new_row, old_row = current["probes"][kind], old["probes"][kind]
        row: dict[str, float | None] = {
            "answered_current": _share(new_row["answered"], new_row["sent"]),
            "answered_old": _share(old_row["answered"], old_row["sent"]),
        }
        for p in ("p50_ms", "p90_ms", "p99_ms"):
            a, b = old_row[p], new_row[p]
            row[f"{p}_old_over_current"] = round(a / b, 1) if a and b else None
        rows[kind] = row
    return rows


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Both setups in turn against one emulator; the report."""
    setups: dict[str, Any] = {}
    pids = []
    with Servers(workdir) as servers:
        servers.start_emulator(workdir / "courier.sqlite3")  # fresh: the demo workspace
        assert servers.emulator is not None
        pids.append(servers.emulator.pid)
        for name in SETUPS:
            setups[name], pid = run_setup(servers, name, args)
            pids.append(pid)
    return {
        "parameters": {
            "connections": args.connections,
            "seconds": args.seconds,
            "interval_s": args.interval,
            "probe_timeout_s": PROBE_TIMEOUT,
            "probe_pause_s": PROBE_PAUSE,
            "rate_limits": load.RAISED_LIMITS,
            "percentiles": 'statistics.quantiles(n=100, method="inclusive")',
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "gunicorn": version("gunicorn"),
            "gevent": version("gevent"),
        },
        "setups": setups,
        "ratios": ratios(setups["current"], setups["old gthread"]),
        "processes": pids,
    }


def report_text(report: dict[str, Any]) -> str:
    """The report as fixed-width text tables."""
    lines = []
    for name, setup in report["setups"].items():
        slow = setup["slow_clients"]
        lines.append(
            f"{name}: {setup['workers']} workers, {setup['worker_class']}"
            + (f" x {setup['threads']} threads" if setup["worker_class"] == "gthread" else "")
            + f"; gunicorn options {setup['gunicorn_options']}; probed {setup['elapsed_s']} s"
        )
        lines.append(
            f"  slow clients: {slow['connections']} held, {slow['opened']} opened,"
            f" {slow['closed_by_server']} closed by the server, {slow['failed_opens']} failed"
            f" to open, {slow['header_lines_sent']} header lines sent"
        )
    lines.append("")
    header = f"{'setup':<12} {'probe':<10} {'sent':>6} {'answered':>9} {'failed':>7}"
    header += "".join(f" {name:>8}" for name in ("p50 ms", "p90 ms", "p99 ms"))
    lines.append(header)
    for name, setup in report["setups"].items():
        for kind, row in setup["probes"].items():
            cells = [row[f"p{p}_ms"] for p in (50, 90, 99)]
            line = f"{name:<12} {kind:<10} {row['sent']:>6} {row['answered']:>9}"
            line += f" {row['failures']:>7}"
            line += "".join(f" {'-' if c is None else f'{c:.1f}':>8}" for c in cells)
            lines.append(line)
    lines.append("")
    lines.append(
        f"{'ratios':<12} {'probe':<10} {'answered current / old':>23}"
        f" {'p50 old÷current':>16} {'p99 old÷current':>16}"
    )
    for kind, row in report["ratios"].items():
        shares = f"{_pct(row['answered_current'])} / {_pct(row['answered_old'])}"
        lines.append(
            f"{'':<12} {kind:<10} {shares:>23} {_times(row['p50_ms_old_over_current']):>16}"
            f" {_times(row['p99_ms_old_over_current']):>16}"
        )
    for name, setup in report["setups"].items():
        for problem, count in setup["problems"].items():
            lines.append(f"  {name}: failed {count} x {problem}")
    return "\n".join(lines)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}x"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the script like Ctrl-C does: through the code that stops the servers."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.slow_clients", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--connections", type=int, default=50, help="slow clients (default 50)")
    parser.add_argument(
        "--seconds", type=float, default=60, help="seconds of probing per setup (default 60)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=10,
        help="seconds between a slow client's header lines (default 10, at least 1)",
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config's)")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.seconds <= 0 or (args.workers is not None and args.workers < 1):
        parser.error("--connections, --seconds and --workers must be positive")
    if args.interval < 1:
        # Faster, a slow client would reach gunicorn's 100-header limit and be answered 400.
        parser.error("--interval must be at least 1 second")
    signal.signal(signal.SIGTERM, _interrupt)

    workdir = Path(tempfile.mkdtemp(prefix="prefcenter-slow-clients-"))
    print(f"Servers' logs and SQLite file in {workdir} (removed after a run without failures)")
    print("Rate limits raised to 100000 per minute: the prober is 127.0.0.1.")
    try:
        report = run(args, workdir)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        for log in sorted(workdir.glob("*.log")):
            print(f"--- {log.name} (end)\n{load.tail(log)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; servers stopped; logs in {workdir}", file=sys.stderr)
        return 130

    params, machine = report["parameters"], report["machine"]
    print(
        f"\n{params['connections']} slow clients (a header line every {params['interval_s']:g} s)"
        f" while probing each setup for {params['seconds']:g} s; probe timeout"
        f" {PROBE_TIMEOUT:g} s; latencies of all probes, a failed one at the time it took"
        " (so ratios over failed probes are lower bounds)"
    )
    print(
        f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']};"
        f" gunicorn {machine['gunicorn']}, gevent {machine['gevent']}\n"
    )
    print(report_text(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    failed = sum(row["failures"] for row in report["setups"]["current"]["probes"].values())
    if failed:
        print(f"\nthe current setup failed {failed} probes; logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
