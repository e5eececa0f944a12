"""Smoke run of the benchmark (python -m bench --smoke): every part, tiny sizes, so it cannot rot.

Speed is never asserted here: only that the bench runs, prints its tables and writes its JSON,
and leaves no server running.
"""

from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from htmlform import HtmlForm

ROOT = Path(__file__).resolve().parents[1]
PARTS = ["1", "2", "3", "4", "5"]
ROW_KEYS = {"measure", "value", "unit", "target", "result"}
# A guard against a stuck run, not a speed limit: a smoke run takes about 40 s on two idle
# cores, and the machine running the suite is often busy with other work.
HANG_GUARD = 150


def sessions_alive(leaders: list[int]) -> list[str]:
    """Processes still in the sessions the bench started (each server leads its own)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited while we looked
            continue
        if int(fields[3]) in leaders:  # after "pid (comm)": state, ppid, pgrp, session
            alive.append(stat.parent.name)
    return alive


def test_bench_smoke_run(tmp_path: Path) -> None:
    report_path = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench", "--smoke", "--json", str(report_path)]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the bench then stops its servers on the way out.
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
        pytest.fail(f"the smoke bench ran over {HANG_GUARD} s:\n{output}")

    assert proc.returncode == 0, output
    assert "machine: " in output and " cores, " in output
    for part in PARTS:
        assert f"\nPart {part}: " in output, part
    for heading in ("measure", "measured", "target", "result"):
        assert heading in output
    assert "targets: " in output

    report = json.loads(report_path.read_text())
    assert set(report) >= {"date", "smoke", "machine", "elapsed_s", "summary", "parts"}
    assert report["smoke"] is True
    assert set(report["machine"]) >= {"cores", "cpu", "python", "gunicorn"}
    assert report["summary"]["parts_failed"] == []
    assert list(report["parts"]) == PARTS
    for key, part in report["parts"].items():
        assert part["error"] is None, (key, part["error"])
        assert part["rows"], key
        for row in part["rows"]:
            assert set(row) == ROW_KEYS, (key, row)
            assert row["result"] in {"PASS", "MISS", None}, (key, row)
            if row["result"] is not None:
                assert row["target"], (key, row)
    # The figures behind each part's targets are there (their values are not judged here).
    assert {"user_reads", "catalog_reads", "saves"} <= set(report["parts"]["1"]["details"])
    assert set(report["parts"]["2"]["details"]["seconds"]) == {
        "concurrent",
        "sequential",
        "single_call",
    }
    server_cost = report["parts"]["3"]["details"]
    assert {"page_rps", "floor_rps", "bare_rps", "save_rps", "peak_memory_mb"} <= set(server_cost)
    assert set(server_cost["rounds"]) == {"page", "floor", "bare", "save"}
    # Every save was saved: the page after it said so (else it counts as failed).
    assert all(r["failed"] == 0 for r in server_cost["rounds"]["save"])
    views = report["parts"]["4"]["details"]["views"]
    assert views and all(view["responses"] for view in views.values())
    for view in views.values():
        assert "repeat_view_requests" in view
        assert all("wire_bytes" in response for response in view["responses"])
    assert {"workers", "topics"} <= set(report["parts"]["5"]["details"])
    assert report["processes"]
    assert sessions_alive(report["processes"]) == []


def test_the_load_generator_reads_the_form_as_a_browser_does(
    signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The load generator reads forms with regular expressions, for speed: it must post what
    # a browser would, as tests/htmlform.py (html.parser) reads it.
    monkeypatch.syspath_prepend(str(ROOT))  # the bench is a folder of the checkout
    post_form = importlib.import_module("bench.load").PostForm
    client = signed_in()
    html = client.get("/").get_data(as_text=True)
    form, browser = post_form(html), HtmlForm.parse(html)
    assert form.found and len(form.inputs) == len(browser.controls)
    assert form.body() == urlencode(browser.pairs())
    for switch in form.toggles()[:2]:
        switch["checked"] = "" if switch["checked"] else "checked"
        browser.set(switch["name"], switch["value"], bool(switch["checked"]))
    assert form.body() == urlencode(browser.pairs())
    saved = client.post("/", data=form.body(), content_type="application/x-www-form-urlencoded")
    assert saved.status_code == 302
    assert "<h2>Saved</h2>" in client.get("/").get_data(as_text=True)


def test_the_bench_s_people_view_the_page_as_a_browser_after_its_first_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first view adds the CSRF value to the session; a browser keeps the cookie, so its
    # later views leave the session as it is. The bench's cookie must be that one, or every
    # measured view would pay for the first view's session write.
    monkeypatch.syspath_prepend(str(ROOT))
    servers_module = importlib.import_module("bench.servers")
    with servers_module.Servers(tmp_path) as servers:
        servers.start_emulator(servers_module.seeded_db(tmp_path / "courier.sqlite3", 1, 2))
        server = servers.start_gunicorn("cookies", workers=1)
        cookies = servers.signed_in_cookies(server)
        with httpx.Client(trust_env=False, cookies=cookies) as client:
            views = [client.get(f"{server.url}/") for _ in range(2)]
    assert [view.status_code for view in views] == [200, 200]
    assert [view.headers.get("set-cookie") for view in views] == [None, None]


def test_versus_measures_this_tree_against_a_commit_and_leaves_no_worktree():
    """python -m bench.versus, smoke sized, against this very commit."""
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    done = subprocess.run(
        [sys.executable, "-m", "bench.versus", "HEAD", "--runs", "1", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("base (HEAD)") for line in lines)
    assert any(line.startswith("this tree") for line in lines)
    assert "per topic, base / this tree:" in done.stdout
    assert "save, base / this tree:" in done.stdout
    after = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert after == worktrees  # the temporary worktree is gone


def test_the_load_generator_posts_only_the_ticked_radio_button(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A topic's "How often" radios: only the ticked one is posted, as with checkboxes.
    monkeypatch.syspath_prepend(str(ROOT))
    form = importlib.import_module("bench.load").PostForm(
        '<form method="post"><input type="hidden" name="rendered" value="r">'
        '<input type="checkbox" name="t_a-status" value="OPTED_IN" checked>'
        '<input type="checkbox" name="t_a-channels" value="email">'
        '<input type="checkbox" name="t_a-channels" value="sms" checked>'
        '<input type="radio" name="t_a-digest" value="sch_daily">'
        '<input type="radio" name="t_a-digest" value="sch_weekly" checked>'
        '<input type="checkbox" name="t_b-status" value="OPTED_IN" checked disabled></form>'
    )
    assert parse_qsl(form.body()) == [
        ("rendered", "r"),
        ("t_a-status", "OPTED_IN"),
        ("t_a-channels", "sms"),
        ("t_a-digest", "sch_weekly"),
    ]
