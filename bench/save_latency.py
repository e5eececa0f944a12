"""Part 2: a save of 10 changed topics with 100 ms on every Courier call, concurrent writes
against one write at a time, and a single Courier call, side by side in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable

from bench import rig
from bench.common import SECTIONS, TOPICS_PER_SECTION, Part, interleave, median, ratio
from prefcenter.platform.config import DEFAULTS

DELAY = 0.1  # seconds added to every Courier call
CHANGED = 10


def _timed_save(
    person: rig.Person, layer: rig.CourierLayer, peaks: list[int]
) -> Callable[[], float]:
    def measure() -> float:
        form = person.form()  # the page as it is now (not timed)
        rig.flip(form, CHANGED)
        body = form.body()
        layer.reset_peak()
        started = time.perf_counter()
        status = person.save(body)
        elapsed = time.perf_counter() - started
        if status != 302:
            raise RuntimeError(f"the save answered {status}, not 302")
        peaks.append(layer.peak_in_flight)
        return elapsed

    return measure


def run(smoke: bool) -> Part:
    rounds, warmup = (2, 0) if smoke else (10, 1)
    concurrent_writes = DEFAULTS["COURIER_MAX_CONCURRENT_WRITES"]
    part = Part(
        "2",
        f"save latency, {DELAY * 1000:.0f} ms on every Courier call, {CHANGED} topics changed",
    )
    courier = rig.emulator(SECTIONS, TOPICS_PER_SECTION)
    # Two apps on one emulator: the default write concurrency, and one write at a time.
    concurrent = rig.build(courier, delay=DELAY)
    sequential = rig.build(courier, delay=DELAY, max_concurrent_writes=1)
    try:
        alice = concurrent.person("bench-save-concurrent")
        bob = sequential.person("bench-save-sequential")
        peaks: dict[str, list[int]] = {"concurrent": [], "sequential": []}

        def single_call() -> float:
            started = time.perf_counter()
            concurrent.courier.list_preferences("bench-save-single")
            return time.perf_counter() - started

        times = interleave(
            {
                "concurrent": _timed_save(alice, concurrent.layer, peaks["concurrent"]),
                "sequential": _timed_save(bob, sequential.layer, peaks["sequential"]),
                "single_call": single_call,
            },
            rounds=rounds,
            warmup=warmup,
        )
        single = median(times["single_call"])
        together = median(times["concurrent"])
        one_by_one = median(times["sequential"])
        part.add("single Courier call (one GET)", single * 1000, "ms")
        part.add(
            f"save, concurrent writes (max {concurrent_writes} at once)", together * 1000, "ms"
        )
        part.add("save, one write at a time", one_by_one * 1000, "ms")
        part.add(
            "concurrent save / single call",
            ratio(together, single),
            "x",
            target="<= 2",
            ok=ratio(together, single) <= 2,
        )
        part.add("one at a time / concurrent save", ratio(one_by_one, together), "x")
        part.add(
            "Courier calls in flight at once, concurrent save",
            max(peaks["concurrent"], default=0),
            target=f"{min(CHANGED, concurrent_writes)} (the pool's size)",
        )
        part.details = {
            "delay_s": DELAY,
            "changed": CHANGED,
            "max_concurrent_writes": concurrent_writes,
            "rounds": rounds,
            "warmup_rounds": warmup,
            "seconds": {name: [round(v, 4) for v in values] for name, values in times.items()},
            "peak_in_flight": peaks,
        }
        part.notes.append(
            f"medians of {rounds} interleaved rounds; a save is its POST (the form read before it"
            " is not timed); in-process app and emulator, the delay in a WSGI layer between them"
        )
    finally:
        concurrent.close()
        sequential.close()
    return part
