"""Build and test the header-only C++ runtime (`runtime_cpp/`).

Three CMake configurations, each configured and built once per module and reused:

* ``plain``: RelWithDebInfo, tests + tools + bench; runs the whole GoogleTest suite
  through ctest, the shared-memory tool as two real processes and the bench in quick mode.
* ``asan_ubsan``: ``HFT_SANITIZE=address,undefined``; the whole suite through ctest.
* ``tsan``: ``HFT_SANITIZE=thread``; only the ring and shared-memory tests (the
  concurrent code), run directly with a gtest filter; only the test files holding them are built.

Plus packaging: the plain build is installed into a temporary prefix and a small
consumer project is built against it with ``find_package(hft_runtime CONFIG)``, and
another one pulls the runtime in with ``add_subdirectory``.

Builds go to ``$HFTC_BUILD_CACHE/runtime_cpp/<config>`` (default ``<repo>/.build-cache``)
so repeated runs are incremental.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "runtime_cpp"
CACHE = Path(os.environ.get("HFTC_BUILD_CACHE", str(REPO / ".build-cache"))) / "runtime_cpp"
CMAKE = shutil.which("cmake")
NINJA = shutil.which("ninja")
SETARCH = shutil.which("setarch")
JOBS = str(max(2, os.cpu_count() or 2))

BUILD_TIMEOUT = 1200
RUN_TIMEOUT = 600

# The concurrent code: what ThreadSanitizer is pointed at.
TSAN_FILTER = "SpscRing*:ShmRing*:TradingPipeline*:TradingRisk*:MetricsThreads.*:AuditJournal.*"

# Line-table debug info (-g1) is enough for sanitizer stack traces and much cheaper to
# compile. ASan+UBSan checks do not need the optimiser and -O0 halves their compile time;
# TSan keeps -O1 so the stress tests run the code roughly as shipped. Asserts stay on.
CONFIGS: dict[str, dict[str, str]] = {
    "plain": {
        "CMAKE_BUILD_TYPE": "RelWithDebInfo",
        "CMAKE_CXX_FLAGS_RELWITHDEBINFO": "-O2 -g1 -DNDEBUG",
        "HFT_BUILD_BENCH": "ON",
    },
    "asan_ubsan": {
        "CMAKE_BUILD_TYPE": "Debug",
        "CMAKE_CXX_FLAGS_DEBUG": "-O0 -g1",
        "HFT_SANITIZE": "address,undefined",
    },
    "tsan": {
        "CMAKE_BUILD_TYPE": "Debug",
        "CMAKE_CXX_FLAGS_DEBUG": "-O1 -g1",
        "HFT_SANITIZE": "thread",
    },
}
# Sanitizer configurations only build the test executable.
TARGETS = {"plain": [], "asan_ubsan": ["hft_runtime_tests"], "tsan": ["hft_runtime_tests"]}


def _tsan_sources() -> list[str]:
    """The test files holding a test TSAN_FILTER selects: the TSan executable is built from these
    only (compiling the other files under TSan would run none of their tests)."""
    import fnmatch
    import re

    patterns = TSAN_FILTER.split(":")
    test = re.compile(r"^TEST(?:_F)?\(\s*(\w+)\s*,\s*(\w+)\s*\)", re.MULTILINE)
    return sorted(p.name for p in (SRC / "tests").glob("test_*.cpp")
                  if any(fnmatch.fnmatchcase(f"{suite}.{name}", pat)
                         for suite, name in test.findall(p.read_text(encoding="utf-8")) for pat in patterns))


CONFIGS["tsan"]["HFT_TEST_ONLY"] = ";".join(_tsan_sources())

SANITIZER_ENV = {
    "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1:strict_string_checks=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1",
}

pytestmark = pytest.mark.skipif(CMAKE is None, reason="cmake is not on PATH")


def _run(cmd: list[str], cwd: Path = REPO, timeout: int = BUILD_TIMEOUT, env=None):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _assert_ok(proc: subprocess.CompletedProcess, what: str) -> None:
    assert proc.returncode == 0, (
        f"{what} failed with exit code {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-8000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
    )


def _generator_args() -> list[str]:
    return ["-G", "Ninja"] if NINJA else []


def _cached_generator(build_dir: Path) -> str | None:
    cache = build_dir / "CMakeCache.txt"
    if not cache.is_file():
        return None
    for line in cache.read_text(errors="replace").splitlines():
        if line.startswith("CMAKE_GENERATOR:"):
            return line.split("=", 1)[1]
    return None


def _configure(src: Path, build_dir: Path, defs: dict[str, str]) -> subprocess.CompletedProcess:
    wanted = "Ninja" if NINJA else None
    cached = _cached_generator(build_dir)
    if cached is not None and wanted is not None and cached != wanted:
        shutil.rmtree(build_dir)  # a build dir cannot switch generators
    build_dir.mkdir(parents=True, exist_ok=True)
    cmd = [CMAKE, "-S", str(src), "-B", str(build_dir), *_generator_args()]
    cmd += [f"-D{k}={v}" for k, v in defs.items()]
    return _run(cmd)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for key, value in SANITIZER_ENV.items():
        env.setdefault(key, value)
    return env


class Build:
    def __init__(self, config: str):
        self.config = config
        self.dir = CACHE / config
        defs = dict(CONFIGS[config])
        defs["HFT_BUILD_TESTS"] = "ON"
        proc = _configure(SRC, self.dir, defs)
        _assert_ok(proc, f"cmake configure ({config})")
        if "GoogleTest not found" in proc.stdout + proc.stderr:
            pytest.skip("GoogleTest (GTest CMake package) is not installed")
        cmd = [CMAKE, "--build", str(self.dir), "--parallel", JOBS]
        for target in TARGETS[config]:
            cmd += ["--target", target]
        _assert_ok(_run(cmd), f"cmake --build ({config})")

    def exe(self, name: str) -> Path:
        path = self.dir / name
        assert path.is_file(), f"{name} was not built in {self.dir}"
        return path

    def ctest(self) -> subprocess.CompletedProcess:
        return _run(
            [str(Path(CMAKE).with_name("ctest")), "--test-dir", str(self.dir), "--output-on-failure", "-j", JOBS],
            timeout=RUN_TIMEOUT,
            env=_env(),
        )


def _build_fixture(config: str):
    @pytest.fixture(scope="module")
    def fixture() -> Build:
        return Build(config)

    return fixture


plain_build = _build_fixture("plain")
asan_build = _build_fixture("asan_ubsan")
tsan_build = _build_fixture("tsan")


# ---------------------------------------------------------------------------------------
# Test suites under each configuration
# ---------------------------------------------------------------------------------------


def test_plain_ctest(plain_build: Build):
    proc = plain_build.ctest()
    _assert_ok(proc, "ctest (plain)")
    assert "100% tests passed" in proc.stdout and "0 tests failed out of 0" not in proc.stdout


def test_asan_ubsan_ctest(asan_build: Build):
    proc = asan_build.ctest()
    _assert_ok(proc, "ctest (address,undefined)")
    assert "100% tests passed" in proc.stdout and "0 tests failed out of 0" not in proc.stdout


def test_tsan_ring_and_shm_tests(tsan_build: Build):
    binary = str(tsan_build.exe("hft_runtime_tests"))
    cmd = [binary, f"--gtest_filter={TSAN_FILTER}"]
    proc = _run(cmd, timeout=RUN_TIMEOUT, env=_env())
    # TSan cannot cope with some kernels' ASLR layouts ("unexpected memory mapping");
    # running with randomisation disabled is the standard workaround.
    if proc.returncode != 0 and "unexpected memory mapping" in proc.stderr and SETARCH:
        proc = _run([SETARCH, platform.machine(), "-R", *cmd], timeout=RUN_TIMEOUT, env=_env())
    _assert_ok(proc, "hft_runtime_tests under ThreadSanitizer")
    assert "[  PASSED  ]" in proc.stdout
    assert "ThreadSanitizer" not in proc.stderr, proc.stderr[-8000:]


# ---------------------------------------------------------------------------------------
# The shared-memory tool: two real processes (FORMATS.md section 1)
# ---------------------------------------------------------------------------------------


def _shm_name(tag: str) -> str:
    return f"hftc_cpp_{tag}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


def _unlink(name: str) -> None:
    try:
        (Path("/dev/shm") / name).unlink()
    except FileNotFoundError:
        pass


@pytest.mark.parametrize("consumer_first", [True, False], ids=["consumer_first", "producer_first"])
def test_shm_tool_two_processes(plain_build: Build, consumer_first: bool):
    tool = str(plain_build.exe("hft_shm_tool"))
    name = _shm_name("pair")
    count, capacity = "200000", "256"
    consume_cmd = [tool, "consume", name, count, capacity]
    produce_cmd = [tool, "produce", name, count, capacity]
    first, second = (consume_cmd, produce_cmd) if consumer_first else (produce_cmd, consume_cmd)
    try:
        p1 = subprocess.Popen(first, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p2 = subprocess.Popen(second, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out2, err2 = p2.communicate(timeout=RUN_TIMEOUT)
        out1, err1 = p1.communicate(timeout=RUN_TIMEOUT)
    finally:
        _unlink(name)
    results = {tuple(first): (p1.returncode, out1, err1), tuple(second): (p2.returncode, out2, err2)}
    c_rc, c_out, c_err = results[tuple(consume_cmd)]
    p_rc, p_out, p_err = results[tuple(produce_cmd)]
    assert c_rc == 0 and c_out.strip() == f"ok {count}", (c_rc, c_out, c_err)
    assert p_rc == 0, (p_rc, p_out, p_err)


def test_shm_tool_reports_capacity_mismatch(plain_build: Build):
    tool = str(plain_build.exe("hft_shm_tool"))
    name = _shm_name("mismatch")
    producer = subprocess.Popen(
        [tool, "produce", name, "1", "64"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The consumer retries while the object does not exist yet, then sees the header.
        proc = _run([tool, "consume", name, "1", "128"], timeout=RUN_TIMEOUT)
        assert proc.returncode == 1, (proc.stdout, proc.stderr)
        assert "capacity mismatch: expected 128, found 64" in proc.stderr, proc.stderr
        # Now drain the producer with the right capacity so it exits cleanly.
        proc = _run([tool, "consume", name, "1", "64"], timeout=RUN_TIMEOUT)
        assert proc.returncode == 0 and proc.stdout.strip() == "ok 1", (proc.stdout, proc.stderr)
        producer.communicate(timeout=RUN_TIMEOUT)
        assert producer.returncode == 0
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.communicate()
        _unlink(name)


def test_shm_tool_usage(plain_build: Build):
    proc = _run([str(plain_build.exe("hft_shm_tool")), "produce", "x"], timeout=60)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr


def test_bench_quick_emits_json(plain_build: Build):
    if (os.cpu_count() or 1) < 2 or not {0, 1} <= os.sched_getaffinity(0):
        pytest.skip("the bench pins to CPUs 0 and 1")
    proc = _run([str(plain_build.exe("bench_ring")), "--quick"], timeout=RUN_TIMEOUT)
    _assert_ok(proc, "bench_ring --quick")
    doc = json.loads(proc.stdout)
    names = {r["name"] for r in doc["results"]}
    assert {"ring_8B", "ring_64B", "cached_index_ring_8B", "rtt_ring_8B", "rtt_bare_pingpong"} <= names
    for r in doc["results"]:
        assert set(r) == {"name", "unit", "median", "p99", "target", "baseline"}
        assert r["median"] > 0


# ---------------------------------------------------------------------------------------
# Packaging: find_package after install, and add_subdirectory
# ---------------------------------------------------------------------------------------

CONSUMER_MAIN = r"""
#include <cstdint>
#include <cstdio>
#include <string>

#include <unistd.h>

#include <hft/hft.hpp>

int main() {
  hft::SpscRing<std::uint64_t> ring(8);
  std::uint64_t v = 0;
  if (!ring.try_push(41) || !ring.try_pop(v) || v != 41) return 1;

  const std::string name = "hftc_consumer_" + std::to_string(::getpid());
  auto tx = hft::ShmRing<std::uint64_t>::create(name, 4);
  auto rx = hft::ShmRing<std::uint64_t>::attach(name, 4);
  if (!tx.try_push(v + 1) || !rx.try_pop(v) || v != 42) return 2;

  hft::ObjectPool<std::uint64_t> pool(16);
  std::uint64_t* p = pool.acquire(std::uint64_t{7});
  if (p == nullptr || *p != 7) return 3;
  pool.release(p);

  const auto clk = hft::TscClock::calibrate(std::chrono::milliseconds(1));
  std::printf("consumer ok %s %d\n", std::string(hft::to_string(pool.backing())).c_str(),
              clk.ticks_per_ns() > 0);
  return 0;
}
"""

CONSUMER_CMAKE = """
cmake_minimum_required(VERSION 3.20)
project(hft_consumer LANGUAGES CXX)
{import_line}
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE hft::runtime)
target_compile_options(consumer PRIVATE -Wall -Wextra -Wpedantic -Werror)
"""


def _build_consumer(root: Path, import_line: str, extra_defs: dict[str, str]) -> str:
    src = root / "consumer"
    src.mkdir()
    (src / "main.cpp").write_text(CONSUMER_MAIN)
    (src / "CMakeLists.txt").write_text(CONSUMER_CMAKE.format(import_line=import_line))
    build = root / "consumer-build"
    _assert_ok(_configure(src, build, extra_defs), "consumer configure")
    _assert_ok(_run([CMAKE, "--build", str(build), "--parallel", JOBS]), "consumer build")
    proc = _run([str(build / "consumer")], timeout=60)
    _assert_ok(proc, "consumer run")
    return proc.stdout


def test_find_package_after_install(plain_build: Build, tmp_path: Path):
    prefix = tmp_path / "prefix"
    _assert_ok(_run([CMAKE, "--install", str(plain_build.dir), "--prefix", str(prefix)]), "cmake --install")
    config = list(prefix.rglob("hft_runtimeConfig.cmake"))
    assert config, "no package config installed"
    assert (prefix / "include" / "hft" / "spsc_ring.hpp").is_file()
    assert list(prefix.rglob("bin/hft_shm_tool")), "tools are not installed"
    out = _build_consumer(
        tmp_path,
        "find_package(hft_runtime 0.1 CONFIG REQUIRED)",
        {"CMAKE_PREFIX_PATH": str(prefix), "CMAKE_BUILD_TYPE": "Release"},
    )
    assert out.startswith("consumer ok ")


def test_add_subdirectory(tmp_path: Path):
    out = _build_consumer(
        tmp_path,
        f'add_subdirectory("{SRC.as_posix()}" hft_runtime)',
        {"CMAKE_BUILD_TYPE": "Release"},
    )
    assert out.startswith("consumer ok ")
