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


def _with_deployments(tmp_path, deployments: str):
    """The example schema with its `deployments` section replaced, compiled."""
    import re

    text = (EXAMPLES / "fx_market_maker.hftc.yaml").read_text()
    text = re.sub(r"(?ms)^deployments:\n.*?(?=^monitoring:)", "deployments:\n" + deployments + "\n", text)
    for other in EXAMPLES.glob("*.yaml"):
        (tmp_path / other.name).write_text(other.read_text()) if other.name != "fx_market_maker.hftc.yaml" else None
    path = tmp_path / "fx_market_maker.hftc.yaml"
    path.write_text(text)
    result = compile_file(str(path))
    assert result.ir is not None and result.ok, result.diagnostics
    return result.ir


BAD_DEPLOYMENTS = """\
  prod:
    environment: production
    pipeline: tick_to_trade
    nodes: {cpu_cores: 2, memory_gb: 8, hugepages_1gi: 8, sriov: false, isolated_cpus: "0-63"}
    kubernetes: {namespace: hft, image: "r/x:1", metrics_port: 9200, health_port: 9200, runtime_class: fast}
  canary:
    environment: staging
    nodes: {cpu_cores: 4, memory_gb: 16, isolated_cpus: "not-a-list"}
    kubernetes: {namespace: hft-canary, image: "r/x:1"}
  bare:
    environment: staging
    nodes: {cpu_cores: 4, memory_gb: 16}
"""


def test_deployment_checks_report_what_generation_reports(tmp_path):
    """The k8s and terraform checks on deployments that break most of their rules (errors included,
    which the example comparison above never sees)."""
    ir = _with_deployments(tmp_path, BAD_DEPLOYMENTS)
    for target in ("k8s", "terraform", "prometheus", "grafana"):
        backend = load_backend(target)
        checked = [(d.code, d.message, d.span) for d in backend.check(ir, BackendOptions())]
        generated = [(d.code, d.message, d.span) for d in backend.generate(ir, BackendOptions()).diagnostics]
        assert checked == generated, target
    codes = {d.code for d in load_backend("k8s").check(ir, BackendOptions())}
    assert {"HFT0610", "HFT0611", "HFT0613", "HFT0614", "HFT0616", "HFT0618", "HFT0619"} <= codes


@pytest.mark.parametrize("limit, code_severity", [(1024, "warning"), (None, "error")])
def test_k8s_check_reports_an_oversized_schema_configmap(monkeypatch, limit, code_severity):
    """The ConfigMap size check skips writing the YAML only when a bound proves it small: with the
    limits lowered below the example's size it reports what generation reports."""
    from hftc.backends import k8s

    ir = compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir
    monkeypatch.setattr(k8s, "APPLY_ANNOTATION_LIMIT", 1024)
    if limit is None:
        monkeypatch.setattr(k8s, "CONFIGMAP_LIMIT", 2048)
    checked = [d for d in k8s.BACKEND.check(ir, BackendOptions()) if d.code == "HFT0629"]
    generated = [d for d in k8s.BACKEND.generate(ir, BackendOptions()).diagnostics if d.code == "HFT0629"]
    assert [(d.message, d.severity) for d in checked] == [(d.message, d.severity) for d in generated]
    assert len(checked) == 1 and checked[0].severity.value == code_severity


def test_k8s_check_size_bound_holds_for_escaped_text():
    """The bound the size check trusts is above the real file for text YAML must escape."""
    from hftc.backends import k8s

    ir = compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir
    n = k8s.Names(ir)
    for text in ('{"a":"\\"quoted\\" \\\\ back"}' * 2000 + "\n", "\x01\u2028é'\"" * 3000, "x" * 5000 + " " * 10):
        assert len(k8s._schema_ir_file(ir, n, text).encode()) < k8s._schema_ir_file_bound(ir, text)


def test_targets_skipped_without_their_part_of_the_ir_have_nothing_to_say_about_it():
    """`hftc lint` does not load a target listed in CHECKS_ONLY when that part of the IR is empty:
    its check must then report nothing."""
    import dataclasses

    from hftc.driver.registry import CHECKS_ONLY

    assert CHECKS_ONLY
    compared = 0
    for name, ir in _compiled():
        for target, part in CHECKS_ONLY.items():
            emptied = dataclasses.replace(ir, **{part: ()})
            assert load_backend(target).check(emptied, BackendOptions()) == (), (name, target)
            compared += 1
    assert compared >= 10


def test_targets_lint_never_loads_have_checks_that_report_nothing():
    """`hftc lint` does not load a target listed in NO_CHECKS: its check must be one that cannot report
    anything (it reads no name at all, so it can only return a constant), and that constant is empty."""
    from hftc.driver.registry import NO_CHECKS

    assert NO_CHECKS
    for target in NO_CHECKS:
        check = load_backend(target).check
        assert check.__code__.co_names == (), target
        for name, ir in _compiled():
            assert check(ir, BackendOptions()) == (), (name, target)


def test_linting_a_schema_without_deployments_loads_no_backend_with_nothing_to_check():
    import subprocess

    code = ("import sys\nfrom hftc.driver.lint import lint_file\n"
            "r = lint_file('examples/btc_market_maker.hftc.yaml')\nassert r.ok and r.ir is not None "
            "and not r.ir.deployments\n"
            "print(sorted(m for m in sys.modules if m.startswith(('hftc.backends.k8s', 'hftc.backends.terraform',\n"
            "                                                     'hftc.backends.docs', 'hftc.backends.grafana'))))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
