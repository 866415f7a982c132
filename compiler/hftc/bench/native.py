"""Configure, build and run native benchmark programs, with cached build folders."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class BenchError(Exception):
    """A build or run failed; the message says which command and why."""


@dataclass(frozen=True)
class Result:
    name: str
    unit: str
    median: float | None
    p99: float | None
    target: float | None
    baseline: float | None
    lang: str
    source: str

    def to_json(self) -> dict:
        return {"name": self.name, "unit": self.unit, "median": self.median, "p99": self.p99,
                "target": self.target, "baseline": self.baseline, "lang": self.lang, "source": self.source}


def _run(cmd: list[str], cwd: Path | None = None, timeout: int = 1800) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise BenchError(f"`{' '.join(cmd)}` failed:\n" + "\n".join(tail))
    return proc.stdout


def cmake_build(source: Path, build_dir: Path, targets: list[str], definitions: dict[str, str]) -> Path:
    if shutil.which("cmake") is None:
        raise BenchError("cmake is not installed")
    _forget_other_source(build_dir, source)
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    defs = [f"-D{k}={v}" for k, v in sorted(definitions.items())]
    _run(["cmake", "-S", str(source), "-B", str(build_dir), *generator, "-DCMAKE_BUILD_TYPE=Release", *defs])
    _run(["cmake", "--build", str(build_dir), "--target", *targets, "-j", "2"])
    return build_dir


def _forget_other_source(build_dir: Path, source: Path) -> None:
    """A cached build folder configured for another source folder (hftc reinstalled elsewhere,
    e.g. into another venv) is removed: CMake refuses to reuse it."""
    cache = build_dir / "CMakeCache.txt"
    if not cache.is_file():
        return
    for line in cache.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("CMAKE_HOME_DIRECTORY:"):
            if Path(line.split("=", 1)[1]).resolve() != source.resolve():
                shutil.rmtree(build_dir)
            return


def find_executable(build_dir: Path, name: str) -> Path:
    for candidate in build_dir.rglob(name):
        if candidate.is_file() and candidate.stat().st_mode & 0o111:
            return candidate
    raise BenchError(f"built `{name}` but cannot find it under {build_dir}")


def run_json(cmd: list[str], lang: str, source: str, cwd: Path | None = None) -> list[Result]:
    """Run a program that prints {"results": [...]} and return its results."""
    out = _run(cmd, cwd=cwd)
    start = out.find("{")
    try:
        data = json.loads(out[start:])
    except (ValueError, IndexError) as exc:
        raise BenchError(f"`{' '.join(cmd)}` did not print the results JSON: {exc}") from None
    results = []
    for r in data.get("results", []):
        results.append(Result(r["name"], r.get("unit", ""), r.get("median"), r.get("p99"), r.get("target"),
                              r.get("baseline"), lang, source))
    return results
