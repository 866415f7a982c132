"""`hftc bench` tables at 80 and 120 columns: nothing cut, names wrapped at underscores when narrow."""

from __future__ import annotations

import pytest

from hftc.bench.native import Result
from hftc.bench.table import render, wrap_name

RESULTS = [
    Result("l3_synthetic_add_cancel_execute", "ns/update", 123.4, 250.0, 200.0, 150.0, "cpp", "t"),
    Result("pipeline_throughput_threaded", "msgs/s", 12_345_678, None, 10_000_000, 9_000_000, "cpp", "t"),
    Result("tick_to_order_p999", "ns", 812.0, 900.0, 1000.0, 700.0, "cpp", "t"),
    Result("l3_synthetic_add_cancel_execute", "ns/update", 140.4, 260.0, 200.0, 150.0, "rust", "t"),
]
NOTE = "ring: the Rust toolchain is missing, so only C++ ran for this benchmark and several more words"


def _render(monkeypatch, capsys, columns: int, results=RESULTS) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    render(results, [NOTE])
    return capsys.readouterr().out.splitlines()


def _names_in(lines: list[str]) -> str:
    """The first column's text, the wrapped parts of a name joined back."""
    return "".join(line.split(" ", 1)[0] for line in lines if line and not line.startswith((" ", "─", "note")))


@pytest.mark.parametrize("columns", [80, 120])
def test_every_line_fits_and_no_name_is_cut(monkeypatch, capsys, columns: int) -> None:
    lines = _render(monkeypatch, capsys, columns)
    assert max(len(line) for line in lines) <= columns
    assert "…" not in "".join(lines)
    joined = _names_in(lines)
    for r in RESULTS:
        assert r.name in joined
    assert "12.3 M" in "".join(lines) and "0.94×" in "".join(lines)
    assert "several more words" in " ".join(lines)


def test_narrow_wraps_names_at_underscores_and_shortens_headers(monkeypatch, capsys) -> None:
    lines = _render(monkeypatch, capsys, 80)
    heads = next(line for line in lines if line.startswith("benchmark"))
    assert "vs base " in heads + " " and "vs baseline" not in heads
    main = lines[:next(i for i, line in enumerate(lines) if "Rust beside C++" in line)]
    first_col = [line.split(" ", 1)[0] for line in main if line.startswith(("l3_", "synthetic_", "add_", "execute"))]
    assert "".join(first_col[:first_col.index("execute") + 1]) == "l3_synthetic_add_cancel_execute"
    assert all(part.endswith("_") for part in first_col if part != "execute")  # broken after underscores


def test_wide_shows_full_names_and_headers(monkeypatch, capsys) -> None:
    lines = _render(monkeypatch, capsys, 120)
    assert any(line.startswith("l3_synthetic_add_cancel_execute ") for line in lines)
    heads = next(line for line in lines if line.startswith("benchmark"))
    for h in ("lang", "baseline", "vs baseline", "target?"):
        assert h in heads


def test_one_language_moves_into_the_title(monkeypatch, capsys) -> None:
    lines = _render(monkeypatch, capsys, 80, RESULTS[:3])
    assert "hftc bench (medians of repeated runs), cpp" in lines[0]
    heads = next(line for line in lines if line.startswith("benchmark"))
    assert "lang" not in heads


def test_wrap_name() -> None:
    assert wrap_name("l3_synthetic_add_cancel_execute", 14) == ["l3_synthetic_", "add_cancel_", "execute"]
    assert wrap_name("short", 14) == ["short"]
    assert wrap_name("averyveryverylongpiece_x", 10) == ["averyveryv", "erylongpie", "ce_x"]
    for width in range(1, 40):
        parts = wrap_name("pipeline_throughput_threaded", width)
        assert "".join(parts) == "pipeline_throughput_threaded" and all(len(p) <= width for p in parts)


def test_color_mode_reaches_the_tables(monkeypatch, capsys) -> None:
    from hftc.diagnostics.color import set_mode

    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")  # `always` colours even a terminal that says it is dumb
    monkeypatch.delenv("NO_COLOR", raising=False)
    set_mode("always")
    render(RESULTS, [NOTE])
    assert "\x1b[" in capsys.readouterr().out
    monkeypatch.setenv("FORCE_COLOR", "1")
    set_mode("never")
    render(RESULTS, [NOTE])
    assert "\x1b[" not in capsys.readouterr().out
