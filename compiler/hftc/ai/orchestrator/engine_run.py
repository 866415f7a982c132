"""The generated C++ engine under the schema's alert rules, for a bounded time (opt-in: `monitoring.engine`).

The engine runs its pipeline on a synthetic market (it cannot trade against a venue
yet) and exports the runtime metrics; `RealTimeMonitor` scrapes them every interval
and evaluates the alert rules, so rules on latency percentiles and reject rates get
real values. The binary is built once per content hash of its sources, in the
build cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

BUILD_TIMEOUT_S = 900
START_TIMEOUT_S = 20


class EngineRunError(RuntimeError):
    """The engine could not be built or started."""


def missing_tools() -> list[str]:
    return [t for t in ("cmake", "ninja", "g++") if shutil.which(t) is None]


def engine_target(cpp_dir: Path) -> str:
    text = (cpp_dir / "CMakeLists.txt").read_text(encoding="utf-8")
    m = re.search(r"add_executable\((\w+_engine)\s+src/engine_main\.cpp\)", text)
    if m is None:
        raise EngineRunError("the generated C++ has no engine (the schema needs components and a pipeline)")
    return m.group(1)


def build_engine(cpp_dir: Path, progress: Callable[[str], None]) -> Path:
    """The engine binary of the generated tree at `cpp_dir` (built, or taken from the cache)."""
    from hftc.paths import build_cache, runtime_cpp_dir

    runtime = runtime_cpp_dir()
    target = engine_target(cpp_dir)
    digest = hashlib.sha256()
    for root in (cpp_dir, runtime / "include"):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "hftc-manifest.json"):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    home = build_cache() / "engine" / digest.hexdigest()[:16]
    exe = home / "build" / target
    if exe.is_file():
        progress(f"engine {target} from the build cache")
        return exe
    if (home / "src").exists():
        shutil.rmtree(home / "src")
    shutil.copytree(cpp_dir, home / "src")
    progress(f"compiling engine {target} (cmake + ninja, Release)")
    steps = (["cmake", "-G", "Ninja", "-S", str(home / "src"), "-B", str(home / "build"), "-DCMAKE_BUILD_TYPE=Release",
              "-DCMAKE_CXX_COMPILER=g++", f"-DHFTC_RUNTIME_DIR={runtime}", "-DHFTC_BUILD_TESTS=OFF",
              "-DHFTC_BUILD_BENCH=OFF"],
             ["nice", "-n", "10", "ninja", "-j", "2", "-C", str(home / "build"), target])
    for cmd in steps:
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise EngineRunError(f"`{cmd[0]}` did not finish within {BUILD_TIMEOUT_S} s") from None
        if run.returncode != 0:
            raise EngineRunError(f"`{' '.join(cmd[:2])}` failed:\n{(run.stdout + run.stderr)[-3000:]}")
    if not exe.is_file():
        raise EngineRunError(f"the build wrote no {exe.name}")
    return exe


def run_engine(exe: Path, seconds: float, interval_s: float, rules: list, out: Path) -> dict[str, Any]:
    """Run `exe` for `seconds` with its exporter on 127.0.0.1, scraping and evaluating `rules`."""
    from hftc.monitor.realtime import RealTimeMonitor

    proc = subprocess.Popen([str(exe), "--metrics-port", "0", "--bind", "127.0.0.1", "--no-pin",
                             "--duration-s", str(int(seconds) + 5)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = _read_port(proc)
        monitor = RealTimeMonitor(update_interval=interval_s, source=f"http://127.0.0.1:{port}/metrics",
                                  window_seconds=min(10.0, seconds))
        for rule in rules:
            monitor.alert_manager.add_alert_rule(rule)
        asyncio.run(_watch(monitor, seconds))
        asyncio.run(monitor.generate_performance_report(out, title="Engine under the alert rules"))
        last = monitor.latest
        return {"scrapes": len(monitor.snapshots), "seconds": seconds, "errors": monitor.errors[-3:],
                "latency_ns": last.latency_ns if last else {}, "rates": last.rates if last else {},
                "alerts": [s.to_json() for s in monitor.alert_manager.statuses()]}
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _read_port(proc: subprocess.Popen) -> int:
    import selectors

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout=START_TIMEOUT_S):
        raise EngineRunError(f"the engine printed no port within {START_TIMEOUT_S} s")
    line = proc.stdout.readline().strip()
    key, _, value = line.partition("=")
    if key != "port" or not value.isdigit():
        err = proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
        raise EngineRunError(f"the engine did not start: {line!r} {err[-500:]}")
    return int(value)


async def _watch(monitor, seconds: float) -> None:
    task = asyncio.create_task(monitor.start_monitoring())
    await asyncio.sleep(seconds)
    monitor.stop()
    await task
