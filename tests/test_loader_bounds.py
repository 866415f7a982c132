"""The loader bounds its work: aliases, nesting, literal length, file size, file kind, and time
linear in the schema's size; no input reaches the internal-error path (HFT0000)."""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hftc.cli import app
from hftc.frontend import compile_file, compile_text
from hftc.frontend.sources import MAX_FILE_BYTES

sys.path.insert(0, str(Path(__file__).parent))
from loader_bound_cases import CASES, big_schema  # noqa: E402

runner = CliRunner()


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_runaway_input_gets_an_ordinary_diagnostic_quickly(name):
    text, code = CASES[name]
    tracemalloc.start()
    started = time.process_time()
    try:
        result = compile_text("bounds.hftc.yaml", text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    spent = time.process_time() - started
    codes = [d.code for d in result.diagnostics]
    assert codes and codes[0] == code, (name, result.diagnostics[:3])
    assert not result.ok
    assert spent < 5, f"{name} took {spent:.1f} s"
    assert peak < 100 * 2**20, f"{name} peaked at {peak / 2**20:.0f} MB"


@pytest.mark.parametrize("name", ["alias_bomb", "integer_5000_digits", "expression_parentheses_3000"])
def test_cli_json_output_is_json_and_exit_1(tmp_path, name):
    path = tmp_path / "bounds.hftc.yaml"
    path.write_text(CASES[name][0])
    out = runner.invoke(app, ["lint", str(path), "--error-format", "json"])
    assert out.exit_code == 1, out.output
    docs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert docs and all(d["code"] != "HFT0000" for d in docs)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.hftc.yaml"
    with open(path, "wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    result = compile_file(str(path))
    assert [d.code for d in result.diagnostics] == ["HFT0001"] and "too large" in result.diagnostics[0].message


def test_a_1mb_schema_compiles_in_time_linear_in_its_size():
    small, large = big_schema(1670), big_schema(16700)
    assert len(large) > 1_000_000

    def cpu(text: str) -> float:
        started = time.process_time()
        result = compile_text("big.hftc.yaml", text)
        assert result.ok, result.diagnostics[:3]
        return time.process_time() - started

    cpu(small)  # warm the imports
    t_small, t_large = cpu(small), cpu(large)
    assert t_large < 15, f"1 MB schema took {t_large:.1f} s of CPU (37.6 s before the loader was bounded)"
    assert t_large < 20 * max(t_small, 0.05), f"10x the input took {t_large / t_small:.1f}x the time"


def test_shipped_anchors_and_aliases_still_expand(tmp_path):
    text = ("hftc: 1\npackage: x\ntypes:\n  A: &a {char: 4}\nmessages:\n"
            "  M: {id: 1, fields: {a: A}}\n  N: {id: 2, fields: &f {a: A, b: uint8}}\n  O: {id: 3, fields: *f}\n")
    result = compile_text("alias.hftc.yaml", text)
    assert result.ok, result.diagnostics
    assert [len(m.fields) for m in result.ir.messages] == [1, 2, 2]
