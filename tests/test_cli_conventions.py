"""CLI conventions: --color, shell completion, `hftc lint -` with --stdin-filename."""

from __future__ import annotations

import os
import pty
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hftc.cli import app
from hftc.diagnostics.color import wants_color

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
BAD = "hftc: 1\npackage: bad.one\nversion: 1\nmessages:\n  M:\n    id: 1\n    fields: {x: NoSuchType}\n"
ESC = "\x1b["


class _Tty:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def bad_schema(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    (tmp_path / "bad.hftc.yaml").write_text(BAD)
    return "bad.hftc.yaml"


def test_color_always_paints_severity_code_and_caret(bad_schema) -> None:
    result = runner.invoke(app, ["--color", "always", "lint", bad_schema])
    assert result.exit_code == 1
    err = result.stderr
    assert "\x1b[1;31merror[HFT0301]\x1b[0m" in err
    assert "\x1b[1;31m^^^^^^^^^^" in err  # the caret under `NoSuchType`, in the severity's colour
    assert "-->\x1b[0m bad.hftc.yaml:7:" in err


def test_color_never_and_auto_off_a_terminal_are_plain(bad_schema) -> None:
    for args in (["--color", "never"], []):
        result = runner.invoke(app, [*args, "lint", bad_schema])
        assert result.exit_code == 1 and "error[HFT0301]" in result.stderr
        assert ESC not in result.stderr


def test_no_color_and_force_color(bad_schema, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm")  # `auto` leaves a dumb terminal plain; this test is about the variables
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC in runner.invoke(app, ["lint", bad_schema]).stderr
    monkeypatch.setenv("NO_COLOR", "1")
    assert ESC not in runner.invoke(app, ["lint", bad_schema]).stderr  # NO_COLOR wins over FORCE_COLOR
    assert ESC in runner.invoke(app, ["--color", "always", "lint", bad_schema]).stderr  # an explicit ask wins
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.delenv("FORCE_COLOR")
    assert wants_color(_Tty(True), "auto") and not wants_color(_Tty(False), "auto")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_color(_Tty(True), "auto") and wants_color(_Tty(False), "always")
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_color(_Tty(True), "auto") and wants_color(_Tty(True), "always")


def test_json_output_stays_plain_with_color_always(bad_schema) -> None:
    result = runner.invoke(app, ["--color", "always", "lint", bad_schema, "--error-format", "json"])
    assert result.exit_code == 1 and ESC not in result.stdout and '"code": "HFT0301"' in result.stdout


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env["TERM"] = "xterm"
    return env


def test_auto_colours_a_real_terminal(tmp_path) -> None:
    """stderr on a pseudo-terminal: `auto` colours; NO_COLOR turns it off."""
    (tmp_path / "bad.hftc.yaml").write_text(BAD)
    for extra, coloured in (({}, True), ({"NO_COLOR": "1"}, False)):
        leader, follower = pty.openpty()
        try:
            proc = subprocess.run([sys.executable, "-m", "hftc", "lint", "bad.hftc.yaml"], cwd=tmp_path,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower,
                                  env={**_env(), **extra}, timeout=120)
            os.close(follower)
            chunks = []
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the terminal's other side is closed and drained
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(leader)
        err = b"".join(chunks).decode()
        assert proc.returncode == 1 and "HFT0301" in err
        assert (ESC in err) is coloured, err


def _hftc_script() -> str:
    """The installed `hftc` console script: completion scripts are keyed by the program's name."""
    script = Path(sys.executable).with_name("hftc")
    assert script.exists(), "hftc is not installed beside this Python (pip install -e .)"
    return str(script)


def _from_bash(*args: str) -> list[str]:
    """The command as a user types it in bash: typer finds the shell by walking up the process tree
    (under `make` the parent would be sh). `; true` keeps bash from exec'ing the command in its place."""
    return ["bash", "-c", " ".join(shlex.quote(a) for a in args) + "; status=$?; true; exit $status"]


def test_show_completion_bash_in_a_subprocess() -> None:
    proc = subprocess.run(_from_bash(_hftc_script(), "--show-completion", "bash"), capture_output=True,
                          text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "complete -o default -F _hftc_completion hftc" in proc.stdout
    assert "_HFTC_COMPLETE=complete_bash" in proc.stdout
    # the completion protocol itself answers: subcommands, then options of one
    for words, expect in (("hftc brea", "breaking"), ("hftc lint --stdin", "--stdin-filename")):
        env = {**_env(), "_HFTC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        done = subprocess.run([_hftc_script()], capture_output=True, text=True, env=env, timeout=120)
        assert expect in done.stdout.split(), done.stdout + done.stderr


def test_install_completion_writes_the_bash_script(tmp_path) -> None:
    env = {**_env(), "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    proc = subprocess.run(_from_bash(_hftc_script(), "--install-completion", "bash"), capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    script = tmp_path / ".bash_completions" / "hftc.sh"
    assert "_hftc_completion" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def test_lint_stdin_names_the_file_and_resolves_imports(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "common.hftc.yaml").write_text(
        "hftc: 1\npackage: desk.common\nversion: 1\ntypes:\n  Price: {decimal: int64, exponent: -8}\n")
    good = ("hftc: 1\npackage: desk.mm\nversion: 1\nimports: [common.hftc.yaml]\n"
            "messages:\n  M:\n    id: 1\n    fields: {p: Price}\n")
    result = runner.invoke(app, ["lint", "-", "--stdin-filename", "desk/mm.hftc.yaml"], input=good)
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["lint", "-", "--stdin-filename", "desk/mm.hftc.yaml"],
                           input=good.replace("p: Price", "p: Prize"))
    assert result.exit_code == 1
    assert "--> desk/mm.hftc.yaml:8:" in result.stderr and "`Price`" in result.stderr
    # without --stdin-filename: `<stdin>`, and the import is looked up from the working folder
    result = runner.invoke(app, ["lint", "-", "--error-format", "json"], input=good)
    assert result.exit_code == 1 and '"file": "<stdin>"' in result.stdout and "HFT0201" in result.stdout
    result = runner.invoke(app, ["lint", "desk/common.hftc.yaml", "--stdin-filename", "desk/mm.hftc.yaml"])
    assert result.exit_code == 2 and "pass `-`" in result.stderr


def test_lint_stdin_in_a_subprocess_like_an_editor(tmp_path) -> None:
    text = (REPO / "examples" / "fx_market_maker.hftc.yaml").read_text()
    cmd = [sys.executable, "-m", "hftc", "lint", "-", "--stdin-filename", str(REPO / "examples" / "fx_mm.hftc.yaml"),
           "--error-format", "github"]
    done = subprocess.run(cmd, input=text, capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = text.replace("schema_id: 7", "schema_id: [7")
    done = subprocess.run(cmd, input=broken, capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=120)
    assert done.returncode == 1
    assert done.stdout.startswith(f"::error file={REPO / 'examples' / 'fx_mm.hftc.yaml'},line=7,")
    done = subprocess.run(cmd[:5], input=b"\xff\xfe", capture_output=True, cwd=tmp_path, env=_env(), timeout=120)
    assert done.returncode == 1 and b"HFT0002" in done.stderr and b"Traceback" not in done.stderr
