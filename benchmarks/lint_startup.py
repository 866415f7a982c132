"""How long `hftc lint` of each example takes, from a fresh process to its exit: cold (`--no-cache`
with no lint server: the whole compiler loaded and run), served (`--no-cache`, compiled by a running
lint server, as a lint after an edit is), the first lint of a session (cold, and starting the server)
and warm (answered from the lint cache), with the interpreter's own start-up as the baseline of the
same run.

Prints the median wall and CPU (user + system) time of each. Wall time moves with the machine's
load; CPU time much less. A script, not a test: timings depend on the machine.

    python benchmarks/lint_startup.py [--runs 15] [--hftc PATH] [SCHEMA...]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from process_timing import run_timed

REPO = Path(__file__).resolve().parent.parent


def _measure(command: list[str], runs: int, env: dict, setup=None) -> tuple[float, float, int]:
    """Median wall and CPU (user + system of the child) seconds, and the last exit code; `setup` runs
    untimed ahead of each run."""
    walls, cpus, code = [], [], 0
    for _ in range(runs):
        if setup is not None:
            setup()
        wall, cpu, code = run_timed(command, 300, env=env, cwd=REPO)
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus), code


def _stop_server(hftc: str, env: dict) -> None:
    subprocess.run([hftc, "lint-server", "stop"], capture_output=True, env=env, cwd=REPO, timeout=300, check=False)


def _wait_for_server(hftc: str, schema: str, env: dict) -> None:
    """A lint starts the server; again every few seconds while none answers (one started while the
    previous was still exiting steps aside)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        subprocess.run([hftc, "lint", "--no-cache", schema], capture_output=True, env=env, cwd=REPO, timeout=300,
                       check=False)
        for _ in range(15):
            if subprocess.run([hftc, "lint-server", "status"], capture_output=True, env=env, cwd=REPO, timeout=300,
                              check=False).returncode == 0:
                return
            time.sleep(0.2)
    raise SystemExit("the lint server did not come up in 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schemas", nargs="*", help="schemas to lint (default: every example)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--hftc", default=shutil.which("hftc", path=os.path.dirname(sys.executable)) or "hftc",
                        help="the hftc console script (default: the one beside this Python)")
    args = parser.parse_args()
    schemas = args.schemas or sorted(str(p.relative_to(REPO)) for p in (REPO / "examples").glob("*.yaml"))
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory(prefix="hl", dir="/tmp") as runtime:
        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE", "CI")}
        env["XDG_CACHE_HOME"] = cache  # a private lint cache, empty at the start
        env["XDG_RUNTIME_DIR"] = runtime  # a private lint server, stopped at the end
        off = {**env, "HFTC_LINT_SERVER": "off"}
        on = {**env, "HFTC_LINT_SERVER": "on"}
        python = os.path.join(os.path.dirname(args.hftc), "python")
        python = python if os.path.exists(python) else sys.executable
        # Warm the bytecode caches (of hftc and of the libraries) so no row pays for compiling Python.
        for schema in schemas:
            subprocess.run([args.hftc, "lint", "--no-cache", schema], capture_output=True, env=off, cwd=REPO,
                           timeout=300, check=False)
        rows = [("python -c pass (baseline)", *_measure([python, "-c", "pass"], args.runs, env))]
        try:
            for schema in schemas:
                lint = [args.hftc, "lint", "--no-cache", schema]
                rows.append((f"cold    {schema}", *_measure(lint, args.runs, off)))
                stop = functools.partial(_stop_server, args.hftc, on)
                rows.append((f"first   {schema}", *_measure(lint, args.runs, on, setup=stop)))
                _wait_for_server(args.hftc, schema, on)
                rows.append((f"served  {schema}", *_measure(lint, args.runs, on)))
                subprocess.run([args.hftc, "lint", schema], capture_output=True, env=off, cwd=REPO, timeout=300,
                               check=False)
                rows.append((f"warm    {schema}", *_measure([args.hftc, "lint", schema], args.runs, off)))
        finally:
            _stop_server(args.hftc, on)
    width = max(len(r[0]) for r in rows)
    print(f"hftc lint start to exit, median of {args.runs} runs (load average {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} CPUs)")
    print(f"{'':{width}}  {'wall ms':>8}  {'cpu ms':>8}  exit")
    for name, wall, cpu, code in rows:
        print(f"{name:{width}}  {wall * 1000:8.1f}  {cpu * 1000:8.1f}  {code:4d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
