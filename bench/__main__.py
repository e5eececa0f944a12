"""The benchmark: Courier calls, save latency, server cost, page weight and scale.

    .venv/bin/python -m bench [--smoke] [--only 1,3] [--json PATH]

Everything runs on this machine over loopback: the app and the Courier emulator in-process
(parts 1, 2, 4, and 5's topics), or as servers (the emulator CLI and gunicorn with the repo's
gunicorn.conf.py: parts 3 and 5). Compared variants run interleaved, in rounds, in the same run;
the tables show medians and ratios of medians, each beside its target. Prints one table per
part and writes them all as JSON. Exit status: 0 when every part ran (whether or not its
targets were met), 1 when a part failed to run, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench.common import Part, machine, table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "bench" / "results" / "latest.json"
# Whole-run bounds, in seconds: a stuck part ends the run (servers stopped on the way out).
TIME_LIMIT = {"smoke": 240, "full": 1200}


def _part1(smoke: bool, workdir: Path) -> Part:
    from bench import calls

    return calls.run(smoke)


def _part2(smoke: bool, workdir: Path) -> Part:
    from bench import save_latency

    return save_latency.run(smoke)


def _part3(smoke: bool, workdir: Path) -> Part:
    from bench import server_cost

    return server_cost.run(smoke, workdir)


def _part4(smoke: bool, workdir: Path) -> Part:
    from bench import page_weight

    return page_weight.run(smoke)


def _part5(smoke: bool, workdir: Path) -> Part:
    from bench import scale

    return scale.run(smoke, workdir)


PARTS: dict[str, tuple[str, Callable[[bool, Path], Part]]] = {
    "1": ("Courier calls", _part1),
    "2": ("save latency with Courier latency injected", _part2),
    "3": ("server cost of the page", _part3),
    "4": ("page weight", _part4),
    "5": ("scale", _part5),
}


class OutOfTime(Exception):
    """The run went past its time limit."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM ends the run as Ctrl-C does: through the finally blocks that stop the servers.
    raise KeyboardInterrupt


def _out_of_time(signum: int, frame: FrameType | None) -> None:
    raise OutOfTime("the run went past its time limit")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities (a ratio with nothing to divide by) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _only(text: str) -> list[str]:
    keys = [key.strip() for key in text.split(",") if key.strip()]
    unknown = [key for key in keys if key not in PARTS]
    if not keys or unknown:
        raise argparse.ArgumentTypeError(f"parts are {', '.join(PARTS)}; got {text!r}")
    return sorted(set(keys))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, a few seconds a part (CI)"
    )
    parser.add_argument(
        "--only", type=_only, default=list(PARTS), help="comma-separated parts to run, e.g. 1,3"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"where to write the results ({DEFAULT_JSON.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(TIME_LIMIT["smoke" if args.smoke else "full"])

    started = time.monotonic()
    date = datetime.now(UTC).isoformat(timespec="seconds")
    host = machine()
    print(f"prefcenter benchmark{' (smoke: tiny sizes)' if args.smoke else ''}, {date}")
    print(
        f"machine: {host['cores']} cores, {host['cpu']}; Python {host['python']};"
        f" gunicorn {host['gunicorn']}; {host['platform']}\n",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="prefcenter-bench-"))
    parts: dict[str, Part] = {}
    interrupted = False
    try:
        for key in args.only:
            title, run = PARTS[key]
            part_started = time.monotonic()
            try:
                part_dir = workdir / f"part{key}"  # each part its own files and logs
                part_dir.mkdir()
                part = run(args.smoke, part_dir)
            except KeyboardInterrupt:
                part = Part(key, title, error="interrupted (Ctrl-C or SIGTERM); servers stopped")
                interrupted = True
            except OutOfTime as exc:
                part = Part(key, title, error=f"{exc}; servers stopped")
                interrupted = True
            except Exception as exc:
                traceback.print_exc()
                part = Part(key, title, error=f"{type(exc).__name__}: {exc}")
            part.seconds = time.monotonic() - part_started
            parts[key] = part
            print(table(part) + "\n", flush=True)
            if interrupted:
                break
    finally:
        signal.alarm(0)

    results = [row.ok for part in parts.values() for row in part.rows]
    failed = [key for key, part in parts.items() if part.error]
    summary = {
        "pass": results.count(True),
        "miss": results.count(False),
        "parts_failed": failed,
    }
    elapsed = time.monotonic() - started
    report = {
        "benchmark": "prefcenter",
        "date": date,
        "smoke": args.smoke,
        "machine": host,
        "elapsed_s": round(elapsed, 1),
        "summary": summary,
        "parts": {key: part.to_json() for key, part in parts.items()},
        # Every server process the run started (each led its own process group).
        "processes": sorted(
            {pid for part in parts.values() for pid in part.details.get("processes", [])}
        ),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_clean(report), indent=2, ensure_ascii=False) + "\n")
    print(
        f"targets: {summary['pass']} PASS, {summary['miss']} MISS"
        f"{'; parts that failed to run: ' + ', '.join(failed) if failed else ''};"
        f" {elapsed:.0f} s; results in {args.json}"
    )
    if failed:
        print(f"servers' logs kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if interrupted:
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
