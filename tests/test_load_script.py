"""Smoke run of the load script (bench/load.py): real emulator, real gunicorn, a few seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KINDS = ["open link", "view", "save", "total"]
COLUMNS = {"requests", "failures", "rps", "p50_ms", "p90_ms", "p99_ms"}


def sessions_alive(leaders: list[int]) -> list[str]:
    """Processes still in the sessions the script started (each server leads its own)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited while we looked
            continue
        if int(fields[3]) in leaders:  # after "pid (comm)": state, ppid, pgrp, session
            alive.append(stat.parent.name)
    return alive


def run_load(*options: str) -> tuple[int, str]:
    """A short load run (2 people, 3 s, 1 worker): its exit status and output."""
    command = [sys.executable, "-m", "bench.load", "--people", "2", "--duration", "3"]
    command += ["--workers", "1", *options]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = proc.communicate(timeout=50)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the script then stops its servers on the way out.
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
        pytest.fail(f"the load script ran over 50 s:\n{output}")
    return proc.returncode, output


def test_load_script_smoke_run(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    returncode, output = run_load("--json", str(report_path))

    assert returncode == 0, output
    assert "Rate limits raised" in output
    report = json.loads(report_path.read_text())
    assert set(report) >= {"parameters", "machine", "elapsed_s", "results", "failure_reasons"}
    assert report["parameters"]["people"] == 2
    assert report["machine"]["gunicorn_workers"] == 1
    assert report["machine"]["cpus"] >= 1
    assert list(report["results"]) == KINDS
    for kind in KINDS:
        row = report["results"][kind]
        assert set(row) == COLUMNS
        assert row["requests"] > 0, kind
        assert row["failures"] == 0, kind
        assert row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"]
    assert report["failure_reasons"] == {}
    if Path("/proc/self/stat").exists():
        assert sessions_alive(list(report["processes"].values())) == []


def test_the_app_can_be_served_from_another_checkout(tmp_path: Path) -> None:
    # Two versions of the app compared under the same emulator and people: the app's code
    # and gunicorn.conf.py must come from the other checkout, not from this one.
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(other)], check=True, timeout=60)
    head = subprocess.run(
        ["git", "-C", str(other), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    marker = other / "served-from-here"
    entry = other / "prefcenter" / "wsgi.py"
    entry.write_text(
        entry.read_text() + f"\nimport pathlib\npathlib.Path({str(marker)!r}).touch()\n"
    )
    report_path = tmp_path / "report.json"

    returncode, output = run_load("--app-tree", str(other), "--json", str(report_path))

    assert returncode == 0, output
    assert marker.exists()  # the other checkout's app answered the load
    report = json.loads(report_path.read_text())
    assert report["app"] == {"tree": str(other), "commit": f"{head}+"}  # "+": wsgi.py changed
    assert f"app: {other} at {head}+" in output
    assert report["results"]["total"]["failures"] == 0


def test_a_folder_that_is_no_checkout_is_refused(tmp_path: Path) -> None:
    returncode, output = run_load("--app-tree", str(tmp_path))
    assert returncode == 2
    assert f"--app-tree: no gunicorn.conf.py in {tmp_path}" in output


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two CPUs this process may use",
)
def test_the_app_can_have_cpus_of_its_own(tmp_path: Path) -> None:
    usable = sorted(os.sched_getaffinity(0))
    app_cpu, others = usable[-1], usable[:-1]
    report_path = tmp_path / "report.json"

    returncode, output = run_load("--app-cpus", str(app_cpu), "--json", str(report_path))

    assert returncode == 0, output
    report = json.loads(report_path.read_text())
    # Read back from the running processes, not copied from the command line.
    assert report["cpus"] == {"emulator": others, "gunicorn": [app_cpu], "people": others}
    assert f"CPUs: emulator {others}, gunicorn {[app_cpu]}, people {others}" in output
    assert report["results"]["total"]["failures"] == 0


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_app_cpus_must_leave_some_for_the_stand_ins() -> None:
    every = ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))
    returncode, output = run_load("--app-cpus", every)
    assert returncode == 2
    assert "leave at least one CPU for the emulator and the people" in output
