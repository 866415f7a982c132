"""Loopback wire-to-wire latency of the generated engine, beside a bare UDP -> TCP echo as the floor.

    python benchmarks/wire_to_wire.py [--runs 3] [--events 3000] [--packet-us 1000]

`hftc venue` replays a EURUSD tape as UDP market-data packets, one every `--packet-us`
microseconds, and takes order-entry sessions over TCP. Each packet moves the touch four ticks (the
best ask or bid deleted, then put back), so each one moves the strategy's quotes and makes orders.
A probe (wire_to_wire/probe.cpp) sits between the venue and the program under test: it forwards
the packets to the program's UDP port one at a time (`--packet-us` apart, the next never before
the previous one is answered), relays the TCP session byte for byte, and times each packet's send
to the first bytes the program writes back (a packet that makes no order gives no sample).
Programs under test, run interleaved `--runs` times, all with the same venue, tape and probe:

  echo             wire_to_wire/echo.cpp: busy-polls UDP, writes 64 bytes on TCP per packet (the floor)
  engine_inline    the fx_market_maker example's engine, --md and --venue through the probe, --inline
  engine_threaded  the same, with the schema's thread split (unpinned, --threads split)
  engine_default   the same with the engine's default (--threads auto: the split only when there is a
                   CPU for each pipeline thread and one more; one thread on a 2-core machine)

The probe and echo are compiled by this script (g++ -O2); the engine is built as
benchmarks/replay_throughput.py builds it. The table shows per program the medians over runs of
each run's p50, p90 and p99, and each p50 and p99 over the echo's (same runs): the target is within
1.5x of the floor. The last line is one JSON object. Two cores shared with other work: quote medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, Instrument, write_tape
from replay_throughput import EXAMPLE, REPO, build_engine

HERE = Path(__file__).resolve().parent / "wire_to_wire"
#: The engine's thread modes under test, by program name.
THREADS = {"engine_inline": ["--threads", "inline"], "engine_threaded": ["--threads", "split"], "engine_default": []}
SECRET = "wire-to-wire-bench-secret"
START_DELAY_MS = 2500
MID = 110_000


def flip_tape(path: Path, events: int, spacing_ns: int) -> None:
    """A snapshot (bids MID-5 and MID-13, asks MID+5 and MID+13), then `events` depth updates
    `spacing_ns` apart, cycling: ask MID+5 deleted, put back, bid MID-5 deleted, put back. Each
    moves the mid by four ticks; the touch is wide enough that the strategy's quotes (a few ticks
    around the mid) never cross it, so no fill ever changes what the engine does."""
    t0 = 1_000_000_000
    rows = [(t0, CLEAR, SNAPSHOT, 0, 0), (t0, CLEAR, SNAPSHOT | SIDE_ASK, 0, 0),
            (t0, DEPTH, SNAPSHOT, MID - 5, 10), (t0, DEPTH, SNAPSHOT, MID - 13, 10),
            (t0, DEPTH, SNAPSHOT | SIDE_ASK, MID + 5, 10), (t0, DEPTH, SNAPSHOT | SIDE_ASK | END, MID + 13, 10)]
    cycle = [(END | SIDE_ASK, MID + 5, 0), (END | SIDE_ASK, MID + 5, 10), (END, MID - 5, 0), (END, MID - 5, 10)]
    for i in range(events):
        flags, px, qty = cycle[i % 4]
        rows.append((t0 + (i + 1) * spacing_ns, DEPTH, flags, px, qty))
    a = np.array(rows, dtype=np.int64)
    write_tape(path, [Instrument("EURUSD", 0.00001, 1000.0, 1.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0] - 500, "px": a[:, 3], "qty": a[:, 4],
                "instrument": np.zeros(len(a), np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)}, {"synthetic": True})


def compile_native(cache: Path) -> dict[str, Path]:
    """probe and echo, rebuilt when their source changes."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in ("probe", "echo"):
        src = HERE / f"{name}.cpp"
        exe = cache / f"w2w_{name}"
        if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["g++", "-std=c++20", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror", str(src),
                            "-o", str(exe)], check=True, capture_output=True, text=True)
        out[name] = exe
    return out


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_venue(tape: Path, md_port: int) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "-m", "hftc", "venue", str(EXAMPLE), "--data", str(tape), "--md",
           f"udp://127.0.0.1:{md_port}", "--orders", "tcp://127.0.0.1:0",
           "--start-delay-ms", str(START_DELAY_MS), "--credentials-env", "W2W_VENUE_KEY", "--latency-ns", "0",
           "--fee-profile", "none"]
    proc = subprocess.Popen(["nice", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "W2W_VENUE_KEY": SECRET})
    urls = {}
    deadline = time.monotonic() + 900  # a cold build compiles the venue first
    while len(urls) < 2:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"hftc venue did not start: {proc.stderr.read() if proc.stderr else ''}")
        for part in line.split():
            key, _, url = part.partition("=")
            urls[key] = url
    return proc, int(urls["orders"].rsplit(":", 1)[1])


def run_once(program: str, exes: dict[str, Path], engine: Path, tape: Path, packet_us: float, seconds: float) -> dict:
    probe_udp, target_md, probe_tcp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), \
        free_port(socket.SOCK_STREAM)
    venue, orders_port = start_venue(tape, probe_udp)
    total = START_DELAY_MS / 1000 + 1.5 * seconds + 1.0
    upstream = orders_port if program != "echo" else 0
    target: subprocess.Popen | None = None
    probe = subprocess.Popen([str(exes["probe"]), str(probe_udp), str(target_md), str(probe_tcp), str(upstream),
                              str(total), repr(packet_us)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if (probe.stdout.readline() if probe.stdout else "").strip() != "ready":
            raise SystemExit(f"the probe did not start: {probe.stderr.read() if probe.stderr else ''}")
        if program == "echo":
            cmd = [str(exes["echo"]), str(target_md), str(probe_tcp), str(total)]
        else:
            cmd = [str(engine), "--md", f"udp://127.0.0.1:{target_md}", "--venue", f"tcp://127.0.0.1:{probe_tcp}",
                   "--no-pin", "--duration-s", str(total), *THREADS[program]]
        target = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "FX_MM_API_KEY": SECRET})
        out, err = probe.communicate(timeout=total + 60)
        target.wait(timeout=60)
    finally:
        for proc in (probe, venue):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        if target is not None and target.poll() is None:
            target.kill()
            target.wait()
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if probe.returncode != 0 or not lines:
        raise SystemExit(f"probe failed ({probe.returncode}): {err}")
    result = json.loads(lines[-1])
    if result["samples"] == 0:
        raise SystemExit(f"{program}: no sample ({result}); its stderr: {target.stderr.read() if target and target.stderr else ''}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--packet-us", type=float, default=1500.0, help="time between market-data packets")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("HFTC_BUILD_CACHE", REPO / ".build-cache")))
    args = ap.parse_args()
    if shutil.which("g++") is None:
        raise SystemExit("g++ is needed to compile the probe and the echo program")
    engine = build_engine(args.cache / "replay_bench")
    exes = compile_native(args.cache / "wire_to_wire")
    programs = ("echo", *THREADS)
    runs: dict[str, list[dict]] = {p: [] for p in programs}
    with tempfile.TemporaryDirectory(prefix="w2w_") as tmp:
        tape = Path(tmp) / "eurusd.hftt"
        flip_tape(tape, args.events, int(args.packet_us * 1000))
        seconds = args.events * args.packet_us / 1e6
        for _ in range(args.runs):  # interleaved: a noisy neighbour hits every program alike
            for program in programs:
                runs[program].append(run_once(program, exes, engine, tape, args.packet_us, seconds))
    med = {p: {k: statistics.median(r[k] for r in rs) for k in ("samples", "p50_ns", "p90_ns", "p99_ns")}
           for p, rs in runs.items()}
    floor = med["echo"]
    print(f"{'program':<16} {'samples':>8} {'p50 us':>8} {'p90 us':>8} {'p99 us':>8} {'p50/floor':>10} {'p99/floor':>10}")
    for p, m in med.items():
        print(f"{p:<16} {m['samples']:>8.0f} {m['p50_ns'] / 1e3:>8.1f} {m['p90_ns'] / 1e3:>8.1f} "
              f"{m['p99_ns'] / 1e3:>8.1f} {m['p50_ns'] / floor['p50_ns']:>9.2f}x {m['p99_ns'] / floor['p99_ns']:>9.2f}x")
    print(json.dumps({"runs": args.runs, "events": args.events, "packet_us": args.packet_us, "medians": med,
                      "per_run": runs, "unix_time": int(time.time())}))


if __name__ == "__main__":
    main()
