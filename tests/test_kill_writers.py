"""SIGKILL at timed moments leaves the complete old or new output, and the next run cleans up.

The campaign itself lives in tests/kill_writers.py (also runnable alone for the figures).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import kill_writers  # noqa: E402


@pytest.mark.skipif(shutil.which("clang-format") is None or shutil.which("rustfmt") is None,
                    reason="the build campaign formats real cpp/rust output: needs clang-format and rustfmt")
def test_killed_builds_leave_old_or_new_targets_never_a_mix(tmp_path):
    figures = kill_writers.campaign("build", 12, tmp_path)
    assert figures["leftovers_after_kill"] > 0, figures  # the kills did interrupt builds ...
    assert figures["incomplete"] == 0, figures
    assert figures["mixed"] == 0, figures
    assert figures["leftovers_after_next_run"] == 0, figures


def test_killed_converts_leave_a_whole_tape_and_no_temporaries(tmp_path):
    figures = kill_writers.campaign("convert", 12, tmp_path)
    assert figures["leftovers_after_kill"] > 0, figures  # the kills did interrupt writes ...
    assert {k: figures[k] for k in ("incomplete", "leftovers_after_next_run")} == \
        {"incomplete": 0, "leftovers_after_next_run": 0}, figures  # ... yet left a whole tape, then no temporary
