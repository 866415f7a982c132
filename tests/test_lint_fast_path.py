"""`hftc lint` through the console script's own reader (hftc.entry) behaves exactly like the typer
command, without importing the command-line framework; anything else reaches the typer app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from hftc.entry import parse_lint, path_text
from hypothesis import given
from hypothesis import strategies as st

EXAMPLE = "examples/fx_market_maker.hftc.yaml"
ERRORS = "tests/diagnostics/unknown_type.yaml"
WARNINGS = "tests/diagnostics/lints.yaml"

# Runs `main` of one module as the console script would and reports the CLI libraries it imported
# on a last line of stderr.
_RUN = """
import importlib, os, sys
sys.argv = ["hftc", *sys.argv[2:]]


def report():
    sys.stderr.write("\\nIMPORTED " + ",".join(m for m in ("typer", "click", "rich") if m in sys.modules) + "\\n")
    sys.stderr.flush()


exit_now = os._exit
os._exit = lambda code: (report(), exit_now(code))  # the fast path ends with os._exit
module = importlib.import_module({module!r})
code = 0
try:
    module.main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
report()
sys.exit(code)
"""


def _run(module: str, args: list[str], env: dict | None = None, stdin: str = "") -> tuple[int, str, str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    environment.update(env or {})
    proc = subprocess.run([sys.executable, "-c", _RUN.format(module=module), "--", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=180, env=environment, input=stdin, check=False)
    stderr, _, imported = proc.stderr.rpartition("\nIMPORTED ")
    return proc.returncode, proc.stdout, stderr, imported.strip()


CASES = {
    "clean": [EXAMPLE],
    "errors_text": [ERRORS],
    "errors_json": [ERRORS, "--error-format", "json"],
    "errors_github": ["--error-format=github", ERRORS],
    "warnings_text": [WARNINGS],
    "warnings_json_denied": [WARNINGS, "--deny-warnings", "--error-format=json"],
    "several_files": [EXAMPLE, WARNINGS, ERRORS, "--import-path", "examples"],
    "missing_file": ["no/such/schema.yaml", "--error-format", "json"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_path_matches_the_typer_command(name):
    args = ["lint", *CASES[name]]
    fast = _run("hftc.entry", args)
    typer_path = _run("hftc.cli", args)
    assert fast[:3] == typer_path[:3]
    assert fast[3] == "", f"the lint fast path imported {fast[3]}"
    assert "typer" in typer_path[3]


STDIN_CASES = {
    "named": (["-", "--stdin-filename", ERRORS], ERRORS),
    "named_json_with_imports": (["--stdin-filename=" + EXAMPLE, "-", "--error-format", "json"], EXAMPLE),
    "unnamed_imports_from_the_working_folder": (["-"], EXAMPLE),
    "read_twice_among_files": (["-", WARNINGS, "-", "--stdin-filename", WARNINGS], WARNINGS),
    "non_ascii": (["-"], None),
}


@pytest.mark.parametrize("name", sorted(STDIN_CASES))
def test_fast_path_reads_standard_input_as_the_typer_command_does(name):
    """`hftc lint -` (editors, pre-commit) takes the fast path too: same output, nothing cached."""
    args, source = STDIN_CASES[name]
    text = (REPO / source).read_text() if source else "hftc: 1\npackage: caf\xe9\n"
    fast = _run("hftc.entry", ["lint", *args], stdin=text)
    typer_path = _run("hftc.cli", ["lint", *args], stdin=text)
    assert fast[:3] == typer_path[:3]
    assert fast[3] == "", f"the lint fast path imported {fast[3]}"


def test_exit_codes_and_outputs_are_the_documented_ones():
    code, out, err, _ = _run("hftc.entry", ["lint", ERRORS, "--error-format", "json"])
    assert code == 1 and err == "" and [line[:1] for line in out.splitlines()] == ["{", "{"]
    code, out, err, _ = _run("hftc.entry", ["lint", WARNINGS])
    assert code == 0 and out == "" and "warning[" in err
    assert _run("hftc.entry", ["lint", EXAMPLE])[:3] == (0, "", "")


@pytest.mark.parametrize("args", [["lint"], ["lint", EXAMPLE, "--error-format", "xml"], ["lint", "--help"],
                                  ["--version"], ["explain", "HFT0402"]])
def test_what_the_fast_path_does_not_read_goes_to_the_typer_app(args):
    fast = _run("hftc.entry", args)
    assert fast[:3] == _run("hftc.cli", args)[:3]
    assert "typer" in fast[3]


def test_colour_is_rendered_here_as_the_typer_app_renders_it():
    """Coloured text (forced here; a terminal does the same) comes from the reader too, identical to
    the typer app's, and is kept apart from plain text in the lint cache."""
    for args in (["lint", "--no-cache", ERRORS], ["lint", "--no-cache", WARNINGS, EXAMPLE]):
        fast = _run("hftc.entry", args, env={"FORCE_COLOR": "1"})
        assert fast[:3] == _run("hftc.cli", args, env={"FORCE_COLOR": "1"})[:3]
        assert "\x1b[" in fast[2] and fast[3] == ""


def test_coloured_and_plain_results_are_cached_apart(tmp_path):
    cache = {"XDG_CACHE_HOME": str(tmp_path)}
    plain = _run("hftc.entry", ["lint", ERRORS], env=cache)
    coloured = _run("hftc.entry", ["lint", ERRORS], env={**cache, "FORCE_COLOR": "1"})
    assert "\x1b[" in coloured[2] and "\x1b[" not in plain[2]
    assert _run("hftc.entry", ["lint", ERRORS], env=cache)[:3] == plain[:3]
    assert _run("hftc.entry", ["lint", ERRORS], env={**cache, "FORCE_COLOR": "1"})[:3] == coloured[:3]
    assert len(list((tmp_path / "hftc" / "lint").glob("*.json"))) == 2


@pytest.mark.parametrize("args", [
    ["lint", "x.yaml", "--stdin-filename", "y.yaml"], ["lint", "-", "--stdin-filename"],
    ["lint", "x.yaml", "--color", "never"],
    ["--color", "never", "lint", "x.yaml"], ["lint", "--", "x.yaml"], ["lint", "x.yaml", "--error-format"],
    ["lint", "x.yaml", "--import-path"], ["lint", "x.yaml", "--import-path="], ["lint", ""], ["lint"],
    ["lint", "x.yaml", "--deny-warnings=yes"], ["lint", "x.yaml", "--error-format", "JSON"], ["build", "x.yaml"],
    [],
])
def test_parse_lint_declines_what_it_does_not_fully_understand(args):
    assert parse_lint(args) is None


def test_parse_lint_reads_files_and_options_like_click():
    request = parse_lint(["lint", "./a.yaml", "--error-format", "text", "b//c.yaml", "--error-format=json",
                          "--deny-warnings", "--import-path", "lib/", "--import-path=other"])
    assert request.schemas == ["a.yaml", "b/c.yaml"]  # as str(pathlib.Path(...)), which typer passes
    assert request.error_format == "json" and request.deny_warnings  # the last --error-format wins
    assert request.import_paths == ["lib", "other"]


def test_linting_imports_nothing_only_building_needs():
    """A lint compiles and runs the targets' checks: the formatters and the atomic writer (with their
    subprocess and ctypes) are `hftc build`'s alone, and a target whose check reports nothing is not loaded."""
    code = ("import sys\nfrom hftc.entry import parse_lint, run_lint\n"
            f"assert run_lint(parse_lint(['lint', '--no-cache', {EXAMPLE!r}])) == 0\n"
            "print(sorted(m for m in ('hftc.driver.build', 'hftc.driver.format', 'hftc.driver.write', 'hftc.transaction',"
            " 'subprocess', 'ctypes', 'hftc.backends.docs', 'hftc.backends.grafana', 'typer', 'click', 'rich')"
            " if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=180,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_language_server_starts_without_the_command_line_framework():
    """`hftc lsp` goes straight to the server; it serves the initialize request and ends at end of input."""
    import json

    def message(body: dict) -> bytes:
        data = json.dumps(body).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(data), data)

    requests = (message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                         "params": {"processId": None, "rootUri": None, "capabilities": {}}})
                + message({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
                + message({"jsonrpc": "2.0", "method": "exit"}))
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    proc = subprocess.run([sys.executable, "-c", _RUN.format(module="hftc.entry"), "--", "lsp"], cwd=REPO, check=False,
                          input=requests, capture_output=True, timeout=180, env=environment)
    assert b'"id": 1' in proc.stdout.replace(b'"id":1', b'"id": 1') and b"hftc" in proc.stdout
    assert proc.stderr.decode().rpartition("\nIMPORTED ")[2].strip() == ""


@given(st.text(alphabet="/.ab \\", max_size=16).filter(lambda w: "\0" not in w))
def test_path_text_is_what_pathlib_makes_of_an_argument(word):
    """The reader hands paths on as typer does (`str(Path(word))`), without importing pathlib."""
    assert path_text(word) == str(Path(word))
