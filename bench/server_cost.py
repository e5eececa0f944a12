"""Part 3: the page's server cost under gunicorn with the production settings: requests per
second of the preferences page against a bare route answering the same bytes, same server,
same run; and peak memory per worker."""

from __future__ import annotations

from pathlib import Path

from bench.common import (
    BARE_PATH,
    SECTIONS,
    TOPICS_PER_SECTION,
    Part,
    interleave,
    median_of,
    ratio,
)
from bench.servers import LoadGenerator, Servers, peak_memory_mb, seeded_db

PAGE_PATH = "/"


def sizes(smoke: bool) -> dict[str, float | int]:
    if smoke:
        return {"rounds": 1, "warmup": 1, "seconds": 0.5, "warmup_seconds": 0.3, "connections": 4}
    return {"rounds": 7, "warmup": 1, "seconds": 3.0, "warmup_seconds": 1.0, "connections": 16}


def rate_rows(part: Part, rounds: dict[str, list[dict[str, float]]], names: dict[str, str]) -> None:
    """Requests per second of each variant (medians of its rounds)."""
    for key, label in names.items():
        part.add(f"{label}: requests per second", median_of(rounds[key], "rps"), "/s")


def cpu_rows(part: Part, rounds: dict[str, list[dict[str, float]]], names: dict[str, str]) -> None:
    """Where the CPU went, per request and in cores, for each variant."""
    figures = (
        "server_cpu_ms_per_request",
        "emulator_cpu_ms_per_request",
        "loadgen_cpu_ms_per_request",
    )
    for key, label in names.items():
        part.add(
            f"{label}: CPU per request, gunicorn / emulator / load gen",
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
    with Servers(workdir) as servers:
        servers.start_emulator(
            seeded_db(workdir / "courier-40.sqlite3", SECTIONS, TOPICS_PER_SECTION)
        )
        server = servers.start_gunicorn("production")
        part.details["processes"] = [p.pid for p in servers.processes]
        emulator_pid = servers.emulator.pid if servers.emulator else None
        load = LoadGenerator(server, servers.signed_in_cookies(server), int(size["connections"]))
        try:

            def variant(path: str, seconds: float):
                return lambda: load.run(path, seconds, emulator_pid)

            # A short warm-up of each (first requests fill pools and the catalog cache).
            interleave(
                {
                    "page": variant(PAGE_PATH, size["warmup_seconds"]),
                    "bare": variant(BARE_PATH, size["warmup_seconds"]),
                },
                rounds=int(size["warmup"]),
            )
            rounds = interleave(
                {
                    "page": variant(PAGE_PATH, size["seconds"]),
                    "bare": variant(BARE_PATH, size["seconds"]),
                },
                rounds=int(size["rounds"]),
            )
            workers_memory = dict(load.peak_memory)
            master_memory = peak_memory_mb(server.pid)
        finally:
            load.close()

    page_rps, bare_rps = median_of(rounds["page"], "rps"), median_of(rounds["bare"], "rps")
    settings = server.settings
    names = {"page": "page", "bare": "bare route, same bytes"}
    rate_rows(part, rounds, names)
    part.add(
        "page rate / bare route rate",
        ratio(page_rps, bare_rps),
        "x",
        target=">= 0.5",
        ok=ratio(page_rps, bare_rps) >= 0.5,
    )
    page_cpu = median_of(rounds["page"], "server_cpu_ms_per_request")
    bare_cpu = median_of(rounds["bare"], "server_cpu_ms_per_request")
    part.add("gunicorn CPU per request, bare route / page", ratio(bare_cpu, page_cpu), "x")
    cpu_rows(part, rounds, names)
    failed = sum(r["failed"] for variant in rounds.values() for r in variant)
    part.add("failed requests", failed, target="0", ok=failed == 0)
    part.add(
        "response size, page / bare",
        f"{median_of(rounds['page'], 'bytes_per_response'):,.0f} / "
        f"{median_of(rounds['bare'], 'bytes_per_response'):,.0f}",
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
            "connections": size["connections"],
            "round_seconds": size["seconds"],
            "rounds": rounds,
            "peak_memory_mb": {"workers": workers_memory, "master": master_memory},
            "page_rps": page_rps,
            "bare_rps": bare_rps,
        }
    )
    part.notes.append(
        f"{settings.get('workers')} workers x {settings.get('threads')} threads"
        f" ({settings.get('worker_class')}); {size['connections']} keep-alive connections from"
        f" one load-generator process on the same machine; medians of {size['rounds']}"
        f" interleaved rounds of {size['seconds']:g} s; the emulator (a separate process) answers"
        " the page's user read"
    )
    return part
