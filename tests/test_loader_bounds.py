"""The loader bounds its work: aliases, nesting, literal length, file size and file kind; a 1 MB
schema compiles clean; no input reaches the internal-error path (HFT0000)."""

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


def test_a_1mb_schema_lints_clean_with_every_message():
    """What the 1 MB case must give; how long it takes is measured by benchmarks/lint_scale.py
    (a script: timings depend on the machine), not asserted here."""
    from hftc.driver.build import check_targets

    text = big_schema(16700)
    assert len(text) > 1_000_000
    result = compile_text("big.hftc.yaml", text)
    assert result.ok and result.diagnostics == [], result.diagnostics[:3]
    messages = result.ir.messages
    assert [m.name for m in messages] == [f"M{i}" for i in range(16700)]
    assert [m.id for m in messages] == list(range(1, 16701))
    assert {tuple((f.name, f.type, f.offset, f.size) for f in m.fields) for m in messages} == {
        (("a", "uint32", 0, 4), ("b", "uint64", 4, 8), ("c", "int64", 12, 8))}
    assert {m.block_length for m in messages} == {20}
    assert messages[-1].span.line == text.count("\n") - 2  # `M16699:`, three lines from the end
    assert check_targets(result.ir) == []


def test_shipped_anchors_and_aliases_still_expand(tmp_path):
    text = ("hftc: 1\npackage: x\ntypes:\n  A: &a {char: 4}\nmessages:\n"
            "  M: {id: 1, fields: {a: A}}\n  N: {id: 2, fields: &f {a: A, b: uint8}}\n  O: {id: 3, fields: *f}\n")
    result = compile_text("alias.hftc.yaml", text)
    assert result.ok, result.diagnostics
    assert [len(m.fields) for m in result.ir.messages] == [1, 2, 2]
