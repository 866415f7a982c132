"""Emitted C++/Rust/Python for a realistic strategy: strict compilation, results, layering."""

from __future__ import annotations

import ast
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hftc.diagnostics.model import Span
from hftc.expr.evaluate import BookTop, Event
from hftc.expr.typecheck import check_strategy
from hftc.ir.expr import ParamDecl, Type
from test_expr_differential import CXX_FLAGS, build_cpp, build_rust, check_all_backends, load_python

from hftc.backends.exprgen import emit_cpp, emit_python, emit_rust

ROOT = Path(__file__).resolve().parents[1]
O = Span("mm.yaml", 1, 1, 1, 2)


def market_maker():
    params = {
        "spread_bps": ParamDecl("spread_bps", Type.FLOAT, 0.5, 0.1, 2.0),
        "inventory_limit": ParamDecl("inventory_limit", Type.INT, 1000, 100, 10000),
        "risk_factor": ParamDecl("risk_factor", Type.FLOAT, 0.05, 0.01, 0.1),
        "vol_window": ParamDecl("vol_window", Type.INT, 20, 2, 200),
    }
    lets = [
        ("mid", "(book.bid + book.ask) / 2", O),
        ("skew", "-risk_factor * position / inventory_limit * mid", O),
        ("vol", "std(delta(mid), vol_window)", O),
        ("basis", "ETHUSDT.mid - ema_t(ETHUSDT.microprice, 5e8)", O),
    ]
    rules = {
        "quote.bid.price": ("mid * (1 - spread_bps / 20000) + skew - vol", O, "float"),
        "quote.ask.price": ("mid * (1 + spread_bps / 20000) + skew + vol", O, "float"),
        "quote.bid.qty": ("1", O, "float"),
        "quote.ask.qty": ("max(1, 10 - abs(position) / 100)", O, "float"),
        "when": ("abs(position) < inventory_limit and book.spread > 0", O, "bool"),
        "signals.z": ("zscore(book.imbalance, 50) + sma_t(basis, 1e9, 256) + sma(last_trade.price, 8)", O, "float"),
        "exit": ("if pnl < -1000 then true else last_trade.side == -1 and position > 500", O, "bool"),
    }
    strategy, diags = check_strategy(params, lets, rules, ["BTCUSDT", "ETHUSDT"], name="mm")
    assert diags == [], [d.message for d in diags]
    return strategy


def market_events(n: int = 200) -> list[Event]:
    events = []
    bid, pos = 100.0, 0.0
    for i in range(n):
        bid += math.sin(i * 0.37) * 0.05
        pos += (i % 7 - 3) * 13.0
        events.append(
            Event(
                ts_ns=1_700_000_000_000_000_000 + i * 37_000_000,
                books=[
                    BookTop(bid, bid + 0.01 * (1 + i % 3), 1.0 + i % 5, 2.0 + i % 4),
                    BookTop(bid * 0.05, bid * 0.05 + 0.02, 0.0 if i % 11 == 0 else 3.0, 0.0 if i % 11 == 0 else 1.5),
                ],
                position=pos,
                pnl=-5.0 * i + 300 * math.cos(i),
                last_trade_price=bid + 0.005,
                last_trade_qty=0.5 + i % 3,
                last_trade_side=(-1, 0, 1)[i % 3],
            )
        )
    return events


def test_python_output_is_self_contained_and_typed(tmp_path):
    src = emit_python(market_maker())
    path = tmp_path / "mm_strategy.py"
    path.write_text(src + "\nif __name__ == '__main__':\n    print(Strategy().update(Inputs()).when)\n")
    proc = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    tree = ast.parse(src)
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imports |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imports <= {"math", "dataclasses", "typing", "__future__"}
    fns = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert all(f.returns is not None for f in fns)


def test_python_params_override_windows():
    mod = load_python(market_maker())
    s = mod.Strategy(mod.Params(vol_window=5))
    assert s.params.vol_window == 5 and s.slot1.w == 5 and s.slot1.cap == 200


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_cpp_compiles_warning_free_and_allocation_free():
    src = emit_cpp(market_maker())
    for banned in ("new ", "std::vector", "malloc", "std::string", "std::map"):
        assert banned not in src
    with tempfile.TemporaryDirectory() as d:
        Path(d, "mm.hpp").write_text(src)
        Path(d, "main.cpp").write_text(
            '#include "mm.hpp"\n#include "mm.hpp"\n'  # include guard works
            "int main() {\n"
            "  static hftc_mm::Strategy s{hftc_mm::Params{}};\n"
            "  hftc_mm::Inputs in{};\n"
            "  return s.update(in).when ? 1 : 0;\n"
            "}\n"
        )
        for std_flags in (
            CXX_FLAGS,
            [
                "-std=c++20",
                "-O2",
                "-Wall",
                "-Wextra",
                "-Wpedantic",
                "-Werror",
                "-Wshadow",
                "-Wconversion",
                "-Wsign-conversion",
            ],
        ):
            proc = subprocess.run(
                ["g++", *std_flags, "-c", "main.cpp", "-o", "main.o"],
                cwd=d,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")
def test_rust_library_compiles_with_deny_warnings():
    src = emit_rust(market_maker())
    with tempfile.TemporaryDirectory() as d:
        Path(d, "lib.rs").write_text(src)
        proc = subprocess.run(
            ["rustc", "--edition", "2021", "-D", "warnings", "--crate-type", "lib", "lib.rs", "-o", "libmm.rlib"],
            cwd=d,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_rust_library_is_clippy_clean():
    probe = subprocess.run(["cargo", "clippy", "--version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("cargo clippy is not installed")
    with tempfile.TemporaryDirectory() as d:
        Path(d, "Cargo.toml").write_text(
            '[package]\nname = "mm"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\npath = "lib.rs"\n'
        )
        Path(d, "lib.rs").write_text(emit_rust(market_maker()))
        proc = subprocess.run(
            ["cargo", "clippy", "--offline", "--quiet", "--", "-D", "warnings"],
            cwd=d,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr


def test_market_maker_all_backends_match_reference():
    strategy = market_maker()
    sources = {r.ident: r.key for r in strategy.rules}
    check_all_backends(strategy, market_events(), sources)


@pytest.mark.skipif(shutil.which("g++") is None or shutil.which("rustc") is None, reason="needs g++ and rustc")
def test_builds_are_cached():
    strategy = market_maker()
    assert build_cpp(strategy) == build_cpp(strategy)
    assert build_rust(strategy) == build_rust(strategy)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    out |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return out


def test_layering():
    ir = _imports(ROOT / "compiler/hftc/ir/expr.py")
    assert {m for m in ir if m.startswith("hftc")} <= {"hftc.diagnostics", "hftc.diagnostics.model"}
    for f in sorted((ROOT / "backends/exprgen").glob("*.py")):
        hftc_imports = {m for m in _imports(f) if m.startswith("hftc")}
        own = {m for m in hftc_imports if m.startswith("hftc.backends.exprgen")}
        assert hftc_imports - own <= {"hftc.ir", "hftc.ir.expr"}, (f.name, hftc_imports)
        assert not any(m.startswith("hftc.expr") for m in _imports(f))


def test_minimal_strategy_without_params_slots_or_instruments():
    strategy, diags = check_strategy({}, [], {"when": ("position > 0 or pnl < -1", O, "bool")}, [], name="tiny")
    assert diags == []
    check_all_backends(strategy, [Event(i, [], position=float(i - 1)) for i in range(3)], {"when": "when"})


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_cpp_set_param_checks_names_ranges_and_integers(tmp_path):
    """The engine applies an overlay through set_param: every refusal leaves the value as it was."""
    Path(tmp_path, "mm.hpp").write_text(emit_cpp(market_maker()))
    Path(tmp_path, "main.cpp").write_text(
        '#include <cstdio>\n#include "mm.hpp"\n'
        "int main() {\n"
        "  hftc_mm::Params p{};\n"
        "  const char* err = nullptr;\n"
        "  int bad = 0;\n"
        '  if (!hftc_mm::set_param(p, "spread_bps", 1.5, err) || p.spread_bps != 1.5) bad |= 1;\n'
        '  if (hftc_mm::set_param(p, "spread_bps", 2.5, err) || p.spread_bps != 1.5) bad |= 2;\n'
        '  std::printf("%s\\n", err);\n'
        '  if (!hftc_mm::set_param(p, "vol_window", 50, err) || p.vol_window != 50) bad |= 4;\n'
        '  if (hftc_mm::set_param(p, "vol_window", 50.5, err) || p.vol_window != 50) bad |= 8;\n'
        '  std::printf("%s\\n", err);\n'
        '  if (hftc_mm::set_param(p, "vol_window", 201, err)) bad |= 16;\n'
        '  if (hftc_mm::set_param(p, "nope", 1, err)) bad |= 32;\n'
        '  std::printf("%s\\n", err);\n'
        '  if (hftc_mm::set_param(p, "risk_factor", 0.0 / 0.0, err)) bad |= 64;\n'
        "  return bad;\n"
        "}\n"
    )
    build = subprocess.run(["g++", *CXX_FLAGS, "main.cpp", "-o", "main"], cwd=tmp_path, capture_output=True,
                           text=True, check=False, timeout=120)
    assert build.returncode == 0, build.stderr
    run = subprocess.run(["./main"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=30)
    assert run.returncode == 0, f"failed checks bitmask {run.returncode}"
    assert run.stdout.splitlines() == ["spread_bps is outside its range [0.1, 2.0]", "vol_window takes an integer",
                                       "unknown parameter"]
