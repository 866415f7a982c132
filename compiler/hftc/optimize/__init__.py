"""`hftc optimize`: Optuna search over a strategy's parameters, scored by the native backtest.

Light on purpose: the CLI imports `hftc.optimize.cli` at start-up, so Optuna and
the backtest load only when a command or the seed API runs.
"""


def __getattr__(name: str):
    if name == "AIStrategyEngine":
        from hftc.optimize.engine import AIStrategyEngine

        return AIStrategyEngine
    raise AttributeError(f"module 'hftc.optimize' has no attribute {name!r}")
