"""How far a free-running paper-trading run drifts from the backtest of the same pipeline on the same tape.

    python benchmarks/free_running_vs_backtest.py [--runs 3] [--events 3000] [--speeds 1,10,100]

In lockstep (`hftc venue --lockstep`, `<pkg>_engine --lockstep`) the engine sends exactly the
requests of `hftc backtest --pipeline` (tests/test_lockstep_parity.py asserts it). Free-running, the
venue replays at its own pace and the engine answers when it can: market data and reports race, the
engine's clock is its own, and a request meets the book a little later (or earlier) in tape time than
in the backtest. This script measures that difference, it does not judge it: per replay speed, the
requests of each run beside the backtest's (the fx example's pipeline, a seeded random EURUSD tape of
tests/test_lockstep_parity.py, 1 ms latency each way): how many, how long a prefix is identical,
difflib's similarity of the two request sequences, fills and PnL, and the engine's market-data gaps
(a lost packet stops quoting until the next snapshot; this tape has one, at its start) and rejects.
Medians over `--runs`; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_lockstep_parity import random_tape  # noqa: E402 (the tape of the parity test)

EXAMPLE = REPO / "examples" / "fx_market_maker.hftc.yaml"
SECRET = "free-running-bench-secret"


def build() -> tuple[Path, Path]:
    from hftc.frontend import compile_file
    from hftc.venue.build import build_engine, build_venue

    result = compile_file(str(EXAMPLE))
    say = lambda m: print(f"· {m}", file=sys.stderr)  # noqa: E731
    return build_engine(result.ir, say), build_venue(result.ir, say)


def backtest(engine: Path, tape: Path, out: Path) -> tuple[list[str], dict]:
    subprocess.run([str(engine), "--replay", str(tape), "--backtest", "--no-pin", "--latency-ns", "1000000",
                    "--orders-log", str(out / "bt.log"), "--venue-summary", str(out / "bt.json")],
                   check=True, capture_output=True, timeout=600)
    return (out / "bt.log").read_text().splitlines(), json.loads((out / "bt.json").read_text())


def free_run(engine: Path, venue: Path, tape: Path, out: Path, speed: str) -> tuple[list[str], dict, dict]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "FX_MM_API_KEY": SECRET}
    v = subprocess.Popen([str(venue), "--tape", str(tape), "--md", f"udp://127.0.0.1:{port}", "--orders",
                          "tcp://127.0.0.1:0", "--speed", speed, "--start-delay-ms", "1000", "--latency-ns",
                          "1000000", "--credentials-env", "FX_MM_API_KEY", "--summary", str(out / "v.json")],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    orders = v.stdout.readline().split("orders=")[1].strip()
    e = subprocess.Popen([str(engine), "--md", f"udp://127.0.0.1:{port}", "--venue", orders, "--inline", "--no-pin",
                          "--orders-log", str(out / "fr.log"), "--summary", str(out / "e.json")],
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    try:
        v.wait(timeout=3600)
    finally:
        e.terminate()
        e.wait(timeout=60)
        if v.poll() is None:
            v.kill()
    return ((out / "fr.log").read_text().splitlines(), json.loads((out / "v.json").read_text()),
            json.loads((out / "e.json").read_text()))


def compare(bt: list[str], run: list[str]) -> dict:
    prefix = next((i for i, (a, b) in enumerate(zip(bt, run)) if a != b), min(len(bt), len(run)))
    return {"requests": len(run), "identical_prefix": prefix,
            "similarity": difflib.SequenceMatcher(None, bt, run, autojunk=False).ratio()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--speeds", default="1,10,100")
    args = ap.parse_args()
    engine, venue = build()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        tape = out / "t.hftt"
        random_tape(tape, args.events, args.seed)
        bt_log, bt = backtest(engine, tape, out)
        (bt_session,) = bt["sessions"]
        result = {"backtest": {"requests": len(bt_log), "fills": bt["fills"], "pnl": bt_session["pnl"]}, "speeds": {}}
        print(f"backtest: {len(bt_log)} requests, {bt['fills']} fills, PnL {bt_session['pnl']:.2f}")
        print(f"{'speed':>6} {'requests':>9} {'same prefix':>12} {'similarity':>11} {'fills':>6} {'PnL':>9} "
              f"{'md gaps':>8} {'rejects':>8}")
        for speed in args.speeds.split(","):
            rows = []
            for _ in range(args.runs):
                log, summary, eng = free_run(engine, venue, tape, out, speed)
                (session,) = summary["sessions"] or [{"pnl": 0.0}]
                rows.append({**compare(bt_log, log), "fills": summary["fills"], "pnl": session["pnl"],
                             "md_gaps": eng["gaps"], "risk_rejects": eng["rejected"]})
            med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            result["speeds"][speed] = med
            print(f"{speed:>6} {med['requests']:>9.0f} {med['identical_prefix']:>12.0f} {med['similarity']:>11.3f} "
                  f"{med['fills']:>6.0f} {med['pnl']:>9.2f} {med['md_gaps']:>8.0f} {med['risk_rejects']:>8.0f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
