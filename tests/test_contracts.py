"""Linear and inverse contracts: terms recorded by the converter, accounted by the backtest, refused when unknown."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import require_shared_data
from test_backtest_driver import MM_SCHEMA, T0, _compile

HFTC = [sys.executable, "-m", "hftc"]


def test_binance_contract_terms():
    from hftc.data.contracts import binance_contract, contract_of_meta

    btc = binance_contract("BTCUSD_PERP", "futures", True, None)
    assert (btc.contract_type, btc.multiplier, btc.settlement_currency) == ("inverse", 100.0, "BTC")
    eth = binance_contract("ETHUSD_PERP", "futures", True, None)
    assert (eth.contract_type, eth.multiplier, eth.settlement_currency) == ("inverse", 10.0, "ETH")
    assert binance_contract("ETHUSD_PERP", "futures", True, 25.0).multiplier == 25.0  # given wins
    usdm = binance_contract("BTCUSDT", "futures", False, None)
    assert (usdm.contract_type, usdm.multiplier, usdm.settlement_currency) == ("linear", 1.0, "USDT")
    assert binance_contract("ETHFDUSD", "spot", False, None).settlement_currency == "FDUSD"
    # Tapes written before the terms were recorded: read from `market` and the inverse note.
    assert contract_of_meta({"market": "futures", "venue_symbol": "BTCUSDT"}) == ("linear", "USDT")
    assert contract_of_meta({"market": "futures", "venue_symbol": "BTCUSD_PERP",
                             "contract": "inverse (coin-margined): ..."}) == ("inverse", "BTC")
    assert contract_of_meta({"synthetic": True}) == (None, "")


def _tape(path, meta):
    from hftc.data import DEPTH, END, SIDE_ASK, TRADE, Instrument, write_tape

    # Tick 0.5, lot 1 contract, 100 USD each: 100.0 / 101.0, a seller fills our 1-lot bid at 100.0,
    # then the book moves up to 110.0 / 111.0.
    rows = [(1000, 200, 10, DEPTH, 0), (1000, 202, 10, DEPTH, SIDE_ASK | END),
            (2000, 200, 15, TRADE, SIDE_ASK | END),
            (3000, 200, 0, DEPTH, 0), (3000, 220, 5, DEPTH, 0), (3000, 202, 0, DEPTH, SIDE_ASK),
            (3000, 222, 5, DEPTH, SIDE_ASK | END)]
    ts = np.array([T0 + r[0] for r in rows], dtype=np.int64)
    cols = {"local_ts": ts, "exch_ts": ts, "px": np.array([r[1] for r in rows]),
            "qty": np.array([r[2] for r in rows]), "instrument": np.zeros(len(rows), np.uint16),
            "kind": np.array([r[3] for r in rows], np.uint8), "flags": np.array([r[4] for r in rows], np.uint8)}
    return write_tape(path, [Instrument("BTCUSDT", 0.5, 1.0, 100.0)], cols, meta)


def test_inverse_pnl_fees_and_leverage_are_in_the_coin(tmp_path):
    from hftc.backtest import BacktestError, BacktestOptions, compile_strategy

    ir, _ = _compile(tmp_path, MM_SCHEMA)
    engine = compile_strategy(ir, "mm")
    options = BacktestOptions(latency_ns=100, maker_fee_bps=2.0, taker_fee_bps=5.0, capital=1.0)
    inverse = _tape(tmp_path / "inv.hftt", {"instruments": [{"contract_type": "inverse",
                                                             "settlement_currency": "BTC"}]})
    res = engine.run(inverse, params={"qty": 1.0, "inventory_limit": 1.0}, options=options)
    assert res.summary["contracts"] == {"BTCUSDT": "inverse"} and res.summary["settlement_currency"] == "BTC"
    assert res.summary["fills"] == 1
    # What it quoted is recorded for the report: its first bid at the touch, in natural units.
    bids = res.quotes[res.quotes["side"] == 1]
    assert len(bids) >= 1 and bids["price"][0] == 100.0 and bids["symbol"][0] == "BTCUSDT"
    entry = 100.0 / 100.0  # one 100-USD contract at 100.0 is worth 1 coin
    fee = entry * 2e-4
    assert res.summary["fees"] == pytest.approx(fee, rel=1e-12)
    # Long one contract from 100.0 to mid 110.5: 100 * (1/100 - 1/110.5) coins, less the fee.
    assert res.summary["pnl"] == pytest.approx(100.0 * (1 / 100.0 - 1 / 110.5) - fee, rel=1e-12)
    # The same tape accounted as linear gives a USD figure of another size: the two must differ.
    linear = engine.run(inverse, params={"qty": 1.0, "inventory_limit": 1.0},
                        options=BacktestOptions(**{**options.__dict__, "contract": "linear"}))
    assert linear.summary["pnl"] == pytest.approx((110.5 - 100.0) * 100.0 - 100.0 * 100.0 * 2e-4, rel=1e-12)
    # A tape that does not say is refused, never guessed.
    unknown = _tape(tmp_path / "unknown.hftt", {"synthetic": True})
    with pytest.raises(BacktestError) as info:
        engine.run(unknown, options=options)
    assert info.value.code == "HFT1121"
    no_currency = {"instruments": [{"contract_type": "inverse"}]}  # the type is what matters; the currency is a label
    res = engine.run(_tape(tmp_path / "n.hftt", no_currency), options=options)
    assert res.summary["contracts"]["BTCUSDT"] == "inverse" and res.summary["settlement_currency"] == ""


def test_coinm_capture_is_recorded_inverse_with_its_contract_size(tmp_path):
    capture = require_shared_data("binance/cm_btcusd_perp_20240808.gz")
    out = tmp_path / "cm.hftt"
    done = subprocess.run([*HFTC, "data", "convert", str(capture), "-o", str(out)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    from hftc.data import open_tape

    tape = open_tape(out)
    (entry,) = tape.meta["instruments"]
    assert entry["contract_type"] == "inverse" and entry["settlement_currency"] == "BTC"
    assert tape.instruments[0].multiplier == 100.0  # Binance COIN-M BTC contracts are 100 USD
    # The backtest settles in BTC and says so.
    schema = tmp_path / "cm.hftc.yaml"
    schema.write_text(MM_SCHEMA.replace("BTCUSDT", "BTCUSD_PERP"))
    done = subprocess.run([*HFTC, "backtest", str(schema), "--strategy", "mm", "--data", str(out), "--json"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["settlement_currency"] == "BTC" and summary["contracts"] == {"BTCUSD_PERP": "inverse"}
    assert "binance-coinm" in summary["fee_source"]
    assert abs(summary["pnl"]) < 1.0  # coins, not the thousands a linear reading of contracts gives
