"""Build and check the Rust runtime (`runtime_rust/`) and its shared-memory
interoperability with the C++ runtime (`runtime_cpp/`).

* `cargo test --release`, `cargo clippy --all-targets -- -D warnings` and
  `cargo fmt --check`, each as one test.
* The cross-language shared-memory ring test from `runtime_cpp/FORMATS.md` §1:
  two real processes, C++ `hft_shm_tool` producing and Rust `shm_tool`
  consuming and the reverse (plus Rust to Rust), 200k 64-byte items each, in
  both start orders (consumer first exercises attach retries, producer first
  exercises a full ring waiting for its consumer).

Build outputs go to `$HFTC_BUILD_CACHE` (default `<repo>/.build-cache`):
cargo into `cargo/`, the C++ tools into `runtime_cpp/tools/`, so repeated runs
and other test modules reuse them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUST_DIR = REPO / "runtime_rust"
CPP_DIR = REPO / "runtime_cpp"
CACHE = Path(os.environ.get("HFTC_BUILD_CACHE", str(REPO / ".build-cache")))
CARGO_TARGET_DIR = CACHE / "cargo"
CPP_TOOLS_BUILD = CACHE / "runtime_cpp" / "tools"
CPP_SHM_TOOL_SOURCE = CPP_DIR / "tools" / "hft_shm_tool.cpp"
SHM_DIR = Path("/dev/shm")

ITEMS = 200_000
CAPACITY = 1024
BUILD_TIMEOUT = 1800
RUN_TIMEOUT = 120

needs_cargo = pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")


def _cargo_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(CARGO_TARGET_DIR)
    return env


def _run(cmd: list[str], cwd: Path, timeout: int = BUILD_TIMEOUT, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _assert_ok(proc: subprocess.CompletedProcess, what: str) -> None:
    assert proc.returncode == 0, (
        f"{what} failed with exit code {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
    )


@needs_cargo
def test_cargo_test():
    _assert_ok(_run(["cargo", "test", "--release"], RUST_DIR, env=_cargo_env()), "cargo test --release")


@needs_cargo
def test_cargo_clippy():
    probe = _run(["cargo", "clippy", "--version"], RUST_DIR, timeout=60, env=_cargo_env())
    if probe.returncode != 0:
        pytest.skip("cargo clippy is not installed")
    proc = _run(["cargo", "clippy", "--all-targets", "--", "-D", "warnings"], RUST_DIR, env=_cargo_env())
    _assert_ok(proc, "cargo clippy --all-targets -- -D warnings")


@needs_cargo
def test_cargo_fmt():
    probe = _run(["cargo", "fmt", "--version"], RUST_DIR, timeout=60, env=_cargo_env())
    if probe.returncode != 0:
        pytest.skip("cargo fmt (rustfmt) is not installed")
    _assert_ok(_run(["cargo", "fmt", "--check"], RUST_DIR, timeout=300, env=_cargo_env()), "cargo fmt --check")


@pytest.fixture(scope="module")
def rust_shm_tool() -> Path:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not on PATH")
    proc = _run(["cargo", "build", "--release", "--bin", "shm_tool"], RUST_DIR, env=_cargo_env())
    _assert_ok(proc, "cargo build --release --bin shm_tool")
    tool = CARGO_TARGET_DIR / "release" / "shm_tool"
    assert tool.is_file(), f"cargo did not produce {tool}"
    return tool


@pytest.fixture(scope="module")
def cpp_shm_tool() -> Path:
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not on PATH")
    if not CPP_SHM_TOOL_SOURCE.is_file():
        pytest.skip(f"the C++ tool source {CPP_SHM_TOOL_SOURCE.relative_to(REPO)} does not exist")
    configure = _run(
        ["cmake", "-S", str(CPP_DIR), "-B", str(CPP_TOOLS_BUILD), "-DHFT_BUILD_TESTS=OFF"],
        REPO,
    )
    _assert_ok(configure, "cmake configure of runtime_cpp")
    build = _run(["cmake", "--build", str(CPP_TOOLS_BUILD), "--target", "hft_shm_tool"], REPO)
    _assert_ok(build, "cmake --build --target hft_shm_tool")
    candidates = [p for p in CPP_TOOLS_BUILD.rglob("hft_shm_tool") if p.is_file() and os.access(p, os.X_OK)]
    assert candidates, f"no hft_shm_tool executable under {CPP_TOOLS_BUILD}"
    return candidates[0]


def _shm_name(tag: str) -> str:
    return f"hftc_interop_{tag}_{os.getpid()}_{uuid.uuid4().hex[:12]}"


def _remove_shm(name: str) -> None:
    try:
        (SHM_DIR / name).unlink()
    except FileNotFoundError:
        pass


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.skipif(not SHM_DIR.is_dir(), reason="/dev/shm is not available (POSIX shared memory on Linux only)")
@pytest.mark.parametrize("start", ["consumer_first", "producer_first"])
@pytest.mark.parametrize(
    "producer_lang, consumer_lang",
    [("cpp", "rust"), ("rust", "cpp"), ("rust", "rust")],
    ids=["cpp_to_rust", "rust_to_cpp", "rust_to_rust"],
)
def test_shm_ring_two_processes(request, producer_lang: str, consumer_lang: str, start: str):
    tools = {}
    for lang in {producer_lang, consumer_lang}:
        tools[lang] = request.getfixturevalue("cpp_shm_tool" if lang == "cpp" else "rust_shm_tool")
    name = _shm_name(f"{producer_lang}2{consumer_lang}")
    argv_tail = [name, str(ITEMS), str(CAPACITY)]
    producer_cmd = [str(tools[producer_lang]), "produce", *argv_tail]
    consumer_cmd = [str(tools[consumer_lang]), "consume", *argv_tail]
    popen = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs: list[subprocess.Popen] = []
    try:
        if start == "consumer_first":
            consumer = subprocess.Popen(consumer_cmd, **popen)
            procs.append(consumer)
            producer = subprocess.Popen(producer_cmd, **popen)
            procs.append(producer)
        else:
            producer = subprocess.Popen(producer_cmd, **popen)
            procs.append(producer)
            consumer = subprocess.Popen(consumer_cmd, **popen)
            procs.append(consumer)
        c_out, c_err = consumer.communicate(timeout=RUN_TIMEOUT)
        p_out, p_err = producer.communicate(timeout=RUN_TIMEOUT)
    finally:
        for proc in procs:
            _stop(proc)
        _remove_shm(name)

    detail = (
        f"\nproducer ({producer_lang}) rc={producer.returncode}\n{p_out}{p_err}"
        f"\nconsumer ({consumer_lang}) rc={consumer.returncode}\n{c_out}{c_err}"
    )
    assert consumer.returncode == 0, "consumer failed" + detail
    assert producer.returncode == 0, "producer failed" + detail
    assert f"ok {ITEMS}" in c_out.split("\n"), "consumer did not report success" + detail
    assert not (SHM_DIR / name).exists()


def test_rust_shm_tool_reports_header_mismatch(rust_shm_tool):
    """A consumer expecting another capacity fails with a message naming the field."""
    name = _shm_name("mismatch")
    producer = subprocess.Popen(
        [str(rust_shm_tool), "produce", name, "10", "64"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The consumer retries attaching until the producer has published the ring.
        ok = _run([str(rust_shm_tool), "consume", name, "10", "64"], REPO, timeout=RUN_TIMEOUT)
        _assert_ok(ok, "shm_tool consume with matching capacity")
        assert "ok 10" in ok.stdout.split("\n")
        producer.communicate(timeout=RUN_TIMEOUT)
        assert producer.returncode == 0

        keeper = subprocess.Popen(
            [str(rust_shm_tool), "produce", name, "1", "64"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Attach retries until the header is published, then must fail on the capacity.
            bad = _run([str(rust_shm_tool), "consume", name, "1", "128"], REPO, timeout=RUN_TIMEOUT)
            assert bad.returncode == 1, (bad.stdout, bad.stderr)
            assert "capacity expected 128" in bad.stdout and "found 64" in bad.stdout, bad.stdout
            # Drain it so the producer exits cleanly.
            _assert_ok(_run([str(rust_shm_tool), "consume", name, "1", "64"], REPO, timeout=RUN_TIMEOUT), "drain")
            keeper.communicate(timeout=RUN_TIMEOUT)
            assert keeper.returncode == 0
        finally:
            _stop(keeper)
    finally:
        _stop(producer)
        _remove_shm(name)


def test_rust_shm_tool_usage_errors(rust_shm_tool):
    for argv in ([], ["produce", "x"], ["consume", "x", "abc"], ["frobnicate", "x", "1"]):
        proc = _run([str(rust_shm_tool), *argv], REPO, timeout=60)
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert "usage" in proc.stderr
