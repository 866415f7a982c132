"""A self-contained HTML report of one backtest: summary table, equity and drawdown plots.

The plots are inline SVG drawn here (no plotting library, no scripts, no external files), so
the report opens anywhere and can be mailed or archived as one file.
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
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 78, 16, 14, 34
_MAX_POINTS = 1500  # per series, after min/max bucketing

_ROWS = (
    ("pnl", "PnL (quote ccy, after fees)", "{:,.2f}"), ("fees", "Fees", "{:,.2f}"),
    ("sharpe", "Sharpe", "{:.3f}"), ("sortino", "Sortino", "{:.3f}"), ("ratio_basis", "Sharpe/Sortino basis", "{}"),
    ("max_drawdown", "Max drawdown", "{:,.2f}"), ("turnover", "Turnover", "{:,.2f}"),
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


def _clock(ns: float) -> str:
    return _dt.datetime.fromtimestamp(ns / 1e9, _dt.UTC).strftime("%H:%M:%S")


def svg_plot(ts: np.ndarray, y: np.ndarray, title: str, color: str, fill_to_zero: bool = False) -> str:
    """An SVG line plot of y over UTC time `ts` (ns), with labelled axes."""
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
              f'role="img" aria-label="{html.escape(title)}">'),
             f'<rect x="0" y="0" width="{_W}" height="{_H}" fill="#fff"/>']
    ok = np.isfinite(y)
    if ok.sum() < 1:
        parts.append(f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle" fill="#666">no samples</text></svg>')
        return "".join(parts)
    x, yv = _thin(ts[ok].astype(float), y[ok].astype(float))
    x0, x1 = float(x[0]), float(x[-1]) if x[-1] > x[0] else float(x[0]) + 1.0
    lo, hi = float(min(yv.min(), 0.0)), float(max(yv.max(), 0.0))
    if hi == lo:
        hi, lo = hi + 1.0, lo - 1.0
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
        parts.append(f'<text x="{px(t):.1f}" y="{_H - 12}" text-anchor="{anchor}" font-size="11" '
                     f'fill="#444">{_clock(t)}</text>')
    parts.append(f'<line x1="{_PAD_L}" y1="{py(0.0):.1f}" x2="{_W - _PAD_R}" y2="{py(0.0):.1f}" stroke="#999"/>')
    points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, yv))
    if fill_to_zero:
        area = f"{px(float(x[0])):.1f},{py(0.0):.1f} {points} {px(float(x[-1])):.1f},{py(0.0):.1f}"
        parts.append(f'<polygon points="{area}" fill="{color}" fill-opacity="0.25" stroke="none"/>')
    parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.4"/>')
    parts.append(f'<rect x="{_PAD_L}" y="{_PAD_T}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>')
    parts.append("</svg>")
    return "".join(parts)


def drawdown(pnl: np.ndarray) -> np.ndarray:
    """Equity below its running peak (<= 0), in quote currency."""
    if not len(pnl):
        return pnl.astype(float)
    return pnl - np.maximum.accumulate(pnl)


def render_report(res: BacktestResult) -> str:
    from hftc.backtest.result import ratio_basis

    s = {**res.summary, "ratio_basis": ratio_basis(res.summary)}
    eq = res.equity
    ts, pnl = eq["ts"], eq["pnl"].astype(float)
    rows = "".join(f"<tr><th>{html.escape(label)}</th><td>{_fmt(fmt, s.get(key))}</td></tr>"
                   for key, label, fmt in _ROWS if key in s)
    setup = {
        "Strategy": s.get("strategy", ""), "Tape": s.get("tape", ""),
        "Instruments": ", ".join(f"{k} → {v}" for k, v in s.get("instrument_map", {}).items())
        + f" ({s.get('instrument_map_how', '')})",
        "Parameters": ", ".join(f"{k} = {v}" for k, v in s.get("params", {}).items()) or "none",
        "Latency": ", ".join(f"{k} {v}" for k, v in s.get("latency", {}).items()),
        "Queue model": s.get("queue", ""),
        "Constraints": "; ".join(f"{f['constraint']}: {'holds' if f['holds'] else 'VIOLATED'} "
                                 f"({f['value']:.6g})" for f in s.get("constraints", [])) or "none declared",
        "Contracts": ", ".join(f"{k} {v}" for k, v in s.get("contracts", {}).items())
        + f"; PnL, fees and equity in {s.get('settlement_currency') or 'quote currency'}",
        "Fees (bps)": f"maker {s.get('maker_fee_bps')}, taker {s.get('taker_fee_bps')} ({s.get('fee_source', 'given')})",
        "Capital": _fmt("{:,.2f}", s.get("capital")),
        "Risk gate": s.get("risk", {}).get("source", ""),
        "Data": _summary_line(s.get("data_quality")).removeprefix("data quality: ") if "data_quality" in s else "",
    }
    setup_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in setup.items())
    decisions = s.get("risk_decisions", {})
    risk_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:,}</td></tr>" for k, v in decisions.items() if v)
    title = f"Backtest of {s.get('strategy', '')}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 920px; color: #222; }}
table {{ border-collapse: collapse; margin: 8px 0 20px; }}
th, td {{ padding: 3px 12px; border-bottom: 1px solid #eee; text-align: left; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
.setup td {{ text-align: left; }}
h2 {{ margin-top: 28px; font-size: 17px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table class="setup">{setup_rows}</table>
<h2>Equity (PnL after fees, marked to mid)</h2>
{svg_plot(ts, pnl, "PnL", "#1f6fb2")}
<h2>Drawdown</h2>
{svg_plot(ts, drawdown(pnl), "Drawdown", "#c0392b", fill_to_zero=True)}
<h2>Summary</h2>
<table>{rows}</table>
{"<h2>Risk gate decisions</h2><table>" + risk_rows + "</table>" if risk_rows else ""}
<p>{len(res.fills):,} fills and {len(eq):,} equity samples are in fills.csv / equity.csv (and .parquet) beside
this report.</p>
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
