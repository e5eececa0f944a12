"""What every part of the benchmark shares: results, rounds, medians, the table, the machine."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# The bench's standard page: 40 topics in 5 sections (the part 3).
SECTIONS = 5
TOPICS_PER_SECTION = 8
# One Courier user for every measured page view, so the page the bare route replays (part 3,
# bench/bare_app.py) is byte for byte the page the load generator asks for.
BENCH_USER = "bench-user"
# The bench routes (bench/bare_app.py) answering a captured page's bytes: as they are, and
# after the one Courier read a page view makes (the least any correct page can do).
BARE_PATH = "/_bench/bare"
FLOOR_PATH = "/_bench/floor"
# As a browser asks: English pages, whatever the machine's locale.
BROWSER_HEADERS = {"Accept-Language": "en"}
# As a browser asks over the network: also accepting compressed answers (Chromium's list).
WIRE_HEADERS = {**BROWSER_HEADERS, "Accept-Encoding": "gzip, deflate, br, zstd"}
USER_READ = r"/users/[^/]+/preferences"
CATALOG_READ = r"/preferences/sections"
WRITE = r"/users/[^/]+/preferences/[^/]+"


@dataclass
class Row:
    """One measured figure, with its target beside it."""

    measure: str
    value: float | int | str | None
    unit: str = ""
    target: str = ""  # what it should be; empty: reported for information only
    ok: bool | None = None  # PASS / MISS; None: no target

    @property
    def result(self) -> str:
        return {True: "PASS", False: "MISS", None: ""}[self.ok]

    def shown(self) -> str:
        value = self.value
        if value is None:
            return "-"
        if isinstance(value, float):
            text = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = str(value)
        return f"{text} {self.unit}".rstrip()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["ok"]
        data["result"] = self.result or None
        return data


@dataclass
class Part:
    """One part's rows, the raw figures behind them, and notes on how they were measured."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "rows": [row.to_json() for row in self.rows],
            "details": self.details,
            "notes": self.notes,
            "error": self.error,
            "seconds": round(self.seconds, 1),
        }


def table(part: Part) -> str:
    """The part as a fixed-width text table, headed by its number and title."""
    header = ("measure", "measured", "target", "result")
    cells = [(r.measure, r.shown(), r.target or "-", r.result) for r in part.rows]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(4)]
    lines = [f"Part {part.key}: {part.title}  ({part.seconds:.1f} s)"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for c in cells:
        lines.append(
            "  ".join(
                [c[0].ljust(widths[0]), c[1].rjust(widths[1]), c[2].ljust(widths[2]), c[3]]
            ).rstrip()
        )
    lines += [f"  * {note}" for note in part.notes]
    if part.error:
        lines.append(f"  ERROR: {part.error}")
    return "\n".join(lines)


# ---- side by side ----------------------------------------------------------------------------

Measurement = float | Mapping[str, float]


def interleave(
    variants: Mapping[str, Callable[[], Measurement]], rounds: int, warmup: int = 0
) -> dict[str, list[Any]]:
    """Run the variants in turn (A, B, A, B, ...), `warmup` rounds first and thrown away.

    The machine is noisy: interleaving spreads any drift over every variant alike, so their
    medians and the ratio of medians compare like with like.
    """
    kept: dict[str, list[Any]] = {name: [] for name in variants}
    for round_number in range(warmup + rounds):
        for name, measure in variants.items():
            value = measure()
            if round_number >= warmup:
                kept[name].append(value)
    return kept


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def median_of(rounds: list[Mapping[str, float]], key: str) -> float:
    """The median over rounds of one figure of a dict-valued measurement."""
    return median([r[key] for r in rounds])


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


# ---- the machine -----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "gunicorn": package_version("gunicorn"),
        "flask": package_version("flask"),
        "platform": platform.platform(),
    }
