"""Part 5: scale. The page's rate under gunicorn with 1, 4 and 8 workers (all three servers up
at once, loaded in turn), and its per-view cost with 5, 50 and 200 topics (in-process)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench import rig
from bench.common import (
    SECTIONS,
    TOPICS_PER_SECTION,
    Part,
    interleave,
    median_of,
    ratio,
)
from bench.server_cost import CORES_LEGEND, cores_in_use, sizes
from bench.servers import LoadGenerator, Servers, seeded_db

PAGE_PATH = "/"
TOPIC_COUNTS = (5, 50, 200)  # in 5 sections


def run(smoke: bool, workdir: Path) -> Part:
    part = Part("5", "scale: gunicorn workers, and topics on the page")
    cores = os.cpu_count() or 1
    workers_rows(part, smoke, workdir, cores)
    topics_rows(part, smoke)
    return part


def workers_rows(part: Part, smoke: bool, workdir: Path, cores: int) -> None:
    size = sizes(smoke)
    counts = (1, 2) if smoke else (1, 4, 8)
    topics = SECTIONS * TOPICS_PER_SECTION
    with Servers(workdir) as servers:
        servers.start_emulator(
            seeded_db(workdir / "courier-40.sqlite3", SECTIONS, TOPICS_PER_SECTION)
        )
        emulator_pid = servers.emulator.pid if servers.emulator else None
        loads: dict[str, LoadGenerator] = {}
        try:
            for n in counts:
                server = servers.start_gunicorn(f"{n}-workers", workers=n)
                loads[str(n)] = LoadGenerator(
                    server, servers.signed_in_cookies(server), int(size["connections"])
                )
            part.details["processes"] = [p.pid for p in servers.processes]

            def variant(name: str, seconds: float):
                return lambda: loads[name].run(PAGE_PATH, seconds, emulator_pid)

            interleave(
                {name: variant(name, size["warmup_seconds"]) for name in loads},
                rounds=int(size["warmup"]),
            )
            rounds = interleave(
                {name: variant(name, size["seconds"]) for name in loads},
                rounds=int(size["rounds"]),
            )
        finally:
            for generator in loads.values():
                generator.close()

    rps = {name: median_of(rounds[name], "rps") for name in rounds}
    base = rps[str(counts[0])]
    label = {name: f"{name} worker{'' if name == '1' else 's'}" for name in rounds}
    for name in rounds:
        part.add(f"page ({topics} topics), {label[name]}: requests per second", rps[name], "/s")
    mid, top = str(counts[1]), str(counts[-1])
    grows = ratio(rps[mid], base)
    # More workers than cores cannot add cores: the rate should grow until the cores are busy,
    # then hold.
    ideal = min(int(mid), cores)
    part.add(
        f"rate, {mid} workers / 1 worker",
        grows,
        "x",
        target=f"grows (> 1.2; at most {ideal:g} on {cores} cores)",
        ok=grows > 1.2 if ideal > 1 else None,
    )
    if top != mid:
        holds = ratio(rps[top], rps[mid])
        part.add(
            f"rate, {top} workers / {mid} workers",
            holds,
            "x",
            target=">= 0.9 (machine full: holds)" if int(mid) >= cores else "grows",
            ok=holds >= 0.9,
        )
    for name in rounds:
        part.add(f"{label[name]}: cores in use, {CORES_LEGEND}", cores_in_use(rounds[name]))
    failed = sum(r["failed"] for variant in rounds.values() for r in variant)
    part.add("failed requests (workers)", failed, target="0", ok=failed == 0)
    part.details["workers"] = {
        "counts": list(counts),
        "connections": size["connections"],
        "round_seconds": size["seconds"],
        "rounds": rounds,
        "rps": rps,
    }
    part.notes.append(
        f"workers: {size['connections']} keep-alive connections per server; the servers run side"
        f" by side and are loaded in turn, medians of {size['rounds']} interleaved rounds of"
        f" {size['seconds']:g} s; the emulator and the load generator share the {cores} cores"
    )


def topics_rows(part: Part, smoke: bool) -> None:
    rounds, warmup = (3, 1) if smoke else (40, 3)
    rigs = {n: rig.build(rig.emulator(SECTIONS, n // SECTIONS)) for n in TOPIC_COUNTS}
    try:
        people = {n: r.person(f"bench-topics-{n}") for n, r in rigs.items()}
        html_bytes: dict[int, int] = {}

        def view(n: int):
            layer = rigs[n].layer

            def measure() -> dict[str, float]:
                in_emulator = layer.emulator_seconds
                started = time.perf_counter()
                body = people[n].view()
                elapsed = time.perf_counter() - started
                html_bytes[n] = len(body)
                return {"total": elapsed, "app": elapsed - (layer.emulator_seconds - in_emulator)}

            return measure

        times = interleave({str(n): view(n) for n in TOPIC_COUNTS}, rounds=rounds, warmup=warmup)
    finally:
        for bench_rig in rigs.values():
            bench_rig.close()

    app_ms = {n: median_of(times[str(n)], "app") * 1000 for n in TOPIC_COUNTS}
    total_ms = {n: median_of(times[str(n)], "total") * 1000 for n in TOPIC_COUNTS}
    first = TOPIC_COUNTS[0]
    for n in TOPIC_COUNTS:
        part.add(
            f"page view, {n} topics: app time (with the in-process emulator)",
            f"{app_ms[n]:.1f} ({total_ms[n]:.1f})",
            "ms",
        )
    for n in TOPIC_COUNTS[1:]:
        part.add(f"app time, {n} topics / {first} topics", ratio(app_ms[n], app_ms[first]), "x")
    low, mid, high = TOPIC_COUNTS
    slope_low = (app_ms[mid] - app_ms[low]) / (mid - low)
    slope_high = (app_ms[high] - app_ms[mid]) / (high - mid)
    part.add(
        f"app time per added topic, {low}->{mid} / {mid}->{high}",
        f"{slope_low:.2f} / {slope_high:.2f}",
        "ms",
        target="linear: second <= 1.5 x first",
        ok=slope_high <= 1.5 * slope_low,
    )
    part.add(
        "HTML per page, " + " / ".join(f"{n}" for n in TOPIC_COUNTS) + " topics",
        " / ".join(f"{html_bytes[n]:,}" for n in TOPIC_COUNTS),
        "B",
    )
    part.details["topics"] = {
        "counts": list(TOPIC_COUNTS),
        "sections": SECTIONS,
        "rounds": rounds,
        "app_ms": app_ms,
        "total_ms": total_ms,
        "html_bytes": html_bytes,
        "seconds": times,
    }
    part.notes.append(
        f"topics: in-process views (Flask test client, emulator through the WSGI transport),"
        f" medians of {rounds} interleaved rounds; app time = view time minus the time spent"
        " inside the emulator"
    )
