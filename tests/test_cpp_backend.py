"""`--target cpp`: golden output, determinism, and the generated CMake project built and run.

Each schema's project is built once per configuration under the build cache and reused:
g++ Debug (round-trip tests, benchmarks compile), g++ Release (-O3), g++ with ASan+UBSan (round trips, fuzz fallback),
clang++ with ASan+UBSan (round trips, libFuzzer). `-Werror` is on in every configuration.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, without_vendored
from hftc.diagnostics.model import has_errors
from hftc.driver.build import generate
from hftc.frontend import compile_file

SCHEMAS = {
    "fx_market_maker": EXAMPLES / "fx_market_maker.hftc.yaml",
    "cpp_edge": REPO / "tests" / "schemas" / "cpp_edge.hftc.yaml",
    # Big-endian, a 6-byte header, a 3-byte group size and uint8 var-data lengths.
    "wire_custom": REPO / "tests" / "schemas" / "wire_custom.hftc.yaml",
    "keywords": REPO / "tests" / "schemas" / "keywords.hftc.yaml",  # names that are keywords: `new_`, `class_`
}
PACKAGES = {"fx_market_maker": "fx_mm", "cpp_edge": "edge_cases", "wire_custom": "framing_custom",
            "keywords": "keyword_names"}

# name -> (compiler, sanitized, build type, targets). Release (-O3) catches the optimiser-only
# warnings -Werror turns into errors (GCC 12's false -Wrestrict, GCC bug 105329).
CONFIGS = {
    "gcc": ("g++", False, "Debug", ("roundtrip_test", "bench_codecs", "bench_codecs_unchecked")),
    "gcc-release": ("g++", False, "Release", ("roundtrip_test",)),
    "gcc-asan": ("g++", True, "Debug", ("roundtrip_test", "fuzz_dispatch")),
    "clang-asan": ("clang++", True, "Debug", ("roundtrip_test", "fuzz_dispatch")),
}


def _generate(schema: str) -> dict[str, bytes]:
    result = compile_file(str(SCHEMAS[schema]))
    assert result.ok, [str(d) for d in result.diagnostics]
    report = generate(result.ir, ["cpp"], "unused")
    assert not has_errors(report.diagnostics), [str(d) for d in report.diagnostics]
    return report.outputs[0].files


_generated = functools.cache(_generate)  # one formatted generation per schema for this module


@pytest.mark.parametrize("schema", SCHEMAS)
def test_golden_tree(schema: str, golden) -> None:
    golden.check_tree(f"cpp/{schema}", without_vendored(_generated(schema), "runtime/"))


def test_runtime_headers_the_components_include_are_vendored() -> None:
    """Exactly the runtime headers reachable from the generated sources, byte for byte."""
    import re

    files = _generated("fx_market_maker")
    vendored = {rel.removeprefix("runtime/include/"): data for rel, data in files.items() if rel.startswith("runtime/")}
    include = re.compile(rb'#include "(hft/[^"]+)"')
    reachable, pending = set(), [n.decode() for rel, d in files.items() if rel not in vendored for n in include.findall(d)]
    while pending:
        name = pending.pop()
        if name not in reachable:
            reachable.add(name)
            pending += [n.decode() for n in include.findall((REPO / "runtime_cpp" / "include" / name).read_bytes())]
    assert "hft/trading/pipeline.hpp" in reachable
    assert set(vendored) == {f"hft/{n.removeprefix('hft/')}" for n in reachable}
    for name, data in vendored.items():
        assert data == (REPO / "runtime_cpp" / "include" / name).read_bytes(), name
    readme = files["README.md"].decode()
    assert "find_package(fx_mm 2 REQUIRED)" in readme and "add_subdirectory(" in readme
    assert "fx_mm::components" in readme
    codecs_only = _generated("cpp_edge")
    assert not any(rel.startswith("runtime/") for rel in codecs_only)
    assert "fx_mm::components" not in codecs_only["README.md"].decode()


def test_generation_is_deterministic() -> None:
    assert _generate("fx_market_maker") == _generate("fx_market_maker")


def test_edge_schema_is_lint_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "hftc", "lint", str(SCHEMAS["cpp_edge"])],
                          check=False, capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_fx_example_target_checks_are_clean() -> None:
    """`hftc lint` runs the cpp target's checks, which render the engine, its order-entry codec and
    the venue program from a view of only the messages they read."""
    proc = subprocess.run([sys.executable, "-m", "hftc", "lint", str(SCHEMAS["fx_market_maker"])],
                          check=False, capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and "HFT0802" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    """Write only what changed, so ninja rebuilds only what it must."""
    for rel, data in files.items():
        path = root / rel
        if path.exists() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


class Projects:
    """Generated projects, each built at most once per configuration in this module."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[tuple[str, str], Path] = {}

    def source(self, schema: str) -> Path:
        src = self.root / schema / "src"
        _write_tree(src, _generated(schema))
        return src

    def build(self, schema: str, config: str) -> Path:
        key = (schema, config)
        if key in self.built:
            return self.built[key]
        compiler, sanitized, build_type, targets = CONFIGS[config]
        for tool in ("cmake", "ninja", compiler):
            if shutil.which(tool) is None:
                pytest.skip(f"`{tool}` is not installed")
        src = self.source(schema)
        build = self.root / schema / config
        if not (build / "CMakeCache.txt").exists():
            _run(["cmake", "-G", "Ninja", "-S", str(src), "-B", str(build), f"-DCMAKE_CXX_COMPILER={compiler}",
                  f"-DCMAKE_BUILD_TYPE={build_type}", f"-DHFTC_SANITIZE={'ON' if sanitized else 'OFF'}"])
        pkg = PACKAGES[schema]
        names = [f"{pkg}_roundtrip_test" if t == "roundtrip_test" else t for t in targets]
        _run(["ninja", "-C", str(build), *names])
        self.built[key] = build
        return build


@pytest.fixture(scope="module")
def projects(cache_dir: Path) -> Projects:
    return Projects(cache_dir / "cpp_backend")


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("schema", SCHEMAS)
def test_round_trips(projects: Projects, schema: str, config: str) -> None:
    build = projects.build(schema, config)
    env = {**os.environ, "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
    proc = _run([str(build / f"{PACKAGES[schema]}_roundtrip_test"), "--gtest_brief=1"], env=env, timeout=300)
    assert "PASSED" in proc.stdout


@pytest.mark.parametrize("config", ["gcc-asan", "clang-asan"])
@pytest.mark.parametrize("schema", SCHEMAS)
def test_fuzz_dispatch(projects: Projects, schema: str, config: str, tmp_path: Path) -> None:
    build = projects.build(schema, config)
    fuzz = str(build / "fuzz_dispatch")
    if config == "clang-asan":  # libFuzzer
        _run([fuzz, "-runs=30000", "-seed=1", str(tmp_path)], timeout=300)
    else:  # fallback main: seeded mutations of valid encodings
        _run([fuzz], env={**os.environ, "HFTC_FUZZ_RUNS": "20000"}, timeout=300)


def test_benchmark_builds_and_reports_json(projects: Projects) -> None:
    import json

    build = projects.build("fx_market_maker", "gcc")
    names = {r["name"] for r in json.loads(_run([str(build / "bench_codecs")], timeout=300).stdout)["results"]}
    assert {"BookDelta.encode", "BookDelta.decode", "NewOrder.encode", "NewOrder.decode"} <= names


def test_installed_package_is_found_by_find_package(projects: Projects, tmp_path: Path) -> None:
    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake and ninja are needed")
    src = projects.source("fx_market_maker")
    prefix = tmp_path / "prefix"
    _run(["cmake", "-G", "Ninja", "-S", str(src), "-B", str(tmp_path / "lib"), "-DHFTC_BUILD_TESTS=OFF",
          "-DHFTC_BUILD_BENCH=OFF", f"-DCMAKE_INSTALL_PREFIX={prefix}"])
    _run(["cmake", "--install", str(tmp_path / "lib")])
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20)\nproject(consumer LANGUAGES CXX)\n"
        "find_package(fx_mm 2 REQUIRED)\nadd_executable(consumer main.cpp)\n"
        "target_link_libraries(consumer PRIVATE fx_mm::components)\n")
    # components.hpp includes the runtime's hft/ headers: the installed package brings them.
    (consumer / "main.cpp").write_text(
        '#include "fx_mm/codecs.hpp"\n#include "fx_mm/components.hpp"\n#include "fx_mm/pipeline_tick_to_trade.hpp"\n'
        "int main() {\n  char buf[64];\n  fx::mm::BookDelta m;\n"
        "  m.wrap_and_apply_header(buf, 0, sizeof buf).instrument(1);\n"
        "  return m.ok() && m.encoded_length() == 8 + fx::mm::BookDelta::kBlockLength ? 0 : 1;\n}\n")
    _run(["cmake", "-G", "Ninja", "-S", str(consumer), "-B", str(tmp_path / "cbuild"), f"-DCMAKE_PREFIX_PATH={prefix}"])
    _run(["ninja", "-C", str(tmp_path / "cbuild")])
    _run([str(tmp_path / "cbuild" / "consumer")])


def test_subdirectory_consumer_builds_no_tests_and_missing_gtest_is_a_message(projects: Projects, tmp_path: Path) -> None:
    """add_subdirectory: tests, benchmarks and engine default to OFF; top level without GoogleTest:
    configure succeeds with one line saying the tests are skipped."""
    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake and ninja are needed")
    src = projects.source("fx_market_maker")
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.21)\nproject(consumer LANGUAGES CXX)\n"
        f"add_subdirectory({src.as_posix()} fx_mm)\nadd_executable(consumer main.cpp)\n"
        "target_link_libraries(consumer PRIVATE fx_mm::components)\n")
    (consumer / "main.cpp").write_text('#include "fx_mm/components.hpp"\nint main() { return 0; }\n')
    _run(["cmake", "-G", "Ninja", "-S", str(consumer), "-B", str(tmp_path / "sub")])
    targets = _run(["ninja", "-C", str(tmp_path / "sub"), "-t", "targets", "all"]).stdout
    for name in ("fx_mm_roundtrip_test", "fx_mm_components_test", "fuzz_dispatch", "bench_codecs", "bench_pipeline",
                 "fx_mm_engine"):
        assert f"{name}:" not in targets, name
    _run(["ninja", "-C", str(tmp_path / "sub"), "consumer"])

    proc = _run(["cmake", "-G", "Ninja", "-S", str(src), "-B", str(tmp_path / "nogtest"),
                 "-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON", "-DHFTC_BUILD_BENCH=OFF"])
    assert "GoogleTest not found: the fx_mm tests are skipped" in proc.stdout
    targets = _run(["ninja", "-C", str(tmp_path / "nogtest"), "-t", "targets", "all"]).stdout
    assert "fx_mm_roundtrip_test:" not in targets and "fx_mm_engine:" in targets


def test_a_missing_runtime_is_a_diagnostic(monkeypatch, tmp_path: Path) -> None:
    import hftc.paths

    monkeypatch.setattr(hftc.paths, "runtime_cpp_dir", lambda: tmp_path)
    ir = compile_file(str(SCHEMAS["fx_market_maker"])).ir
    report = generate(ir, ["cpp"], "unused")
    assert [d.code for d in report.diagnostics if d.code == "HFT0808"] == ["HFT0808"]
    assert has_errors(report.diagnostics)
    codecs_only = generate(compile_file(str(SCHEMAS["cpp_edge"])).ir, ["cpp"], "unused")  # needs no runtime
    assert not has_errors(codecs_only.diagnostics)
