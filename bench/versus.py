"""Side by side: a page view's cost, its cost per topic, and a save's, this tree against an
earlier commit.

    .venv/bin/python -m bench.versus REV [--runs 3] [--smoke]

REV is checked out into a temporary git worktree; then each tree is measured in a process of
its own, the two taking turns, `--runs` times each. A measurement is part 5's (bench/rig.py:
the app and the emulator in one process, no sockets): views of a 5-topic and a 200-topic page
(5 sections), in rounds of ten, the app's CPU time per view with the emulator's time taken
out; and saves of a 40-topic page (5 sections of 8) with one switch flipped, the POST alone
(the page it came from and the redirect's page are not counted), also in rounds of ten.
Noise on a shared machine only adds time, so each tree's figure is its least round over all
its runs; the cost per topic is the slope between the two pages. Nothing is asserted.
`--smoke` measures a few views and saves only, to see that it runs (the test suite does).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPICS = (5, 200)
SAVED_PAGE = (5, 8)  # sections, topics each: part 3's page
SIZES = {"full": (20, 25, 10), "smoke": (1, 1, 1)}  # warm-up views, rounds, views per round


def measure(size: str) -> dict[str, float]:
    """The least app CPU per view for each page size, and per save, in ms (run inside the
    tree measured): keys are the topic counts, and "save"."""
    warmup_views, rounds, views_per_round = SIZES[size]
    from bench import rig  # the tree's own, by PYTHONPATH

    rigs = {n: rig.build(rig.emulator(5, n // 5)) for n in TOPICS}
    saving = rig.build(rig.emulator(*SAVED_PAGE))
    try:
        people = {n: bench_rig.person(f"bench-topics-{n}") for n, bench_rig in rigs.items()}
        saver = saving.person("bench-saves")
        for person in [*people.values(), saver]:
            for _ in range(warmup_views):
                person.view()
        least = {str(n): float("inf") for n in [*TOPICS, "save"]}
        for _ in range(rounds):
            for n in TOPICS:
                layer = rigs[n].layer
                started, in_emulator = time.process_time(), layer.emulator_seconds
                for _ in range(views_per_round):
                    people[n].view()
                spent = time.process_time() - started - (layer.emulator_seconds - in_emulator)
                least[str(n)] = min(least[str(n)], spent / views_per_round * 1000)
            spent = 0.0
            for _ in range(views_per_round):
                form = saver.form()
                rig.flip(form, 1)
                body = form.body()
                started, in_emulator = time.process_time(), saving.layer.emulator_seconds
                if saver.save(body) not in (302, 303):
                    raise RuntimeError("a save was not taken")
                spent += time.process_time() - started
                spent -= saving.layer.emulator_seconds - in_emulator
            least["save"] = min(least["save"], spent / views_per_round * 1000)
        return least
    finally:
        for bench_rig in [*rigs.values(), saving]:
            bench_rig.close()


def _run_in(tree: Path, size: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", size],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_topic(figures: dict[str, float]) -> float:
    first, last = TOPICS[0], TOPICS[-1]
    return (figures[str(last)] - figures[str(first)]) / (last - first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__)
    parser.add_argument("rev", nargs="?", help="the earlier commit to compare with")
    parser.add_argument("--runs", type=int, default=3, help="measurements of each tree")
    parser.add_argument("--smoke", action="store_true", help="a few views: does it run?")
    parser.add_argument("--measure", choices=SIZES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    if not args.rev:
        parser.error("give the commit to compare with")
    with tempfile.TemporaryDirectory(prefix="prefcenter-versus-") as scratch:
        base = Path(scratch) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(base), args.rev], cwd=ROOT, check=True
        )
        try:
            least: dict[str, dict[str, float]] = {}
            for _ in range(args.runs):
                for name, tree in (("base", base), ("this tree", ROOT)):
                    figures = _run_in(tree, "smoke" if args.smoke else "full")
                    kept = least.setdefault(name, figures)
                    for n, ms in figures.items():
                        kept[n] = min(kept[n], ms)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
    saved_topics = SAVED_PAGE[0] * SAVED_PAGE[1]
    print(f"app CPU per view and per save (least round of {args.runs} runs each, taking turns), ms")
    print(
        f"{'tree':<24} {TOPICS[0]:>4} topics {TOPICS[-1]:>4} topics  per topic"
        f"  save ({saved_topics} topics)"
    )
    for name, figures in least.items():
        label = f"{name} ({args.rev})" if name == "base" else name
        print(
            f"{label:<24} {figures[str(TOPICS[0])]:>11.3f} {figures[str(TOPICS[-1])]:>11.3f}"
            f"  {per_topic(figures):.4f}  {figures['save']:>16.3f}"
        )
    ours = per_topic(least["this tree"])
    ratio = f"{per_topic(least['base']) / ours:.1f}x" if ours > 0 else "n/a (no slope measured)"
    print(f"per topic, base / this tree: {ratio}")
    print(f"save, base / this tree: {least['base']['save'] / least['this tree']['save']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
