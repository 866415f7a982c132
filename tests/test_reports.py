"""The backtest HTML report, rendered from a hand-made result over a real tape file (no strategy build).

The report engine-side (a real run) is covered in test_backtest_driver.py; here the content is
exact: fills table rows, source capture names from the tape metadata, dates on every time axis,
constraint and data-quality findings, latency and contract terms.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

T0 = 1_723_161_600_000_000_000  # 2024-08-09 00:00 UTC, in ns
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}
SVG_EMPTY = {"rect", "line", "circle", "path", "polyline", "polygon"}


class _Page(HTMLParser):
    """Checks tags balance and collects h2 ids, table classes and text."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2" and a.get("id"):
            self.ids.append(a["id"])
        if tag == "tr" and a.get("class"):
            self.rows[a["class"]] = self.rows.get(a["class"], 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _tape(path: Path, meta: dict) -> Path:
    from hftc.data import DEPTH, END, SIDE_ASK, Instrument, write_tape

    ts = np.array([T0, T0 + 1], dtype=np.int64)
    cols = {"local_ts": ts, "exch_ts": ts, "px": np.array([200, 202]), "qty": np.array([10, 10]),
            "instrument": np.zeros(2, np.uint16), "kind": np.array([DEPTH, DEPTH], np.uint8),
            "flags": np.array([0, SIDE_ASK | END], np.uint8)}
    return write_tape(path, [Instrument("BTCUSDT", 0.5, 0.001, 1.0)], cols, meta) or path


def _result(tape: Path, n_fills: int, latency: dict, constraints: list[dict]):
    from hftc.backtest.native import EQUITY_DTYPE
    from hftc.backtest.result import FILLS_DTYPE, BacktestResult

    # Two days of 1-minute samples: the axis must say which day.
    ts = T0 + np.arange(0, 2 * 86_400, 60, dtype=np.int64) * 1_000_000_000
    eq = np.zeros(len(ts), EQUITY_DTYPE)
    eq["ts"] = ts
    eq["mid0"] = 60_000 + np.cumsum(np.sin(np.arange(len(ts)) / 50.0))
    eq["mid0"][:3] = 0.0  # one-sided book at the start: not a price of 0
    eq["position0"] = (np.arange(len(ts)) // 100 % 5) - 2
    eq["pnl"] = np.cumsum(np.cos(np.arange(len(ts)) / 30.0))
    eq["equity"] = eq["pnl"]
    fills = np.zeros(n_fills, FILLS_DTYPE)
    fills["local_ts"] = ts[10] + np.arange(n_fills) * 1_000_000_000
    fills["exch_ts"] = fills["local_ts"] - 500
    fills["symbol"] = "BTCUSDT"
    fills["side"] = np.where(np.arange(n_fills) % 2 == 0, 1, -1)
    fills["maker"] = np.arange(n_fills) % 3 != 0
    fills["price"] = 60_000.5
    fills["quantity"] = 0.002
    fills["qty"] = 2
    fills["fee"] = 0.024
    summary = {"strategy": "mm", "tape": str(tape), "instrument_map": {"BTCUSDT": "BTCUSDT"},
               "instrument_map_how": "by symbol", "params": {"spread_bps": 1.5}, "latency": latency,
               "queue": "risk_averse", "maker_fee_bps": 2.0, "taker_fee_bps": 5.0, "fee_source": "venue profile",
               "contracts": {"BTCUSDT": "linear"}, "settlement_currency": "USDT", "capital": 10_000.0,
               "return_interval_s": 60.0, "return_bars": 2880, "annualised": True, "risk": {"source": "none"},
               "data_quality": {"gaps": 2, "dropped_rows": 0, "problems": {}, "unresolved": 0, "clock": None},
               "constraints": constraints, "pnl": 1.0, "fees": 0.5, "sharpe": 0.1, "fills": n_fills,
               "entry_latency_ns_median": 1_000_000, "response_latency_ns_median": 1_000_000}
    from hftc.backtest.result import QUOTES_DTYPE

    quotes = np.zeros(3, QUOTES_DTYPE)  # a bid from sample 10 to 50, then withdrawn; an ask from sample 20 on
    quotes["local_ts"] = [ts[10], ts[20], ts[50]]
    quotes["symbol"] = "BTCUSDT"
    quotes["side"] = [1, -1, 1]
    quotes["price"] = [59_990.0, 60_010.0, 0.0]
    quotes["qty"] = [2, 2, 0]
    return BacktestResult(summary, fills, eq, quotes=quotes)


@pytest.fixture()
def tape(tmp_path) -> Path:
    meta = {"sources": [{"file": "/captures/BTCUSDT-depth-2024-08-09.jsonl.gz", "format": "binance"},
                        {"file": "/captures/BTCUSDT-trades-2024-08-09.jsonl.gz", "format": "binance"}],
            "instruments": [{"symbol": "BTCUSDT", "contract_type": "linear", "settlement_currency": "USDT"}]}
    return _tape(tmp_path / "3f9a0c1e5b7d.hftt", meta)


def _svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)]


def test_report_has_every_section_and_parses(tape):
    from hftc.backtest.report import render_report

    res = _result(tape, 600, {"model": "constant", "entry_ns": 1_000_000, "response_ns": 1_000_000},
                  [{"constraint": "max_leverage <= 3.0", "value": 12.3, "holds": False},
                   {"constraint": "fills >= 10", "value": 600.0, "holds": True}])
    page = render_report(res)
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.stack == ["html"] or parser.stack == []  # every element closed (html may be implicit)
    assert parser.ids == ["findings", "latency", "price", "position", "equity", "drawdown", "summary", "fills"]
    text = " ".join(parser.text)
    assert "<script" not in page and "src=" not in page and "href=" not in page  # self-contained

    # The data source by capture name, not only the cache tape's hash.
    assert "BTCUSDT-depth-2024-08-09.jsonl.gz, BTCUSDT-trades-2024-08-09.jsonl.gz" in text
    # Fills table: capped at 500 rows, with the count; buys and sells told apart; UTC date and time.
    assert parser.rows["fill"] == 500 and "The first 500 of 600 fills" in text
    assert "2024-08-09 00:10:00.000000 UTC" in text and "2024-08-09 00:10:01.000000 UTC" in text
    assert text.count("buy") >= 250 and text.count("sell") >= 250 and "maker" in text and "taker" in text
    # Findings: a violated constraint says so with its value; data quality; contracts; Sharpe basis.
    assert parser.rows["constraint bad"] == 1 and parser.rows["constraint ok"] == 1
    assert "max_leverage <= 3.0" in text and "VIOLATED (value 12.3)" in text
    assert "2 gap(s), 0 row(s) dropped, clean" in text
    assert "BTCUSDT linear" in text and "USDT" in text and "annualised, 2,880 1m bars" in text
    assert "Constant: every order reaches the venue 1,000,000 ns" in text
    assert "green (bid)" in text and "red (ask)" in text
    assert "<tr><th>Fees (USDT)</th><td>0.50</td></tr>" in page

    svgs = _svgs(page)
    assert len(svgs) == 4  # price, position, equity, drawdown
    for svg in svgs:  # every time axis names the date, both days of the run appear
        ticks = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")
                 if t.get("class") == "time-tick"]
        assert len(ticks) == 6 and all(re.match(r"2024-08-(09|10)\d\d:\d\d:\d\d$", t) for t in ticks), ticks
        assert ticks[0].startswith("2024-08-09") and ticks[-1] == "2024-08-1023:59:00"
    price = svgs[0]
    buys = [g for g in price.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "fill-buy"]
    sells = [g for g in price.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "fill-sell"]
    assert len(buys) == 300 and len(sells) == 300
    # The quotes: a bid held for 40 samples then withdrawn, an ask held to the end of the run.
    quotes = [ln for ln in price.iter("{http://www.w3.org/2000/svg}line") if ln.get("class") == "quote"]
    assert len(quotes) == 2 and {q.get("stroke") for q in quotes} == {"#1a9641", "#d7191c"}
    bid = next(q for q in quotes if q.get("stroke") == "#1a9641")
    ask = next(q for q in quotes if q.get("stroke") == "#d7191c")
    assert float(bid.get("x2")) < float(ask.get("x2"))
    # The mid axis is a price range, not 0..60,000 (a one-sided book's 0 is left out).
    labels = [float(t.text.replace(",", "")) for t in price.iter("{http://www.w3.org/2000/svg}text")
              if t.get("text-anchor") == "end" and t.get("class") is None and t.text]
    assert labels and min(labels) > 59_000


def test_report_empirical_latency_short_run_and_no_fills(tmp_path):
    from hftc.backtest.report import render_report

    tape = _tape(tmp_path / "plain.hftt", {"instruments": [{"symbol": "BTCUSDT"}]})
    hist = {"edges_ns": [1000.0 * k for k in range(5)], "counts": [3, 9, 4, 1]}
    res = _result(tape, 0, {"model": "empirical", "samples": 1234, "seed": 7, "histogram": hist}, [])
    res.equity = res.equity[5:20]  # a 15-minute run
    page = render_report(res)
    assert "Empirical: each order draws its entry and response latency from 1,234 samples (seed 7)" in page
    assert "median entry latency of the run's orders 1,000,000 ns" in page
    assert page.count('class="bar"') == 4 and "1,000–2,000 ns: 9" in page  # the distribution drawn from
    assert "The strategy had no fills." in page and "none declared by the strategy" in page
    assert "the tape does not record the files it was converted from" in page
    for svg in _svgs(page):
        if svg.get("class") == "latency-hist":
            continue  # ns on x, not time
        ticks = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")
                 if t.get("class") == "time-tick"]
        assert len(ticks) == 6 and all(t.startswith("2024-08-09") for t in ticks)


def test_report_names_a_missing_tape_instead_of_failing(tmp_path):
    from hftc.backtest.report import render_report

    res = _result(tmp_path / "gone.hftt", 3, {"model": "constant", "entry_ns": 5, "response_ns": 5}, [])
    page = render_report(res)
    assert "gone.hftt" in page and "could not be read" in page and page.count('<tr class="fill">') == 3


def test_report_of_an_inverse_run_prints_coin_amounts(tape):
    from hftc.backtest.report import render_report

    res = _result(tape, 1, {"model": "constant", "entry_ns": 1, "response_ns": 1}, [])
    res.summary.update({"contracts": {"BTCUSD_PERP": "inverse"}, "settlement_currency": "BTC", "fees": 0.00016})
    page = render_report(res)
    assert "<tr><th>Fees (BTC)</th><td>0.00016000</td></tr>" in page and "BTCUSD_PERP inverse" in page
