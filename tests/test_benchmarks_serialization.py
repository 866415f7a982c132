"""benchmarks/serialization: the BookDelta comparison with FlatBuffers and Cap'n Proto builds and agrees.

The CMake project (flatc, capnp compile and hftc build run at build time) is built once per
content hash of its sources, the schema and the hftc compiler, under
$HFTC_BUILD_CACHE/serialization/, and the benchmark is run in its quick mode: this checks
correctness (every codec decodes what it encoded, to the same checksum), not timing.
Needs flatc and capnp (Debian: flatbuffers-compiler libflatbuffers-dev capnproto libcapnp-dev).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "benchmarks" / "serialization"
SCHEMA = REPO / "examples" / "fx_market_maker.hftc.yaml"
COMPILER = REPO / "compiler" / "hftc"
CACHE = Path(os.environ.get("HFTC_BUILD_CACHE", str(REPO / ".build-cache"))) / "serialization"
CODECS = ("hftc", "memcpy", "flatbuffers", "capnp")

_missing = [tool for tool in ("cmake", "flatc", "capnp", "capnpc-c++") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(_missing),
    reason=f"{', '.join(_missing)} not on PATH (apt: flatbuffers-compiler libflatbuffers-dev capnproto libcapnp-dev)",
)


def _source_hash() -> str:
    digest = hashlib.sha256()
    files = [p for p in PROJECT.rglob("*") if p.is_file()]
    files += [p for p in COMPILER.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files.append(SCHEMA)
    for path in sorted(files):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    digest.update(sys.executable.encode())
    return digest.hexdigest()[:16]


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def bench() -> Path:
    """The built bench_serialization, from the cache when its inputs have not changed."""
    build = CACHE / _source_hash()
    binary = build / "bench_serialization"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    # hftc as the interpreter running the tests has it, whatever is on PATH.
    hftc = CACHE / f"hftc-{os.getpid()}"
    hftc.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hftc "$@"\n', encoding="utf-8")
    hftc.chmod(0o755)
    work = CACHE / f"{build.name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        configure = subprocess.run(
            ["cmake", *generator, "-S", str(PROJECT), "-B", str(work), f"-DHFTC={hftc}",
             f"-DHFTC_SCHEMA={SCHEMA}", "-DCMAKE_BUILD_TYPE=Release"],
            capture_output=True, text=True, check=False)
        if configure.returncode != 0 and "Could not find a package configuration file" in configure.stderr:
            pytest.skip("the FlatBuffers or CapnProto CMake package is missing "
                        "(apt: libflatbuffers-dev libcapnp-dev)")
        assert configure.returncode == 0, configure.stdout[-4000:] + configure.stderr[-4000:]
        _run(["cmake", "--build", str(work), "--parallel", "2"], timeout=900)
        # Keep only the newest build; a concurrent run that got there first wins.
        for old in CACHE.iterdir():
            if old.is_dir() and old.name != build.name and ".tmp-" not in old.name:
                shutil.rmtree(old, ignore_errors=True)
        try:
            work.rename(build)
        except OSError:
            if not binary.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        hftc.unlink(missing_ok=True)
    return binary


@pytest.fixture(scope="module")
def report(bench: Path) -> dict:
    proc = _run([str(bench), "--quick"], timeout=300)
    assert "flatbuffers" in proc.stderr  # the human table
    return json.loads(proc.stdout)


def test_reports_all_codecs(report: dict) -> None:
    rows = {row["name"]: row for row in report["results"]}
    for codec in CODECS:
        for op, unit in (("encode", "ns"), ("decode", "ns"), ("size", "bytes")):
            row = rows[f"{codec}.{op}"]
            assert row["unit"] == unit
            assert set(row) >= {"name", "unit", "median", "p99", "target", "baseline"}
            assert row["median"] > 0
            assert row["baseline"] == rows[f"memcpy.{op}"]["median"]


def test_decoded_checksums_agree(report: dict) -> None:
    checksums = report["checksums"]
    assert set(CODECS) <= set(checksums)
    assert set(checksums.values()) == {checksums["expected"]}
    assert report["failures"] == 0


def test_encoded_sizes(report: dict) -> None:
    sizes = {codec: next(r["median"] for r in report["results"] if r["name"] == f"{codec}.size") for codec in CODECS}
    assert sizes["hftc"] == sizes["memcpy"] == 47  # 8-byte header + 39-byte block
    assert sizes["capnp"] == 56  # segment table + root pointer + 5 data words
    assert sizes["flatbuffers"] > 47
