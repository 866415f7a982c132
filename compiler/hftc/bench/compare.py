"""Rust beside C++: the benchmarks both languages report under one name, as one ratio each.

The Rust benchmarks use the C++ benchmarks' names and units on purpose (same method, same
inputs), so a pair is found by name alone."""

from __future__ import annotations

from dataclasses import dataclass

from hftc.bench.native import Result


def higher_is_better(unit: str) -> bool:
    """Throughputs (per second) are better high; times are better low."""
    return "/s" in unit or unit.endswith("per_s")


@dataclass(frozen=True)
class Pair:
    name: str
    unit: str
    cpp: float
    rust: float

    @property
    def rust_slower_by(self) -> float:
        """How many times slower Rust is (below 1: faster), whichever way the unit runs."""
        return self.cpp / self.rust if higher_is_better(self.unit) else self.rust / self.cpp

    def to_json(self) -> dict:
        return {"name": self.name, "unit": self.unit, "cpp": self.cpp, "rust": self.rust,
                "rust_slower_by": round(self.rust_slower_by, 4)}


def rust_vs_cpp(results: list[Result]) -> list[Pair]:
    """One pair per name measured in both languages, in the order the C++ results came."""
    rust = {r.name: r for r in results if r.lang == "rust" and r.median}
    pairs = []
    for c in results:
        r = rust.get(c.name)
        if c.lang == "cpp" and c.median and r is not None and r.unit == c.unit and r.median:
            pairs.append(Pair(c.name, c.unit, c.median, r.median))
    return pairs
