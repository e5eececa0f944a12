"""CPU time and memory from /proc: of a server and its workers, of this process, and of the
whole machine (so a figure can say how much of the machine something else was using)."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after "(comm)": state is [0], ppid [1], utime [11], ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (gunicorn's workers, for its master)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return sorted(found)


def cpu_seconds(pid: int, with_children: bool = True) -> float:
    """CPU time of a process, and of its children: live ones and those it has reaped (so a
    gunicorn worker recycled by max_requests still counts)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped children
        for child in children(pid):
            try:
                child_fields = _stat(child)
            except OSError:
                continue
            ticks += int(child_fields[11]) + int(child_fields[12])
    return ticks / CLOCK_TICKS


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy so far (/proc/stat: all but idle, iowait
    and steal)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = values[:7]
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def peak_memory_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
