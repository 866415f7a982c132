"""Cross-language latency histogram checks (runtime_cpp/FORMATS.md section 2).

Builds the Rust ``hist_tool`` and the C++ ``hft_hist_tool`` and checks that, for
the same seed, both ``gen`` outputs are byte-identical and that each tool's
``dump`` prints exactly the same line for a file written by the other. A small
pure-Python model of the format is the independent oracle: it pins the bytes
and the summary line even when only one runtime is available.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("HFTC_BUILD_CACHE", str(REPO / ".build-cache")))
CARGO_TARGET_DIR = CACHE / "cargo"
CPP_BUILD_DIR = CACHE / "runtime_cpp" / "tools"
CPP_TOOL_SOURCE = REPO / "runtime_cpp" / "tools" / "hft_hist_tool.cpp"

MASK64 = (1 << 64) - 1
MAX_TRACKABLE = (1 << 40) - 1
BUCKETS = 1024 * 29 + 2048
CASES = [(0, 0), (1, 1), (42, 1000), (7, 200_000), (MASK64, 5000)]
DUMP_KEYS = ["count", "min", "max", "p50", "p90", "p99", "p999"]


# --------------------------------------------------------------------------
# Reference model of the format
# --------------------------------------------------------------------------


def splitmix64_values(seed: int, n: int) -> list[int]:
    state = seed
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        out.append((z >> 20) % 5_000_000 + 1)
    return out


def bucket_index(v: int) -> int:
    v = min(v, MAX_TRACKABLE)
    if v < 2048:
        return v
    shift = v.bit_length() - 1 - 10
    return shift * 1024 + (v >> shift)


def bucket_mid(index: int) -> int:
    if index < 2048:
        return index
    shift = index // 1024 - 1
    lo = (index - shift * 1024) << shift
    return lo + ((1 << shift) >> 1)


def model_gen(seed: int, n: int) -> bytes:
    counts: dict[int, int] = {}
    values = splitmix64_values(seed, n)
    for v in values:
        i = bucket_index(v)
        counts[i] = counts.get(i, 0) + 1
    lo = min(values) if values else MASK64
    hi = max(values) if values else 0
    out = bytearray(b"HFTCHIST")
    out += struct.pack("<IIII", 1, 11, 40, 0)
    out += struct.pack("<QQQQ", n, lo, hi, sum(values) & MASK64)
    out += struct.pack("<I", len(counts))
    for i in sorted(counts):
        out += struct.pack("<IQ", i, counts[i])
    return bytes(out)


def model_dump(data: bytes) -> str:
    total, lo, hi, _sum = struct.unpack_from("<QQQQ", data, 24)
    (n,) = struct.unpack_from("<I", data, 56)
    pairs = [struct.unpack_from("<IQ", data, 60 + 12 * k) for k in range(n)]

    def pct(p: float) -> int:
        if total == 0:
            return 0
        target = min(max(math.ceil(p / 100.0 * float(total)), 1), total)
        cumulative = 0
        for index, count in pairs:
            cumulative += count
            if cumulative >= target:
                return min(max(bucket_mid(index), lo), hi)
        return hi

    stats = [total, lo, hi, pct(50.0), pct(90.0), pct(99.0), pct(99.9)]
    return "{" + ",".join(f'"{k}":{v}' for k, v in zip(DUMP_KEYS, stats)) + "}"


# --------------------------------------------------------------------------
# Building the tools
# --------------------------------------------------------------------------


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def rust_tool() -> Path:
    if shutil.which("cargo") is None:
        pytest.skip("cargo not found on PATH")
    env = dict(os.environ, CARGO_TARGET_DIR=str(CARGO_TARGET_DIR))
    r = _run(
        ["cargo", "build", "--release", "--bin", "hist_tool"],
        cwd=REPO / "runtime_rust",
        env=env,
        timeout=900,
    )
    assert r.returncode == 0, f"cargo build failed:\n{r.stdout}\n{r.stderr}"
    tool = CARGO_TARGET_DIR / "release" / "hist_tool"
    assert tool.is_file(), f"{tool} missing after cargo build"
    return tool


@pytest.fixture(scope="module")
def cpp_tool() -> Path:
    if shutil.which("cmake") is None:
        pytest.skip("cmake not found on PATH")
    if not CPP_TOOL_SOURCE.is_file():
        pytest.skip(f"C++ tool source {CPP_TOOL_SOURCE.relative_to(REPO)} not present")
    r = _run(
        [
            "cmake",
            "-S",
            str(REPO / "runtime_cpp"),
            "-B",
            str(CPP_BUILD_DIR),
            "-DHFT_BUILD_TESTS=OFF",
        ],
        timeout=600,
    )
    assert r.returncode == 0, f"cmake configure failed:\n{r.stdout}\n{r.stderr}"
    r = _run(
        ["cmake", "--build", str(CPP_BUILD_DIR), "--target", "hft_hist_tool"],
        timeout=900,
    )
    assert r.returncode == 0, f"cmake build failed:\n{r.stdout}\n{r.stderr}"
    found = sorted(p for p in CPP_BUILD_DIR.rglob("hft_hist_tool") if p.is_file())
    assert found, f"hft_hist_tool not found under {CPP_BUILD_DIR}"
    return found[0]


def gen(tool: Path, seed: int, n: int, out: Path) -> bytes:
    r = _run([str(tool), "gen", str(seed), str(n), str(out)], timeout=120)
    assert r.returncode == 0, f"{tool.name} gen failed: {r.stderr}"
    return out.read_bytes()


def dump(tool: Path, path: Path) -> str:
    r = _run([str(tool), "dump", str(path)], timeout=120)
    assert r.returncode == 0, f"{tool.name} dump failed: {r.stderr}"
    lines = r.stdout.splitlines()
    assert len(lines) == 1, f"expected one line, got {r.stdout!r}"
    return lines[0]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_model_sanity() -> None:
    """The oracle itself: bucket boundaries as FORMATS.md states them."""
    assert bucket_index(2047) == 2047
    assert bucket_index(2048) == 2048
    assert bucket_index(MAX_TRACKABLE) == BUCKETS - 1
    assert bucket_index(MASK64) == BUCKETS - 1
    assert bucket_mid(2048) == 2049


@pytest.mark.parametrize("seed,n", CASES)
def test_rust_matches_format_model(rust_tool: Path, tmp_path: Path, seed: int, n: int) -> None:
    data = gen(rust_tool, seed, n, tmp_path / "r.hist")
    assert data == model_gen(seed, n)
    line = dump(rust_tool, tmp_path / "r.hist")
    assert line == model_dump(data)
    assert list(json.loads(line)) == DUMP_KEYS
    assert " " not in line


@pytest.mark.parametrize("seed,n", CASES)
def test_cpp_and_rust_gen_byte_identical(
    rust_tool: Path, cpp_tool: Path, tmp_path: Path, seed: int, n: int
) -> None:
    rust_bytes = gen(rust_tool, seed, n, tmp_path / "r.hist")
    cpp_bytes = gen(cpp_tool, seed, n, tmp_path / "c.hist")
    assert rust_bytes == cpp_bytes


@pytest.mark.parametrize("seed,n", CASES)
def test_each_dumps_the_others_file_identically(
    rust_tool: Path, cpp_tool: Path, tmp_path: Path, seed: int, n: int
) -> None:
    rust_file = tmp_path / "r.hist"
    cpp_file = tmp_path / "c.hist"
    gen(rust_tool, seed, n, rust_file)
    gen(cpp_tool, seed, n, cpp_file)
    rust_on_cpp = dump(rust_tool, cpp_file)
    cpp_on_rust = dump(cpp_tool, rust_file)
    assert rust_on_cpp == dump(cpp_tool, cpp_file)
    assert cpp_on_rust == dump(rust_tool, rust_file)
    assert rust_on_cpp == cpp_on_rust == model_dump(model_gen(seed, n))


def _corruptions(good: bytes) -> dict[str, bytes]:
    def patch(offset: int, fmt: str, value: int) -> bytes:
        b = bytearray(good)
        struct.pack_into(fmt, b, offset, value)
        return bytes(b)

    return {
        "magic": b"XFTCHIST" + good[8:],
        "version": patch(8, "<I", 2),
        "sub_bits": patch(12, "<I", 10),
        "max_bits": patch(16, "<I", 41),
        "total": patch(24, "<Q", 999),
        "index_range": patch(60 + 12, "<I", BUCKETS),
        "not_ascending": patch(60 + 12, "<I", struct.unpack_from("<I", good, 60)[0]),
        "zero_count": patch(64, "<Q", 0),
        "trailing": good + b"\0",
        "missing": good[:-1],
        "short_header": good[:30],
    }


@pytest.mark.parametrize("which", ["rust", "cpp"])
def test_both_reject_corrupt_files(request, tmp_path: Path, which: str) -> None:
    tool = request.getfixturevalue(f"{which}_tool")
    good = model_gen(3, 50)
    assert struct.unpack_from("<I", good, 56)[0] >= 2
    for name, data in _corruptions(good).items():
        path = tmp_path / f"{name}.hist"
        path.write_bytes(data)
        r = _run([str(tool), "dump", str(path)], timeout=60)
        assert r.returncode != 0, f"{which} accepted corrupt file ({name}): {r.stdout}"
        assert r.stderr.strip(), f"{which} gave no error message for {name}"
