"""Linux cpuset lists (`0-1,4,8-11`): parse, format, complement."""

from __future__ import annotations

import re

_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse(text: str) -> tuple[int, ...] | None:
    """The CPUs of a cpuset list, sorted, or None when malformed (empty, reversed range, junk)."""
    cpus: set[int] = set()
    for part in text.split(","):
        m = _PART.match(part)
        if not m:
            return None
        lo = int(m[1])
        hi = int(m[2]) if m[2] is not None else lo
        if hi < lo:
            return None
        cpus.update(range(lo, hi + 1))
    return tuple(sorted(cpus)) if cpus else None


def format_cpus(cpus: tuple[int, ...] | list[int]) -> str:
    """`(0, 1, 2, 4)` → `0-2,4`."""
    out, run = [], []
    for c in sorted(set(cpus)):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [c]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def complement_below(cpus: tuple[int, ...]) -> tuple[int, ...]:
    """CPUs from 0 to the highest listed one that are not listed."""
    listed = set(cpus)
    return tuple(c for c in range(max(cpus) + 1) if c not in listed) if cpus else ()
