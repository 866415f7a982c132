"""Run a built `<pkg>_venue`: pass the options on, print where it listens, forward signals, read its summary."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hftc.venue.errors import VenueError

START_TIMEOUT_S = 30


@dataclass
class VenueRun:
    exe: Path
    tape: Path
    md: str
    orders: str
    speed: str
    summary: Path | None
    latency_ns: int
    latency_samples: list[int] | None
    queue: str
    maker_fee_bps: float
    taker_fee_bps: float
    credentials_env: str | None
    credentials_file: Path | None
    keep_orders: bool
    start_delay_ms: int
    snapshot_interval_ms: int = 0
    lockstep: bool = False

    def command(self, summary: Path, samples: Path | None) -> list[str]:
        cmd = [str(self.exe), "--tape", str(self.tape), "--md", self.md, "--orders", self.orders,
               "--speed", self.speed, "--summary", str(summary), "--queue", self.queue,
               "--maker-fee-bps", repr(self.maker_fee_bps), "--taker-fee-bps", repr(self.taker_fee_bps),
               "--start-delay-ms", str(self.start_delay_ms)]
        cmd += ["--latency-samples", str(samples)] if samples is not None else ["--latency-ns", str(self.latency_ns)]
        if self.credentials_env is not None:
            cmd += ["--credentials-env", self.credentials_env]
        if self.credentials_file is not None:
            cmd += ["--credentials-file", str(self.credentials_file)]
        if self.keep_orders:
            cmd.append("--keep-orders-on-disconnect")
        if self.snapshot_interval_ms > 0:
            cmd += ["--snapshot-interval-ms", str(self.snapshot_interval_ms)]
        if self.lockstep:
            cmd.append("--lockstep")
        return cmd

    def run(self, say: Callable[[str], None]) -> tuple[int, dict | None]:
        """Runs the venue to its end; returns its exit code and its summary (None when it wrote none)."""
        with tempfile.TemporaryDirectory(prefix="hftc-venue-") as tmp:
            summary = self.summary if self.summary is not None else Path(tmp) / "summary.json"
            samples = None
            if self.latency_samples is not None:
                samples = Path(tmp) / "latency.txt"
                samples.write_text("".join(f"{s}\n" for s in self.latency_samples), encoding="utf-8")
            proc = subprocess.Popen(self.command(summary, samples), stdout=subprocess.PIPE, text=True)
            forwarded = []

            def forward(signum, _frame) -> None:
                forwarded.append(signum)
                proc.send_signal(signum)

            old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                assert proc.stdout is not None
                first = proc.stdout.readline()  # `md=udp://... orders=tcp://...` once listening
                if not first.startswith("md="):
                    proc.wait(timeout=START_TIMEOUT_S)
                    raise VenueError("HFT1505", f"the venue did not start (exit code {proc.returncode})",
                                     help="its error is printed above")
                for part in first.split():
                    print(part, flush=True)  # md=udp://..., orders=tcp://...
                say(f"replaying {self.tape.name} at speed {self.speed}; Ctrl-C ends it")
                for line in proc.stdout:  # the closing counters
                    say(line.strip())
                code = proc.wait()
            finally:
                for s, handler in old.items():
                    signal.signal(s, handler)
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            report = None
            if summary.is_file():
                report = json.loads(summary.read_text(encoding="utf-8"))
                if self.summary is not None:
                    say(f"wrote {self.summary}")
            if code != 0 and not forwarded:
                print(f"venue exited with code {code}", file=sys.stderr)
            return code, report
