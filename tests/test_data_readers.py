"""Market-data readers: Binance captures, hftbacktest npz, Tardis CSV, and `hftc data convert`."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pytest

from conftest import SHARED_DATA
from hftc.data import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, DataError, open_tape
from hftc.data.binance import crosscheck_book_ticker
from hftc.data.convert import convert, write
from hftc.data.events import Steps
from hftc.data.hftbacktest import (
    EVENT_DTYPE,
    HBT_BUY_EVENT,
    HBT_DEPTH_BBO_EVENT,
    HBT_DEPTH_CLEAR_EVENT,
    HBT_DEPTH_EVENT,
    HBT_DEPTH_SNAPSHOT_EVENT,
    HBT_EXCH_EVENT,
    HBT_LOCAL_EVENT,
    HBT_SELL_EVENT,
    HBT_TRADE_EVENT,
    load_events,
    write_npz,
)
from hftc.data.tape import COLUMNS

MS = 1_000_000


def _hftc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hftc", *args], capture_output=True, text=True, check=False)


def _hftc_in_process(*args: str):
    """The CLI without a new interpreter (errors must still exit cleanly, not raise)."""
    from typer.testing import CliRunner

    from hftc.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _capture(path, lines: list[tuple[int, dict]]) -> str:
    with gzip.open(path, "wt") as fh:
        for local, msg in lines:
            fh.write(f"{local} {json.dumps(msg)}\n")
    return str(path)


def _diff(sym, first, last, prev, t_ms, bids=(), asks=(), futures=True):
    data = {"e": "depthUpdate", "E": t_ms + 1, "s": sym, "U": first, "u": last, "b": [list(b) for b in bids],
            "a": [list(a) for a in asks]}
    if futures:
        data.update(T=t_ms, pu=prev)
    return {"stream": f"{sym.lower()}@depth@0ms", "data": data}


def _trade(sym, t_ms, px, qty, buyer_maker):
    return {"stream": f"{sym.lower()}@trade", "data": {"e": "trade", "E": t_ms + 1, "T": t_ms, "s": sym, "t": 1,
                                                        "p": px, "q": qty, "X": "MARKET", "m": buyer_maker}}


def _ticker(sym, u, bid, bid_qty, ask, ask_qty):
    return {"stream": f"{sym.lower()}@bookTicker", "data": {"e": "bookTicker", "u": u, "s": sym, "b": bid,
                                                             "B": bid_qty, "a": ask, "A": ask_qty}}


T0 = 1_723_161_255_000           # ms
L0 = 1_723_161_256_000_000_000   # local ns, 1 s after the exchange: a positive feed latency


def _futures_capture(path) -> str:
    """A futures capture: diffs before the snapshot (one stale, one straddling it), the snapshot,
    continuous diffs, trades, a gap (pu does not chain) and bookTickers."""
    return _capture(path, [
        (L0 + 1, _diff("BTCUSDT", 90, 99, 80, T0, bids=[("100.0", "1.000")])),            # u <= 100: dropped
        (L0 + 2, _diff("BTCUSDT", 100, 104, 99, T0 + 1, asks=[("101.5", "0.500")])),       # straddles 101: deferred
        (L0 + 3, {"lastUpdateId": 100, "E": T0 + 3, "T": T0 + 2,
                  "bids": [["100.3", "2.000"], ["100.2", "1.500"]], "asks": [["101.0", "1.000"]]}),
        (L0 + 4, _trade("BTCUSDT", T0 + 3, "101.0", "0.300", False)),                      # buyer lifts the offer
        (L0 + 5, _diff("BTCUSDT", 105, 110, 104, T0 + 4, bids=[("100.3", "0")], asks=[("101.0", "0.700")])),
        (L0 + 6, _ticker("BTCUSDT", 110, "100.2", "1.500", "101.0", "0.700")),
        (L0 + 7, _trade("BTCUSDT", T0 + 5, "100.2", "0.001", True)),                       # seller hits the bid
        (L0 + 8, _diff("BTCUSDT", 120, 130, 115, T0 + 6, bids=[("100.1", "3.000")])),      # pu 115 != 110: gap
        (L0 + 9, _diff("BTCUSDT", 131, 140, 130, T0 + 7, asks=[("101.2", "0.100")])),
        (L0 + 10, _ticker("BTCUSDT", 140, "100.1", "3.000", "101.2", "0.100")),
    ])


def _rows(conv, instrument=0):
    sel = conv.columns["instrument"] == instrument
    return [tuple(int(conv.columns[c][i]) for c in ("local_ts", "exch_ts", "px", "qty", "kind", "flags"))
            for i in np.flatnonzero(sel)]


def test_binance_snapshot_diffs_trades_and_gap(tmp_path):
    conv = convert([_futures_capture(tmp_path / "btc.gz")])
    assert [(i.symbol, i.tick_size, i.lot_size) for i in conv.instruments] == [("BTCUSDT", 0.1, 0.001)]
    snap = L0 + 3
    assert _rows(conv) == [
        # the snapshot: clear both sides, its levels, END on the last
        (snap, (T0 + 2) * MS, 0, 0, CLEAR, SNAPSHOT),
        (snap, (T0 + 2) * MS, 0, 0, CLEAR, SIDE_ASK | SNAPSHOT),
        (snap, (T0 + 2) * MS, 1003, 2000, DEPTH, SNAPSHOT),
        (snap, (T0 + 2) * MS, 1002, 1500, DEPTH, SNAPSHOT),
        (snap, (T0 + 2) * MS, 1010, 1000, DEPTH, SIDE_ASK | SNAPSHOT | END),
        # the diff that arrived before the snapshot but is newer: released at the snapshot's local time
        (snap, (T0 + 1) * MS, 1015, 500, DEPTH, SIDE_ASK | END),
        (L0 + 4, (T0 + 3) * MS, 1010, 300, TRADE, END),
        (L0 + 5, (T0 + 4) * MS, 1003, 0, DEPTH, 0),
        (L0 + 5, (T0 + 4) * MS, 1010, 700, DEPTH, SIDE_ASK | END),
        (L0 + 7, (T0 + 5) * MS, 1002, 1, TRADE, SIDE_ASK | END),
        # the gap: the book is cleared and rebuilt from the diffs that follow
        (L0 + 8, (T0 + 6) * MS, 0, 0, CLEAR, 0),
        (L0 + 8, (T0 + 6) * MS, 0, 0, CLEAR, SIDE_ASK),
        (L0 + 8, (T0 + 6) * MS, 1001, 3000, DEPTH, END),
        (L0 + 9, (T0 + 7) * MS, 1012, 100, DEPTH, SIDE_ASK | END),
    ]
    gaps = conv.meta["gaps"]
    assert [(g["instrument"], g["expected"], g["got"], g["line"], g["local_ts"]) for g in gaps] == \
        [(0, 110, 115, 8, L0 + 8)]
    info = conv.meta["instruments"][0]
    assert info["dropped_diffs_before_snapshot"] == 1 and info["snapshots"] == 1
    assert info["tick_rule"].startswith("inferred") and info["tick_size"] == "0.1"
    assert conv.meta["clock"]["offset_ns"] == 0                       # latency is positive: no shift
    assert [d.code for d in conv.diagnostics] == ["HFT1030"]


def test_crosscheck_replays_to_the_book_ticker(tmp_path):
    path = _futures_capture(tmp_path / "btc.gz")
    check = crosscheck_book_ticker(path)
    assert (check.compared, check.matched, check.mismatches) == (2, 2, [])
    # a bookTicker that disagrees with the diffs is reported, with both books
    with gzip.open(path, "rt") as fh:
        lines = fh.read().replace('"B": "3.000"', '"B": "2.000"')
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write(lines)
    check = crosscheck_book_ticker(str(bad))
    assert (check.compared, check.matched) == (2, 1)
    assert check.mismatches[0].update_id == 140
    assert check.mismatches[0].ours == (1001, 3000, 1012, 100)
    assert check.mismatches[0].binance == (1001, 2000, 1012, 100)


def test_binance_spot_continuity_and_no_snapshot(tmp_path):
    """Spot diffs chain with U == previous u + 1; without a snapshot the book is built from diffs."""
    path = _capture(tmp_path / "spot.gz", [
        (L0 + 1, _diff("ETHUSDT", 10, 12, None, T0, bids=[("2681.62", "16.969")], futures=False)),
        (L0 + 2, _diff("ETHUSDT", 13, 15, None, T0 + 1, asks=[("2681.63", "1.000")], futures=False)),
        (L0 + 3, _diff("ETHUSDT", 17, 18, None, T0 + 2, asks=[("2681.64", "2.000")], futures=False)),  # 16 lost
    ])
    conv = convert([path])
    kinds = [(r[4], r[5]) for r in _rows(conv)]
    assert kinds == [(CLEAR, 0), (CLEAR, SIDE_ASK), (DEPTH, END), (DEPTH, SIDE_ASK | END),
                     (CLEAR, 0), (CLEAR, SIDE_ASK), (DEPTH, SIDE_ASK | END)]
    assert [(g["expected"], g["got"]) for g in conv.meta["gaps"]] == [(16, 17)]
    assert "no depth snapshot" in conv.meta["instruments"][0]["warning"]
    assert sorted(d.code for d in conv.diagnostics) == ["HFT1030", "HFT1031"]
    assert conv.meta["instruments"][0]["market"] == "spot"
    assert conv.columns["px"].tolist()[2] == 268162       # exact: 2681.62 / 0.01


def test_two_instruments_merge_by_local_time(tmp_path):
    btc = _capture(tmp_path / "btc.gz", [
        (L0 + 10, _trade("BTCUSDT", T0, "61800.1", "0.001", False)),
        (L0 + 30, _trade("BTCUSDT", T0 + 2, "61800.2", "0.002", True)),
    ])
    eth = _capture(tmp_path / "eth.gz", [
        (L0 + 10, _trade("ETHUSDT", T0, "2681.62", "1.000", False)),   # same local time: after BTC (file order)
        (L0 + 20, _trade("ETHUSDT", T0 + 1, "2681.63", "2.000", True)),
    ])
    conv = convert([btc, eth])
    assert [i.symbol for i in conv.instruments] == ["BTCUSDT", "ETHUSDT"]
    assert conv.columns["instrument"].tolist() == [0, 1, 1, 0]
    assert conv.columns["local_ts"].tolist() == [L0 + 10, L0 + 10, L0 + 20, L0 + 30]
    assert conv.columns["px"].tolist() == [618001, 268162, 268163, 618002]
    assert conv.columns["qty"].tolist() == [1, 1, 2, 2]     # lots of 0.001 and 1 (ETH quantities are whole)
    assert conv.instruments[1].lot_size == 1.0


def test_sizes_given_exact_and_off_grid(tmp_path):
    path = _capture(tmp_path / "t.gz", [(L0, _trade("XYZ", T0, "0.3", "0.7", False))])
    conv = convert([path], steps=Steps(ticks={"xyz": Decimal("0.1")}, lots={"XYZ": Decimal("0.1")}))
    assert (conv.columns["px"][0], conv.columns["qty"][0]) == (3, 7)   # float: int(0.3 / 0.1) == 2
    assert conv.meta["instruments"][0]["tick_rule"] == "given"
    with pytest.raises(DataError) as info:
        convert([path], steps=Steps(ticks={"XYZ": Decimal("0.25")}))
    assert info.value.code == "HFT1004" and info.value.line == 1
    with pytest.raises(DataError) as info:
        convert([path], steps=Steps(ticks={"XYZW": Decimal("0.1")}))
    assert info.value.code == "HFT1006"


def test_clock_correction(tmp_path):
    path = _capture(tmp_path / "t.gz", [
        (T0 * MS - 5 * MS, _trade("XYZ", T0, "1.0", "1", False)),         # 5 ms before the exchange stamped it
        (T0 * MS + 1 * MS, _trade("XYZ", T0 + 3, "1.1", "1", False)),     # -2 ms
    ])
    conv = convert([path], base_latency_ns=100)
    assert conv.meta["clock"]["offset_ns"] == 5 * MS + 100
    assert (conv.columns["local_ts"] - conv.columns["exch_ts"]).tolist() == [100, 3 * MS + 100]
    assert [d.code for d in conv.diagnostics] == ["HFT1032"]
    assert convert([path], clock="off").columns["local_ts"].tolist() == [T0 * MS - 5 * MS, T0 * MS + MS]


def test_cli_convert_summary_and_errors(tmp_path):
    src = _futures_capture(tmp_path / "btc.gz")
    out = tmp_path / "out.hftt"
    done = _hftc("data", "convert", src, "-o", str(out), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["events"] == 14 and summary["gaps"] == 1
    assert summary["instruments"][0]["trade"] == 2
    assert "warning[HFT1030]" in done.stderr and f"{src}:8" in done.stderr
    assert len(open_tape(out)) == 14

    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write(f'{L0} {{"stream": "x@trade", "data": {{"e": "trade"}}}}\n{L0} {{not json\n')
    for args, code, where in [
        ([str(bad)], "HFT1003", f"{bad}:1"),                      # a trade without its fields
        ([str(tmp_path / "missing.gz")], "HFT1001", "missing.gz"),
        ([src, "--tick", "BTCUSDT"], "HFT1006", "SYMBOL=VALUE"),
        ([src, "--format", "tardis"], "HFT1017", "header"),
    ]:
        target = tmp_path / "never.hftt"
        run = _hftc_in_process("data", "convert", *args, "-o", str(target))
        assert run.exit_code == 1, (args, run.stderr)
        assert f"error[{code}]" in run.stderr and where in run.stderr, run.stderr
        assert not target.exists()
    unknown = tmp_path / "x.bin"
    unknown.write_bytes(b"hello world\n")
    run = _hftc_in_process("data", "convert", str(unknown), "-o", str(tmp_path / "never.hftt"))
    assert run.exit_code == 1 and "error[HFT1002]" in run.stderr


# --- hftbacktest ---------------------------------------------------------------------------------


def _hbt_rows(rows):
    out = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for i, (ev, exch, local, px, qty) in enumerate(rows):
        out[i] = (ev, exch, local, px, qty, 0, 0, 0.0)
    return out


def test_hftbacktest_npz_reader(tmp_path):
    both = HBT_EXCH_EVENT | HBT_LOCAL_EVENT
    rows = _hbt_rows([
        (HBT_DEPTH_CLEAR_EVENT | HBT_BUY_EVENT | both, 100, 200, 61000.0, 0.0),
        (HBT_DEPTH_SNAPSHOT_EVENT | HBT_BUY_EVENT | both, 100, 200, 61800.2, 2.909),
        (HBT_DEPTH_CLEAR_EVENT | HBT_SELL_EVENT | both, 100, 200, 62000.0, 0.0),
        (HBT_DEPTH_SNAPSHOT_EVENT | HBT_SELL_EVENT | both, 100, 200, 61800.3, 0.5),
        (HBT_TRADE_EVENT | HBT_SELL_EVENT | HBT_EXCH_EVENT, 150, 260, 61800.2, 0.001),   # exchange-order copy
        (HBT_DEPTH_EVENT | HBT_BUY_EVENT | both, 160, 250, 61800.2, 1.5),
        (HBT_DEPTH_EVENT | HBT_SELL_EVENT | both, 160, 250, 61800.4, 0.1),
        (HBT_TRADE_EVENT | HBT_SELL_EVENT | HBT_LOCAL_EVENT, 150, 260, 61800.2, 0.001),
        (HBT_DEPTH_BBO_EVENT | HBT_BUY_EVENT | both, 170, 270, 61800.2, 1.5),            # skipped
    ])
    path = tmp_path / "BTCUSDT.npz"
    np.savez_compressed(path, data=rows)
    conv = convert([str(path)])
    assert [(i.symbol, i.tick_size, i.lot_size) for i in conv.instruments] == [("BTCUSDT", 0.1, 0.001)]
    assert _rows(conv) == [
        (200, 100, 0, 0, CLEAR, SNAPSHOT),
        (200, 100, 618002, 2909, DEPTH, SNAPSHOT),
        (200, 100, 0, 0, CLEAR, SIDE_ASK | SNAPSHOT),
        (200, 100, 618003, 500, DEPTH, SIDE_ASK | SNAPSHOT | END),
        (250, 160, 618002, 1500, DEPTH, 0),
        (250, 160, 618004, 100, DEPTH, SIDE_ASK | END),
        (260, 150, 618002, 1, TRADE, SIDE_ASK | END),
    ]
    assert conv.meta["hftbacktest"]["skipped"][str(path)] == {"exchange_only_rows": 1, "best_bid_offer_rows": 1}


def test_hftbacktest_rejects_other_arrays(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, data=np.zeros(3, dtype=[("a", "i8")]))
    with pytest.raises(DataError) as info:
        convert([str(path)])
    assert info.value.code == "HFT1016"


def test_tape_to_npz_to_tape_round_trip(tmp_path):
    conv = convert([_futures_capture(tmp_path / "btc.gz")])
    tape = open_tape(write(conv, tmp_path / "t.hftt"))
    npz = write_npz(tape, 0, tmp_path / "BTCUSDT.npz")
    events = load_events(str(npz))
    exch = (events["ev"] & HBT_EXCH_EVENT) != 0
    local = (events["ev"] & HBT_LOCAL_EVENT) != 0
    # hftbacktest's validate_event_order: exchange rows in exchange order, local rows in local order
    assert (np.diff(events["exch_ts"][exch]) >= 0).all() and (np.diff(events["local_ts"][local]) >= 0).all()
    assert exch.sum() == local.sum() == len(tape)
    # the deferred diff (exchange time before the snapshot's, local time after it) is written twice
    assert (exch & ~local).sum() >= 1
    clears = events[local & ((events["ev"] & 0xFF) == HBT_DEPTH_CLEAR_EVENT)]
    # clears reach the far end of the side: the lowest bid / highest ask set since the previous clear
    assert clears["px"].tolist() == [0.0, 0.0, 100.2, 101.5]
    back = convert([str(npz)], clock="off")
    for name, _ in COLUMNS:
        assert back.columns[name].tolist() == np.asarray(getattr(tape, name)).tolist(), name
    assert back.instruments == tape.instruments


# --- Tardis ---------------------------------------------------------------------------------------


BOOK_CSV = """exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
binance-futures,BTCUSDT,1000,1100,true,ask,61800.3,0.5
binance-futures,BTCUSDT,1000,1100,true,bid,61800.2,2.909
binance-futures,BTCUSDT,1200,1300,false,bid,61800.2,0
binance-futures,BTCUSDT,1200,1300,false,bid,61800.1,1.25
binance-futures,BTCUSDT,1500,1600,true,bid,61799.0,4
binance-futures,BTCUSDT,1500,1600,true,ask,61799.5,1
"""
TRADES_CSV = """exchange,symbol,timestamp,local_timestamp,id,side,price,amount
binance-futures,BTCUSDT,1250,1300,7,sell,61800.2,0.010
binance-futures,BTCUSDT,1260,1400,8,unknown,61800.3,0.002
binance-futures,BTCUSDT,1270,1450,9,unknown,61800.3,0.001
"""


def test_tardis_csv(tmp_path):
    book = tmp_path / "book.csv.gz"
    with gzip.open(book, "wt") as fh:
        fh.write(BOOK_CSV)
    trades = tmp_path / "trades.csv"
    trades.write_text(TRADES_CSV)
    conv = convert([str(trades), str(book)])          # trades first: they win ties, as hftbacktest advises
    us = 1000
    assert _rows(conv) == [
        (1100 * us, 1000 * us, 0, 0, CLEAR, SNAPSHOT),
        (1100 * us, 1000 * us, 0, 0, CLEAR, SIDE_ASK | SNAPSHOT),
        (1100 * us, 1000 * us, 618003, 500, DEPTH, SIDE_ASK | SNAPSHOT),
        (1100 * us, 1000 * us, 618002, 2909, DEPTH, SNAPSHOT | END),
        (1300 * us, 1250 * us, 618002, 10, TRADE, SIDE_ASK | END),
        (1300 * us, 1200 * us, 618002, 0, DEPTH, 0),
        (1300 * us, 1200 * us, 618001, 1250, DEPTH, END),
        (1400 * us, 1260 * us, 618003, 2, TRADE, END),            # up-tick: buyer
        (1450 * us, 1270 * us, 618003, 1, TRADE, END),            # same price: as before
        (1600 * us, 1500 * us, 0, 0, CLEAR, SNAPSHOT),            # a new snapshot after updates resets the book
        (1600 * us, 1500 * us, 0, 0, CLEAR, SIDE_ASK | SNAPSHOT),
        (1600 * us, 1500 * us, 617990, 4000, DEPTH, SNAPSHOT),
        (1600 * us, 1500 * us, 617995, 1000, DEPTH, SIDE_ASK | SNAPSHOT | END),
    ]
    assert conv.meta["instruments"][0]["unknown_side_trades"] == 2
    assert "HFT1033" in [d.code for d in conv.diagnostics]


def test_tardis_malformed_row(tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(BOOK_CSV + "binance-futures,BTCUSDT,1700,x,false,bid,1,1\n")
    with pytest.raises(DataError) as info:
        convert([str(book)])
    assert (info.value.code, info.value.line) == ("HFT1003", 8)


# --- the real captures ----------------------------------------------------------------------------


def _real(name: str):
    path = SHARED_DATA / "binance" / name
    if not path.exists():
        pytest.skip(f"shared market data not available ({path} is absent)")
    return str(path)


def test_real_btcusdt_futures_counts(tmp_path):
    conv = convert([_real("usdm_btcusdt_20240808.gz")])
    kinds = conv.columns["kind"]
    assert len(conv) == 466_577
    assert int((kinds == TRADE).sum()) == 21_313          # every trade of the capture
    assert int((kinds == DEPTH).sum()) == 445_262
    assert int((kinds == CLEAR).sum()) == 2               # the snapshot's; no gap
    assert conv.meta["gaps"] == []
    ends = (conv.columns["flags"] & END) != 0
    assert int((ends & (kinds == DEPTH)).sum()) == 6551 - 4 + 1   # diffs applied (4 predate the snapshot) + it
    info = conv.meta["instruments"][0]
    assert (info["tick_size"], info["lot_size"]) == ("0.1", "0.001")
    assert 3_000_000 < info["feed_latency_ns"]["median"] < 6_000_000   # ~4 ms once the clock is corrected


def test_real_btcusdt_crosscheck_with_book_ticker():
    check = crosscheck_book_ticker(_real("usdm_btcusdt_20240808.gz"))
    assert check.compared == 629
    assert check.matched == check.compared, check.mismatches[:5]


def test_hftbacktest_npy_sideless_rows(tmp_path):
    """A clear without a side clears both; trades without a side get the tick rule."""
    both = HBT_EXCH_EVENT | HBT_LOCAL_EVENT
    rows = _hbt_rows([
        (HBT_DEPTH_CLEAR_EVENT | both, 1, 2, 0.0, 0.0),
        (HBT_DEPTH_EVENT | HBT_BUY_EVENT | both, 1, 2, 10.5, 1.0),
        (HBT_TRADE_EVENT | both, 3, 4, 10.6, 1.0),
        (HBT_TRADE_EVENT | both, 3, 5, 10.4, 2.0),
    ])
    path = tmp_path / "SYM.npy"
    np.save(path, rows)
    conv = convert([str(path)])
    assert _rows(conv) == [(2, 1, 0, 0, CLEAR, 0), (2, 1, 0, 0, CLEAR, SIDE_ASK), (2, 1, 105, 1, DEPTH, END),
                           (4, 3, 106, 1, TRADE, END), (5, 3, 104, 2, TRADE, SIDE_ASK | END)]
    assert conv.meta["instruments"][0]["unknown_side_trades"] == 2
