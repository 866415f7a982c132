"""How `hftc lint` scales with the schema's size, and how fast it starts.

Runs the real command in fresh processes (start-up, reading, passes, every target's checks and
exit included) on generated schemas of about 0.1, 1 and 10 MB (`big_schema` of
tests/loader_bound_cases.py) and on the shipped example, and prints the median wall and CPU
time of each. A script, not a test: timings depend on the machine and its load.

    python benchmarks/lint_scale.py [--runs 5] [--sizes 0.1,1,10] [--hftc PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from loader_bound_cases import big_schema  # noqa: E402
from process_timing import run_timed  # noqa: E402

MESSAGES_PER_MB = 16_700
MAX_MESSAGES = 60_000  # message ids are uint16: past about 3.6 MB, messages get more fields instead
EXAMPLE = REPO / "examples" / "fx_market_maker.hftc.yaml"


def schema_of_size(size_mb: float) -> str:
    """A valid schema of about `size_mb` MB: big_schema's messages (three fields each) up to
    MAX_MESSAGES, then as many messages with proportionally more fields."""
    messages = max(1, round(size_mb * MESSAGES_PER_MB))
    if messages <= MAX_MESSAGES:
        return big_schema(messages)
    per_message = max(3, round((size_mb * 1e6 / MAX_MESSAGES - 38) / 13))  # ~38 characters a message, ~13 a field
    fields = ", ".join(f"f{j}: {('uint32', 'uint64', 'int64')[j % 3]}" for j in range(per_message))
    out = ["hftc: 1\npackage: bounds\nmessages:"]
    out += [f"  M{i}:\n    id: {i + 1}\n    fields: {{{fields}}}" for i in range(MAX_MESSAGES)]
    return "\n".join(out) + "\n"


def _measure(command: list[str], runs: int, timeout: float) -> tuple[float, float, int]:
    """Median wall and CPU (user + system of the child) seconds, and the last exit code."""
    walls, cpus, code = [], [], 0
    for _ in range(runs):
        wall, cpu, code = run_timed(command, timeout)
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus), code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per case (median reported)")
    parser.add_argument("--sizes", default="0.1,1,10", help="schema sizes in MB, comma-separated")
    parser.add_argument("--hftc", default=shutil.which("hftc") or str(Path(sys.executable).with_name("hftc")),
                        help="the hftc executable to time")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one run may take")
    args = parser.parse_args()
    cases: list[tuple[str, Path]] = [("example", EXAMPLE)]
    with tempfile.TemporaryDirectory(prefix="hftc-lint-scale-") as tmp:
        for size in (float(s) for s in args.sizes.split(",") if s.strip()):
            path = Path(tmp) / f"big_{size:g}mb.hftc.yaml"
            path.write_text(schema_of_size(size))
            cases.append((f"{path.stat().st_size / 1e6:.2f} MB", path))
        print(f"hftc lint, median of {args.runs} runs ({args.hftc})")
        print(f"{'schema':>10}  {'wall':>9}  {'cpu':>9}  exit")
        for name, path in cases:
            wall, cpu, code = _measure([args.hftc, "lint", str(path)], args.runs, args.timeout)
            print(f"{name:>10}  {wall * 1000:7.0f} ms  {cpu * 1000:7.0f} ms  {code}", flush=True)
            if code != 0:
                print(f"error: `hftc lint {path.name}` exited {code}; a generated schema must lint clean",
                      file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
