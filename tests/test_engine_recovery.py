"""Crash recovery: the engine killed with SIGKILL mid-session and started again on the same audit
journal rebuilds its position and open orders from the journal, the venue's reconcile at logon
confirms the orders (none unknown to it), the fills the venue made while it was down reach it at
logon, and its final position is exactly the venue's. `hftc audit --reconcile` of the journal
(both runs) agrees.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from hftc.data.tape import DEPTH, END, SIDE_ASK, TRADE
from test_engine_md import EXAMPLE, PKG, _build
from test_engine_vs_venue import _free_udp_port, snapshot_rows, write_eurusd_tape
from test_venue import MID, SECRET, T0, _tools_missing, finish, start_venue

pytestmark = pytest.mark.skipif(_tools_missing() is not None, reason=_tools_missing() or "")


def trades_tape(path: Path, seconds: float, every: float, first: float) -> None:
    """A steady book (one snapshot, at the start) and a seller through every bid the strategy
    quotes each `every` s from `first`."""
    rows = snapshot_rows(T0)
    t, next_trade = T0, T0 + int(first * 1e9)
    while t < T0 + int(seconds * 1e9):
        t += 50_000_000
        if t >= next_trade:
            rows.append((t, TRADE, END | SIDE_ASK, MID - 6, 5))
            next_trade += int(every * 1e9)
        else:
            rows.append((t, DEPTH, END | SIDE_ASK, MID + 5, 14))
    write_eurusd_tape(path, rows)


def _metric(port: int, name: str, kind: str) -> float:
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/metrics"), timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + "{") and f'kind="{kind}"' in line:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def _start(engine: Path, md: str, orders_port: int, journal: Path, summary: Path, *extra: str) -> tuple:
    cmd = [str(engine), "--md", md, "--venue", f"tcp://127.0.0.1:{orders_port}", "--journal", str(journal),
           "--summary", str(summary), "--metrics-port", "0", "--inline", "--no-pin", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "FX_MM_API_KEY": SECRET})
    port = None
    for _ in range(5):
        line = proc.stdout.readline()
        if line.startswith("port="):
            port = int(line.split("=")[1])
            break
    assert port, "the engine did not print its metrics port"
    return proc, port


@pytest.mark.parametrize("sanitize", [False, True], ids=["release", "asan-ubsan"])
def test_sigkill_and_restart_recover_the_exact_position(tmp_path_factory, tmp_path: Path, sanitize: bool) -> None:
    engine = _build(EXAMPLE, PKG, tmp_path_factory, sanitize=sanitize).engine
    tape = tmp_path / "eurusd.hftt"
    trades_tape(tape, seconds=16.0, every=1.5, first=1.5)
    md = f"udp://127.0.0.1:{_free_udp_port()}"
    # The venue keeps a session's orders when its connection drops (they may trade meanwhile), and
    # publishes its book every second, so the restarted engine (which missed the tape's snapshot)
    # gets one.
    venue = start_venue(tape, tmp_path, "--md", md, "--orders", "tcp://127.0.0.1:0", "--start-delay-ms", "1500",
                        "--keep-orders-on-disconnect", "--snapshot-interval-ms", "1000")
    (tmp_path / "journal").mkdir()
    journal = tmp_path / "journal" / "engine"
    # The example stops quoting at 1 lot of inventory; here it goes on (its skewed quotes meet the
    # risk gate's price collar instead).
    params = tmp_path / "params.yaml"
    params.write_text("strategies:\n  mm:\n    params: {inventory_limit: 10000}\n")
    first = second = None
    try:
        first, port = _start(engine, md, venue.orders_port, journal, tmp_path / "first.json", "--params", str(params))
        # Trade until a fill, then wait for a quiet moment (no report or request for 0.4 s, so the
        # journal's writer has everything: a report lost in flight is not what this test is about).
        deadline = time.monotonic() + 30
        while _metric(port, "hftc_exec_reports_total", "fill") < 1:
            assert time.monotonic() < deadline, "no fill before the deadline"
            time.sleep(0.05)
        last, quiet_since = None, time.monotonic()
        while time.monotonic() - quiet_since < 0.4:
            assert time.monotonic() < deadline, "the engine never went quiet"
            now = tuple(_metric(port, m, k) for m, k in (("hftc_exec_reports_total", "fill"),
                                                         ("hftc_exec_reports_total", "new"),
                                                         ("hftc_orders_sent_total", "new"),
                                                         ("hftc_orders_sent_total", "replace")))
            if now != last:
                last, quiet_since = now, time.monotonic()
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        time.sleep(1.6)  # the tape trades through the kept bid while the engine is down
        second, _port = _start(engine, md, venue.orders_port, journal, tmp_path / "second.json",
                               "--params", str(params), "--duration-s", "4")
        _out, err = second.communicate(timeout=60)
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    v = finish(venue, timeout=60)
    assert second.returncode == 0, err
    assert "recovered from the journal" in err, err
    second_summary = json.loads((tmp_path / "second.json").read_text())
    oe = second_summary["order_entry"]
    # It joined after the tape's snapshot: the venue's snapshot channel gave it a book to quote on.
    assert v["snapshots"] >= 5 and second_summary["quotes"] > 0, (v["snapshots"], err)
    rec = oe["recovered"]
    assert rec["fills"] >= 1 and rec["requests"] >= 2 and rec["unplaced"] == 0
    assert rec["open_orders"] >= 1, "orders rested when the engine was killed"
    # The venue's reconcile knew nothing the journal did not: no order of ours unknown to the engine.
    assert oe["reconcile_open"] >= 1 and oe["reconcile_foreign"] == 0 and oe["foreign_canceled"] == 0
    # One account, two logons; the exact position (fills before, during and after the outage).
    assert len(v["sessions"]) == 1 and v["sessions"][0]["connections"] == 2
    assert oe["position"]["EURUSD"] == v["sessions"][0]["position_lots"]["EURUSD"]
    assert oe["position"]["EURUSD"] > 0
    # The fills the venue made while the engine was down arrived at its logon.
    assert oe["exec_reports"]["fill"] >= 1
    # No duplicate order: the second run manages the recovered orders as its own. At this
    # inventory the strategy's skewed quotes fail the price collar (journaled risk decisions), so
    # it wants nothing: it sends no new order and cancels the recovered one the venue still held.
    assert oe["sent"]["new"] == 0 and oe["sent"]["cancel"] >= 1
    assert v["open_orders"] == 0
    # The journal of both runs reconciles: the journaled position is the execution reports' sum.
    audit = subprocess.run([sys.executable, "-m", "hftc", "audit", str(tmp_path / "journal"), "--schema", str(EXAMPLE),
                            "--reconcile", "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    rep = json.loads(audit.stdout)
    assert rep["session_events"].get("recovered") == 1
    assert rep["fills"] == v["fills"] and rep["records_lost"] == 0
    (rec_pos,) = rep["reconciliation"]
    assert rec_pos["ok"] and rec_pos["journaled"] is not None, rec_pos  # the engine journaled its position
    assert rep["risk_accepted"] >= 2 and rep["risk_rejects_by_reason"].get("price_band", 0) >= 1
