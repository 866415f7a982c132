"""`.pre-commit-hooks.yaml`: it parses, matches schema files, and every hook runs a real hftc subcommand."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from hftc.cli import app

REPO = Path(__file__).resolve().parents[1]
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
COMMANDS = get_command(app).commands  # name -> click command, as registered on this checkout


def _hook(hook_id: str) -> dict:
    return next(h for h in HOOKS if h["id"] == hook_id)


def test_hooks_parse_and_cover_lint_format_breaking() -> None:
    assert isinstance(HOOKS, list)
    assert [h["id"] for h in HOOKS] == ["hftc-lint", "hftc-format", "hftc-breaking"]
    for hook in HOOKS:
        assert {"id", "name", "entry", "language", "files"} <= hook.keys()
        assert hook["language"] == "python"
        pattern = re.compile(hook["files"])
        assert pattern.search("desk/mm.hftc.yaml") and pattern.search("a.hftc.yml")
        assert not pattern.search("values.yaml") and not pattern.search("x.hftc.yaml.bak")


def _check_entry(hook: dict) -> None:
    words = shlex.split(hook["entry"]) + list(hook.get("args", []))
    assert words[0] == "hftc"
    command = COMMANDS[words[1]]
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for word in words[2:]:
        if word.startswith("-"):
            assert word in known, f"{hook['id']}: `{word}` is not an option of `hftc {words[1]}`"


@pytest.mark.parametrize("hook_id", ["hftc-lint", "hftc-breaking"])
def test_entry_is_a_registered_subcommand(hook_id: str) -> None:
    _check_entry(_hook(hook_id))


def test_format_hook() -> None:
    """`hftc format` comes with the formatter; once registered its hook must name real options."""
    hook = _hook("hftc-format")
    assert shlex.split(hook["entry"]) == ["hftc", "format", "--check"]
    if "format" in COMMANDS:
        _check_entry(hook)


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env, timeout=60)


def _run_hook(hook: dict, cwd: Path, files: list[str]) -> subprocess.CompletedProcess:
    """As pre-commit runs it: entry, then args, then the matching file names."""
    words = shlex.split(hook["entry"]) + list(hook.get("args", [])) + files
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "hftc", *words[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def test_lint_and_breaking_hooks_run_as_pre_commit_would(tmp_path) -> None:
    schema = "hftc: 1\npackage: hook.demo\nversion: 1\nmessages:\n  Tick:\n    id: 1\n    fields: {px: int64, qty: int64}\n"
    (tmp_path / "demo.hftc.yaml").write_text(schema)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "v1")
    assert _run_hook(_hook("hftc-lint"), tmp_path, ["demo.hftc.yaml"]).returncode == 0
    assert _run_hook(_hook("hftc-breaking"), tmp_path, ["demo.hftc.yaml"]).returncode == 0
    (tmp_path / "demo.hftc.yaml").write_text(schema.replace("{px: int64, qty: int64}", "{qty: int64, px: int64}"))
    done = _run_hook(_hook("hftc-breaking"), tmp_path, ["demo.hftc.yaml"])
    assert done.returncode == 1 and "HFT0713" in done.stderr
