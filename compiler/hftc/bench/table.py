"""Print benchmark results as a table, each figure beside its target and baseline."""

from __future__ import annotations

from hftc.bench.compare import higher_is_better, rust_vs_cpp
from hftc.bench.native import Result


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f} M"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}"


def verdict(r: Result) -> str:
    if r.median is None or r.target is None:
        return ""
    ok = r.median >= r.target if higher_is_better(r.unit) else r.median <= r.target
    return "meets" if ok else "misses"


def render(results: list[Result], problems: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="hftc bench (medians of repeated runs)")
    for column in ("benchmark", "lang", "unit", "median", "p99", "target", "baseline", "vs baseline", "target?"):
        table.add_column(column, justify="right" if column in ("median", "p99", "target", "baseline", "vs baseline") else "left")
    for r in results:
        ratio = ""
        if r.median and r.baseline:
            ratio = f"{(r.median / r.baseline):.2f}×"
        table.add_row(r.name, r.lang, r.unit, _fmt(r.median), _fmt(r.p99), _fmt(r.target), _fmt(r.baseline), ratio, verdict(r))
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)  # a pipe or a log file: don't squash the columns
    console.print(table)
    pairs = rust_vs_cpp(results)
    if pairs:
        side = Table(title="Rust beside C++ (same run; above 1: Rust slower)")
        for column in ("benchmark", "unit", "C++", "Rust", "Rust slower by"):
            side.add_column(column, justify="left" if column == "benchmark" else "right")
        for pair in pairs:
            side.add_row(pair.name, pair.unit, _fmt(pair.cpp), _fmt(pair.rust), f"{pair.rust_slower_by:.2f}×")
        console.print(side)
    for p in problems:
        console.print(f"[yellow]note:[/yellow] {p}")
