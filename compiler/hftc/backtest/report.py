"""A self-contained HTML report of one backtest: setup, findings, price with fills, position,
equity, drawdown, the fills themselves and the summary.

The plots are inline SVG drawn here (no plotting library, no scripts, no external files), so
the report opens anywhere and can be mailed or archived as one file. Every time axis is UTC
with the date, because a run may span days.
"""

from __future__ import annotations

import datetime as _dt
import html
import itertools
import math
from pathlib import Path

import numpy as np

from hftc.backtest.result import BacktestResult, write_files

_W, _H = 880, 260  # plot size in px
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 78, 16, 14, 44
_MAX_FILL_ROWS = 500  # rows of the fills table; all fills are in fills.csv
_MAX_POINTS = 1500  # per series, after min/max bucketing

_ROWS = (
    ("pnl", "PnL (quote ccy, after fees)", "{:,.2f}"), ("fees", "Fees (quote ccy)", "{:,.2f}"),
    ("sharpe", "Sharpe", "{:.3f}"), ("sortino", "Sortino", "{:.3f}"), ("ratio_basis", "Sharpe/Sortino basis", "{}"),
    ("max_drawdown", "Max drawdown (quote ccy)", "{:,.2f}"), ("turnover", "Turnover (quote ccy)", "{:,.2f}"),
    ("max_leverage", "Max leverage", "{:.3f}"), ("max_correlation", "|corr(PnL, instrument-0 returns)|", "{:.3f}"),
    ("fills", "Fills", "{:,}"), ("orders", "Orders", "{:,}"), ("orders_filled", "Orders with a fill", "{:,}"),
    ("fill_ratio", "Fill ratio", "{:.3f}"), ("cancels", "Cancels", "{:,}"),
    ("post_only_rejects", "Post-only rejects", "{:,}"), ("risk_rejects", "Risk rejects", "{:,}"),
    ("events", "Events replayed", "{:,}"), ("strategy_calls", "Strategy calls", "{:,}"),
    ("seconds", "Replay time (s)", "{:.3f}"), ("events_per_s", "Events / s", "{:,.0f}"),
    ("entry_latency_ns_median", "Entry latency median (ns)", "{:,}"),
    ("response_latency_ns_median", "Response latency median (ns)", "{:,}"),
)


def _fmt(fmt: str, value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most ~_MAX_POINTS points, keeping each bucket's min and max so spikes survive."""
    n = len(x)
    if n <= _MAX_POINTS:
        return x, y
    buckets = _MAX_POINTS // 2
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep: list[int] = []
    for a, b in itertools.pairwise(edges):
        if b <= a:
            continue
        seg = y[a:b]
        i, j = a + int(np.argmin(seg)), a + int(np.argmax(seg))
        keep.extend(sorted({i, j}))
    idx = np.array(keep)
    return x[idx], y[idx]


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi == lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step) + 1)]


def _clock(ns: float, span_ns: float = 0.0) -> tuple[str, str]:
    """(UTC date, UTC time) of `ns`; milliseconds when the axis spans under a minute."""
    t = _dt.datetime.fromtimestamp(ns / 1e9, _dt.UTC)
    time = t.strftime("%H:%M:%S.%f")[:-3] if span_ns < 60e9 else t.strftime("%H:%M:%S")
    return t.strftime("%Y-%m-%d"), time


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def utc_stamp(ns: int) -> str:
    """`2024-08-09 00:00:00.123456 UTC` (microseconds; a fill's time to the engine's precision is in fills.csv)."""
    t = _EPOCH + _dt.timedelta(microseconds=int(ns) // 1000)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC"


def _marker(kind: str, x: float, y: float, label: str) -> str:
    """A buy (green triangle up) or sell (red triangle down) at (x, y), with a hover title."""
    if kind == "buy":
        shape = f'<path d="M{x:.1f},{y - 6:.1f}L{x - 5:.1f},{y + 3:.1f}L{x + 5:.1f},{y + 3:.1f}Z" fill="#1a9641"/>'
    else:
        shape = f'<path d="M{x:.1f},{y + 6:.1f}L{x - 5:.1f},{y - 3:.1f}L{x + 5:.1f},{y - 3:.1f}Z" fill="#d7191c"/>'
    return f'<g class="fill-{kind}"><title>{html.escape(label)}</title>{shape}</g>'


def svg_plot(ts: np.ndarray, y: np.ndarray, title: str, color: str, fill_to_zero: bool = False,
             include_zero: bool = True, steps: bool = False,
             markers: list[tuple[str, float, float, str]] | None = None,
             levels: list[tuple[str, list[tuple[float, float, float]]]] | None = None) -> str:
    """An SVG line plot of y over UTC time `ts` (ns), with labelled axes (date and time on x).

    `include_zero` keeps 0 on the y axis (PnL, drawdown; not a price); `steps` draws a step line
    (a position holds until the next change); `markers` are (kind, ts, y, hover label) with kind
    `buy` or `sell`, drawn over the line; `levels` are (colour, [(from_ts, to_ts, y)]) horizontal
    segments under it (the strategy's quotes, each held until it changed or was withdrawn).
    """
    markers = markers or []
    levels = levels or []
    seg_x = [v for _c, segs in levels for a, b, _y in segs for v in (a, b)]
    seg_y = [y for _c, segs in levels for _a, _b, y in segs]
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
              f'role="img" aria-label="{html.escape(title)}">'),
             f'<rect x="0" y="0" width="{_W}" height="{_H}" fill="#fff"/>']
    ok = np.isfinite(y)
    if ok.sum() < 1 and not markers:
        parts.append(f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle" fill="#666">no samples</text></svg>')
        return "".join(parts)
    x, yv = _thin(ts[ok].astype(float), y[ok].astype(float))
    span = ts[[0, -1]].astype(float) if len(ts) else np.zeros(0)  # the whole run, so the plots line up
    all_x = np.concatenate([x, span, np.array([m[1] for m in markers], dtype=float), np.array(seg_x, dtype=float)])
    all_y = np.concatenate([yv, np.array([m[2] for m in markers], dtype=float), np.array(seg_y, dtype=float)])
    x0, x1 = float(all_x.min()), float(all_x.max())
    if x1 <= x0:
        x1 = x0 + 1.0
    lo, hi = float(all_y.min()), float(all_y.max())
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        hi, lo = hi + (abs(hi) * 1e-3 or 1.0), lo - (abs(lo) * 1e-3 or 1.0)
    elif not include_zero:
        pad = (hi - lo) * 0.04
        hi, lo = hi + pad, lo - pad
    pw, ph = _W - _PAD_L - _PAD_R, _H - _PAD_T - _PAD_B

    def px(v: float) -> float:
        return _PAD_L + (v - x0) / (x1 - x0) * pw

    def py(v: float) -> float:
        return _PAD_T + (hi - v) / (hi - lo) * ph

    for t in _nice_ticks(lo, hi):
        yy = py(t)
        parts.append(f'<line x1="{_PAD_L}" y1="{yy:.1f}" x2="{_W - _PAD_R}" y2="{yy:.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{_PAD_L - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#444">{t:,.6g}</text>')
    for k in range(6):
        t = x0 + (x1 - x0) * k / 5
        anchor = "start" if k == 0 else "end" if k == 5 else "middle"  # keep the end labels inside
        day, clock = _clock(t, x1 - x0)
        parts.append(f'<text class="time-tick" x="{px(t):.1f}" y="{_H - 24}" text-anchor="{anchor}" font-size="11" '
                     f'fill="#444"><tspan x="{px(t):.1f}">{day}</tspan>'
                     f'<tspan x="{px(t):.1f}" dy="13">{clock}</tspan></text>')
    if lo <= 0.0 <= hi:
        parts.append(f'<line x1="{_PAD_L}" y1="{py(0.0):.1f}" x2="{_W - _PAD_R}" y2="{py(0.0):.1f}" '
                     'stroke="#999"/>')
    for colour, segs in levels:
        parts.extend(f'<line class="quote" x1="{px(a):.1f}" y1="{py(y):.1f}" x2="{px(b):.1f}" y2="{py(y):.1f}" '
                     f'stroke="{colour}" stroke-width="2" stroke-opacity="0.55"/>' for a, b, y in segs)
    if len(x):
        if steps and len(x) > 1:
            xs = np.repeat(x, 2)[1:]
            ys = np.repeat(yv, 2)[:-1]
        else:
            xs, ys = x, yv
        points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(xs, ys))
        if fill_to_zero:
            area = f"{px(float(xs[0])):.1f},{py(0.0):.1f} {points} {px(float(xs[-1])):.1f},{py(0.0):.1f}"
            parts.append(f'<polygon points="{area}" fill="{color}" fill-opacity="0.25" stroke="none"/>')
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.4"/>')
    parts.extend(_marker(kind, px(t), py(v), label) for kind, t, v, label in markers)
    parts.append(f'<rect x="{_PAD_L}" y="{_PAD_T}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>')
    parts.append("</svg>")
    return "".join(parts)


def drawdown(pnl: np.ndarray) -> np.ndarray:
    """Equity below its running peak (<= 0), in quote currency."""
    if not len(pnl):
        return pnl.astype(float)
    return pnl - np.maximum.accumulate(pnl)


_MAX_MARKERS = 3000  # fills marked on the price plot; beyond that the plot says how many were left off


def data_sources(tape_path: str) -> tuple[list[str], dict[str, float], str]:
    """(capture file names, lot size by symbol, note) from the tape's metadata.

    A capture converted on the fly is replayed from a cache tape named by a hash; its metadata
    names the files it came from (`sources`, and per instrument `files`, through merged tapes).
    """
    from hftc.data import open_tape
    from hftc.data.errors import DataError

    try:
        tape = open_tape(tape_path, validate=False)
    except DataError as exc:
        return [], {}, f"the tape's metadata could not be read ({exc.message})"
    names: list[str] = []

    def walk(meta) -> None:
        if not isinstance(meta, dict):
            return
        for source in meta.get("sources") or []:
            if isinstance(source, dict):
                if source.get("file"):
                    names.append(str(source["file"]))
                walk(source)
            elif isinstance(source, str):
                names.append(source)
        for inst in meta.get("instruments") or []:
            if isinstance(inst, dict):
                names.extend(str(f) for f in inst.get("files") or [] if f)

    walk(tape.meta)
    unique = list(dict.fromkeys(names))
    note = "" if unique else "the tape does not record the files it was converted from"
    return unique, {i.symbol: i.lot_size for i in tape.instruments}, note


_MAX_QUOTE_SEGMENTS = 4000  # per side; a market maker requotes often, the page stays light


def quote_levels(quotes: np.ndarray, symbol, end_ts: int) -> list[tuple[str, list[tuple[float, float, float]]]]:
    """The quoted prices of `symbol` as (colour, [(from, to, price)]) per side: each change holds until
    the next change of that side (or the end); a withdrawal (qty 0) ends the level."""
    out = []
    for side, colour in ((1, "#1a9641"), (-1, "#d7191c")):
        rows = quotes[(quotes["symbol"] == symbol) & (quotes["side"] == side)] if len(quotes) else quotes
        segs = []
        for k in range(len(rows)):
            if rows["qty"][k] == 0:
                continue
            until = min(float(rows["local_ts"][k + 1]), float(end_ts)) if k + 1 < len(rows) else float(end_ts)
            segs.append((float(rows["local_ts"][k]), max(until, float(rows["local_ts"][k])), float(rows["price"][k])))
        if len(segs) > _MAX_QUOTE_SEGMENTS:  # evenly thinned: the shape of the quoting survives
            step = len(segs) / _MAX_QUOTE_SEGMENTS
            segs = [segs[int(i * step)] for i in range(_MAX_QUOTE_SEGMENTS)]
        out.append((colour, segs))
    return out


def _side(value: int) -> str:
    return "buy" if int(value) > 0 else "sell"


def _fills_table(fills: np.ndarray, currency: str) -> str:
    shown = fills[:_MAX_FILL_ROWS]
    head = ("<tr><th>#</th><th>Time (UTC, local)</th><th>Symbol</th><th>Side</th><th>Price</th>"
            f"<th>Quantity</th><th>Maker/taker</th><th>Fee ({html.escape(currency)})</th></tr>")
    body = "".join(
        f'<tr class="fill"><td>{k + 1}</td><td>{utc_stamp(f["local_ts"])}</td><td>{html.escape(str(f["symbol"]))}</td>'
        f'<td class="{_side(f["side"])}">{_side(f["side"])}</td><td>{float(f["price"]):,.10g}</td>'
        f'<td>{float(f["quantity"]):,.10g}</td><td>{"maker" if f["maker"] else "taker"}</td>'
        f'<td>{float(f["fee"]):,.8g}</td></tr>' for k, f in enumerate(shown))
    if len(fills) > len(shown):
        note = f"The first {len(shown):,} of {len(fills):,} fills; every fill is in fills.csv / fills.parquet."
    else:
        note = f"All {len(fills):,} fills."
    return f'<p class="note">{note}</p><table class="fills">{head}{body}</table>' if len(fills) else \
        "<p>The strategy had no fills.</p>"


def _latency_html(s: dict) -> str:
    lat = s.get("latency") or {}
    measured = (f"median entry latency of the run's orders {_fmt('{:,}', s.get('entry_latency_ns_median'))} ns, "
                f"median response latency {_fmt('{:,}', s.get('response_latency_ns_median'))} ns")
    if lat.get("model") == "constant":
        return (f"<p>Constant: every order reaches the venue {lat.get('entry_ns', 0):,} ns after it is sent and "
                f"every response comes back {lat.get('response_ns', 0):,} ns after the venue acts ({measured}).</p>")
    if lat.get("model") == "empirical":
        text = (f"<p>Empirical: each order draws its entry and response latency from {lat.get('samples', 0):,} "
                f"samples (seed {lat.get('seed')}); {measured}.</p>")
        hist = lat.get("histogram")
        return text + (latency_histogram_svg(hist["edges_ns"], hist["counts"]) if hist else
                       "<p>The sample set is not in these results, so no histogram is drawn.</p>")
    return f"<p>{html.escape(', '.join(f'{k} {v}' for k, v in lat.items()) or 'not recorded')}</p>"


def latency_histogram_svg(edges: list[float], counts: list[int]) -> str:
    """Bars of the latency samples' distribution (ns on x), as drawn from by the run."""
    w, h, left, bottom = 440, 160, 56, 34
    top = max(counts) if counts else 0
    parts = [f'<svg class="latency-hist" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}" role="img" aria-label="latency samples">',
             f'<rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>']
    n = len(counts)
    pw, ph = w - left - 10, h - bottom - 10
    for k, c in enumerate(counts):
        bh = 0.0 if top == 0 else c / top * ph
        parts.append(f'<rect class="bar" x="{left + k * pw / n:.1f}" y="{10 + ph - bh:.1f}" width="{pw / n - 1:.1f}" '
                     f'height="{bh:.1f}" fill="#1f6fb2"><title>{edges[k]:,.0f}–{edges[k + 1]:,.0f} ns: '
                     f'{c:,}</title></rect>')
    for k in (0, n):
        anchor = "start" if k == 0 else "end"
        parts.append(f'<text x="{left + k * pw / n:.1f}" y="{h - 14}" text-anchor="{anchor}" font-size="11" '
                     f'fill="#444">{edges[k]:,.0f} ns</text>')
    parts.append(f'<text x="{left - 6}" y="16" text-anchor="end" font-size="11" fill="#444">{top:,}</text></svg>')
    return "".join(parts)


def _findings_html(s: dict) -> str:
    rows = []
    constraints = s.get("constraints") or []
    for f in constraints:
        verdict = "holds" if f["holds"] else "VIOLATED"
        rows.append(f'<tr class="constraint {"ok" if f["holds"] else "bad"}"><th>Constraint '
                    f'<code>{html.escape(f["constraint"])}</code></th><td>{verdict} (value {_fmt("{:.6g}", f["value"])})'
                    "</td></tr>")
    if not constraints:
        rows.append("<tr><th>Constraints</th><td>none declared by the strategy</td></tr>")
    quality = s.get("data_quality")
    rows.append(f'<tr class="quality"><th>Data quality</th><td>'
                f'{html.escape(_summary_line(quality).removeprefix("data quality: "))}</td></tr>')
    contracts = ", ".join(f"{k} {v}" for k, v in (s.get("contracts") or {}).items()) or "not recorded"
    rows.append(f"<tr><th>Contracts</th><td>{html.escape(contracts)}</td></tr>")
    rows.append(f"<tr><th>Settlement currency</th><td>{html.escape(s.get('settlement_currency') or 'quote currency')}"
                "</td></tr>")
    rows.append(f"<tr><th>Sharpe/Sortino basis</th><td>{html.escape(s.get('ratio_basis', ''))}</td></tr>")
    return f'<table class="setup findings">{"".join(rows)}</table>'


def render_report(res: BacktestResult) -> str:
    from hftc.backtest.result import ratio_basis

    s = {**res.summary, "ratio_basis": ratio_basis(res.summary)}
    eq = res.equity
    ts, pnl = eq["ts"], eq["pnl"].astype(float)
    currency = s.get("settlement_currency") or "quote ccy"
    # An inverse run settles in the coin: 0.00016 BTC must not print as 0.00.
    inverse = "inverse" in (s.get("contracts") or {}).values()
    rows = "".join(f"<tr><th>{html.escape(label.replace('quote ccy', currency))}</th>"
                   f"<td>{_fmt('{:,.8f}' if inverse and 'quote ccy' in label else fmt, s.get(key))}</td></tr>"
                   for key, label, fmt in _ROWS if key in s)
    tape = str(s.get("tape", ""))
    files, lots, source_note = data_sources(tape) if tape else ([], {}, "no tape recorded")
    imap = s.get("instrument_map") or {}
    symbol0 = next(iter(imap.values()), None)
    setup = {
        "Strategy": s.get("strategy", ""),
        "Data": ", ".join(Path(f).name for f in files) or source_note,
        "Replayed tape": tape,
        "Instruments": ", ".join(f"{k} → {v}" for k, v in imap.items()) + f" ({s.get('instrument_map_how', '')})",
        "Parameters": ", ".join(f"{k} = {v}" for k, v in s.get("params", {}).items()) or "none",
        "Queue model": s.get("queue", ""),
        "Fees (bps)": f"maker {s.get('maker_fee_bps')}, taker {s.get('taker_fee_bps')} ({s.get('fee_source', 'given')})",
        "Capital": _fmt("{:,.2f}", s.get("capital")),
        "Risk gate": s.get("risk", {}).get("source", ""),
    }
    setup_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in setup.items())
    if files:
        setup_rows += ('<tr class="sources"><th>Source files</th><td>'
                       + "<br>".join(html.escape(f) for f in files) + "</td></tr>")
    decisions = s.get("risk_decisions", {})
    risk_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:,}</td></tr>" for k, v in decisions.items() if v)

    fills0 = res.fills[res.fills["symbol"] == symbol0] if symbol0 is not None and len(res.fills) else res.fills[:0]
    mid = eq["mid0"].astype(float)
    mid = np.where(mid > 0, mid, np.nan)  # 0 while the book is one-sided
    marked = fills0[:_MAX_MARKERS]
    markers = [(_side(f["side"]), float(f["local_ts"]), float(f["price"]),
                (f"{_side(f['side'])} {float(f['quantity']):.10g} @ {float(f['price']):.10g} "
                 f"({'maker' if f['maker'] else 'taker'}) {utc_stamp(f['local_ts'])}")) for f in marked]
    left_off = (f" The first {len(marked):,} of {len(fills0):,} fills are marked." if len(fills0) > len(marked)
                else "")
    levels = quote_levels(res.quotes, symbol0, int(ts[-1]) if len(ts) else 0)
    if s.get("quotes_dropped"):
        left_off += f" Quotes after the first {len(res.quotes):,} changes were not recorded."
    lot = lots.get(symbol0) if symbol0 is not None else None
    position = eq["position0"].astype(float) * (lot if lot else 1.0)
    position_unit = "quantity, as in the fills table" if lot else "lots"
    title = f"Backtest of {s.get('strategy', '')}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 920px; color: #222; }}
table {{ border-collapse: collapse; margin: 8px 0 20px; }}
th, td {{ padding: 3px 12px; border-bottom: 1px solid #eee; text-align: left; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
.setup td {{ text-align: left; }}
.constraint.bad td {{ color: #b00; font-weight: bold; }}
.fills {{ font-size: 12px; }} .fills td.buy {{ color: #1a9641; }} .fills td.sell {{ color: #d7191c; }}
.note {{ color: #555; }}
h2 {{ margin-top: 28px; font-size: 17px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table class="setup">{setup_rows}</table>
<h2 id="findings">Findings</h2>
{_findings_html(s)}
<h2 id="latency">Latency</h2>
{_latency_html(s)}
<h2 id="price">Price of {html.escape(str(symbol0 or "instrument 0"))} with the strategy's fills</h2>
<p class="note">Mid price of the strategy's first instrument (line), with its fills at their fill price and the
time the strategy learned of them: <span style="color:#1a9641">▲ buy</span>, <span style="color:#d7191c">▼ sell</span>.
The strategy's quotes are the <span style="color:#1a9641">green (bid)</span> and
<span style="color:#d7191c">red (ask)</span> levels, each from the moment it was decided until it changed or
was withdrawn.{left_off}</p>
{svg_plot(ts, mid, "Mid price, quotes and fills", "#555", include_zero=False, markers=markers, levels=levels)}
<h2 id="position">Position in {html.escape(str(symbol0 or "instrument 0"))} ({position_unit})</h2>
{svg_plot(ts, position, "Position", "#7b3294", steps=True)}
<h2 id="equity">Equity (PnL after fees, marked to mid, in {html.escape(currency)})</h2>
{svg_plot(ts, pnl, "PnL", "#1f6fb2")}
<h2 id="drawdown">Drawdown</h2>
{svg_plot(ts, drawdown(pnl), "Drawdown", "#c0392b", fill_to_zero=True)}
<h2 id="summary">Summary</h2>
<table>{rows}</table>
{"<h2>Risk gate decisions</h2><table>" + risk_rows + "</table>" if risk_rows else ""}
<h2 id="fills">Fills</h2>
{_fills_table(res.fills, currency)}
<p>{len(res.fills):,} fills and {len(eq):,} equity samples are in fills.csv / equity.csv (and .parquet) beside
this report. Times are UTC on the local (strategy) clock.</p>
</body></html>
"""


def _summary_line(quality) -> str:
    from hftc.data.quality import summary_line

    return summary_line(quality)


def write_report(res: BacktestResult, directory: str | Path) -> Path:
    """Write report.html into `directory` (atomically); returns its path."""
    target = Path(directory)
    write_files(target, {"report.html": render_report(res).encode("utf-8")})
    return target / "report.html"
