"""The set-up the README's `make test` runs: scripts/system-deps.sh installs what is missing and
nothing else, so a second run changes nothing and needs no tool that Debian 12 lacks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import REPO

SCRIPT = REPO / "scripts" / "system-deps.sh"


def run_setup(tools: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HFTC_TOOLS_DIR": str(tools), "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=1200, check=False)


def test_system_deps_is_idempotent() -> None:
    tools = REPO / ".tools"
    first = run_setup(tools)
    assert first.returncode == 0, first.stderr
    checkov = tools / "bin" / "checkov"
    assert checkov.exists(), first.stdout
    installed = checkov.resolve().stat().st_mtime_ns
    second = run_setup(tools)
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert "system-deps: Debian packages present" in lines, second.stdout
    assert any(line.startswith("system-deps: checkov present (") for line in lines), second.stdout
    assert not any("installing" in line for line in lines), second.stdout
    assert checkov.resolve().stat().st_mtime_ns == installed, "the second run rebuilt checkov's venv"

