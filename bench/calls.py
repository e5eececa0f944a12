"""Part 1: Courier calls per page view and per save, counted in the emulator's request log."""

from __future__ import annotations

from bench import rig
from bench.common import (
    CATALOG_READ,
    SECTIONS,
    TOPICS_PER_SECTION,
    USER_READ,
    WRITE,
    Part,
)
from prefcenter.page.forms import topic_id_of

CHANGED = (0, 1, 5, 10)


def run(smoke: bool) -> Part:
    views = 5 if smoke else 20
    topics = SECTIONS * TOPICS_PER_SECTION
    part = Part("1", f"Courier calls (in-process emulator, {topics} topics in {SECTIONS} sections)")
    bench = rig.build(rig.emulator(SECTIONS, TOPICS_PER_SECTION))
    try:
        state = bench.state
        person = bench.person("bench-calls")
        state.clear_requests()  # from here on: a fresh process's page views (catalog not cached)
        for _ in range(views):
            person.view()
        user_reads = state.count("GET", USER_READ)
        catalog_reads = state.count("GET", CATALOG_READ)
        other = len(state.requests) - user_reads - catalog_reads
        part.add(
            f"user reads per page view ({views} views)",
            user_reads / views,
            target="= 1",
            ok=user_reads == views,
        )
        part.add(
            f"catalog reads per page view ({views} views)",
            catalog_reads / views,
            target=f"cached: <= 1 in {views} views",
            ok=catalog_reads <= 1,
        )
        part.add("other calls per page view", other / views, target="= 0", ok=other == 0)

        saves = {}
        for k in CHANGED:
            form = person.form()
            names = rig.flip(form, k)
            flipped = {topic_id_of(name.removesuffix("-status")) for name in names}
            state.clear_requests()
            status = person.save(form.body())
            writes = [r for r in state.requests if r.method == "PUT"]
            written = {r.path.rsplit("/", 1)[1] for r in writes}
            # Each changed topic is read right before it is written, so a page left open
            # never undoes a change made elsewhere (README, "How it fails").
            reads = [r for r in state.requests if r.method == "GET"]
            read = {r.path.rsplit("/", 1)[1] for r in reads}
            calls = len(state.requests)
            other = calls - len(writes) - len(reads)
            exact = (
                status == 302
                and state.count("PUT", WRITE) == k
                and written == flipped
                and read == flipped
                and len(reads) == k
                and other == 0
            )
            saves[k] = {
                "status": status,
                "writes": len(writes),
                "topic_reads": len(reads),
                "other_calls": other,
            }
            part.add(
                f"save, {k} of {topics} topics changed: writes, topic reads (other calls)",
                f"{len(writes)}, {len(reads)} ({other})",
                target=f"{k}, {k} (0), the changed topics",
                ok=exact,
            )
        part.details = {
            "topics": topics,
            "sections": SECTIONS,
            "views": views,
            "user_reads": user_reads,
            "catalog_reads": catalog_reads,
            "other_calls_on_views": other,
            "saves": saves,
        }
        part.notes.append(
            "counted in the emulator's request log; a save is the POST alone (its redirect's"
            " page view not included); the catalog cache is empty before the first view"
        )
    finally:
        bench.close()
    return part
