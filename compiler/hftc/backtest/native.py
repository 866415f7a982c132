"""ctypes binding of a compiled backtest library (the C ABI of templates/shim.cpp.j2).

ctypes drops the GIL for the duration of a foreign call, so several backtests of one library
can run in threads; the library keeps no global state.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from hftc.backtest.errors import BacktestError

ABI_VERSION = 6
MAX_INSTRUMENTS = 8  # hft::backtest::kMaxInstruments
RISK_DECISIONS = ("accept", "kill_switch", "invalid_order", "max_order_qty", "max_notional", "max_position",
                  "no_market", "price_band", "order_rate", "duplicate_order_id", "max_open_orders",
                  "max_open_notional", "overflow")

_i64, _u64, _f64 = ctypes.c_int64, ctypes.c_uint64, ctypes.c_double


class Config(ctypes.Structure):
    _fields_ = [
        ("entry_latency_ns", _i64), ("response_latency_ns", _i64),
        ("latency_samples", ctypes.POINTER(_i64)), ("latency_sample_count", _u64), ("seed", _u64),
        ("queue_model", _i64), ("queue_power", _f64), ("maker_fee_bps", _f64), ("taker_fee_bps", _f64),
        ("capital", _f64), ("start_ns", _i64), ("end_ns", _i64), ("sample_ns", _i64),
        ("risk_enabled", _i64), ("risk_max_position", _i64), ("risk_max_order_qty", _i64),
        ("risk_max_orders_per_second", _i64), ("risk_price_band_bps", _i64), ("risk_max_notional", _i64),
        ("risk_kill_switch", _i64), ("legs", _i64 * MAX_INSTRUMENTS), ("bar_ns", _i64),
        ("inverse", _i64 * MAX_INSTRUMENTS), ("cancel_policy", _i64),
        ("risk_max_open_notional", _i64), ("risk_max_open_orders", _i64),
    ]


_SUMMARY_COUNTS = ("events", "strategy_calls", "orders", "cancels", "fills", "orders_filled", "risk_rejects",
                   "post_only_rejects")
_SUMMARY_FLOATS = ("pnl", "fees", "turnover", "sharpe", "sortino", "max_drawdown", "fill_ratio", "max_leverage",
                   "seconds", "events_per_s")
_SUMMARY_LATENCY = ("entry_latency_ns_median", "response_latency_ns_median")


class Summary(ctypes.Structure):
    _fields_ = ([(n, _u64) for n in _SUMMARY_COUNTS] + [(n, _f64) for n in _SUMMARY_FLOATS]
                + [(n, _i64) for n in _SUMMARY_LATENCY] + [("risk_decisions", _u64 * 16)]
                + [("return_bars", _u64), ("annualised", _i64), ("quotes_dropped", _u64)])


#: numpy layouts of the C structs hftc_bt_fill / hftc_bt_equity (all fields 8 bytes).
FILL_DTYPE = np.dtype([("local_ts", "<i8"), ("exch_ts", "<i8"), ("order_id", "<u8"), ("instrument", "<i8"),
                       ("side", "<i8"), ("maker", "<i8"), ("px", "<i8"), ("qty", "<i8"), ("fee", "<f8")])
QUOTE_DTYPE = np.dtype([("local_ts", "<i8"), ("instrument", "<i8"), ("side", "<i8"), ("px", "<i8"), ("qty", "<i8")])
EQUITY_DTYPE = np.dtype([("ts", "<i8"), ("equity", "<f8"), ("pnl", "<f8"), ("gross_notional", "<f8"),
                         ("position0", "<i8"), ("mid0", "<f8")])


class Library:
    """One loaded backtest library."""

    def __init__(self, path: Path):
        lib = ctypes.CDLL(str(path))
        lib.hftc_bt_abi_version.restype = _i64
        if lib.hftc_bt_abi_version() != ABI_VERSION:
            raise BacktestError("HFT1107", f"{path} has C ABI version {lib.hftc_bt_abi_version()}, "
                                           f"expected {ABI_VERSION}", help="delete the file; it is rebuilt")
        lib.hftc_bt_param_count.restype = _u64
        lib.hftc_bt_instrument_count.restype = _u64
        lib.hftc_bt_run.restype = ctypes.c_void_p
        lib.hftc_bt_run.argtypes = [ctypes.c_char_p, ctypes.POINTER(Config), ctypes.POINTER(_f64), _u64]
        lib.hftc_bt_error.restype = ctypes.c_char_p
        lib.hftc_bt_error.argtypes = [ctypes.c_void_p]
        lib.hftc_bt_get_summary.restype = None
        lib.hftc_bt_get_summary.argtypes = [ctypes.c_void_p, ctypes.POINTER(Summary)]
        for what in ("fill", "equity", "quote"):
            count = getattr(lib, f"hftc_bt_{what}_count")
            count.restype, count.argtypes = _u64, [ctypes.c_void_p]
        lib.hftc_bt_copy_fills.restype = None
        lib.hftc_bt_copy_fills.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.hftc_bt_copy_quotes.restype = None
        lib.hftc_bt_copy_quotes.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.hftc_bt_copy_equity.restype = None
        lib.hftc_bt_copy_equity.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.hftc_bt_free.restype = None
        lib.hftc_bt_free.argtypes = [ctypes.c_void_p]
        self.path = path
        self.param_count = int(lib.hftc_bt_param_count())
        self.instrument_count = int(lib.hftc_bt_instrument_count())
        self._lib = lib

    def run(self, tape_path: str, config: Config,
            params: list[float]) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
        """(summary dict, fills, equity, quote changes); BacktestError (HFT1113) with the engine's message on failure."""
        values = (_f64 * max(len(params), 1))(*params)
        handle = self._lib.hftc_bt_run(tape_path.encode(), ctypes.byref(config), values, len(params))
        if not handle:
            raise MemoryError("the backtest library could not allocate its result")
        try:
            err = self._lib.hftc_bt_error(handle)
            if err is not None:
                raise BacktestError("HFT1113", f"the backtest failed: {err.decode(errors='replace')}",
                                    help="check the tape (`hftc data convert` writes valid ones) and the options")
            s = Summary()
            self._lib.hftc_bt_get_summary(handle, ctypes.byref(s))
            summary: dict = {n: int(getattr(s, n)) for n in _SUMMARY_COUNTS}
            summary.update({n: float(getattr(s, n)) for n in _SUMMARY_FLOATS})
            summary.update({n: int(getattr(s, n)) for n in _SUMMARY_LATENCY})
            summary["return_bars"] = int(s.return_bars)
            summary["annualised"] = bool(s.annualised)
            summary["quotes_dropped"] = int(s.quotes_dropped)
            summary["risk_decisions"] = {name: int(s.risk_decisions[i]) for i, name in enumerate(RISK_DECISIONS)}
            fills = np.empty(int(self._lib.hftc_bt_fill_count(handle)), dtype=FILL_DTYPE)
            if len(fills):
                self._lib.hftc_bt_copy_fills(handle, fills.ctypes.data)
            quotes = np.empty(int(self._lib.hftc_bt_quote_count(handle)), dtype=QUOTE_DTYPE)
            if len(quotes):
                self._lib.hftc_bt_copy_quotes(handle, quotes.ctypes.data)
            equity = np.empty(int(self._lib.hftc_bt_equity_count(handle)), dtype=EQUITY_DTYPE)
            if len(equity):
                self._lib.hftc_bt_copy_equity(handle, equity.ctypes.data)
            return summary, fills, equity, quotes
        finally:
            self._lib.hftc_bt_free(handle)


_loaded: dict[Path, Library] = {}
_loaded_lock = threading.Lock()


def load(path: Path) -> Library:
    """The library at `path`, loaded once per process."""
    with _loaded_lock:
        lib = _loaded.get(path)
        if lib is None:
            lib = _loaded[path] = Library(path)
        return lib
