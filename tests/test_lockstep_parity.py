"""One pipeline for backtest and live: the generated engine trading against `hftc venue --lockstep` over
loopback sockets sends exactly the requests (kind, side, price, quantity, in order) of its own in-process
backtest (`<pkg>_engine --replay TAPE --backtest`, what `hftc backtest --pipeline` runs) on the same tape
with the same latency, queue and fee settings, and both venues end with the same fills, position and PnL.

The tape is a seeded random EURUSD book (a two-sided touch that steps, sizes that change, trades through
up to five levels), so the strategy quotes, replaces, fills, and is refused now and then.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, Instrument, write_tape
from test_engine_md import EXAMPLE, PKG, SANITIZER_ENV, _build
from test_engine_vs_venue import _free_udp_port
from test_venue import _tools_missing

pytestmark = pytest.mark.skipif(_tools_missing() is not None, reason=_tools_missing() or "")

PIPELINE = "tick_to_trade"
SECRET = "lockstep-key"
MID = 110_000
T0 = 1_700_000_000_000_000_000


def random_tape(path: Path, events: int, seed: int) -> None:
    """A seeded EURUSD book on the example's grid; exchange time 500 ns ahead of local time."""
    rng = np.random.default_rng(seed)
    rows = [(T0, CLEAR, SNAPSHOT, 0, 0), (T0, CLEAR, SNAPSHOT | SIDE_ASK, 0, 0)]
    rows += [(T0, DEPTH, SNAPSHOT, MID - 1 - k, 10 + k) for k in range(5)]
    rows += [(T0, DEPTH, SNAPSHOT | SIDE_ASK | (END if k == 4 else 0), MID + 1 + k, 10 + k) for k in range(5)]
    t, mid = T0, MID
    for _ in range(events):
        t += int(rng.integers(200_000, 5_000_000))
        r = rng.random()
        if r < 0.1:  # a trade at or through the touch
            ask = rng.random() < 0.5
            px = mid - 1 - int(rng.integers(0, 5)) if ask else mid + 1 + int(rng.integers(0, 5))
            rows.append((t, TRADE, END | (SIDE_ASK if ask else 0), px, int(rng.integers(1, 20))))
        elif r < 0.15:  # the touch steps one tick: one side's best level goes, the other side's comes
            if rng.random() < 0.5:
                rows.append((t, DEPTH, SIDE_ASK, mid + 1, 0))
                mid += 1
                rows.append((t, DEPTH, END, mid - 1, int(rng.integers(5, 30))))
                rows.append((t, DEPTH, SIDE_ASK | END, mid + 5, int(rng.integers(5, 30))))
            else:
                rows.append((t, DEPTH, 0, mid - 1, 0))
                mid -= 1
                rows.append((t, DEPTH, SIDE_ASK | END, mid + 1, int(rng.integers(5, 30))))
                rows.append((t, DEPTH, END, mid - 5, int(rng.integers(5, 30))))
        else:  # a size change inside the book (the touch never empties)
            ask = rng.random() < 0.5
            k = int(rng.integers(0, 5))
            rows.append((t, DEPTH, END | (SIDE_ASK if ask else 0), mid + 1 + k if ask else mid - 1 - k,
                         int(rng.integers(1 if k == 0 else 0, 40))))
    a = np.array(rows, dtype=np.int64)
    write_tape(path, [Instrument("EURUSD", 0.00001, 1000.0, 1.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0] - 500, "px": a[:, 3], "qty": a[:, 4],
                "instrument": np.zeros(len(a), np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)}, {"synthetic": True})


def _programs(tmp_path_factory, sanitize: bool) -> tuple[Path, Path]:
    """The example's engine (the build test_engine_md.py makes) and venue (the one `hftc venue` runs)."""
    from hftc.frontend import compile_file
    from hftc.venue.build import build_venue

    result = compile_file(str(EXAMPLE))
    assert result.ok, result.diagnostics
    return _build(EXAMPLE, PKG, tmp_path_factory, sanitize).engine, build_venue(result.ir, lambda _m: None, sanitize)


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> tuple[Path, Path]:
    return _programs(tmp_path_factory, sanitize=False)


def backtest(engine: Path, tape: Path, out: Path, matching: list[str], env=None) -> tuple[list[str], dict]:
    """The engine's in-process backtest: its requests and its venue's summary."""
    run = subprocess.run([str(engine), "--replay", str(tape), "--backtest", "--no-pin", *matching,
                          "--orders-log", str(out / "bt.log"), "--venue-summary", str(out / "bt.json")],
                         capture_output=True, text=True, timeout=300, check=False, env=env)
    assert run.returncode == 0, run.stderr
    assert "venue backtest:" in run.stderr
    return (out / "bt.log").read_text().splitlines(), json.loads((out / "bt.json").read_text())


def lockstep(engine: Path, venue: Path, tape: Path, out: Path, matching: list[str],
             env: dict | None = None) -> tuple[list[str], dict, dict]:
    """The engine against the venue over loopback, both in lockstep: requests, venue and engine summaries."""
    env = {**(env or os.environ), "FX_MM_API_KEY": SECRET}
    md = f"udp://127.0.0.1:{_free_udp_port()}"
    v = subprocess.Popen([str(venue), "--tape", str(tape), "--md", md, "--orders", "tcp://127.0.0.1:0",
                          "--lockstep", "--credentials-env", "FX_MM_API_KEY", "--summary", str(out / "ls.json"),
                          *matching], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    e = None
    try:
        line = v.stdout.readline()  # `md=udp://... orders=tcp://...` once listening
        orders = line.split("orders=")[1].strip()
        e = subprocess.Popen([str(engine), "--md", md, "--venue", orders, "--lockstep", "--no-pin",
                              "--orders-log", str(out / "ls.log"), "--summary", str(out / "ls-engine.json")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        _, venue_err = v.communicate(timeout=300)
        assert v.returncode == 0, venue_err
        # The venue logged the engine out at the end of the tape; the engine stops on SIGTERM.
        time.sleep(0.2)
        e.terminate()
        _, engine_err = e.communicate(timeout=60)
        assert e.returncode == 0, engine_err
    finally:
        for p in (v, e):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    return ((out / "ls.log").read_text().splitlines(), json.loads((out / "ls.json").read_text()),
            json.loads((out / "ls-engine.json").read_text()))


def _outcome(summary: dict) -> dict:
    """What a venue's summary says of the one session's trading."""
    (session,) = summary["sessions"]
    totals = {k: summary[k] for k in ("orders", "cancels", "replaces", "fills", "rejects")}
    return totals | {k: session[k] for k in ("position_lots", "pnl", "fees", "turnover")}


@pytest.mark.parametrize(("seed", "matching"), [
    (7, ["--latency-ns", "1000000"]),
    (11, ["--queue", "probabilistic", "--latency-ns", "200000", "--maker-fee-bps", "-0.5", "--taker-fee-bps", "2"]),
])
def test_lockstep_engine_sends_exactly_the_backtests_requests(programs, tmp_path: Path, seed: int,
                                                              matching: list[str]) -> None:
    engine, venue = programs
    tape = tmp_path / "t.hftt"
    random_tape(tape, 3000, seed)
    bt_requests, bt = backtest(engine, tape, tmp_path, matching)
    ls_requests, ls, ls_engine = lockstep(engine, venue, tape, tmp_path, matching)
    # A run worth comparing: quotes placed, moved, filled.
    kinds = {line.split()[0] for line in bt_requests}
    assert len(bt_requests) >= 100 and {"new", "replace"} <= kinds, bt_requests[:5]
    assert bt["fills"] >= 50
    assert ls_requests == bt_requests
    assert _outcome(ls) == _outcome(bt)
    # Every packet and report was answered, and the session stayed clean.
    session = ls_engine["order_entry"]["session"]
    assert session["sequence_gaps"] == 0 and session["protocol_errors"] == 0 and session["logons"] == 1
    assert ls["connections"]["protocol_errors"] == 0 and ls_engine["gaps"] == 0


def test_lockstep_and_backtest_under_asan_and_ubsan(tmp_path_factory, tmp_path: Path) -> None:
    engine, venue = _programs(tmp_path_factory, sanitize=True)
    tape = tmp_path / "t.hftt"
    random_tape(tape, 800, 5)
    env = {**os.environ, **SANITIZER_ENV}
    bt_requests, bt = backtest(engine, tape, tmp_path, ["--latency-ns", "500000"], env=env)
    ls_requests, ls, _ = lockstep(engine, venue, tape, tmp_path, ["--latency-ns", "500000"], env=env)
    assert bt_requests and ls_requests == bt_requests
    assert _outcome(ls) == _outcome(bt)


def test_engine_refuses_backtest_and_lockstep_without_their_sources(programs, tmp_path: Path) -> None:
    engine, _ = programs
    for args, why in ((["--backtest"], "give --replay TAPE"),
                      (["--lockstep", "--md", "udp://127.0.0.1:0"], "--lockstep needs --md and --venue"),
                      (["--venue-summary", str(tmp_path / "v.json")], "--venue-summary goes with --backtest"),
                      (["--replay", "t.hftt", "--backtest", "--queue", "fifo"], "--queue is risk_averse or")):
        run = subprocess.run([str(engine), *args], capture_output=True, text=True, timeout=30, check=False)
        assert run.returncode == 2 and why in run.stderr, run.stderr
    assert not (tmp_path / "v.json").exists()


def _hftc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hftc", *args], capture_output=True, text=True, timeout=900,
                          check=False)


def test_hftc_backtest_pipeline_runs_the_generated_engine(programs, tmp_path: Path) -> None:
    engine, _ = programs
    tape = tmp_path / "t.hftt"
    random_tape(tape, 2000, 3)
    run = _hftc("backtest", str(EXAMPLE), "--pipeline", PIPELINE, "--data", str(tape), "--json",
                "--latency-ns", "1000000", "--fee-profile", "none")
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    bt_requests, bt = backtest(engine, tape, tmp_path, ["--latency-ns", "1000000"])
    assert got["requests"] == len(bt_requests) and got["fills"] == bt["fills"] > 0
    assert got["sent"]["new"] + got["sent"]["cancel"] + got["sent"]["replace"] == len(bt_requests)
    (session,) = bt["sessions"]
    assert got["pnl"] == pytest.approx(session["pnl"]) and got["position"] == session["position"]
    assert got["pipeline"] == PIPELINE and got["latency"]["entry_ns"] == 1_000_000


def test_hftc_backtest_without_strategy_runs_the_engines_pipeline(programs, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    random_tape(tape, 500, 9)
    run = _hftc("backtest", str(EXAMPLE), "--data", str(tape), "--fee-profile", "none")
    assert run.returncode == 0, run.stderr
    assert f"pipeline `{PIPELINE}`: the generated engine" in run.stderr
    assert f"Backtest of pipeline {PIPELINE}" in run.stdout and "Requests (new / cancel / replace)" in run.stdout


@pytest.mark.parametrize(("schema", "args", "code", "text"), [
    (EXAMPLE, ["--pipeline", "nope"], "HFT1101", "is not the one the generated engine runs"),
    (EXAMPLE, ["--pipeline", PIPELINE, "--strategy", "mm"], "HFT1109", "not both"),
    (EXAMPLE.with_name("btc_market_maker.hftc.yaml"), [], "HFT1109", "give --strategy NAME: this schema has no"),
    (EXAMPLE, ["--pipeline", PIPELINE, "--capital", "5", "--no-risk"], "HFT1109", "--capital, --no-risk applies to"),
    (EXAMPLE, ["--report", "out"], "HFT1109", "--report applies to --strategy backtests only"),
])
def test_hftc_backtest_pipeline_refuses_bad_use(tmp_path: Path, schema: Path, args: list[str], code: str,
                                                text: str) -> None:
    tape = tmp_path / "t.hftt"
    random_tape(tape, 50, 1)
    run = _hftc("backtest", str(schema), "--data", str(tape), *args)
    assert run.returncode == 1, run.stdout
    assert code in run.stderr and text in run.stderr and "Traceback" not in run.stderr
