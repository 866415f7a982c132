"""`--target cpp` trading components: strategies, feed handler, gateway, risk limits, pipelines.

The view model is checked on the example and on variants of it (field roles, thread splits,
diagnostics); the generated project is built against the C++ runtime, plain and with
ASan+UBSan (`-Werror` in both), and its components test is run: codecs -> feed handler ->
pipeline (inline and threaded) -> gateway bytes decoded back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from hftc.backends.cpp.components import build_components
from hftc.backends.cpp.view import build_view
from hftc.diagnostics.model import Severity, has_errors
from hftc.driver.build import generate
from hftc.frontend import compile_file

EXAMPLE = EXAMPLES / "fx_market_maker.hftc.yaml"
RUNTIME = REPO / "runtime_cpp"
THREADS = "threads: {feed: {cpu: 2}, quoter: {cpu: 3}}"


def _compile(path: Path):
    result = compile_file(str(path))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.ir


def _variant_result(tmp_path: Path, *replacements: tuple[str, str]):
    """The example with text replaced, compiled (its import is copied beside it): the result."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    shutil.copy(EXAMPLES / "common.hftc.yaml", tmp_path / "common.hftc.yaml")
    path = tmp_path / "variant.hftc.yaml"
    path.write_text(text, encoding="utf-8")
    return compile_file(str(path))


def _variant(tmp_path: Path, *replacements: tuple[str, str]):
    """The variant's IR, which must compile."""
    result = _variant_result(tmp_path, *replacements)
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.ir


def _variant_codes(tmp_path: Path, *replacements: tuple[str, str]) -> list[tuple[str, Severity]]:
    """What compiling (so `hftc lint`) reports for the variant: the components' checks are passes."""
    return [(d.code, d.severity) for d in _variant_result(tmp_path, *replacements).diagnostics]


def _components(ir):
    return build_components(ir, build_view(ir))


def _files(ir) -> tuple[dict[str, bytes], list]:
    report = generate(ir, ["cpp"], "unused")
    return report.outputs[0].files if report.outputs else {}, report.diagnostics


# ---------------------------------------------------------------------------------- view model


def test_example_roles_splits_and_limits() -> None:
    c, diags = _components(_compile(EXAMPLE))
    assert diags == []
    assert c is not None
    (feed,) = c["feeds"]
    assert [(i.name, i.role) for i in feed.inputs] == [("BookDelta", "delta"), ("Trade", "trade"),
                                                       ("Snapshot", "snapshot")]
    trade = feed.inputs[1]
    assert (trade.side, trade.instrument, trade.seq, trade.ts) == ("aggressor", "instrument", "seq", "ts_exchange")
    assert feed.inputs[2].group == "levels" and feed.inputs[2].ts == ""
    (gw,) = c["gateways"]
    assert gw.acc == {"client_order_id": "client_order_id", "instrument": "instrument", "side": "side",
                      "price": "price", "qty": "qty", "ts": "ts_sent",
                      "symbol": ""}  # no symbol table in the pipeline: the field stays empty
    assert gw.max_length == 8 + 51
    (p,) = c["pipelines"]
    assert p.splits == "hft::trading::kSplitBeforeBook"
    assert p.cpu == [2, 3, -1, -1]
    assert p.queue_capacity == 4096 and p.grid.depth == 64
    assert (p.grid.tick_num, p.grid.tick_den, p.grid.lot_num, p.grid.lot_den) == (1, 100000, 1000, 1)
    (r,) = c["risks"]
    assert (r.max_position, r.max_order_qty, r.max_orders_per_second, r.price_band_bps, r.max_notional) == \
        (5000000, 1000000, 2000, 25, 0)


def test_schema_without_components_gets_no_component_files() -> None:
    files, diags = _files(_compile(REPO / "tests" / "schemas" / "cpp_edge.hftc.yaml"))
    assert not has_errors(diags)
    assert not any("components" in f or "pipeline_" in f or "strategies/" in f for f in files)
    assert b"HFTC_RUNTIME_DIR" not in files["CMakeLists.txt"]


def test_generated_files_and_strategy_params() -> None:
    files, diags = _files(_compile(EXAMPLE))
    assert diags == []
    for name in ("include/fx_mm/components.hpp", "include/fx_mm/strategies/mm.hpp",
                 "include/fx_mm/pipeline_tick_to_trade.hpp", "tests/components_test.cpp"):
        assert name in files, name
    strategy = files["include/fx_mm/strategies/mm.hpp"].decode()
    # Parameter defaults survive the IR's JSON round trip with their types.
    assert "double spread_bps = 0.5;" in strategy
    assert "std::int64_t inventory_limit = 1000;" in strategy
    assert "class Adapter" in strategy and "static_assert(hft::trading::Strategy<Adapter>);" in strategy
    cmake = files["CMakeLists.txt"].decode()
    assert "HFTC_RUNTIME_DIR" in cmake and "fx_mm_components_test" in cmake


def test_thread_splits_follow_the_stage_kinds(tmp_path: Path) -> None:
    ir = _variant(tmp_path, (THREADS, "threads: {feed: {cpu: 1}, risk: {cpu: 4}, gateway: {cpu: 5}}"))
    (p,) = _components(ir)[0]["pipelines"]
    assert p.splits == "hft::trading::kSplitBeforeRisk | hft::trading::kSplitBeforeGateway"
    assert p.cpu == [1, 4, 5, -1]
    ir = _variant(tmp_path, (THREADS, "threads: {}"))
    (p,) = _components(ir)[0]["pipelines"]
    assert (p.splits, p.cpu) == ("hft::trading::kInline", [-1, -1, -1, -1])


def test_book_and_strategy_both_threaded_is_an_error(tmp_path: Path) -> None:
    codes = _variant_codes(tmp_path, (THREADS, "threads: {feed: {cpu: 2}, book: {cpu: 3}, quoter: {cpu: 4}}"))
    assert codes == [("HFT0641", Severity.ERROR)]


_EXEC_ROLE = "    role: execution_report\n    fields_map: {price: last_price, qty: last_qty, ts: ts_exchange}\n"


def test_input_without_role_warns_and_is_ignored(tmp_path: Path) -> None:
    replacement = ("input: [BookDelta, Trade, Snapshot]", "input: [BookDelta, Trade, Snapshot, ExecutionReport]")
    result = _variant_result(tmp_path, replacement, (_EXEC_ROLE, ""))  # the report without its role
    assert [(d.code, d.severity) for d in result.diagnostics] == [("HFT0640", Severity.WARNING)]
    assert "ExecutionReport" in result.diagnostics[0].message
    files, diags = _files(result.ir)
    assert diags == []  # reported once, by the passes
    assert "// Ignored (no role): ExecutionReport." in files["include/fx_mm/components.hpp"].decode()


def test_declared_execution_report_becomes_fills(tmp_path: Path) -> None:
    # The example declares the report's role (and maps its fields); fed to the feed, it becomes fills.
    assert _EXEC_ROLE in EXAMPLE.read_text(encoding="utf-8")
    ir = _variant(tmp_path, ("input: [BookDelta, Trade, Snapshot]", "input: [BookDelta, Trade, Snapshot, ExecutionReport]"))
    files, diags = _files(ir)
    assert diags == []
    header = files["include/fx_mm/components.hpp"].decode()
    assert "ExecutionReport (fill)" in header and "hft::trading::fill_msg(inst, side, px, qty, ts)" in header


def test_gateway_without_order_fields_is_an_error(tmp_path: Path) -> None:
    codes = _variant_codes(tmp_path, ("output: NewOrder", "output: Trade"))
    assert codes == [("HFT0642", Severity.ERROR)], codes


def test_gateway_without_timestamp_field_generates(tmp_path: Path) -> None:
    """An order message with no ns timestamp still gets a gateway (the role is left empty)."""
    ir = _variant(tmp_path, ("ts_sent: {type: uint64, unit: ns}", "sent: {type: uint64}"))
    c, diags = _components(ir)
    assert diags == []
    (gw,) = c["gateways"]
    assert gw.acc["ts"] == "" and gw.acc["price"] == "price"
    files, diags = _files(ir)
    assert not has_errors(diags), [str(d) for d in diags]
    assert any(name.endswith("components.hpp") for name in files)


def test_decimal_coarser_than_the_tick_is_an_error(tmp_path: Path) -> None:
    codes = _variant_codes(tmp_path, ('tick: "0.00001"', 'tick: "0.0000000001"'))
    assert codes == [("HFT0644", Severity.ERROR)]


def test_trade_role_needs_the_name(tmp_path: Path) -> None:
    # Renamed, the trade message has `aggressor` instead of `side`: no role at all.
    replacements = (("  Trade:\n", "  Print:\n"), ("[BookDelta, Trade, Snapshot]", "[BookDelta, Print, Snapshot]"))
    assert [code for code, _ in _variant_codes(tmp_path, *replacements)] == ["HFT0640"]
    c, _ = _components(_variant(tmp_path, *replacements))
    assert [i.name for i in c["feeds"][0].inputs] == ["BookDelta", "Snapshot"]
    # Declared, it is a trade again.
    declared = _variant(tmp_path, *replacements, ("  Print:\n", "  Print:\n    role: trade\n"))
    c, _ = _components(declared)
    assert [(i.name, i.role) for i in c["feeds"][0].inputs] == [("BookDelta", "delta"), ("Print", "trade"),
                                                                 ("Snapshot", "snapshot")]


# -------------------------------------------------------------------------- generated project

# name -> (compiler, sanitized)
CONFIGS = {"gcc": ("g++", False), "gcc-asan": ("g++", True), "clang-asan": ("clang++", True)}


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    """Write only what changed, so ninja rebuilds only what it must."""
    for rel, data in files.items():
        path = root / rel
        if path.exists() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture(scope="module")
def example_source(cache_dir: Path) -> Path:
    files, diags = _files(_compile(EXAMPLE))
    assert not has_errors(diags)
    src = cache_dir / "cpp_components" / "fx_market_maker" / "src"
    _write_tree(src, files)
    return src


@pytest.mark.parametrize("config", CONFIGS)
def test_components_test_passes(example_source: Path, cache_dir: Path, config: str) -> None:
    compiler, sanitized = CONFIGS[config]
    for tool in ("cmake", "ninja", compiler):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed")
    build = cache_dir / "cpp_components" / "fx_market_maker" / config
    if not (build / "CMakeCache.txt").exists():
        _run(["cmake", "-G", "Ninja", "-S", str(example_source), "-B", str(build), f"-DCMAKE_CXX_COMPILER={compiler}",
              f"-DHFTC_SANITIZE={'ON' if sanitized else 'OFF'}", f"-DHFTC_RUNTIME_DIR={RUNTIME}",
              "-DHFTC_BUILD_BENCH=OFF"])
    _run(["ninja", "-C", str(build), "fx_mm_components_test"], timeout=600)
    env = {**os.environ, "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
    proc = _run([str(build / "fx_mm_components_test")], env=env, timeout=300)
    assert "[  PASSED  ] 10 tests." in proc.stdout, proc.stdout[-3000:]
    assert "SKIPPED" not in proc.stdout


def test_variant_with_risk_and_gateway_threads_builds_and_passes(cache_dir: Path, tmp_path: Path) -> None:
    """Other split bits, and an input the feed handler ignores, still build warning-free and pass."""
    for tool in ("cmake", "ninja", "g++"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed")
    replacements = ((THREADS, "threads: {feed: {cpu: 1}, risk: {cpu: 2}, gateway: {cpu: 3}}"),
                    ("input: [BookDelta, Trade, Snapshot]", "input: [BookDelta, Trade, Snapshot, ExecutionReport]"),
                    (_EXEC_ROLE, ""))  # the report without its role: an input the handlers ignore
    assert [code for code, _ in _variant_codes(tmp_path, *replacements)] == ["HFT0640"]
    files, diags = _files(_variant(tmp_path, *replacements))
    assert diags == []
    assert b"kSplitBeforeRisk | hft::trading::kSplitBeforeGateway" in files["include/fx_mm/pipeline_tick_to_trade.hpp"]
    root = cache_dir / "cpp_components" / "variant"
    _write_tree(root / "src", files)
    build = root / "gcc"
    if not (build / "CMakeCache.txt").exists():
        _run(["cmake", "-G", "Ninja", "-S", str(root / "src"), "-B", str(build), "-DCMAKE_CXX_COMPILER=g++",
              f"-DHFTC_RUNTIME_DIR={RUNTIME}", "-DHFTC_BUILD_BENCH=OFF"])
    _run(["ninja", "-C", str(build), "fx_mm_components_test"], timeout=600)
    proc = _run([str(build / "fx_mm_components_test")], timeout=300)
    assert "[  PASSED  ] 10 tests." in proc.stdout, proc.stdout[-3000:]


def test_bench_configuration_builds_codecs_benchmark_only(example_source: Path, cache_dir: Path) -> None:
    """As `hftc bench` configures it: runtime given, tests off; bench_codecs still builds."""
    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake and ninja are needed")
    build = cache_dir / "cpp_components" / "fx_market_maker" / "bench"
    if not (build / "CMakeCache.txt").exists():
        _run(["cmake", "-G", "Ninja", "-S", str(example_source), "-B", str(build), f"-DHFTC_RUNTIME_DIR={RUNTIME}",
              "-DHFTC_BUILD_TESTS=OFF", "-DHFTC_BENCH_ARCH="])
    _run(["ninja", "-C", str(build), "bench_codecs"], timeout=600)
    targets = _run(["ninja", "-C", str(build), "-t", "targets", "all"]).stdout
    assert "fx_mm_components_test" not in targets


def test_pipeline_benchmark_runs_the_generated_pipeline_in_quick_mode(example_source: Path, cache_dir: Path,
                                                                      tmp_path: Path) -> None:
    """bench_pipeline, as `hftc bench` builds and runs it: on a synthetic tape of the schema's
    instruments it prints the results JSON, the strategy having sent orders; a tape it cannot read is
    an error JSON and exit status 2. Shape only: no figure is judged."""
    import json

    from hftc.bench.tape import pipeline_instruments, synthetic_tape

    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake and ninja are needed")
    build = cache_dir / "cpp_components" / "fx_market_maker" / "bench"
    if not (build / "CMakeCache.txt").exists():
        _run(["cmake", "-G", "Ninja", "-S", str(example_source), "-B", str(build), f"-DHFTC_RUNTIME_DIR={RUNTIME}",
              "-DHFTC_BUILD_TESTS=OFF", "-DHFTC_BENCH_ARCH="])
    _run(["ninja", "-C", str(build), "bench_pipeline"], timeout=600)
    tape = tmp_path / "eurusd.hftt"
    synthetic_tape(tape, pipeline_instruments(_compile(EXAMPLE)), 20_000)
    proc = _run([str(build / "bench_pipeline"), str(tape), "--quick"], timeout=300)
    results = {r["name"]: r for r in json.loads(proc.stdout)["results"]}
    assert set(results) == {"generated_tick_to_order_p50", "generated_tick_to_order_p99",
                            "generated_tick_to_order_p999", "generated_message_p50", "generated_message_p99",
                            "generated_feed_decode_p50", "generated_pipeline_throughput"}
    for r in results.values():
        assert r["median"] > 0 and r["p99"] > 0, r
    assert results["generated_tick_to_order_p50"]["unit"] == "ns"
    assert results["generated_pipeline_throughput"]["unit"] == "msgs/s"
    assert results["generated_tick_to_order_p50"]["baseline"] == results["generated_feed_decode_p50"]["median"]
    assert "3 repeats" in proc.stderr and " 0 orders" not in proc.stderr, proc.stderr
    bad = subprocess.run([str(build / "bench_pipeline"), str(tmp_path / "missing.hftt")], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "cannot read the tape" in json.loads(bad.stdout)["error"]
