"""Which benchmark programs `hftc bench` builds and runs, and how results are merged."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from hftc.bench.native import BenchError, Result, cmake_build, find_executable, run_json
from hftc.ir.model import Schema
from hftc.paths import build_cache, runtime_cpp_dir, runtime_rust_dir, shared_data_dir

DEPTH_CAPTURE = "binance/usdm_btcusdt_20240808.gz"
NATIVE_FLAGS = {"CMAKE_CXX_FLAGS": "-O3 -march=native"}

Progress = Callable[[str], None]

# Every benchmark program by the name `--only` takes, and which of them take `--quick`
# (fewer repetitions and items: a smoke run, not a measurement to compare).
CPP_RUNTIME_PROGRAMS = ("bench_backtest", "bench_book_hist", "bench_journal", "bench_ring", "bench_tick_to_order")
RUST_RUNTIME_PROGRAMS = ("book_bench", "ring_bench")
GENERATED_PROGRAMS = {"cpp": "bench_codecs", "rust": "bench"}
# The generated engine's tick-to-order path (schemas whose engine reads depth updates), on a
# synthetic tape of the pipeline's instruments (hftc.bench.tape).
GENERATED_PIPELINE = "bench_pipeline"
PIPELINE_TAPE_EVENTS = 1_000_000
PIPELINE_TAPE_EVENTS_QUICK = 20_000
PROGRAMS = tuple(sorted({*CPP_RUNTIME_PROGRAMS, *RUST_RUNTIME_PROGRAMS, *GENERATED_PROGRAMS.values(),
                         GENERATED_PIPELINE}))
DATA_PROGRAMS = ("bench_backtest", "bench_book_hist", "bench_tick_to_order", "book_bench")
QUICK_FLAG = frozenset({"bench_journal", "bench_pipeline", "bench_ring", "bench_tick_to_order", "ring_bench"})


@dataclass(frozen=True)
class Selection:
    """Which programs run (`only`: None is all of them) and whether in their quick mode."""

    only: frozenset[str] | None = None
    quick: bool = False

    def wants(self, program: str) -> bool:
        return self.only is None or program in self.only

    def flags(self, program: str) -> list[str]:
        return ["--quick"] if self.quick and program in QUICK_FLAG else []


def predecoded_depth(progress: Progress) -> Path | None:
    """Real BTCUSDT depth diffs as flat records, so JSON parsing is not timed."""
    data = shared_data_dir()
    if data is None or not (data / DEPTH_CAPTURE).exists():
        return None
    out = build_cache() / "bench" / "usdm_btcusdt_20240808.depth.bin"
    if not out.exists():
        progress("pre-decoding the BTCUSDT depth capture")
        out.parent.mkdir(parents=True, exist_ok=True)
        script = runtime_cpp_dir() / "bench" / "predecode_binance.py"
        proc = subprocess.run([sys.executable, str(script), "--input", str(data / DEPTH_CAPTURE), str(out)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise BenchError(f"pre-decoding failed: {proc.stderr.strip()[-500:]}")
    return out


def _runtime_cpp(progress: Progress, depth: Path | None, pick: Selection) -> list[Result]:
    source = runtime_cpp_dir()
    if not (source / "CMakeLists.txt").is_file():
        raise BenchError(f"the C++ runtime's build files are missing ({source / 'CMakeLists.txt'}): reinstall hftc")
    benches = [p.stem for p in sorted((source / "bench").glob("bench_*.cpp")) if pick.wants(p.stem)]
    if not benches:
        return []
    progress(f"building the C++ runtime benchmarks ({', '.join(benches)})")
    build_dir = cmake_build(source, build_cache() / "bench" / "runtime_cpp", benches,
                            {"HFT_BUILD_BENCH": "ON", "HFT_BUILD_TESTS": "OFF", **NATIVE_FLAGS})
    results: list[Result] = []
    for bench in benches:
        if bench in ("bench_ring", "bench_journal"):
            args = []
        elif bench == "bench_backtest":
            tape = _backtest_tape(progress)
            if tape is None:
                continue
            args = [str(tape)]
        elif depth is not None:
            args = [str(depth)]
        else:
            continue
        progress(f"running {bench}")
        results += run_json([str(find_executable(build_dir, bench)), *args, *pick.flags(bench)], "cpp", bench)
    return results


def _backtest_tape(progress: Progress) -> Path | None:
    """The BTCUSDT capture as a backtest tape (converted once, cached), or None without the data."""
    data = shared_data_dir()
    if data is None or not (data / DEPTH_CAPTURE).exists():
        return None
    out = build_cache() / "bench" / "btcusdt.hftt"
    if not out.exists():
        from hftc.data.convert import convert, write

        progress("converting the BTCUSDT capture into a backtest tape")
        out.parent.mkdir(parents=True, exist_ok=True)
        write(convert([data / DEPTH_CAPTURE]), out)
    return out


def _generated_cpp(ir: Schema, progress: Progress, pick: Selection) -> list[Result]:
    from hftc.driver.build import build

    out = build_cache() / "bench" / "generated" / ir.package_snake
    report = build(ir, ["cpp"], str(out))
    if report.diagnostics:
        raise BenchError("; ".join(d.message for d in report.diagnostics))
    project = out / "cpp"
    targets = [t for t in (GENERATED_PROGRAMS["cpp"], GENERATED_PIPELINE) if pick.wants(t)]
    if GENERATED_PIPELINE in targets and not (project / "bench" / "bench_pipeline.cpp").is_file():
        targets.remove(GENERATED_PIPELINE)  # no engine reading depth updates: no pipeline bench
        if not targets:
            raise BenchError("the schema's first pipeline has no depth-update feed: bench_pipeline is not generated")
    progress(f"building the generated C++ benchmarks ({', '.join(targets)})")
    build_dir = cmake_build(project, build_cache() / "bench" / "generated-build" / ir.package_snake, targets,
                            {"HFTC_RUNTIME_DIR": str(runtime_cpp_dir()), "HFTC_BUILD_TESTS": "OFF", **NATIVE_FLAGS})
    results: list[Result] = []
    if GENERATED_PROGRAMS["cpp"] in targets:
        progress("running bench_codecs")
        results += run_json([str(find_executable(build_dir, "bench_codecs"))], "cpp", "bench_codecs")
    if GENERATED_PIPELINE in targets:
        tape = _pipeline_tape(ir, progress, pick.quick)
        progress(f"running {GENERATED_PIPELINE}")
        results += run_json([str(find_executable(build_dir, GENERATED_PIPELINE)), str(tape),
                             *pick.flags(GENERATED_PIPELINE)], "cpp", GENERATED_PIPELINE)
    return results


def _pipeline_tape(ir: Schema, progress: Progress, quick: bool) -> Path:
    """The synthetic tape of the schema's pipeline instruments (written once per size, cached)."""
    from hftc.bench.tape import NoPipelineTape, pipeline_instruments, synthetic_tape

    events = PIPELINE_TAPE_EVENTS_QUICK if quick else PIPELINE_TAPE_EVENTS
    try:
        instruments = pipeline_instruments(ir)
    except NoPipelineTape as exc:
        raise BenchError(str(exc)) from None
    key = hashlib.sha256(repr((instruments, events)).encode()).hexdigest()[:12]
    out = build_cache() / "bench" / f"pipeline-{ir.package_snake}-{key}.hftt"
    if not out.exists():
        progress(f"writing a synthetic tape of {events} events for the pipeline benchmark")
        out.parent.mkdir(parents=True, exist_ok=True)
        synthetic_tape(out, instruments, events)
    return out


def _runtime_rust(progress: Progress, depth: Path | None, pick: Selection) -> list[Result]:
    crate = runtime_rust_dir()
    if crate is None:
        raise BenchError("the Rust runtime (runtime_rust/Cargo.toml) is not in this hftc checkout or install: "
                         "reinstall hftc")
    if shutil.which("cargo") is None:
        raise BenchError("cargo is not installed (see https://rustup.rs)")
    bins = [b for b in RUST_RUNTIME_PROGRAMS if pick.wants(b) and (b != "book_bench" or depth is not None)]
    if not bins:
        return []
    env = {**os.environ, "CARGO_TARGET_DIR": str(build_cache() / "cargo"), "RUSTFLAGS": "-C target-cpu=native"}
    progress(f"building the Rust runtime benchmarks ({', '.join(bins)})")
    proc = subprocess.run(["cargo", "build", "--release", *[a for b in bins for a in ("--bin", b)]], cwd=crate,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"cargo build failed: {proc.stderr.strip()[-800:]}")
    target = build_cache() / "cargo" / "release"
    results: list[Result] = []
    for program in bins:
        progress(f"running {program}")
        args = [str(depth)] if program == "book_bench" else []
        results += run_json([str(target / program), *args, *pick.flags(program)], "rust", program)
    return results


def _generated_rust(ir: Schema, progress: Progress) -> list[Result]:
    from hftc.driver.build import build

    out = build_cache() / "bench" / "generated" / ir.package_snake
    report = build(ir, ["rust"], str(out))
    if report.diagnostics:
        raise BenchError("; ".join(d.message for d in report.diagnostics))
    env = {**os.environ, "CARGO_TARGET_DIR": str(build_cache() / "cargo-generated"), "RUSTFLAGS": "-C target-cpu=native"}
    progress("building the generated Rust codec benchmark")
    proc = subprocess.run(["cargo", "build", "--release", "--bin", "bench"], cwd=out / "rust", env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"cargo build failed: {proc.stderr.strip()[-800:]}")
    progress("running the Rust codec bench")
    return run_json([str(build_cache() / "cargo-generated" / "release" / "bench")], "rust", "bench (generated)")


def apply_schema_targets(ir: Schema, results: list[Result]) -> list[Result]:
    """Targets the schema states override the benchmarks' built-in ones. They go to the figures of
    the generated pipeline (bench_pipeline), never to the runtime's hand-written quoter's."""
    pipeline = ir.pipelines[0] if ir.pipelines else None
    targets: dict[str, float] = {}
    if pipeline is not None:
        if pipeline.latency_p99_ns:
            targets["generated_tick_to_order_p99"] = pipeline.latency_p99_ns
        if pipeline.throughput_msgs_per_s:
            targets["generated_pipeline_throughput"] = pipeline.throughput_msgs_per_s
    return [replace(r, target=targets.get(r.name, r.target)) for r in results]


def run_benchmarks(ir: Schema, langs: list[str], progress: Progress, include_generated: bool = True,
                   pick: Selection = Selection()) -> tuple[list[Result], list[str]]:
    """Run the benchmarks picked for the languages asked; return results and the problems met
    (what could not run and why), including a language that ran nothing."""
    results: list[Result] = []
    problems: list[str] = []
    depth = None
    try:
        depth = predecoded_depth(progress)
    except BenchError as exc:
        problems.append(str(exc))
    if depth is None and any(pick.wants(p) for p in DATA_PROGRAMS):
        problems.append("market data not found: book and tick-to-order benchmarks on real data are skipped")
    jobs: list[tuple[str, Callable[[], list[Result]]]] = []
    generated = include_generated and bool(ir.messages)
    if "cpp" in langs:
        jobs.append(("C++ runtime", lambda: _runtime_cpp(progress, depth, pick)))
        if generated and (pick.wants(GENERATED_PROGRAMS["cpp"]) or pick.wants(GENERATED_PIPELINE)):
            jobs.append(("generated C++ benchmarks", lambda: _generated_cpp(ir, progress, pick)))
    if "rust" in langs:
        jobs.append(("Rust runtime", lambda: _runtime_rust(progress, depth, pick)))
        if generated and pick.wants(GENERATED_PROGRAMS["rust"]):
            jobs.append(("generated Rust codecs", lambda: _generated_rust(ir, progress)))
    for label, job in jobs:
        try:
            results += job()
        except (BenchError, OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"{label}: {exc}")
    for lang in langs:
        if not any(r.lang == lang for r in results):
            name = "C++" if lang == "cpp" else "Rust"
            programs = {*(CPP_RUNTIME_PROGRAMS if lang == "cpp" else RUST_RUNTIME_PROGRAMS), GENERATED_PROGRAMS[lang],
                        *((GENERATED_PIPELINE,) if lang == "cpp" else ())}
            picked_none = pick.only is not None and not pick.only & programs
            problems.append(f"no {name} benchmark ran: " + (f"--only names none of {', '.join(sorted(programs))}"
                                                             if picked_none else "the notes above say why"))
    return apply_schema_targets(ir, results), problems
