"""Timing a command from process start to exit, for the start-up benchmarks.

`subprocess.run(..., timeout=...)` waits by polling with sleeps that grow to 50 ms, which rounds a
sub-second run up to the next poll; this waits in the kernel (`wait4`), so the wall time ends when
the process does, and the CPU time is that process's own (user + system, its children included)."""

from __future__ import annotations

import os
import subprocess
import threading
import time


def run_timed(command: list[str], timeout: float, env: dict | None = None, cwd=None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and exit code of one run; killed after `timeout` seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode
