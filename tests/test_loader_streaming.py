"""The loader's one-pass path (documents without anchors or aliases) gives exactly what the
two-pass composer and converter give: values, spans of every key and value in the same order,
scalar styles and diagnostics. Documents it does not handle go to the two-pass path."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hftc.loader import yaml_nodes

from conftest import EXAMPLES, REPO
from loader_bound_cases import CASES, big_schema

N = int(os.environ.get("HFTC_FUZZ_EXAMPLES", "1500"))


def _two_pass(file: str, text: str):
    original = yaml_nodes._load_streaming
    yaml_nodes._load_streaming = lambda *args: None
    try:
        return yaml_nodes.load_yaml_text(file, text)
    finally:
        yaml_nodes._load_streaming = original


def _assert_same(text: str) -> None:
    fast, fast_diags = yaml_nodes.load_yaml_text("x.yaml", text)
    slow, slow_diags = _two_pass("x.yaml", text)
    assert fast_diags == slow_diags
    assert (fast is None) == (slow is None)
    if fast is None:
        return
    assert fast.value == slow.value
    for name in ("value_spans", "key_spans", "styles"):
        assert list(getattr(fast, name).items()) == list(getattr(slow, name).items()), name


EDGE_CASES = {
    "duplicate_keys": "a: 1\na: {x: 1}\nb: [1, 2]\nb: 3\n",
    "duplicate_nested": "m:\n  x: 1\n  x: [1, {y: 2, y: 3}]\n  z: {y: 1}\n",
    "complex_keys": "? [a, b]\n: {x: 1}\nc: 2\n? {q: 1}\n: 5\n",
    "long_numbers": "a: " + "1" * 150 + "\nb: '" + "1" * 150 + "'\n" + "1" * 150 + ": 3\nc: " + "1" * 150 + "\n",
    "tags": "a: !!str 5\nb: !foo 7\nc: !!int '9'\nd: !!float 1.5\n",
    "empty": "",
    "comment_only": "# nothing\n",
    "scalar_root": "hello\n",
    "sequence_root": "- 1\n- [2, 3]\n-\n- {a: b}\n",
    "nulls": "a:\nb: ~\n? c\nd: null\n",
    "two_documents": "a: 1\n---\nb: 2\n",
    "anchor_alias": "a: &x {k: 1}\nb: *x\n",
    "anchor_unused": "a: &x 1\nb: 2\n",
    "syntax_error": "a: [1, 2\nb: 3\n",
    "tab_indent": "a:\n\tb: 1\n",
    "explicit_document": "---\na: 1\n...\n",
    "styles": "a: 'q'\nb: \"d\"\nc: |\n  block\nd: >\n  folded\ne: plain\n",
    "numbers": "a: 0x1F\nb: 0o17\nc: 1_000\nd: -.5\ne: 1e3\nf: .inf\ng: +1\nh: 01\n",
    "deep_100": "x: " + "[" * 100 + "]" * 100 + "\n",
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_match(name):
    _assert_same(EDGE_CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_bound_cases_match(name):
    _assert_same(CASES[name][0])


def test_shipped_schemas_match():
    paths = sorted({*EXAMPLES.rglob("*.yaml"), *(REPO / "tests").rglob("*.yaml")})
    assert len(paths) > 20
    for path in paths:
        _assert_same(path.read_text(encoding="utf-8", errors="replace"))


def test_a_large_schema_matches():
    _assert_same(big_schema(500))


def test_one_pass_is_used_without_anchors_and_declines_with_them():
    limit = 10_000
    assert yaml_nodes._load_streaming("x.yaml", "a: [1, 2]\n", limit) is not None
    assert yaml_nodes._load_streaming("x.yaml", "a: &x 1\nb: *x\n", limit) is None
    assert yaml_nodes._load_streaming("x.yaml", "a: 1\n---\nb: 2\n", limit) is None


_plain = st.text(alphabet="abcxyz019-_.:~ ", min_size=0, max_size=6)
_scalar_text = st.one_of(_plain, _plain.map(lambda t: f"'{t}'"), _plain.map(lambda t: f'"{t}"'),
                         st.sampled_from(["null", "true", "False", "~", "1.5", "-3", "0x1f", "1e5", ".nan"]))


@st.composite
def _yaml_texts(draw, depth=0):
    """Block and flow YAML, often with repeated keys (duplicates) and sometimes a complex key."""
    kind = draw(st.sampled_from(["scalar", "flow", "block"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        return draw(_scalar_text)
    if kind == "flow":
        items = draw(st.lists(st.tuples(st.sampled_from(["a", "b", "1", "[k]"]), _scalar_text), max_size=4))
        if draw(st.booleans()):
            return "[" + ", ".join(v for _, v in items) + "]"
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    indent = "  " * (depth + 1)
    lines = []
    for key in draw(st.lists(st.sampled_from(["a", "b", "c", "1", "true"]), min_size=1, max_size=4)):
        lines.append(f"{indent}{key}: {draw(_yaml_texts(depth=depth + 1))}")
    return "\n" + "\n".join(lines)


@settings(max_examples=min(N, 400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "m", "9"]), _yaml_texts()), min_size=1, max_size=5))
def test_generated_documents_match(entries):
    _assert_same("".join(f"{key}: {value}\n" for key, value in entries))
