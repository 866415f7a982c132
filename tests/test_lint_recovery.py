"""One lint run reports every independent error: parts that fail validation are left out and the rest
still goes through the semantic passes and every target's checks, without consequential errors."""

from __future__ import annotations

import shutil
from pathlib import Path

from hftc.diagnostics.model import Severity
from hftc.driver.lint import lint_file, lint_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fx_market_maker.hftc.yaml"

# Three mistakes met by three different stages: schema validation (an unknown key in the type
# TimeInForce, which NewOrder uses), name resolution (an unknown field type) and a target's check
# (terraform: a zone outside the deployment's region).
MISTAKES = (
    ("TimeInForce: {enum: uint8,", "TimeInForce: {enum: uint8, colour: red,"),
    ("      seq: uint64\n      ts_exchange: {type: uint64, unit: ns}\n      aggressor",
     "      seq: Seqq\n      ts_exchange: {type: uint64, unit: ns}\n      aggressor"),
    ("region: us-east-1,", "region: us-east-1, zone: eu-west-1a,"),
)
EXPECTED = [("HFT0101", "unknown key `colour`"), ("HFT0301", "unknown type `Seqq`"),
            ("HFT0626", "deployment `prod`: zone `eu-west-1a` is not in region `us-east-1`")]


def _schema(tmp_path: Path, mistakes=MISTAKES) -> Path:
    shutil.copy(EXAMPLE.parent / "common.hftc.yaml", tmp_path / "common.hftc.yaml")
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in mistakes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "mm.hftc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _errors(result) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in result.diagnostics if d.severity is Severity.ERROR]


def test_three_independent_mistakes_in_one_run(tmp_path: Path) -> None:
    result = lint_file(str(_schema(tmp_path)))
    # Exactly the three: no "unknown type `TimeInForce`" for the type left out, no backend failure.
    assert _errors(result) == EXPECTED
    lines = {d.code: d.span.line for d in result.diagnostics}
    text = (tmp_path / "mm.hftc.yaml").read_text().splitlines()
    assert "colour" in text[lines["HFT0101"] - 1]
    assert "Seqq" in text[lines["HFT0301"] - 1]
    assert "prod:" in text[lines["HFT0626"] - 1]  # the deployment


def test_each_mistake_alone_is_reported_the_same(tmp_path: Path) -> None:
    for mistake, expected in zip(MISTAKES, EXPECTED):
        folder = tmp_path / expected[0]
        folder.mkdir()
        assert _errors(lint_file(str(_schema(folder, (mistake,))))) == [expected]


def test_a_required_key_missing_still_stops_early(tmp_path: Path) -> None:
    text = "hftc: 1\ntypes: {P: {decimal: int64, exponent: -2}}\n"
    result = lint_text(str(tmp_path / "x.hftc.yaml"), text)
    assert result.ir is None
    assert _errors(result) == [("HFT0102", "missing required key `package`")]


def test_lint_text_matches_lint_file(tmp_path: Path) -> None:
    path = _schema(tmp_path)
    from_text = lint_text(str(path), path.read_text(encoding="utf-8"))
    assert _errors(from_text) == _errors(lint_file(str(path)))


def test_hftc_lint_shows_all_three(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = _schema(tmp_path)
    done = subprocess.run([sys.executable, "-m", "hftc", "lint", path.name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 1
    assert [line.split(":")[0] for line in done.stderr.splitlines() if line.startswith("error[")] == \
        ["error[HFT0101]", "error[HFT0301]", "error[HFT0626]"]
    assert "Traceback" not in done.stderr


def test_a_file_rewritten_with_the_same_size_and_time_is_parsed_again(tmp_path) -> None:
    """The parse cache serves a file only while its bytes are the same: a rewrite of equal length that
    keeps the modification time (an editor saving twice within one timestamp tick) is read again."""
    import os

    from hftc.frontend import compile_file

    path = tmp_path / "s.hftc.yaml"
    path.write_text("hftc: 1\npackage: a.b\nversion: 1\ntypes:\n  P: {decimal: int64, exponent: -8}\n")
    stamp = os.stat(path).st_mtime_ns
    assert compile_file(str(path)).ok
    path.write_text("hftc: 1\npackage: a.b\nversion: 1\ntypes:\n  P: {decimal: int64, exponent: -Q}\n")
    os.utime(path, ns=(stamp, stamp))
    assert not compile_file(str(path)).ok
