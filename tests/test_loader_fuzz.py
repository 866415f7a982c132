"""Property tests: whatever bytes or documents reach the loader, it returns
diagnostics and never raises."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings, strategies as st

from hftc.diagnostics.model import Diagnostic
from hftc.frontend import compile_text
from hftc.frontend.sources import decode

from conftest import EXAMPLES
from loader_bound_cases import CASES

EXAMPLE_TEXT = (EXAMPLES / "fx_market_maker.hftc.yaml").read_text()
EXAMPLE_LINES = EXAMPLE_TEXT.splitlines(keepends=True)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
# 500 drawn inputs per property on every run (besides the seeded inputs of loader_bound_cases); set
# HFTC_FUZZ_EXAMPLES for a longer fuzzing session.
N = int(os.environ.get("HFTC_FUZZ_EXAMPLES", "500"))


def _compile(text: str) -> list[Diagnostic]:
    result = compile_text("fuzz.hftc.yaml", text)
    assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
    return result.diagnostics


def _with_seeds(test):
    """Seed the fuzzer with the inputs that once ran away or crashed (tests/loader_bound_cases.py)."""
    for text, _code in CASES.values():
        test = example(text.encode("utf-8"))(test)
    return test


@settings(max_examples=N, **SETTINGS)
@given(st.binary(max_size=400))
@_with_seeds
def test_random_bytes_never_raise(data: bytes) -> None:
    text, diags = decode("fuzz.yaml", data)
    if text is None:
        assert diags and diags[0].code == "HFT0002"
        return
    _compile(text)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
)
_yaml_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20,
)
SECTIONS = ["types", "messages", "components", "pipelines", "strategies", "deployments", "monitoring", "imports"]


@settings(max_examples=N, **SETTINGS)
@given(st.dictionaries(st.sampled_from(SECTIONS + ["hftc", "package", "version"]), _yaml_like, max_size=6))
def test_random_documents_never_raise(doc: dict) -> None:
    import json

    doc = {"hftc": 1, "package": "fuzz", **doc}
    _compile(json.dumps(doc, default=str))  # JSON is YAML


@settings(max_examples=N, **SETTINGS)
@given(st.data())
def test_mutated_example_never_raises(data) -> None:
    lines = list(EXAMPLE_LINES)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "mutate", "indent", "tab"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        elif op == "tab":
            lines[i] = "\t" + lines[i].lstrip(" ")
        else:
            line = lines[i]
            pos = data.draw(st.integers(0, max(len(line) - 1, 0)))
            junk = data.draw(st.sampled_from(["", ":", "{", "]", "-1", "99999999999999999999", "x", '"', "&a", "*a", "!!int"]))
            lines[i] = line[:pos] + junk + line[pos + 1:]
        if not lines:
            lines = ["\n"]
    cwd = os.getcwd()
    os.chdir(EXAMPLES)  # so `imports:` resolves
    try:
        _compile("".join(lines))
    finally:
        os.chdir(cwd)
