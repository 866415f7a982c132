"""Native backtests of schema strategies, driven from Python.

    engine = compile_strategy(schema_ir, "mm")     # generate + compile (cached) + load
    res = engine.run("btcusdt.hftt", params={"spread_bps": 0.7}, options=BacktestOptions(latency_ns=1_000_000))
    res.summary, res.fills, res.equity, res.metric("sharpe_ratio"), res.save("out/")

The strategy runs as C++ (exprgen) inside hft::backtest (runtime_cpp/include/hft/backtest), one
shared library per strategy called through ctypes, so trials can run in threads.

Names are imported on first use, so `hftc backtest --help` (which loads hftc.backtest.cli)
does not pay for numpy and the compiler front end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hftc.backtest.api import CompiledStrategy as CompiledStrategy
    from hftc.backtest.api import compile_strategy as compile_strategy
    from hftc.backtest.errors import BacktestError as BacktestError
    from hftc.backtest.options import BacktestOptions as BacktestOptions
    from hftc.backtest.result import BacktestResult as BacktestResult

_HOMES = {
    "CompiledStrategy": "hftc.backtest.api",
    "compile_strategy": "hftc.backtest.api",
    "BacktestError": "hftc.backtest.errors",
    "BacktestOptions": "hftc.backtest.options",
    "BacktestResult": "hftc.backtest.result",
}

__all__ = ["BacktestError", "BacktestOptions", "BacktestResult", "CompiledStrategy", "compile_strategy"]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'hftc.backtest' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
