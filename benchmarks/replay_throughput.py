"""Replay throughput of the generated engine: `<pkg>_engine --replay TAPE --speed max --inline`.

    python benchmarks/replay_throughput.py [--events 2000000] [--runs 7] [--perf]

Workload: the fx_market_maker example's engine (feed handler -> book -> expression strategy ->
risk gate -> gateway, all on one thread with --inline), replaying a synthetic EURUSD tape of
`--events` depth updates and trades around a touch, with a 10-level snapshot every 10,000 events.
Every tape event is encoded as the schema's message (md_tick_to_trade.hpp) and decoded by the
generated dispatch(), exactly as the engine does live; metrics are recorded per message.

Measured per run: the engine's own replay-loop time (steady_clock around the loop, `seconds` in its
--summary) giving messages/s, and the child's CPU time (user + sys from wait4, which includes
mapping the tape and start-up) giving messages per CPU-second, which is the steadier figure on a
shared machine. One warm-up run, then `--runs`; the table shows medians and the last line is one
JSON object. With --perf, one more run under `perf record -e cpu-clock` and the top symbols: where
the time goes.

With --journal, this tree's engine also runs with a fresh `--journal` each run (interleaved), and
the journal's cost is the difference of the CPU-time medians per journaled record.
With --baseline-engine EXE (e.g. the engine built from the previous commit), its runs are
interleaved with this tree's and measured alike (the table shows both), and the two engines'
summaries must agree on every count that does not depend on wall time; exit status 1 when they do
not. Excluded: the loop time and rate, and `orders`, `rejected` and `order_entry`: the risk gate's
order-rate limit is in wall time (messages are stamped with the receive clock), so how many of the
strategy's quotes pass it varies from run to run of the same engine; `quotes` (what the strategy
asked for) and every market-data count must be identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "fx_market_maker.hftc.yaml"
PKG = "fx_mm"


def build_engine(cache: Path) -> Path:
    gen = Path(tempfile.mkdtemp(prefix="replay_bench_"))
    subprocess.run([sys.executable, "-m", "hftc", "build", str(EXAMPLE), "-t", "cpp", "-o", str(gen)],
                   check=True, capture_output=True, text=True)
    src = gen / "cpp"
    digest = hashlib.sha256()
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(src)).encode() + b"\0" + path.read_bytes())
    home = cache / digest.hexdigest()[:16]
    exe = home / "build" / f"{PKG}_engine"
    if not exe.is_file():
        if (home / "src").exists():
            shutil.rmtree(home / "src")
        shutil.copytree(src, home / "src")
        subprocess.run(["cmake", "-G", "Ninja", "-S", str(home / "src"), "-B", str(home / "build"),
                        "-DCMAKE_BUILD_TYPE=Release", "-DHFTC_BUILD_TESTS=OFF", "-DHFTC_BUILD_BENCH=OFF"],
                       check=True, capture_output=True, text=True)
        subprocess.run(["nice", "ninja", "-j", "2", "-C", str(home / "build"), f"{PKG}_engine"], check=True,
                       capture_output=True, text=True)
    shutil.rmtree(gen, ignore_errors=True)
    return exe


def synth_tape(path: Path, events: int) -> int:
    """The pipeline benchmarks' synthetic tape (hftc.bench.tape) on the example's EURUSD grid."""
    from hftc.bench.tape import synthetic_tape
    from hftc.data.tape import Instrument

    return synthetic_tape(path, [Instrument("EURUSD", 0.00001, 1000.0, 1.0)], events)


WALL_TIME_FIELDS = ("seconds", "messages_per_s", "orders", "rejected", "order_entry")


def behaviour(summary: dict) -> dict:
    """The summary's counts that do not depend on wall time (see the module docstring)."""
    return {k: v for k, v in summary.items() if k not in WALL_TIME_FIELDS}


def run_once(exe: Path, tape: Path, summary: Path, journal: Path | None = None) -> dict:
    extra = []
    if journal is not None:  # a fresh journal each run: an existing one would be replayed (recovery)
        journal.mkdir(parents=True)
        extra = ["--journal", str(journal / "engine")]
    proc = subprocess.Popen([str(exe), "--replay", str(tape), "--speed", "max", "--inline", "--no-pin",
                             "--summary", str(summary), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"engine failed ({proc.returncode}): {err}")
    s = json.loads(summary.read_text())
    cpu = usage.ru_utime + usage.ru_stime
    # What the engine journaled: a risk decision per quote, its positions.
    records = _journal_records(journal) if journal is not None else 0
    return {"messages": s["messages_decoded"], "seconds": s["seconds"], "msgs_per_s": s["messages_per_s"],
            "cpu_s": cpu, "msgs_per_cpu_s": s["messages_decoded"] / cpu if cpu > 0 else 0.0,
            "orders": s["orders"], "quotes": s["quotes"], "records": records, "behaviour": behaviour(s)}


def _journal_records(folder: Path) -> int:
    from hftc.audit.journal import ReadReport, journal_paths, read_records

    return sum(1 for _ in read_records(journal_paths([folder]), ReadReport()))


def perf_top(exe: Path, tape: Path, folder: Path, lines: int = 12) -> list[str]:
    if shutil.which("perf") is None:
        return ["perf is not installed"]
    data = folder / "perf.data"
    rec = subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", "5000", "-o", str(data), str(exe),
                          "--replay", str(tape), "--speed", "max", "--inline", "--no-pin"],
                         capture_output=True, text=True, check=False)
    if rec.returncode != 0:
        return [f"perf record failed: {rec.stderr.strip()[-300:]}"]
    rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--stdio", "--percent-limit", "0.5"],
                         capture_output=True, text=True, check=False)
    return [ln for ln in rep.stdout.splitlines() if ln.strip() and not ln.startswith("#")][:lines]


def table(label: str, exe: Path, runs: list[dict]) -> dict:
    med = {k: statistics.median(r[k] for r in runs) for k in ("seconds", "msgs_per_s", "msgs_per_cpu_s", "cpu_s")}
    print(f"{label}: engine {exe}")
    print(f"{'run':>4} {'loop s':>8} {'M msgs/s':>9} {'cpu s':>7} {'M msgs/cpu-s':>13} {'orders':>7}")
    for i, r in enumerate(runs):
        print(f"{i:>4} {r['seconds']:>8.3f} {r['msgs_per_s'] / 1e6:>9.2f} {r['cpu_s']:>7.3f} "
              f"{r['msgs_per_cpu_s'] / 1e6:>13.2f} {r['orders']:>7}")
    print(f"{'med':>4} {med['seconds']:>8.3f} {med['msgs_per_s'] / 1e6:>9.2f} {med['cpu_s']:>7.3f} "
          f"{med['msgs_per_cpu_s'] / 1e6:>13.2f}")
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--perf", action="store_true", help="profile one more run with perf record")
    ap.add_argument("--baseline-engine", type=Path, help="another engine build to measure in the same run and "
                    "whose wall-time-independent summary counts must be identical")
    ap.add_argument("--journal", action="store_true", help="also run this tree's engine with --journal, "
                    "interleaved, and report the audit journal's cost per journaled record")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("HFTC_BUILD_CACHE", REPO / ".build-cache"))
                    / "replay_bench")
    args = ap.parse_args()
    exe = build_engine(args.cache)
    engines = {"this tree": exe, **({"baseline": args.baseline_engine} if args.baseline_engine else {}),
               **({"this tree --journal": exe} if args.journal else {})}
    with tempfile.TemporaryDirectory(prefix="replay_bench_") as tmp:
        folder = Path(tmp)
        tape = folder / "bench.hftt"
        rows = synth_tape(tape, args.events)
        runs: dict[str, list[dict]] = {label: [] for label in engines}
        def journal(label: str, run: str) -> Path | None:
            return folder / "journals" / run if label.endswith("--journal") else None

        for label, engine in engines.items():
            run_once(engine, tape, folder / "warm.json", journal(label, f"warm-{len(label)}"))
        for i in range(args.runs):  # interleaved: a noisy neighbour slows both engines alike
            for label, engine in engines.items():
                runs[label].append(run_once(engine, tape, folder / f"run{i}.json", journal(label, f"run{i}")))
        print(f"tape: {rows} events, {runs['this tree'][0]['messages']} messages")
        med = {label: table(label, engines[label], rs) for label, rs in runs.items()}
        profile = perf_top(exe, tape, folder) if args.perf else []
        for line in profile:
            print(line)
        seen = {json.dumps(r["behaviour"], sort_keys=True) for rs in runs.values() for r in rs}
        same = len(seen) == 1
        if len(engines) > 1:
            print("behaviour (summary counts independent of wall time): "
                  + ("identical in every run of both engines" if same else f"DIFFERS: {len(seen)} variants"))
        journal_cost = {}
        if args.journal:
            j = runs["this tree --journal"]
            recs = statistics.median(r["records"] for r in j)
            extra_cpu = med["this tree --journal"]["cpu_s"] - med["this tree"]["cpu_s"]
            journal_cost = {"journal_records": int(recs), "journal_cpu_ns_per_record": round(extra_cpu / recs * 1e9, 1)}
            print(f"journal: {int(recs)} records per run (risk decisions and positions); CPU time with the journal "
                  f"minus without, medians: {extra_cpu * 1e3:.1f} ms, {extra_cpu / recs * 1e9:.1f} ns per record "
                  "(writer thread included)")
        this = med["this tree"]
        print(json.dumps({"events": rows, "messages": runs["this tree"][0]["messages"], "runs": args.runs,
                          "median_msgs_per_s": round(this["msgs_per_s"]),
                          "median_msgs_per_cpu_s": round(this["msgs_per_cpu_s"]),
                          "median_loop_seconds": this["seconds"],
                          **({"baseline_median_msgs_per_s": round(med["baseline"]["msgs_per_s"]),
                              "baseline_median_msgs_per_cpu_s": round(med["baseline"]["msgs_per_cpu_s"]),
                              "identical_behaviour": same} if args.baseline_engine else {}),
                          **journal_cost,
                          "unix_time": int(time.time())}))
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
