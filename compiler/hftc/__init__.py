"""hftc: a compiler from one YAML trading-system schema to code and configuration."""

__version__ = "0.1.0"
