"""Paper trading end to end on loopback: `hftc venue` publishes a tape as UDP market data and takes the
generated engine's orders over the order-entry session; the engine (`--md udp://... --venue tcp://...`)
quotes the replayed book through its order managers. The two processes' summaries must agree on every
request, fill and the final position, and both sessions must end cleanly (no protocol error, no
sequence gap, nothing left open).

The tape is a stable EURUSD book refreshed every 50 ms, with a seller trading through the engine's bid
at 1.5 s (a trade-through fills a resting order whole under the venue's rules). The venue waits 1.5 s
before it replays; the engine stops after 4 s, a second before the tape ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, Instrument, write_tape
from test_engine_md import EXAMPLE, PKG, _build, _summary
from test_venue import MID, SECRET, T0, _tools_missing, finish, start_venue

pytestmark = pytest.mark.skipif(_tools_missing() is not None, reason=_tools_missing() or "")


def snapshot_rows(t: int) -> list[tuple[int, int, int, int, int]]:
    """A 5-level book around MID as snapshot rows at time t: (local_ts, kind, flags, px, qty)."""
    rows = [(t, CLEAR, SNAPSHOT, 0, 0), (t, CLEAR, SNAPSHOT | SIDE_ASK, 0, 0)]
    rows += [(t, DEPTH, SNAPSHOT, MID - 1 - k, 10 + k) for k in range(5)]
    rows += [(t, DEPTH, SNAPSHOT | SIDE_ASK | (END if k == 4 else 0), MID + 1 + k, 10 + k) for k in range(5)]
    return rows


def write_eurusd_tape(path: Path, rows: list[tuple[int, int, int, int, int]]) -> None:
    """The rows as an EURUSD tape on the example's grid, exchange time 500 ns ahead."""
    a = np.array(rows, dtype=np.int64)
    write_tape(path, [Instrument("EURUSD", 0.00001, 1000.0, 1.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0] - 500, "px": a[:, 3], "qty": a[:, 4],
                "instrument": np.zeros(len(a), np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)}, {"synthetic": True})


def through_tape(path: Path, seconds: float = 4.0, trade_at: float = 1.5) -> None:
    rows = snapshot_rows(T0)
    t, traded = T0, False
    while t < T0 + int(seconds * 1e9):
        t += 50_000_000
        if not traded and t >= T0 + int(trade_at * 1e9):
            rows.append((t, TRADE, END | SIDE_ASK, MID - 6, 5))  # through every bid the strategy quotes
            traded = True
        else:
            rows.append((t, DEPTH, END | SIDE_ASK, MID + 5, 14))
    write_eurusd_tape(path, rows)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_engine_trades_against_hftc_venue(tmp_path_factory, tmp_path: Path) -> None:
    engine = _build(EXAMPLE, PKG, tmp_path_factory).engine
    tape = tmp_path / "eurusd.hftt"
    through_tape(tape)
    md = f"udp://127.0.0.1:{_free_udp_port()}"
    venue = start_venue(tape, tmp_path, "--md", md, "--orders", "tcp://127.0.0.1:0", "--start-delay-ms", "1500")
    summary = tmp_path / "engine.json"
    try:
        # The engine binds the venue's market-data address, logs on during the start delay and stops
        # (cancel, logout) after the trade, before the venue's tape ends.
        run = subprocess.run([str(engine), "--md", md, "--venue", f"tcp://127.0.0.1:{venue.orders_port}",
                              "--inline", "--no-pin", "--duration-s", "4", "--summary", str(summary)],
                             capture_output=True, text=True, timeout=60, check=False,
                             env={**os.environ, "FX_MM_API_KEY": SECRET})
        v = finish(venue)
    finally:
        if venue.proc.poll() is None:
            venue.proc.kill()
            venue.proc.wait()
    assert run.returncode == 0, run.stderr
    assert SECRET not in run.stdout + run.stderr
    e = _summary(summary)
    oe = e["order_entry"]
    assert e["messages_decoded"] > 0 and e["gaps"] == 0
    # Every request the engine sent, the venue received, and the reverse for the reports.
    assert (v["orders"], v["cancels"], v["replaces"]) == (oe["sent"]["new"], oe["sent"]["cancel"],
                                                          oe["sent"]["replace"])
    assert oe["sent"]["new"] >= 2 and oe["sent"]["cancel"] >= 1
    assert v["fills"] == oe["exec_reports"]["fill"] >= 1
    assert v["rejects"] == 0 and oe["exec_reports"]["rejected"] == 0
    (session,) = v["sessions"]
    assert session["position_lots"] == oe["position"] and oe["position"]["EURUSD"] > 0  # bought
    # Clean on both sides: the engine canceled what rested and logged out.
    assert v["open_orders"] == 0 and oe["live_orders"] == 0 and oe["unexpected_reports"] == 0
    assert v["connections"] == {"accepted": 1, "bad_credentials": 0, "protocol_errors": 0, "sequence_gaps": 0,
                                "dead_peers": 0}
    assert oe["session"]["sequence_gaps"] == 0 and oe["session"]["protocol_errors"] == 0
    assert oe["session"]["logons"] == 1 and oe["session"]["disconnects"] == 0
