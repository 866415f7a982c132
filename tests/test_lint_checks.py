"""`hftc lint` runs each backend's `check` instead of its code generation: the two must report
the same diagnostics, and the checks must not grow with the generated code."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from hftc.driver.registry import known_targets, load_backend
from hftc.frontend import compile_file
from hftc.ir.backend import BackendOptions

sys.path.insert(0, str(Path(__file__).parent))
from loader_bound_cases import big_schema  # noqa: E402

SCHEMAS = sorted(EXAMPLES.glob("*.yaml")) + sorted((REPO / "tests" / "diagnostics").glob("*.yaml"))
CHECKED = [t for t in known_targets() if callable(getattr(load_backend(t), "check", None))]


def _compiled():
    for path in SCHEMAS:
        result = compile_file(str(path))
        if result.ok and result.ir is not None:
            yield path.name, result.ir


def test_the_code_generators_have_checks():
    assert {"cpp", "docs", "python", "python-ext", "rust"} <= set(CHECKED)


@pytest.mark.parametrize("target", CHECKED)
def test_check_reports_exactly_what_generate_reports(target):
    backend = load_backend(target)
    compared = 0
    for name, ir in _compiled():
        checked = {(d.code, d.message, d.span) for d in backend.check(ir, BackendOptions())}
        generated = {(d.code, d.message, d.span) for d in backend.generate(ir, BackendOptions()).diagnostics}
        assert checked == generated, (name, checked ^ generated)
        compared += 1
    assert compared >= 5


def test_name_clash_errors_come_from_the_checks(tmp_path):
    """Names the Python and Rust codecs cannot carry are found by the checks alone, and lint reports them."""
    from hftc.driver.lint import lint_file

    text = ("hftc: 1\npackage: clash\nmessages:\n  M:\n    id: 1\n"
            "    fields: {wrap: uint32, encoded_length: uint32, header_version: uint16}\n")
    schema = tmp_path / "clash.hftc.yaml"
    schema.write_text(text)
    ir = compile_file(str(schema)).ir
    found = {t: {d.code for d in load_backend(t).check(ir, BackendOptions())} for t in ("python", "rust")}
    assert found == {"python": {"HFT0820"}, "rust": {"HFT0821"}}
    assert {"HFT0820", "HFT0821"} <= {d.code for d in lint_file(str(schema)).diagnostics}


def test_lint_builds_no_per_message_view(monkeypatch):
    """The checks' work does not grow with the codecs: no message view is built, no template of a
    message rendered, and the name checks visit each message once."""
    import hftc.backends.cpp.view as cpp_view
    from hftc.backends.python.codegen import Generator as PyGenerator
    from hftc.backends.rust.codegen import Generator as RustGenerator
    from hftc.driver.build import check_targets
    from hftc.frontend.compile import compile_text

    counts = {"cpp_message_views": 0, "python_name_checks": 0, "rust_name_checks": 0}

    def counting(key, function):
        def wrapper(*args, **kwargs):
            counts[key] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(cpp_view, "_message", counting("cpp_message_views", cpp_view._message))
    monkeypatch.setattr(PyGenerator, "check_names", counting("python_name_checks", PyGenerator.check_names))
    monkeypatch.setattr(RustGenerator, "check_names", counting("rust_name_checks", RustGenerator.check_names))
    result = compile_text("big.hftc.yaml", big_schema(2000))
    assert result.ok
    assert check_targets(result.ir) == []
    assert counts == {"cpp_message_views": 0, "python_name_checks": 2000, "rust_name_checks": 2000}
