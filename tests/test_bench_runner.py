"""`hftc bench` plumbing that needs no compiler: result parsing, schema targets, verdicts.

The benchmarks themselves are programs, run by `hftc bench`; tests never time anything.
"""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from hftc.bench.native import BenchError, Result, run_json
from hftc.bench.runner import apply_schema_targets
from hftc.bench.table import verdict
from hftc.cli import app
from hftc.driver import registry
from hftc.frontend import compile_file

from conftest import REPO


def _result(name: str, unit: str, median: float | None, target: float | None = None) -> Result:
    return Result(name, unit, median, None, target, None, "cpp", "test")


def test_run_json_reads_the_results_shape() -> None:
    payload = {"results": [{"name": "x_decode", "unit": "ns", "median": 2.5, "p99": 4.0, "target": 3.0, "baseline": 2.0}]}
    code = f"import json; print('warming up'); print(json.dumps({payload!r}))"
    [r] = run_json([sys.executable, "-c", code], "cpp", "fake")
    assert (r.name, r.unit, r.median, r.p99, r.target, r.baseline, r.lang) == ("x_decode", "ns", 2.5, 4.0, 3.0, 2.0, "cpp")


def test_run_json_reports_a_failing_or_silent_program() -> None:
    with pytest.raises(BenchError, match="failed"):
        run_json([sys.executable, "-c", "import sys; sys.exit(3)"], "cpp", "fake")
    with pytest.raises(BenchError, match="results JSON"):
        run_json([sys.executable, "-c", "print('{not json')"], "cpp", "fake")


def test_schema_targets_override_the_benchmarks(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    ir = compile_file("examples/fx_market_maker.hftc.yaml").ir
    results = apply_schema_targets(ir, [_result("generated_tick_to_order_p99", "ns", 190.0, 1000.0),
                                        _result("generated_pipeline_throughput", "msgs/s", 2.5e7),
                                        _result("tick_to_order_p99", "ns", 190.0, 300.0),
                                        _result("pipeline_throughput_inline", "msgs/s", 2.5e7),
                                        _result("l2_update_binance_btcusdt", "ns/update", 6.0, 20.0)])
    # The schema's targets.latency_p99_ns and throughput label the generated pipeline's figures only;
    # the runtime's hand-written quoter keeps its own.
    assert [r.target for r in results] == [500, 10_000_000, 300.0, None, 20.0]


def test_rust_is_paired_with_cpp_by_name_and_unit() -> None:
    from hftc.bench.compare import rust_vs_cpp

    def lang(r: Result, which: str) -> Result:
        return Result(r.name, r.unit, r.median, r.p99, r.target, r.baseline, which, "test")

    results = [lang(_result("Snapshot.decode", "ns", 18.0), "cpp"), lang(_result("ring_64B", "items/s", 36e6), "cpp"),
               lang(_result("only_cpp", "ns", 1.0), "cpp"), lang(_result("units_differ", "ns", 1.0), "cpp"),
               lang(_result("ring_64B", "items/s", 24e6), "rust"), lang(_result("Snapshot.decode", "ns", 21.6), "rust"),
               lang(_result("units_differ", "ns/op", 1.0), "rust"), lang(_result("only_rust", "ns", 1.0), "rust")]
    pairs = rust_vs_cpp(results)
    assert [(p.name, p.cpp, p.rust) for p in pairs] == [("Snapshot.decode", 18.0, 21.6), ("ring_64B", 36e6, 24e6)]
    assert [round(p.rust_slower_by, 2) for p in pairs] == [1.2, 1.5]  # time: rust/cpp; throughput: cpp/rust
    assert pairs[1].to_json()["rust_slower_by"] == 1.5


def test_verdict_knows_which_way_is_better() -> None:
    assert verdict(_result("lat", "ns", 90.0, 100.0)) == "meets"
    assert verdict(_result("lat", "ns", 110.0, 100.0)) == "misses"
    assert verdict(_result("tp", "msgs/s", 2e7, 1e7)) == "meets"
    assert verdict(_result("tp", "items/s", 5e6, 1e7)) == "misses"
    assert verdict(_result("tp", "items/s", 5e6, None)) == ""


def test_targets_lists_a_broken_backend_without_failing(monkeypatch) -> None:
    monkeypatch.setitem(registry.BUILTIN, "broken", "hftc.no_such_module:BACKEND")
    result = CliRunner().invoke(app, ["targets"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "cannot be loaded" in lines["broken"] and "docs" in lines


def test_a_broken_install_says_what_could_not_run_and_why(monkeypatch, tmp_path) -> None:
    """No runtime build files (an old wheel) and no Rust runtime: each is a note, and a language
    that ran nothing is named, instead of a table with only some rows."""
    from hftc.bench import runner

    monkeypatch.setattr(runner, "runtime_cpp_dir", lambda: tmp_path / "runtime_cpp")
    monkeypatch.setattr(runner, "runtime_rust_dir", lambda: None)
    monkeypatch.setattr(runner, "predecoded_depth", lambda progress: None)
    ir = compile_file(str(REPO / "examples" / "fx_market_maker.hftc.yaml")).ir
    results, problems = runner.run_benchmarks(ir, ["cpp", "rust"], lambda msg: None, include_generated=False)
    assert results == []
    text = "\n".join(problems)
    assert "C++ runtime: the C++ runtime's build files are missing" in text and "reinstall hftc" in text
    assert "Rust runtime: the Rust runtime (runtime_rust/Cargo.toml) is not in this hftc" in text
    assert "no C++ benchmark ran" in text and "no Rust benchmark ran" in text


def test_only_and_quick_pick_programs_and_flags() -> None:
    from hftc.bench.runner import PROGRAMS, Selection

    pick = Selection(frozenset({"bench_ring", "ring_bench"}), quick=True)
    assert pick.wants("ring_bench") and not pick.wants("bench_codecs") and Selection().wants("bench_codecs")
    assert pick.flags("bench_ring") == ["--quick"] and pick.flags("bench_book_hist") == []
    assert Selection().flags("bench_ring") == []
    assert {"bench_ring", "ring_bench", "bench_codecs", "bench"} <= set(PROGRAMS)
    result = CliRunner().invoke(app, ["bench", str(REPO / "examples" / "fx_market_maker.hftc.yaml"),
                                      "--only", "bench_ring,nope"])
    assert result.exit_code == 2 and "unknown benchmark nope" in result.output and "ring_bench" in result.output


def test_a_build_folder_of_another_source_folder_is_reconfigured(tmp_path) -> None:
    """hftc reinstalled elsewhere (another venv) with the same build cache: CMake would refuse
    the old folder, so the bench starts it afresh."""
    import shutil

    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    from hftc.bench.native import cmake_build

    build = tmp_path / "build"
    for name in ("first", "second"):
        source = tmp_path / name
        source.mkdir()
        (source / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.20)\nproject(p NONE)\n"
                                               "add_custom_target(hello ALL)\n")
        cmake_build(source, build, ["hello"], {})
        assert f"CMAKE_HOME_DIRECTORY:INTERNAL={source}" in (build / "CMakeCache.txt").read_text()


def test_pipeline_tape_is_on_the_schemas_grid_and_round_robin(tmp_path, monkeypatch) -> None:
    """bench_pipeline's tape: the engine's instruments on the pipeline's book grid, events spread
    over every instrument, a snapshot of each before every `snapshot_every`-th event, and a schema
    with no engine reading depth updates says so."""
    import numpy as np

    from hftc.bench.tape import NoPipelineTape, pipeline_instruments, synthetic_tape
    from hftc.data.tape import CLEAR, Instrument, open_tape

    monkeypatch.chdir(REPO)
    (eurusd,) = pipeline_instruments(compile_file("examples/fx_market_maker.hftc.yaml").ir)
    assert (eurusd.symbol, eurusd.tick_size, eurusd.lot_size) == ("EURUSD", 0.00001, 1000.0)
    two = [Instrument("AAA", 0.5, 1.0), Instrument("BBB", 0.25, 1.0)]
    rows = synthetic_tape(tmp_path / "t.hftt", two, 1000, snapshot_every=400)
    tape = open_tape(tmp_path / "t.hftt")
    cols = tape.columns()
    assert len(tape) == rows == 1000 + 3 * 2 * 12 and [i.symbol for i in tape.instruments] == ["AAA", "BBB"]
    assert (np.bincount(cols["instrument"]) == [500 + 36, 500 + 36]).all()
    assert int((cols["kind"] == CLEAR).sum()) == 3 * 2 * 2
    with pytest.raises(NoPipelineTape, match="depth-update feed"):
        pipeline_instruments(compile_file("tests/schemas/cpp_edge.hftc.yaml").ir)
