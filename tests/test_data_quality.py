"""Market data cannot silently skew a result: robust clock offset, row and book checks, the
data-quality record, and `hftc backtest` printing it and refusing dirty tapes."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from hftc.cli import app
from hftc.data import END, DataError, open_tape
from hftc.data.convert import convert, write
from hftc.data.quality import summary_line, tape_quality
from test_data_readers import L0, MS, T0, _capture, _diff, _trade
from typer.testing import CliRunner

runner = CliRunner()


def _book(extra=(), trades=40):
    """A futures capture: a snapshot (bid 100.0, ask 100.5), then trades and diffs 1 ms apart with
    latencies 1-3 ms; `extra` lines (local_ns, message) are inserted."""
    lines = [(L0, {"lastUpdateId": 100, "E": T0, "T": T0,
                   "bids": [["100.0", "2.000"], ["99.9", "1.000"]], "asks": [["100.5", "1.000"]]})]
    u = 101
    for i in range(1, trades):
        t = T0 + 10 * i
        lines.append(((t + 1 + i % 3) * MS, _trade("BTCUSDT", t, "100.5", "0.010", False)))
        lines.append(((t + 2 + i % 3) * MS, _diff("BTCUSDT", u, u + 1, u - 1, t + 1, bids=[("99.9", f"{1 + i}.000")])))
        u += 2
    lines += list(extra)
    lines.sort(key=lambda pair: pair[0])
    return lines


def _convert(tmp_path, lines, **kw):
    return convert([_capture(tmp_path / "c.gz", lines)], **kw)


def _codes(conv):
    return [d.code for d in conv.diagnostics]


def test_one_receive_timestamp_an_hour_early_does_not_shift_the_tape(tmp_path):
    hour = 3_600_000_000_000
    lines = _book()
    at, msg = lines[20]
    lines[20] = (at - hour, msg)  # one row's receive time moved back by an hour
    conv = _convert(tmp_path, lines)
    assert conv.meta["clock"]["offset_ns"] == 0  # was 3,601 s: the offset came from that one row
    quality = conv.meta["quality"]
    assert quality["problems"]["clock_outlier"]["count"] == 1 and quality["dropped_rows"] == 1
    assert quality["problems"]["clock_outlier"]["examples"][0]["local_ts"] == at - hour
    latency = conv.columns["local_ts"] - conv.columns["exch_ts"]
    assert latency[conv.columns["exch_ts"] > 0].min() > 0
    assert "HFT1034" in _codes(conv)


def test_a_behind_clock_is_still_corrected_from_the_bulk(tmp_path):
    lines = [(at - 5 * MS, msg) for at, msg in _book()]  # every row 5 ms "before" the exchange: shift
    conv = _convert(tmp_path, lines)
    latency = conv.columns["local_ts"] - conv.columns["exch_ts"]
    assert latency[conv.columns["exch_ts"] > 0].min() == 0
    assert conv.meta["clock"]["offset_ns"] > 0 and conv.meta["quality"]["dropped_rows"] == 0
    assert "clock_outlier" not in conv.meta["quality"]["problems"]


BAD_ROWS = [
    ("trade_qty_not_positive", _trade("BTCUSDT", T0 + 205, "100.5", "-0.010", False)),
    ("price_not_positive", _trade("BTCUSDT", T0 + 205, "0", "0.010", False)),
    ("depth_qty_negative", _diff("BTCUSDT", 179, 180, 178, T0 + 400, bids=[("99.8", "-1.000")])),
]


@pytest.mark.parametrize("problem,message", BAD_ROWS, ids=[p for p, _ in BAD_ROWS])
def test_bad_rows_are_counted_and_dropped_or_fail_or_kept(tmp_path, problem, message):
    lines = _book(extra=[((T0 + 402) * MS, message)])
    conv = _convert(tmp_path, lines)
    entry = conv.meta["quality"]["problems"][problem]
    assert entry["count"] == 1 and entry["action"] == "dropped" and entry["examples"][0]["symbol"] == "BTCUSDT"
    assert conv.meta["quality"]["unresolved"] == 0
    with pytest.raises(DataError) as failed:
        _convert(tmp_path, lines, on_error="fail")
    assert failed.value.code == "HFT1034"
    kept = _convert(tmp_path, lines, on_error="keep")
    assert kept.meta["quality"]["unresolved"] >= 1 and kept.meta["quality"]["dropped_rows"] == 0
    assert len(kept) == len(conv) + 1  # the bad row is the only difference


def test_a_bid_far_above_the_best_ask_is_taken_out_of_the_book(tmp_path):
    # continues the last diff of _book (u 178), so the book is not rebuilt by a gap
    crossing = _diff("BTCUSDT", 179, 180, 178, T0 + 400, bids=[("150.0", "5.000"), ("99.7", "1.000")])
    lines = _book(extra=[((T0 + 402) * MS, crossing)])
    conv = _convert(tmp_path, lines)
    entry = conv.meta["quality"]["problems"]["crossed_book"]
    assert entry["count"] == 1 and entry["examples"][0]["px"] == 1500
    assert conv.meta["quality"]["unresolved"] == 0
    px, flags = conv.columns["px"], conv.columns["flags"]
    assert 1500 not in px.tolist()
    rows = np.flatnonzero(px == 997)
    assert len(rows) == 1 and flags[rows[0]] & END  # the message's kept row now ends it
    kept = _convert(tmp_path, lines, on_error="keep")
    assert kept.meta["quality"]["unresolved"] == 1 and 1500 in kept.columns["px"].tolist()


def test_the_record_survives_the_tape_and_merged_tapes_combine_it(tmp_path):
    conv = _convert(tmp_path, _book(extra=[((T0 + 207) * MS, BAD_ROWS[0][1])]), on_error="keep")
    path = write(conv, tmp_path / "t.hftt")
    quality = tape_quality(open_tape(path).meta)
    assert quality["unresolved"] == 1 and quality["policy"] == "keep"
    assert "1 unresolved" in summary_line(quality)
    merged = tape_quality({"merged_from": ["a", "b"], "sources": [{"quality": quality}, {"quality": quality}]})
    assert merged["unresolved"] == 2 and merged["problems"]["trade_qty_not_positive"]["count"] == 2
    assert summary_line(None).startswith("data quality: no record")


def test_cli_convert_on_error_and_summary(tmp_path):
    src = _capture(tmp_path / "c.gz", _book(extra=[((T0 + 207) * MS, BAD_ROWS[0][1])]))
    out = runner.invoke(app, ["data", "convert", src, "-o", str(tmp_path / "t.hftt"), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["quality"]["problems"]["trade_qty_not_positive"]["count"] == 1
    failed = runner.invoke(app, ["data", "convert", src, "-o", str(tmp_path / "u.hftt"), "--on-error", "fail"])
    assert failed.exit_code == 1 and "HFT1034" in failed.output and not (tmp_path / "u.hftt").exists()


def test_backtest_checks_its_inputs_before_compiling(tmp_path):
    from conftest import EXAMPLES

    started = time.monotonic()
    out = runner.invoke(app, ["backtest", str(EXAMPLES / "btc_market_maker.hftc.yaml"), "--strategy", "mm",
                              "--data", str(tmp_path / "missing.hftt")])
    assert out.exit_code == 1 and "HFT1112" in out.output and "missing.hftt" in out.output
    assert time.monotonic() - started < 10  # the strategy (45-52 s to compile) was not built


def test_backtest_refuses_a_dirty_tape_before_compiling(tmp_path):
    from conftest import EXAMPLES

    conv = _convert(tmp_path, _book(extra=[((T0 + 207) * MS, BAD_ROWS[0][1])]), on_error="keep")
    tape = write(conv, tmp_path / "dirty.hftt")
    started = time.monotonic()
    out = runner.invoke(app, ["backtest", str(EXAMPLES / "btc_market_maker.hftc.yaml"), "--strategy", "mm",
                              "--data", str(tape)])
    assert out.exit_code == 1 and "HFT1118" in out.output and "data quality:" in out.output
    assert time.monotonic() - started < 10
