"""Fix edits carried by diagnostics: applying one removes the diagnostic it fixes."""

from __future__ import annotations

from pathlib import Path

from hftc.diagnostics.fixes import apply_edits
from hftc.driver.lint import lint_text

SCHEMA = """hftc: 1
package: t.v
version: 3
types:
  Price: {decimal: int64, exponent: -2}
messages:
  M:
    id: 1
    fields:
      a: uint32
      b: {type: uint32, since_version: 3}
      c:
        type: Pricee
        since_version: 2
      d: uint8
components:
  feed: {kind: feed_handler, inptu: [M]}
"""


def _lint(tmp_path: Path, text: str):
    return lint_text(str(tmp_path / "v.hftc.yaml"), text).diagnostics


def test_each_fix_removes_its_diagnostic(tmp_path: Path) -> None:
    found = _lint(tmp_path, SCHEMA)
    fixable = [d for d in found if d.fixes]
    assert sorted(f.fixes[0].title for f in fixable) == [
        "Move `c` above `b`", "Move `d` above `b`", "Replace `Pricee` with `Price`", "Replace `inptu` with `input`"]
    for d in fixable:
        fixed = apply_edits(SCHEMA, d.fixes[0].edits)
        after = {(x.code, x.message) for x in _lint(tmp_path, fixed)}
        assert (d.code, d.message) not in after, d.fixes[0].title


def test_all_fixes_together_lint_clean(tmp_path: Path) -> None:
    text = SCHEMA
    for _ in range(5):  # apply one fix at a time: each is computed against the text it edits
        fixable = [d for d in _lint(tmp_path, text) if d.fixes]
        if not fixable:
            break
        text = apply_edits(text, fixable[0].fixes[0].edits)
    assert [d.code for d in _lint(tmp_path, text) if d.severity.value == "error"] == []
    order = [line.strip()[0] for line in text.splitlines() if line.startswith("      ") and not line.startswith("       ")]
    assert order[0] == "a" and order[-1] == "b" and sorted(order[1:3]) == ["c", "d"]


def test_fixes_in_json() -> None:
    from hftc.diagnostics.model import Diagnostic, Edit, Fix, Severity, Span

    d = Diagnostic(Severity.ERROR, "HFT0101", "unknown key `x`", Span.point("f", 1, 1),
                   fixes=(Fix("t", (Edit(Span.point("f", 1, 1), "y"),)),))
    assert d.to_json()["fixes"] == [{"title": "t", "edits": [{"span": Span.point("f", 1, 1).to_json(), "text": "y"}]}]
