"""hftc: a compiler from one YAML trading-system schema to code and configuration."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """The seed's API names, imported on first use so `import hftc` stays fast."""
    if name == "AIStrategyEngine":
        from hftc.optimize.engine import AIStrategyEngine

        return AIStrategyEngine
    raise AttributeError(f"module 'hftc' has no attribute {name!r}")
