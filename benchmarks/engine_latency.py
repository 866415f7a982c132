"""Where the running engine's tick-to-order latency goes: the engine's own metrics, by run mode.

    python benchmarks/engine_latency.py [--seconds 5] [--runs 3] [--rate-hz 20000]

The figure a person sees for the running engine (`hftc monitor`, Grafana) is PromQL's
histogram_quantile over the engine's hftc_tick_to_order_latency_ns buckets (10, 20, 50, ... ns: three
a decade). This harness runs the fx_market_maker example's engine on its synthetic market in
each mode below, interleaved `--runs` times, scrapes /metrics after `--seconds`, and prints per mode
the medians over runs of: the monitor's p50 and p99 (interpolated inside those buckets, as the
monitor does), the share of orders under 500 ns and under 1 us (exact bucket counts), and the
stages' own p50 (feed decode, strategy, gateway encode).

Modes:
  threaded   the schema's thread split (feed | book + strategy + risk + gateway), unpinned: what
             `hftc deploy` runs, here on a shared two-core machine
  inline     every stage on the feed's thread (--inline)
  inline_hot --inline with the synthetic market at ten times `--rate-hz` (warmer caches)

The generated pipeline alone, without the engine's metrics, order entry and synthetic market, is
`hftc bench --only bench_pipeline` (bench_pipeline, from the same schema): compare the two.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hftc.monitor.exposition import parse
from hftc.monitor.stats import histogram_quantile
from replay_throughput import REPO, build_engine

LATENCY = "hftc_tick_to_order_latency_ns"
STAGES = "hftc_stage_latency_ns"


def modes(rate_hz: float) -> dict[str, list[str]]:
    return {"threaded": ["--threads", "split", "--no-pin", "--rate-hz", str(rate_hz)],
            "inline": ["--inline", "--no-pin", "--rate-hz", str(rate_hz)],
            "inline_hot": ["--inline", "--no-pin", "--rate-hz", str(rate_hz * 10)]}


def buckets(families: dict, name: str, stage: str | None = None) -> list[tuple[float, float]]:
    fam = families.get(name)
    out = []
    for s in fam.samples if fam else []:
        if s.name == f"{name}_bucket" and (stage is None or s.label("stage") == stage):
            out.append((float("inf") if s.label("le") == "+Inf" else float(s.label("le")), s.value))
    return sorted(out)


def share_under(b: list[tuple[float, float]], le: float) -> float:
    total = b[-1][1] if b else 0.0
    under = next((c for bound, c in b if bound == le), 0.0)
    return under / total if total else 0.0


def run_once(exe: Path, args: list[str], seconds: float) -> dict:
    proc = subprocess.Popen(["nice", str(exe), "--metrics-port", "0", "--bind", "127.0.0.1", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        port = re.search(r"port=(\d+)", line)
        if not port:
            raise SystemExit(f"the engine printed no metrics port: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(seconds)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/metrics", timeout=5).read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    fam = parse(text)
    lat = buckets(fam, LATENCY)
    stage_names = sorted({s.label("stage") for s in fam[STAGES].samples if s.label("stage")}) if STAGES in fam else []
    return {"orders": lat[-1][1] if lat else 0.0,
            "p50": histogram_quantile(0.5, lat), "p99": histogram_quantile(0.99, lat),
            "under_500ns": share_under(lat, 500.0), "under_1us": share_under(lat, 1000.0),
            **{f"{st}_p50": histogram_quantile(0.5, buckets(fam, STAGES, st)) for st in stage_names}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rate-hz", type=float, default=20000.0)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("HFTC_BUILD_CACHE", REPO / ".build-cache"))
                    / "replay_bench")
    args = ap.parse_args()
    exe = build_engine(args.cache)
    table = modes(args.rate_hz)
    runs: dict[str, list[dict]] = {m: [] for m in table}
    for _ in range(args.runs):  # interleaved: a noisy neighbour hits every mode alike
        for mode, flags in table.items():
            runs[mode].append(run_once(exe, flags, args.seconds))
    keys = [k for k in runs["inline"][0] if k != "orders"]
    print(f"{'mode':<11} {'orders':>8} " + " ".join(f"{k:>14}" for k in keys))
    summary = {}
    for mode, rs in runs.items():
        med = {k: statistics.median(r[k] for r in rs if r.get(k) is not None) for k in ["orders", *keys]}
        summary[mode] = med
        print(f"{mode:<11} {med['orders']:>8.0f} " + " ".join(
            f"{med[k]:>14.2%}" if k.startswith("under") else f"{med[k]:>14.0f}" for k in keys))
    print(json.dumps({"runs": args.runs, "seconds": args.seconds, "rate_hz": args.rate_hz, "medians": summary,
                      "unix_time": int(time.time())}))


if __name__ == "__main__":
    main()
