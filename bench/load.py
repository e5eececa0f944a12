"""Load test: N simulated people open a manage link, then view and save their preferences.

    .venv/bin/python -m bench.load [--people 50] [--duration 60] [--workers N] [--json PATH]
                                   [--app-tree PATH] [--app-cpus LIST]

Everything runs on this machine over loopback: the Courier emulator (a subprocess on a fresh
SQLite file) and the app under gunicorn with the repo's gunicorn.conf.py (the production
settings). --app-tree serves the app from another checkout of this repository (its code and
its gunicorn.conf.py) while the emulator and the people stay this tree's, so two versions of
the app are compared against the same stand-ins. --app-cpus runs gunicorn on the CPUs listed
and the emulator and the people on the others, so the stand-ins do not take the app's cores
(in production Courier and the people's browsers are elsewhere). Each person is a thread with
its own httpx client (so its own cookie jar) and its own Courier user. Exit status 1 if any
request failed.

A "request" below is one action of a person, redirects followed as a browser does: opening
the link (302 to /, then the page), viewing the page, or saving (POST, 302 to /, then the page
saying "Saved"). Latencies are those of whole actions, failed ones included; percentiles are
statistics.quantiles(method="inclusive") cut points over every recorded latency.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from bench.cpu import cpu_seconds, machine_busy
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter
from prefcenter.emulator.seed import TOPIC_SECURITY
from prefcenter.page.forms import field_key
from prefcenter.platform.config import ENVIRONMENT

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
KINDS = ("open link", "view", "save")
API_KEY = "bench-emulator-key"
REQUEST_TIMEOUT = 30.0  # seconds per connect/read/write: a slower answer counts as a failure
STARTUP_TIMEOUT = 30.0  # seconds each server may take to answer after starting
STOP_TIMEOUT = 10.0  # seconds a server gets to exit on SIGTERM before SIGKILL
FAILURE_PAUSE = 0.2  # seconds a person waits after a failure, so errors do not spin a core
# Every person comes from 127.0.0.1, so the per-address limits would refuse the test itself.
RAISED_LIMITS = {
    "PREFCENTER_RATE_LIMIT_LINKS": "100000 per minute",
    "PREFCENTER_RATE_LIMIT_ONE_CLICK": "100000 per minute",
    "PREFCENTER_RATE_LIMIT_API": "100000 per minute",
}
# Variables the app and gunicorn.conf.py read: dropped from the inherited environment so a
# stray setting in the caller's shell cannot change what is measured.
CONFIG_VARIABLES = {*ENVIRONMENT.values(), "BIND", "PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"}
# The required topic's switch is locked (disabled, no name); never try to turn it off.
REQUIRED_STATUS = field_key(TOPIC_SECURITY) + "-status"


class Failed(Exception):
    """An answer other than the expected one; the message says what was wrong."""


# ---- results ---------------------------------------------------------------------------------


class Recorder:
    """Latencies and failures by kind, shared by every person."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.failures: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()  # "kind: what went wrong", for the report

    def record(self, kind: str, seconds: float, problem: str | None) -> None:
        with self._lock:
            self.latencies[kind].append(seconds)
            if problem is not None:
                self.failures[kind] += 1
                self.reasons[f"{kind}: {problem}"] += 1


def percentiles_ms(latencies: list[float]) -> dict[str, float | None]:
    """p50, p90, p99 in milliseconds: statistics.quantiles' inclusive cut points."""
    if not latencies:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None}
    if len(latencies) == 1:
        latencies = latencies * 2  # quantiles needs two points; one value is every percentile
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {f"p{p}_ms": round(cuts[p - 1] * 1000, 1) for p in (50, 90, 99)}


def summarize(recorder: Recorder, elapsed: float) -> dict[str, dict[str, Any]]:
    """Per kind and in total: requests, failures, requests per second and percentiles."""
    groups = {kind: list(recorder.latencies[kind]) for kind in KINDS}
    groups["total"] = [seconds for kind in KINDS for seconds in groups[kind]]
    failures = {**recorder.failures, "total": sum(recorder.failures.values())}
    return {
        kind: {
            "requests": len(latencies),
            "failures": failures.get(kind, 0),
            "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
            **percentiles_ms(latencies),
        }
        for kind, latencies in groups.items()
    }


def table(rows: dict[str, dict[str, Any]]) -> str:
    """The summary as a fixed-width text table."""
    header = f"{'kind':<10} {'requests':>9} {'failures':>9} {'req/s':>8}"
    header += "".join(f" {name:>8}" for name in ("p50 ms", "p90 ms", "p99 ms"))
    lines = [header]
    for kind, row in rows.items():
        cells = [row[f"p{p}_ms"] for p in (50, 90, 99)]
        line = f"{kind:<10} {row['requests']:>9} {row['failures']:>9} {row['rps']:>8.1f}"
        line += "".join(f" {'-' if c is None else f'{c:.1f}':>8}" for c in cells)
        lines.append(line)
    return "\n".join(lines)


# ---- one simulated person --------------------------------------------------------------------


class PostForm:
    """The page's first <form method=post> (the save form): its inputs, as a browser sees them.

    Read with regular expressions rather than html.parser, which took about 10 ms of the load
    generator's CPU per 40-topic page, more than the server spends making it, on the same
    cores; this takes about 1 ms.
    """

    def __init__(self, html: str) -> None:
        self.inputs: list[dict[str, str]] = []  # attributes of each named input, in page order
        self.found = False
        for form in FORM_TAG.finditer(html):
            if _attributes(form.group(1)).get("method") != "post":
                continue
            self.found = True
            end = FORM_END.search(html, form.end())
            inside = html[form.end() : end.start() if end else len(html)]
            for tag in INPUT_TAG.finditer(inside):
                attributes = _attributes(tag.group(1))
                if "name" in attributes:
                    attributes["checked"] = "checked" if "checked" in attributes else ""
                    self.inputs.append(attributes)
            break

    def toggles(self) -> list[dict[str, str]]:
        """The status switches a person may flip: enabled, and never the required topic."""
        return [
            i
            for i in self.inputs
            if i.get("type") == "checkbox"
            and i["name"].endswith("-status")
            and i["name"] != REQUIRED_STATUS
            and "disabled" not in i
        ]

    def body(self) -> str:
        """What a browser posts: enabled inputs in page order, checkboxes and radio buttons
        (a topic's "How often") only when ticked."""
        pairs = [
            (i["name"], i.get("value", "on"))
            for i in self.inputs
            if "disabled" not in i and (i.get("type") not in TICKED or i["checked"])
        ]
        return urlencode(pairs)


TICKED = ("checkbox", "radio")  # inputs a browser posts only when ticked
FORM_TAG = re.compile(r"<form\b([^>]*)>", re.I)
FORM_END = re.compile(r"</form\s*>", re.I)
INPUT_TAG = re.compile(r"<input\b([^>]*)>", re.I)
# name, then optionally = and a value: double-quoted, single-quoted or bare (HTML's rules).
ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


def _attributes(text: str) -> dict[str, str]:
    """A tag's attributes, names in lower case, values unescaped ("" for none), as
    html.parser gives them."""
    return {
        name.lower(): html.unescape(double or single or bare or "")
        for name, double, single, bare in ATTRIBUTE.findall(text)
    }


class Person:
    """One person with their own client and cookies: open the link once, then view and save."""

    def __init__(
        self, app_url: str, link: str, deadline: float, stop: threading.Event, recorder: Recorder
    ) -> None:
        self.page_url, self.link = app_url + "/", link
        self.deadline, self.stop, self.recorder = deadline, stop, recorder
        self.random = random.Random()
        self.doing = KINDS[0]  # the action in flight, to name it if the hard cap cuts it off

    def _act(
        self, kind: str, send: Callable[[], httpx.Response], check: Callable[[httpx.Response], T]
    ) -> T | None:
        """Send one action, check its answer, record it; the check's result, or None if failed."""
        self.doing = kind
        started = time.perf_counter()
        result, problem = None, None
        try:
            result = check(send())
        except Failed as exc:
            problem = str(exc)
        except httpx.HTTPError as exc:  # refused, reset, timed out, ...
            problem = type(exc).__name__
        except Exception as exc:  # anything else still counts, rather than end the person
            problem = f"{type(exc).__name__}: {exc}"
        self.recorder.record(kind, time.perf_counter() - started, problem)
        if problem is not None:
            time.sleep(FAILURE_PAUSE)
        return result

    def _going(self) -> bool:
        # Checked before each request: at the deadline a person finishes what is in flight.
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def run(self) -> None:
        timeout = httpx.Timeout(REQUEST_TIMEOUT)
        # trust_env=False: loopback only, whatever proxy variables the shell has. English pages,
        # as a browser asks for them, so the "Saved" check does not depend on a default.
        headers = {"Accept-Language": "en"}
        with httpx.Client(
            timeout=timeout, follow_redirects=True, trust_env=False, headers=headers
        ) as client:
            signed_in = False
            while self._going():
                if not signed_in:
                    signed_in = bool(self._act("open link", lambda: client.get(self.link), _page))
                    continue
                form = self._act("view", lambda: client.get(self.page_url), _page)
                if form is not None and self._going():
                    self._save(client, form)

    def _save(self, client: httpx.Client, form: PostForm) -> None:
        """Flip one switch and post the form as a browser would (urlencoded, page order)."""
        switch = self.random.choice(form.toggles())
        on = not switch["checked"]
        switch["checked"] = "checked" if on else ""
        body = form.body()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self._act(
            "save",
            lambda: client.post(self.page_url, content=body, headers=headers),
            lambda response: _saved(response, switch["name"], on),
        )


def _page(response: httpx.Response) -> PostForm:
    """The preferences page, answered 200 with its form (after any redirect)."""
    if response.status_code != 200:
        raise Failed(f"HTTP {response.status_code}")
    form = PostForm(response.text)
    if not form.found or not form.toggles():
        raise Failed("no preferences form")
    return form


def _saved(response: httpx.Response, name: str, on: bool) -> PostForm:
    """A save: 302 to the page, which says "Saved" and shows the switch as it was set."""
    if [r.status_code for r in response.history] != [302]:
        raise Failed(f"HTTP {response.status_code}, not a redirect")
    form = _page(response)
    if "<h2>Saved</h2>" not in response.text:
        raise Failed('no "Saved"')
    shown = next((i for i in form.inputs if i["name"] == name), None)
    if shown is None or bool(shown["checked"]) != on:
        raise Failed("page does not show the change")
    return form


# ---- the servers -----------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port free right now (gunicorn needs it before start: links are built on it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    command: list[str],
    env: dict[str, str],
    log: Path,
    tree: Path = ROOT,
    cpus: set[int] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server from `tree` in its own process group (so it and its workers stop
    together), on `cpus` only when given (its children inherit them)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=tree,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_pinned_to(cpus),
        )


def _pinned_to(cpus: set[int] | None) -> Callable[[], None] | None:
    """For Popen: a function that pins the child to `cpus` before it runs, or None."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not exited in time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        # Still unreaped, so the group id cannot have been reused by another process.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    """Poll until ready() is true; fail if the process dies or STARTUP_TIMEOUT passes."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {STARTUP_TIMEOUT:.0f} s")


def gunicorn_settings(
    env: dict[str, str], tree: Path = ROOT, cpus: set[int] | None = None
) -> dict[str, str]:
    """The workers and threads `tree`'s gunicorn.conf.py gives under this environment, on
    these CPUs (--print-config)."""
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--print-config"]
    printed = subprocess.run(
        command,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        preexec_fn=_pinned_to(cpus),
    ).stdout
    return dict(
        re.findall(r"^(workers|threads|worker_class|control_socket)\s+= (\S+)$", printed, re.M)
    )


def cpu_use(gunicorn: int, emulator: int) -> dict[str, float]:
    """CPU seconds so far of gunicorn (its workers included), the emulator, this process
    (the people), and everything else the machine ran: the load competes with it all."""
    used = {
        "gunicorn": cpu_seconds(gunicorn),
        "emulator": cpu_seconds(emulator, with_children=False),
        "people": time.process_time(),
    }
    return {**used, "other": max(0.0, machine_busy() - sum(used.values()))}


def affinity(pid: int) -> list[int] | None:
    """The CPUs a process may run on, or None once it has gone."""
    try:
        return sorted(os.sched_getaffinity(pid))
    except ProcessLookupError:
        return None


def cpu_list(text: str) -> set[int]:
    """--app-cpus: CPU numbers separated by commas, each one this process may run on."""
    if not hasattr(os, "sched_getaffinity"):
        raise argparse.ArgumentTypeError("this system does not let a process choose its CPUs")
    try:
        cpus = {int(part) for part in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of CPU numbers: {text!r}") from None
    usable = os.sched_getaffinity(0)
    if not cpus <= usable:
        raise argparse.ArgumentTypeError(
            f"CPUs {sorted(cpus - usable)} are not among this process's {sorted(usable)}"
        )
    if cpus == usable:
        raise argparse.ArgumentTypeError("leave at least one CPU for the emulator and the people")
    return cpus


def commit_of(tree: Path) -> str | None:
    """The commit checked out in `tree` ("+" when its files differ from it), or None."""

    def git(*arguments: str) -> subprocess.CompletedProcess[str]:
        command = ["git", "-C", str(tree), *arguments]
        return subprocess.run(command, capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "--short", "HEAD")
        if head.returncode != 0:
            return None
        changed = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
        return head.stdout.strip() + ("+" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return None


def tail(path: Path, lines: int = 15) -> str:
    """The end of a log file, for error messages."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# ---- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start both servers, run the people, stop everything; return the report."""
    base_env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stop_people = threading.Event()
    app_cpus: set[int] | None = args.app_cpus
    all_cpus = os.sched_getaffinity(0) if app_cpus else set()
    stand_in_cpus = (all_cpus - app_cpus) if app_cpus else None
    try:
        if stand_in_cpus:
            os.sched_setaffinity(0, stand_in_cpus)  # the people: this process's threads
        # 1. Courier emulator: port 0 lets it pick; it prints the address once listening.
        emulator_log = workdir / "emulator.log"
        processes["emulator"] = emulator = start(
            [sys.executable, "-m", "prefcenter.emulator", "--port", "0"]
            + ["--db", str(workdir / "courier.sqlite3"), "--api-key", API_KEY],
            base_env,
            emulator_log,
            cpus=stand_in_cpus,
        )
        courier_url = ""

        def emulator_answers() -> bool:
            nonlocal courier_url
            found = re.search(r"listening on (http://\S+)", emulator_log.read_text())
            if found:
                courier_url = found.group(1)
                auth, url = (
                    {"Authorization": f"Bearer {API_KEY}"},
                    f"{courier_url}/preferences/sections",
                )
                return httpx.get(url, headers=auth, trust_env=False).is_success
            return False

        wait_until(emulator_answers, emulator, "the Courier emulator")

        # 2. The app under gunicorn, production settings, on a free loopback port.
        address = f"127.0.0.1:{free_port()}"
        app_url = f"http://{address}"
        secret_key = secrets.token_urlsafe(48)
        tree = args.app_tree
        env = {
            **base_env,
            "PYTHONPATH": str(tree),  # the app's code from its tree, whatever the shell says
            "BIND": address,
            "COURIER_API_KEY": API_KEY,
            "COURIER_BASE_URL": courier_url,
            "SECRET_KEY": secret_key,
            "PUBLIC_BASE_URL": app_url,
            **RAISED_LIMITS,
        }
        if args.workers is not None:
            env["WEB_CONCURRENCY"] = str(args.workers)
        settings = gunicorn_settings(env, tree, app_cpus)
        app_log = workdir / "gunicorn.log"
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        if "control_socket" in settings:
            # Gunicorn >= 24 listens on ~/.gunicorn/gunicorn.ctl by default, shared by every
            # instance of the user: keep ours in the work dir, away from any other gunicorn.
            command += ["--control-socket", str(workdir / "gunicorn.ctl")]
        processes["gunicorn"] = gunicorn = start(command, env, app_log, tree, app_cpus)

        def app_ready() -> bool:
            # Every worker booted (so none is still importing when the load starts), and healthy.
            booted = app_log.read_text(errors="replace").count("Booting worker")
            healthy = httpx.get(f"{app_url}/healthz", trust_env=False).status_code == 200
            return healthy and booted >= int(settings["workers"])

        wait_until(app_ready, gunicorn, "gunicorn")
        cpus_of: dict[str, list[int] | None] | None = None
        if app_cpus:
            # Read back, so the report says where each ran rather than what was asked for.
            cpus_of = {name: affinity(p.pid) for name, p in processes.items()}
            cpus_of["people"] = affinity(0)

        # 3. The people: each their own Courier user and signed manage link.
        minter = LinkMinter.from_environment(
            SECRET_KEY=secret_key,
            COURIER_API_KEY=API_KEY,
            PUBLIC_BASE_URL=app_url,
            LINK_SIGNING_KEYS=[],  # sign with SECRET_KEY, as the app does, whatever the shell says
        )
        links = [
            minter.url(LinkClaims(f"load-{i:04d}", Purpose.MANAGE)) for i in range(args.people)
        ]
        recorder = Recorder()
        cpu_before = cpu_use(gunicorn.pid, emulator.pid)
        started = time.monotonic()
        deadline = started + args.duration
        people = [Person(app_url, link, deadline, stop_people, recorder) for link in links]
        # Daemon threads: a person stuck past the hard cap must not keep the script alive.
        threads = [threading.Thread(target=p.run, name="person", daemon=True) for p in people]
        for thread in threads:
            thread.start()
        # 4. Hard cap: a save is two requests, each allowed REQUEST_TIMEOUT; then stop waiting.
        hard_cap = deadline + 2 * REQUEST_TIMEOUT + 5
        for thread in threads:
            thread.join(max(0.0, hard_cap - time.monotonic()))
        elapsed = time.monotonic() - started
        cpu = {
            name: round((after - cpu_before[name]) / elapsed, 2)
            for name, after in cpu_use(gunicorn.pid, emulator.pid).items()
        }
        for person, thread in zip(people, threads, strict=True):
            if thread.is_alive():  # its request is past its time: count it as failed
                recorder.record(person.doing, hard_cap - started, "still running at the hard cap")

        return {
            "parameters": {
                "people": args.people,
                "duration_s": args.duration,
                "request_timeout_s": REQUEST_TIMEOUT,
                "rate_limits": RAISED_LIMITS,
                "percentiles": 'statistics.quantiles(n=100, method="inclusive")',
            },
            "app": {"tree": str(tree), "commit": commit_of(tree)},
            # CPUs each ran on (None: wherever the system put it).
            "cpus": cpus_of,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "gunicorn": version("gunicorn"),
                "gunicorn_workers": int(settings["workers"]),
                "gunicorn_threads": int(settings["threads"]),
                "gunicorn_worker_class": settings["worker_class"],
            },
            "elapsed_s": round(elapsed, 2),
            # Cores in use on average while the people ran, and by whom.
            "cores_in_use": cpu,
            "results": summarize(recorder, elapsed),
            "failure_reasons": dict(recorder.reasons.most_common()),
            "processes": {name: process.pid for name, process in processes.items()},
        }
    finally:
        stop_people.set()
        for name in ("gunicorn", "emulator"):  # the app first: it is the emulator's client
            if name in processes:
                stop(processes[name])
        if all_cpus:
            os.sched_setaffinity(0, all_cpus)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the script like Ctrl-C does: through the finally that stops the servers."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--people", type=int, default=50, help="concurrent people (default 50)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config's)")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--app-tree",
        type=Path,
        default=ROOT,
        help="serve the app from this checkout (default: this one); the emulator and the"
        " people stay this tree's",
    )
    parser.add_argument(
        "--app-cpus",
        type=cpu_list,
        metavar="LIST",
        help="run gunicorn on these CPUs (e.g. 1 or 2,3), the emulator and the people on the"
        " others",
    )
    args = parser.parse_args(argv)
    if args.people < 1 or args.duration <= 0 or (args.workers is not None and args.workers < 1):
        parser.error("--people, --duration and --workers must be positive")
    args.app_tree = args.app_tree.resolve()
    if not (args.app_tree / "gunicorn.conf.py").is_file():
        parser.error(f"--app-tree: no gunicorn.conf.py in {args.app_tree}")
    signal.signal(signal.SIGTERM, _interrupt)

    workdir = Path(tempfile.mkdtemp(prefix="prefcenter-load-"))
    print(f"Servers' logs and SQLite file in {workdir} (removed after a run without failures)")
    print("Rate limits raised to 100000 per minute: every simulated person is 127.0.0.1.")
    try:
        report = run(args, workdir)
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        for log in sorted(workdir.glob("*.log")):
            print(f"--- {log.name} (end)\n{tail(log)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; servers stopped; logs in {workdir}", file=sys.stderr)
        return 130

    machine, params = report["machine"], report["parameters"]
    print(
        f"\n{params['people']} people for {params['duration_s']:g} s (ran {report['elapsed_s']} s),"
        f" request timeout {REQUEST_TIMEOUT:g} s"
    )
    app = report["app"]
    print(f"app: {app['tree']} at {app['commit'] or 'no git commit'}")
    if report["cpus"]:
        print("CPUs: " + ", ".join(f"{name} {cpus}" for name, cpus in report["cpus"].items()))
    print(
        f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']};"
        f" gunicorn {machine['gunicorn']}: {machine['gunicorn_workers']} workers x"
        f" {machine['gunicorn_threads']} threads ({machine['gunicorn_worker_class']})"
    )
    print("a request is one action, redirects followed; latencies of all, failed ones included\n")
    print(table(report["results"]))
    cores = report["cores_in_use"]
    print(
        f"cores in use on average, of {machine['cpus']}: gunicorn {cores['gunicorn']},"
        f" emulator {cores['emulator']}, the people (this process) {cores['people']},"
        f" other processes {cores['other']}"
    )
    failed = report["results"]["total"]["failures"]
    for reason, count in report["failure_reasons"].items():
        print(f"  failed {count} x {reason}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if failed:
        print(f"\n{failed} failed requests; logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
