"""The driver (determinism, atomic writes, manifest, --check, registry) and the CLI."""

from __future__ import annotations

import hashlib
import json
import pathlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hftc.cli import app
from hftc.driver import registry
from hftc.driver.build import build, generate
from hftc.driver.write import MANIFEST
from hftc.frontend import compile_file
from hftc.ir.backend import BackendResult, GeneratedFile
from hftc.ir.model import IR_VERSION

from conftest import EXAMPLES, REPO

runner = CliRunner()
EXAMPLE = "examples/fx_market_maker.hftc.yaml"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(REPO)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_twice_gives_identical_files_and_manifest(tmp_path) -> None:
    for out in ("a", "b"):
        result = runner.invoke(app, ["build", EXAMPLE, "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert a == b and "docs/README.md" in a and f"docs/{MANIFEST}" in a
    manifest = json.loads((tmp_path / "a" / "docs" / MANIFEST).read_text())
    readme = (tmp_path / "a" / "docs" / "README.md").read_bytes()
    assert manifest["files"] == [{"path": "README.md", "sha256": hashlib.sha256(readme).hexdigest(), "size": len(readme)}]
    assert manifest["target"] == "docs" and manifest["ir_version"] == IR_VERSION


def test_docs_backend_golden(golden) -> None:
    ir = compile_file(EXAMPLE).ir
    report = generate(ir, ["docs"], "unused")
    golden.check("docs/fx_market_maker.md", report.outputs[0].files["README.md"].decode())


def test_check_detects_stale_output(tmp_path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["build", EXAMPLE, "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["build", EXAMPLE, "-o", str(out), "--check"]).exit_code == 0
    (out / "docs" / "README.md").write_text("edited by hand\n")
    result = runner.invoke(app, ["build", EXAMPLE, "-o", str(out), "--check"])
    assert result.exit_code == 1 and "HFT0804" in result.output
    (out / "docs" / "README.md").unlink()
    (out / "docs" / "extra.txt").write_text("x")
    assert runner.invoke(app, ["build", EXAMPLE, "-o", str(out), "--check"]).exit_code == 1


def test_failed_build_leaves_previous_output_intact(tmp_path, monkeypatch) -> None:
    ir = compile_file(EXAMPLE).ir
    out = tmp_path / "out"
    assert not build(ir, ["docs"], str(out)).diagnostics
    before = _hashes(out)

    class Broken:
        name, description, ir_versions = "broken", "raises", (IR_VERSION,)

        def generate(self, ir, options):
            raise RuntimeError("boom")

    monkeypatch.setitem(registry.BUILTIN, "broken", "tests_broken:BACKEND")
    monkeypatch.setattr(registry, "load_backend", lambda name: Broken() if name == "broken" else None)
    import hftc.driver.build as build_module

    monkeypatch.setattr(build_module, "load_backend", lambda name: Broken())
    report = build(ir, ["broken"], str(out))
    assert [d.code for d in report.diagnostics] == ["HFT0802"]
    assert _hashes(out) == before


def test_write_interrupted_midway_keeps_previous_tree(tmp_path, monkeypatch) -> None:
    from hftc.driver import write

    write.write_trees(str(tmp_path), {"t": ({"a.txt": b"old", write.MANIFEST: b"1"}, set())})
    real_write = pathlib.Path.write_bytes
    calls = {"n": 0}

    def flaky_write(self, data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", flaky_write)
    with pytest.raises(OSError):
        write.write_trees(str(tmp_path), {"t": ({"a.txt": b"new", "b.txt": b"new", write.MANIFEST: b"2"}, set())})
    monkeypatch.undo()
    assert (tmp_path / "t" / "a.txt").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]  # no staging leftovers


def test_entry_point_backends_are_found(monkeypatch) -> None:
    class Plugin:
        name, description, ir_versions = "plugin", "third-party backend", (IR_VERSION,)

        def generate(self, ir, options):
            return BackendResult(files=(GeneratedFile("hello.txt", f"package {ir.package}\n"),))

    class EntryPoint:
        name = "plugin"

        def load(self):
            return Plugin

    monkeypatch.setattr(registry, "_external", lambda: {"plugin": EntryPoint()})
    assert "plugin" in registry.known_targets()
    report = generate(compile_file(EXAMPLE).ir, ["plugin"], "x")
    assert report.outputs[0].files["hello.txt"] == b"package fx.mm\n"


def test_unknown_target_lists_known_ones(tmp_path) -> None:
    result = runner.invoke(app, ["build", EXAMPLE, "-o", str(tmp_path), "--target", "cobol"])
    assert result.exit_code == 2
    assert "HFT0801" in result.output and "known targets: " in result.output and "docs" in result.output


def test_lint_exit_codes() -> None:
    ok = runner.invoke(app, ["lint", *[str(p.relative_to(REPO)) for p in sorted(EXAMPLES.glob("*.yaml"))]])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["lint", "tests/diagnostics/unknown_type.yaml"])
    assert bad.exit_code == 1 and "error[HFT0301]" in bad.output
    warn = runner.invoke(app, ["lint", "tests/diagnostics/lints.yaml"])
    assert warn.exit_code == 0
    assert runner.invoke(app, ["lint", "tests/diagnostics/lints.yaml", "--deny-warnings"]).exit_code == 1
    assert runner.invoke(app, ["lint", "no/such/file.yaml"]).exit_code == 1
    assert runner.invoke(app, ["lint", EXAMPLE, "--error-format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["lint"]).exit_code == 2


def test_lint_json_and_github_formats() -> None:
    result = runner.invoke(app, ["lint", "tests/diagnostics/unknown_type.yaml", "--error-format", "json"])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["code"] for r in records] == ["HFT0301", "HFT0301"]
    result = runner.invoke(app, ["lint", "tests/diagnostics/unknown_type.yaml", "--error-format", "github"])
    assert result.stdout.startswith("::error file=tests/diagnostics/unknown_type.yaml,line=6,col=27")


def test_explain() -> None:
    result = runner.invoke(app, ["explain", "HFT0402"])
    assert result.exit_code == 0 and "budget" in result.output
    result = runner.invoke(app, ["explain", "hft0402"])
    assert result.exit_code == 0
    assert runner.invoke(app, ["explain", "HFT9999"]).exit_code == 2
    assert runner.invoke(app, ["explain"]).exit_code == 2


def test_explain_lists_every_code() -> None:
    from hftc.diagnostics.codes import CODES

    result = runner.invoke(app, ["explain", "--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == sorted(CODES)
    assert "HFT0402  " + CODES["HFT0402"].title in lines


def test_init_writes_a_schema_that_builds(tmp_path) -> None:
    result = runner.invoke(app, ["init", "desk.mm", "--dir", str(tmp_path)])
    assert result.exit_code == 0
    path = tmp_path / "desk_mm.hftc.yaml"
    assert path.read_text().startswith("# yaml-language-server: $schema=")
    compiled = compile_file(str(path))
    assert compiled.ok and not compiled.diagnostics, compiled.diagnostics
    assert runner.invoke(app, ["init", "desk.mm", "--dir", str(tmp_path)]).exit_code == 1  # no overwrite
    assert runner.invoke(app, ["init", "9 bad!", "--dir", str(tmp_path)]).exit_code == 2


def test_ir_command_prints_round_trippable_json() -> None:
    from hftc.ir.serialize import ir_from_json

    result = runner.invoke(app, ["ir", EXAMPLE])
    assert result.exit_code == 0
    assert ir_from_json(result.stdout) == compile_file(EXAMPLE).ir


def test_version_and_help_in_a_real_process() -> None:
    exe = Path(sys.executable).with_name("hftc")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("hftc ")
    assert subprocess.run([str(exe), "--help"], capture_output=True, text=True).returncode == 0


def test_the_command_line_loads_without_the_heavy_libraries() -> None:
    """`hftc --help` stays fast: commands import numpy, optuna and pydantic models only when they run."""
    code = "import sys, hftc.cli; print(sorted({'numpy', 'optuna', 'pyarrow', 'pydantic'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"", b"hftc: 1\npackage: x\nversion: 99999999999999999999999\n",
                                     b"[[[[[[[[[[", b"\t\thftc: 1", b"hftc: 1\npackage: x\nmessages: 7\n"])
def test_broken_files_never_print_a_traceback(tmp_path, content) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(content)
    exe = Path(sys.executable).with_name("hftc")
    proc = subprocess.run([str(exe), "lint", str(path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "error[HFT" in proc.stderr


def test_build_writes_vectors_and_vendors_the_runtime_into_the_rust_crate(tmp_path) -> None:
    out = tmp_path / "out"
    vectors = tmp_path / "vectors.json"
    result = runner.invoke(app, ["build", EXAMPLE, "-o", str(out), "-t", "rust", "--vectors", str(vectors), "--seed", "7"])
    assert result.exit_code == 0, result.output
    data = json.loads(vectors.read_text())
    assert data["seed"] == 7 and data["package"] == "fx.mm"
    cargo = (out / "rust" / "Cargo.toml").read_text()
    assert 'runtime_rust = { path = "runtime_rust" }' in cargo
    assert (out / "rust" / "runtime_rust" / "src" / "lib.rs").read_bytes() == (REPO / "runtime_rust" / "src" / "lib.rs").read_bytes()
