"""Print benchmark results as a table, each figure beside its target and baseline.

The tables fit the terminal: on a narrow one (80 columns) headers shorten, a lone language moves
into the title and benchmark names wrap at their underscores instead of being cut; on a wide one
everything shows in full. COLUMNS sets the width where there is no terminal (else 150)."""

from __future__ import annotations

import os

from hftc.bench.compare import higher_is_better, rust_vs_cpp
from hftc.bench.native import Result

NUMERIC = ("median", "p99", "target", "baseline", "vs baseline", "C++", "Rust", "Rust slower by")
SHORT = {"baseline": "base", "vs baseline": "vs base", "target?": "ok?", "Rust slower by": "Rust/C++"}
MIN_NAME = 12


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


def wrap_name(name: str, width: int) -> list[str]:
    """`name` in lines of at most `width`, broken after underscores where it can be, else hard."""
    width = max(width, 1)
    lines: list[str] = []
    current = ""
    for part in name.replace("_", "_\0").split("\0"):
        while len(part) > width:  # one piece longer than a line
            if current:
                lines.append(current)
                current = ""
            lines.append(part[:width])
            part = part[width:]
        if len(current) + len(part) > width:
            lines.append(current)
            current = part
        else:
            current += part
    if current or not lines:
        lines.append(current)
    return lines


def _layout(headers: list[str], rows: list[list[str]], width: int) -> tuple[list[str], list[list[str]]]:
    """Headers and rows (name first) that fit `width` columns of a table without side borders."""

    def used(heads: list[str]) -> int:  # every column but the name: widest cell, 2 padding, 1 separator
        return sum(max([len(h)] + [len(r[i]) for r in rows]) + 3 for i, h in enumerate(heads) if i)

    longest = max([len(headers[0])] + [len(r[0]) for r in rows])
    if used(headers) + longest + 2 > width:
        headers = [SHORT.get(h, h) for h in headers]
    room = max(width - used(headers) - 2, MIN_NAME)
    if longest > room:
        rows = [["\n".join(wrap_name(r[0], room)), *r[1:]] for r in rows]
    return headers, rows


def _table(title: str, headers: list[str], rows: list[list[str]], width: int):
    from rich import box
    from rich.table import Table

    headers, rows = _layout(headers, rows, width)
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for h in headers:
        long_name = next((k for k, v in SHORT.items() if v == h), h)
        table.add_column(h, justify="right" if long_name in NUMERIC else "left",
                         no_wrap=h != headers[0], overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _console():
    from rich.console import Console

    from hftc.diagnostics.color import rich_options

    console = Console(**rich_options())
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console = Console(width=150, **rich_options())  # a pipe or a log file: don't squash the columns
    return console


def render(results: list[Result], problems: list[str]) -> None:
    console = _console()
    langs = list(dict.fromkeys(r.lang for r in results))
    one_lang = len(langs) == 1
    title = "hftc bench (medians of repeated runs)" + (f", {langs[0]}" if one_lang else "")
    headers = ["benchmark", *([] if one_lang else ["lang"]), "unit", "median", "p99", "target", "baseline",
               "vs baseline", "target?"]
    rows = []
    for r in results:
        ratio = f"{(r.median / r.baseline):.2f}×" if r.median and r.baseline else ""
        rows.append([r.name, *([] if one_lang else [r.lang]), r.unit, _fmt(r.median), _fmt(r.p99), _fmt(r.target),
                     _fmt(r.baseline), ratio, verdict(r)])
    console.print(_table(title, headers, rows, console.width))
    pairs = rust_vs_cpp(results)
    if pairs:
        side = [[p.name, p.unit, _fmt(p.cpp), _fmt(p.rust), f"{p.rust_slower_by:.2f}×"] for p in pairs]
        console.print(_table("Rust beside C++ (same run; above 1: Rust slower)",
                             ["benchmark", "unit", "C++", "Rust", "Rust slower by"], side, console.width))
    for p in problems:
        console.print(f"[yellow]note:[/yellow] {p}")
