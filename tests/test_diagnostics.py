"""Diagnostics exactly as users see them: one golden file per broken schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hftc.diagnostics.model import Severity
from hftc.diagnostics.render import render_all
from hftc.driver.lint import lint_file

from conftest import REPO

CASES = sorted(p for p in (REPO / "tests" / "diagnostics").glob("*.yaml") if not p.name.endswith("_lib.yaml"))


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    # Paths in diagnostics are relative to the working directory.
    monkeypatch.chdir(REPO)


def _lint(path: Path):
    result = lint_file(os.path.relpath(path, REPO))
    return result, render_all(result.diagnostics, "text", result.sources.lookup)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_diagnostic_golden(case: Path, golden) -> None:
    result, text = _lint(case)
    assert result.diagnostics, f"{case.name} should produce diagnostics"
    golden.check(f"diagnostics/{case.stem}.txt", text + "\n")


def test_at_least_25_distinct_error_kinds() -> None:
    codes = set()
    for case in CASES:
        result, _ = _lint(case)
        codes |= {d.code for d in result.diagnostics if d.severity is Severity.ERROR}
    assert len(codes) >= 25, sorted(codes)


def test_every_emitted_code_is_documented() -> None:
    from hftc.diagnostics.codes import CODES

    for case in CASES:
        result, _ = _lint(case)
        for d in result.diagnostics:
            assert d.code in CODES, d.code


def test_diagnostics_are_sorted_and_all_collected() -> None:
    result, _ = _lint(REPO / "tests" / "diagnostics" / "unknown_type.yaml")
    assert [d.code for d in result.diagnostics] == ["HFT0301", "HFT0301"]  # no "unused Price" noise
    lines = [d.span.line for d in result.diagnostics]
    assert lines == sorted(lines)


def test_json_format_is_one_object_per_line() -> None:
    result, _ = _lint(REPO / "tests" / "diagnostics" / "budget_exceeded.yaml")
    out = render_all(result.diagnostics, "json", result.sources.lookup)
    records = [json.loads(line) for line in out.splitlines()]
    (budget,) = [r for r in records if r["code"] == "HFT0402"]
    assert budget["span"]["file"] == "tests/diagnostics/budget_exceeded.yaml"
    assert len(budget["secondary"]) == 2  # both stage budgets are pointed at


def test_github_format(golden) -> None:
    result, _ = _lint(REPO / "tests" / "diagnostics" / "unknown_type.yaml")
    golden.check("diagnostics/unknown_type.github.txt", render_all(result.diagnostics, "github", result.sources.lookup) + "\n")


def test_did_you_mean_for_keys_and_names() -> None:
    result, _ = _lint(REPO / "tests" / "diagnostics" / "unknown_key.yaml")
    assert result.diagnostics[0].help == "did you mean `messages`?"
    result, _ = _lint(REPO / "tests" / "diagnostics" / "unknown_type.yaml")
    assert result.diagnostics[0].help == "did you mean `Price`?"


def test_lint_reports_what_build_reports() -> None:
    """Every diagnostic `hftc build` reports for a target is in `hftc lint`'s output."""
    from hftc.driver.build import generate
    from hftc.driver.registry import known_targets
    from hftc.frontend import compile_file

    for case in ("lint_backend_checks.yaml", "lints.yaml"):
        linted = {(d.code, d.message) for d in _lint(REPO / "tests" / "diagnostics" / case)[0].diagnostics}
        ir = compile_file(f"tests/diagnostics/{case}").ir
        for target in known_targets():
            built = {(d.code, d.message) for d in generate(ir, [target], "unused").diagnostics
                     if not d.code.startswith("HFT08")}  # formatter availability, not the schema
            assert built <= linted, (case, target, built - linted)
    codes = {d.code for d in _lint(REPO / "tests" / "diagnostics" / "lint_backend_checks.yaml")[0].diagnostics}
    assert {"HFT0611", "HFT0627", "HFT0821"} <= codes


def test_role_diagnostics_point_at_the_declaration() -> None:
    result, _ = _lint(REPO / "tests" / "diagnostics" / "fields_map_bad.yaml")
    by_code = {}
    for d in result.diagnostics:
        by_code.setdefault(d.code, []).append(d)
    unknown = by_code["HFT0647"][0]
    assert (unknown.span.line, unknown.help) == (15, "did you mean `px`?")
    assert by_code["HFT0648"][0].span.line == 15 and "`level_side` is `Side`" in by_code["HFT0648"][0].message
    assert by_code["HFT0649"][0].span.line == 31
    assert all(d.severity is Severity.ERROR for d in result.diagnostics if d.code in ("HFT0647", "HFT0648", "HFT0649"))
