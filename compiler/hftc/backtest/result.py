"""What one backtest returns: summary, fills, equity curve, metrics by objective name, files."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hftc.backtest.errors import BacktestError
from hftc.transaction import Tree, replace_entries

#: The keys `hftc backtest --json` prints, in this order.
JSON_KEYS = ("strategy", "events", "seconds", "events_per_s", "fills", "orders", "pnl", "fees", "sharpe", "sortino",
             "annualised", "return_interval_s", "return_bars", "max_drawdown", "turnover", "fill_ratio",
             "max_leverage", "capital", "maker_fee_bps", "taker_fee_bps", "fee_source", "params", "instrument_map",
             "instrument_map_how", "contracts", "settlement_currency", "constraints")


def ratio_basis(summary: dict) -> str:
    """How Sharpe and Sortino were computed, for labels: `annualised, 1m bars` or `per 1m bar`."""
    seconds = float(summary.get("return_interval_s", 60.0))
    bar = f"{seconds / 60:g}m" if seconds % 60 == 0 else f"{seconds:g}s"
    bars = int(summary.get("return_bars", 0))
    if summary.get("annualised"):
        return f"annualised, {bars:,} {bar} bars"
    return f"per {bar} bar, {bars:,} bars; not annualised: the run spans less than a day"

#: Metric names used by schema objectives/constraints -> summary keys.
METRIC_ALIASES = {
    "pnl": "pnl", "sharpe": "sharpe", "sharpe_ratio": "sharpe", "sortino": "sortino", "sortino_ratio": "sortino",
    "max_drawdown": "max_drawdown", "drawdown": "max_drawdown", "turnover": "turnover", "fill_ratio": "fill_ratio",
    "max_leverage": "max_leverage", "leverage": "max_leverage", "max_correlation": "max_correlation",
    "fees": "fees", "fills": "fills", "orders": "orders", "latency": "entry_latency_ns_median",
}

#: Fill rows as Python sees them: the engine's fields plus prices and quantities in natural units.
FILLS_DTYPE = np.dtype([("local_ts", "<i8"), ("exch_ts", "<i8"), ("order_id", "<u8"), ("instrument", "<u2"),
                        ("symbol", "U40"), ("side", "i1"), ("maker", "?"), ("px", "<i8"), ("qty", "<i8"),
                        ("price", "<f8"), ("quantity", "<f8"), ("fee", "<f8")])


#: The strategy's quote changes: when it decided a new price for one side, or withdrew it (qty 0).
QUOTES_DTYPE = np.dtype([("local_ts", "<i8"), ("instrument", "<u2"), ("symbol", "U40"), ("side", "i1"),
                         ("px", "<i8"), ("qty", "<i8"), ("price", "<f8"), ("quantity", "<f8")])


def max_correlation(equity: np.ndarray) -> float:
    """|corr| of per-sample strategy PnL changes and instrument-0 mid returns (0 when undefined).

    A market-neutral strategy should not just ride the market: a value near 1 means the PnL is
    mostly directional exposure to instrument 0. Samples where either mid is missing are skipped.
    """
    if len(equity) < 3:
        return 0.0
    mid = equity["mid0"].astype(float)
    dpnl = np.diff(equity["pnl"].astype(float))
    prev, cur = mid[:-1], mid[1:]
    ok = (prev > 0) & (cur > 0) & np.isfinite(dpnl)
    if ok.sum() < 3:
        return 0.0
    ret = cur[ok] / prev[ok] - 1.0
    d = dpnl[ok]
    if np.std(ret) == 0 or np.std(d) == 0:
        return 0.0
    c = float(np.corrcoef(d, ret)[0, 1])
    return abs(c) if math.isfinite(c) else 0.0


@dataclass
class BacktestResult:
    """`summary` (dict), `fills` and `equity` (numpy structured arrays); see `metric` and `save`."""

    summary: dict
    fills: np.ndarray
    equity: np.ndarray
    quotes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=QUOTES_DTYPE))  # quote changes
    extra: dict = field(default_factory=dict)  # reserved for callers (e.g. walk-forward labels)

    def metric(self, name: str) -> float:
        key = METRIC_ALIASES.get(name.strip().lower())
        if key is None:
            known = ", ".join(sorted(METRIC_ALIASES))
            raise BacktestError("HFT1116", f"unknown backtest metric `{name}`", help=f"known metrics: {known}")
        return float(self.summary[key])

    def json_summary(self) -> dict:
        """Exactly the keys of `hftc backtest --json`."""
        return {k: self.summary[k] for k in JSON_KEYS}

    def save(self, directory: str | os.PathLike, extra: dict[str, bytes] | None = None) -> Path:
        """fills.csv/.parquet, equity.csv/.parquet and summary.json into `directory`.

        The files are replaced together (see write_files), so a reader never sees a half-written
        file nor a mix of two runs. `extra` files (report.html) join the same replacement.
        """
        target = Path(directory)
        files = {
            "summary.json": (json.dumps(_jsonable(self.summary), indent=2, sort_keys=True) + "\n").encode(),
            "fills.csv": _csv(self.fills), "equity.csv": _csv(self.equity),
            "fills.parquet": _parquet(self.fills), "equity.parquet": _parquet(self.equity),
            **(extra or {}),
        }
        write_files(target, files)
        return target


def write_files(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` into `target` all together: a killed run leaves every old file or every new one.

    A new folder is installed whole (hftc.transaction in its parent); an existing one keeps any
    other files and gets these replaced together through a journal inside it.
    """
    if target.exists() and not target.is_dir():
        raise BacktestError("HFT1114", f"cannot write results to {target}: it is a file, not a folder",
                            help="give --report a folder (new or existing)")
    try:
        if target.is_dir():
            replace_entries(target, files)
        else:
            replace_entries(target.parent, {target.name: Tree(files, "summary.json" if "summary.json" in files
                                                              else min(files))})
    except OSError as exc:
        raise BacktestError("HFT1114", f"cannot write results to {target}: {exc.strerror or exc}",
                            help="check that the folder is writable; nothing was left half-written") from None


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return value


def _csv(rows: np.ndarray) -> bytes:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    names = rows.dtype.names or ()
    w.writerow(names)
    columns = [rows[n].tolist() for n in names]
    for values in zip(*columns):
        w.writerow([repr(v) if isinstance(v, float) else v for v in values])
    return out.getvalue().encode()


def _parquet(rows: np.ndarray) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({n: pa.array(rows[n]) for n in rows.dtype.names or ()})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()
