"""Options of the Python-level benchmarks (pytest-benchmark)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench-count", type=int, default=20_000,
                     help="messages in each benchmark's buffer (use 1000000 when timing)")
