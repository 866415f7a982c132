"""`hftc format`: canonical, idempotent, meaning- and comment-preserving; --check reports."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from hftc.driver.schema_format import format_schema_text
from hftc.loader.yaml_nodes import load_yaml_text
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("schemas/**/*.yaml"), *ROOT.glob("tests/schemas/*.yaml")])

MESSY = """# a desk's schema
hftc: 1
package:   t.v   \n


types:
    P: {decimal: int64, exponent: -2}   # the price
messages:
    M:
        id: 1   # template id
        fields:
            a: uint32
            b: P
        data:
        - note
"""


def _hftc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hftc", *args], check=False, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("path", SCHEMAS, ids=[str(p.relative_to(ROOT)) for p in SCHEMAS])
def test_repository_schemas_are_formatted_and_stable(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_schema_text(str(path), text).text
    assert once is not None
    assert format_schema_text(str(path), once).text == once
    assert once == text, f"{path} is not in canonical layout: run `hftc format {path}`"


def test_messy_layout_becomes_canonical_with_comments_kept() -> None:
    out = format_schema_text("m.yaml", MESSY).text
    assert out is not None and format_schema_text("m.yaml", out).text == out
    for comment in ("# a desk's schema", "# the price", "# template id"):
        assert comment in out
    assert "\n\n\n" not in out and not any(line != line.rstrip() for line in out.splitlines())
    assert "  M:\n    id: 1" in out and "    data:\n      - note\n" in out
    assert load_yaml_text("m.yaml", out)[0].value == load_yaml_text("m.yaml", MESSY)[0].value


def _dump(value, mapping: int, sequence: int, offset: int, flow: bool) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.default_flow_style = flow
    out = io.StringIO()
    yaml.dump(value, out)
    return out.getvalue()


names = st.text("abcdefgh_", min_size=1, max_size=6)
scalars = st.one_of(st.integers(-10**6, 10**6), names, st.booleans(), st.sampled_from(["0.5", "a b", "x: y", "#no"]))
# Non-empty collections: ruamel lays out a comment beside an empty `{}` in a list wrongly; the meaning
# check then refuses to format (HFT0830), tested below.
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=3),
                                                       st.dictionaries(names, inner, min_size=1, max_size=3)),
                      max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, values, min_size=1, max_size=4), st.integers(2, 4), st.sampled_from([0, 2]), st.booleans(),
       st.integers(0, 3))
def test_format_is_idempotent_and_keeps_meaning(value, indent, offset, flow, comment_line) -> None:
    text = _dump(value, indent, offset + 2, offset, flow)  # any layout a person might write
    lines = text.split("\n")
    if comment_line < len(lines) and lines[comment_line].strip():
        lines[comment_line] += "  # note"
    text = "\n".join(lines)
    before, _ = load_yaml_text("h.yaml", text)
    assume(before is not None)  # a comment appended inside a multi-line flow collection may break it
    result = format_schema_text("h.yaml", text)
    if result.text is None:  # only ever refused, never changed: a comment inside a multi-line flow mapping
        assert flow and "# note" in text and [d.code for d in result.diagnostics] == ["HFT0830"]
        return
    assert load_yaml_text("h.yaml", result.text)[0].value == before.value
    assert format_schema_text("h.yaml", result.text).text == result.text
    if "# note" in text:
        assert "# note" in result.text


def test_a_layout_that_would_change_meaning_is_refused() -> None:
    text = "_:  # note\n  - {}\n  - 0\n  - 0\n"
    result = format_schema_text("r.yaml", text)
    assert result.text is None and [d.code for d in result.diagnostics] == ["HFT0830"]


def test_a_comment_ruamel_would_drop_is_refused() -> None:
    text = "a: {b: 0,  # note\n  c: 1}\n"
    result = format_schema_text("c.yaml", text)
    assert result.text is None and [d.code for d in result.diagnostics] == ["HFT0830"]
    assert format_schema_text("c.yaml", "a: 'x # not a comment'  # a comment\n").text == "a: 'x # not a comment'  # a comment\n"


def test_cli_check_write_and_refuse(tmp_path: Path) -> None:
    messy = tmp_path / "m.hftc.yaml"
    messy.write_text(MESSY, encoding="utf-8")
    checked = _hftc("format", "--check", messy.name, cwd=tmp_path)
    assert checked.returncode == 1 and "would reformat m.hftc.yaml" in checked.stderr
    assert messy.read_text(encoding="utf-8") == MESSY  # --check writes nothing
    assert _hftc("format", messy.name, cwd=tmp_path).returncode == 0
    formatted = messy.read_text(encoding="utf-8")
    assert formatted != MESSY and not list(tmp_path.glob(".*tmp*"))
    assert _hftc("format", "--check", messy.name, cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n", encoding="utf-8")
    refused = _hftc("format", bad.name, cwd=tmp_path)
    assert refused.returncode == 1 and "HFT0003" in refused.stderr and "Traceback" not in refused.stderr
    assert bad.read_text(encoding="utf-8") == "a: [\n"
