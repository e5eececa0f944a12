"""Part 3: the page's server cost under gunicorn with the production settings, in one run,
interleaved: requests per second of the preferences page, of the floor (a route making the
page's one Courier read through the app's own client, then answering the page's bytes) and of
a bare route answering the same bytes; the cost of a save (POST, redirect, and the page after
it); and peak memory per worker."""

from __future__ import annotations

from pathlib import Path

from bench.common import (
    BARE_PATH,
    FLOOR_PATH,
    SECTIONS,
    TOPICS_PER_SECTION,
    Part,
    interleave,
    median_of,
    ratio,
)
from bench.servers import LoadGenerator, Saver, Servers, peak_memory_mb, seeded_db

PAGE_PATH = "/"
# What each variant is, for the table.
NAMES = {
    "page": "page",
    "floor": "floor: one Courier read, same bytes",
    "bare": "bare route, same bytes",
    "save": "save: POST, redirect, page",
}
FLOOR_TARGET = 0.7  # page rate / floor rate
BARE_TARGET = 0.4  # page rate / bare rate


def sizes(smoke: bool) -> dict[str, float | int]:
    if smoke:
        return {"rounds": 1, "warmup": 1, "seconds": 0.5, "warmup_seconds": 0.3, "connections": 4}
    return {"rounds": 7, "warmup": 1, "seconds": 3.0, "warmup_seconds": 1.0, "connections": 16}


def rate_rows(part: Part, rounds: dict[str, list[dict[str, float]]], names: dict[str, str]) -> None:
    """Requests per second of each variant (medians of its rounds)."""
    for key, label in names.items():
        what = "saves" if key == "save" else "requests"
        part.add(f"{label}: {what} per second", median_of(rounds[key], "rps"), "/s")


def cpu_rows(part: Part, rounds: dict[str, list[dict[str, float]]], names: dict[str, str]) -> None:
    """Where the CPU went, per request and in cores, for each variant."""
    figures = (
        "server_cpu_ms_per_request",
        "emulator_cpu_ms_per_request",
        "loadgen_cpu_ms_per_request",
    )
    for key, label in names.items():
        part.add(
            f"{label}: CPU per {'save' if key == 'save' else 'request'},"
            " gunicorn / emulator / load gen",
            " / ".join(f"{median_of(rounds[key], figure):.2f}" for figure in figures),
            "ms",
        )
    for key, label in names.items():
        part.add(f"{label}: cores in use, {CORES_LEGEND}", cores_in_use(rounds[key]))


CORES_LEGEND = "gunicorn / emulator / load gen / other processes"


def cores_in_use(rounds: list[dict[str, float]]) -> str:
    """Where the machine's CPU went while one variant ran (medians over its rounds)."""
    figures = ("server_cores", "emulator_cores", "loadgen_cores", "other_cores")
    return " / ".join(f"{median_of(rounds, figure):.2f}" for figure in figures)


def run(smoke: bool, workdir: Path) -> Part:
    size = sizes(smoke)
    topics = SECTIONS * TOPICS_PER_SECTION
    part = Part(
        "3",
        f"server cost of the page ({topics} topics in {SECTIONS} sections), gunicorn production"
        " settings",
    )
    connections = int(size["connections"])
    with Servers(workdir) as servers:
        servers.start_emulator(
            seeded_db(workdir / f"courier-{topics}.sqlite3", SECTIONS, TOPICS_PER_SECTION)
        )
        server = servers.start_gunicorn("production")
        part.details["processes"] = [p.pid for p in servers.processes]
        emulator_pid = servers.emulator.pid if servers.emulator else None
        load = LoadGenerator(server, servers.signed_in_cookies(server), connections)
        # Savers are people of their own, one per connection: the page's person never changes.
        savers = [
            Saver(server, servers.signed_in_cookies(server, f"bench-saver-{i:02d}"))
            for i in range(connections)
        ]
        try:

            def variant(path: str, seconds: float):
                return lambda: load.run(path, seconds, emulator_pid)

            def saving(seconds: float):
                actions = [saver.save for saver in savers]
                return lambda: load.drive(actions, seconds, emulator_pid, what="saves")

            def variants(seconds: float):
                return {
                    "page": variant(PAGE_PATH, seconds),
                    "floor": variant(FLOOR_PATH, seconds),
                    "bare": variant(BARE_PATH, seconds),
                    "save": saving(seconds),
                }

            # A short warm-up of each (first requests fill pools and the catalog cache).
            interleave(variants(size["warmup_seconds"]), rounds=int(size["warmup"]))
            rounds = interleave(variants(size["seconds"]), rounds=int(size["rounds"]))
            workers_memory = dict(load.peak_memory)
            master_memory = peak_memory_mb(server.pid)
        finally:
            load.close()
            for saver in savers:
                saver.close()

    rps = {key: median_of(rounds[key], "rps") for key in NAMES}
    cpu = {key: median_of(rounds[key], "server_cpu_ms_per_request") for key in NAMES}
    settings = server.settings
    rate_rows(part, rounds, NAMES)
    to_floor, to_bare = ratio(rps["page"], rps["floor"]), ratio(rps["page"], rps["bare"])
    part.add(
        "page rate / floor rate",
        to_floor,
        "x",
        target=f">= {FLOOR_TARGET}",
        ok=to_floor >= FLOOR_TARGET,
    )
    part.add(
        "page rate / bare route rate",
        to_bare,
        "x",
        target=f">= {BARE_TARGET}",
        ok=to_bare >= BARE_TARGET,
    )
    part.add(
        "gunicorn CPU per request, page / floor / bare",
        f"{cpu['page']:.2f} / {cpu['floor']:.2f} / {cpu['bare']:.2f}",
        "ms",
    )
    # The rate ratios on cores of their own: less swayed by whatever else the machine runs.
    part.add("gunicorn CPU per request, floor / page", ratio(cpu["floor"], cpu["page"]), "x")
    part.add("gunicorn CPU per request, bare / page", ratio(cpu["bare"], cpu["page"]), "x")
    part.add("gunicorn CPU per save / per page view", ratio(cpu["save"], cpu["page"]), "x")
    cpu_rows(part, rounds, NAMES)
    failed = sum(r["failed"] for variant in rounds.values() for r in variant)
    part.add("failed requests", failed, target="0", ok=failed == 0)
    part.add(
        "bytes received per answer, page / floor / bare / save (both answers)",
        " / ".join(f"{median_of(rounds[key], 'bytes_per_response'):,.0f}" for key in NAMES),
        "B",
    )
    part.add(
        f"peak memory per worker (VmHWM), max of {len(workers_memory)} worker processes",
        max(workers_memory.values(), default=float("nan")),
        "MiB",
    )
    part.add("peak memory, gunicorn master", master_memory, "MiB")
    part.details.update(
        {
            "gunicorn": settings,
            "connections": connections,
            "round_seconds": size["seconds"],
            "rounds": rounds,
            "peak_memory_mb": {"workers": workers_memory, "master": master_memory},
            "page_rps": rps["page"],
            "floor_rps": rps["floor"],
            "bare_rps": rps["bare"],
            "save_rps": rps["save"],
            "server_cpu_ms": cpu,
        }
    )
    part.notes.append(
        f"{settings.get('workers')} workers x {settings.get('threads')} threads"
        f" ({settings.get('worker_class')}); {connections} keep-alive connections from"
        f" one load-generator process on the same machine, accepting compressed answers as a"
        f" browser does; medians of {size['rounds']} interleaved rounds of {size['seconds']:g} s;"
        " the emulator (a separate process) answers the Courier reads and writes"
    )
    part.notes.append(
        "floor and bare answer the page's bytes as captured at start, through the same"
        " after-request hooks as the page (compression included); a save is one person's POST"
        " of the form with one switch flipped, its redirect, and the page that says Saved,"
        f" {connections} people saving at once, each their own Courier user"
    )
    return part
