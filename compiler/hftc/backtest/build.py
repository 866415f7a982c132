"""Compile a backtest library once and keep it in a content-addressed cache.

The key is the sha256 of the source, the flags, the compiler's version and the runtime
headers the source includes, so a changed engine or compiler never reuses a stale library.
Builds go to a temporary file in the cache folder and are renamed into place, so concurrent
builders (threads, processes, CI jobs sharing the folder) never see a partial library.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from hftc.fileio import write_atomically
from hftc.backtest.errors import BacktestError

#: exprgen needs IEEE binary64 without FMA contraction and libm's exp/log for bit-identical math.
FLAGS = ("-std=c++20", "-O3", "-march=native", "-shared", "-fPIC", "-ffp-contract=off", "-fno-builtin-exp",
         "-fno-builtin-log", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wl,-z,defs")

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Built:
    library: Path
    source: Path
    key: str
    cached: bool  # True when no compiler ran
    seconds: float


def cache_dir() -> Path:
    """$HFTC_CACHE_DIR, else ~/.cache/hftc/backtest (created on demand)."""
    env = os.environ.get("HFTC_CACHE_DIR")
    path = Path(env) if env else Path.home() / ".cache" / "hftc" / "backtest"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    found = shutil.which(cxx)
    if found is None:
        raise BacktestError("HFT1108", f"C++ compiler `{cxx}` not found",
                            help="install g++ (Debian: `apt-get install g++`) or point $CXX at a C++20 compiler")
    return found


@functools.lru_cache(maxsize=8)
def _compiler_version(cxx: str) -> str:
    proc = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def _headers_digest(include: Path) -> str:
    """Digest of the runtime headers (paths and contents), so an engine change rebuilds."""
    h = hashlib.sha256()
    for path in sorted(include.rglob("*")):
        if path.is_file() and path.suffix in (".hpp", ".h"):
            h.update(str(path.relative_to(include)).encode())
            h.update(b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(source: str, include: Path, cxx: str) -> str:
    h = hashlib.sha256()
    for part in (source, "\0".join(FLAGS), _compiler_version(cxx), _headers_digest(include)):
        h.update(part.encode())
        h.update(b"\0\0")
    return h.hexdigest()



def _formatted(source: str) -> str:
    """The source as clang-format lays it out (the kept .cpp is read by people); as is without it.

    Formatting runs only on a cache miss; the key is taken from the unformatted text, so the
    cache does not depend on the formatter.
    """
    from hftc.driver.format import FormatError, format_text

    try:
        return format_text("clang-format", "backtest_shim.cpp", source)
    except (FormatError, OSError, subprocess.SubprocessError):
        return source


def build_library(source: str, name: str) -> Built:
    """The compiled library of `source` (from the cache when present)."""
    import time

    from hftc.paths import runtime_cpp_dir

    include = runtime_cpp_dir() / "include"
    cxx = compiler()
    key = cache_key(source, include, cxx)
    try:
        folder = cache_dir()
    except OSError as exc:
        raise BacktestError("HFT1117", f"cannot use the backtest cache folder: {exc.strerror or exc}",
                            help="set $HFTC_CACHE_DIR to a writable folder") from None
    library = folder / f"{name}-{key[:32]}.so"
    src = folder / f"{name}-{key[:32]}.cpp"
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if library.exists():
            return Built(library, src, key, True, 0.0)
        write_atomically(src, _formatted(source).encode())
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=library.name + ".", suffix=".tmp")
        os.close(fd)
        start = time.perf_counter()
        try:
            proc = subprocess.run([cxx, *FLAGS, "-I", str(include), "-o", tmp, str(src)], capture_output=True,
                                  text=True, check=False)
            if proc.returncode != 0:
                tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-25:])
                raise BacktestError("HFT1107", f"the backtest library of `{name}` did not compile:\n{tail}",
                                    help=f"the generated source is kept at {src}; this is a bug in hftc or in the "
                                         "C++ runtime, please report it with the schema")
            os.chmod(tmp, 0o755)
            os.replace(tmp, library)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return Built(library, src, key, False, time.perf_counter() - start)
