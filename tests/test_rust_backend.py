"""`--target rust`: golden tree, determinism, layout, and the generated crate built, tested,
linted (clippy -D warnings) and format-checked with cargo."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from hftc.backends.rust import DEFAULT_RUNTIME_PATH, runtime_rust_path_for
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.model import Schema

RUNTIME = REPO / "runtime_rust"
EDGE = REPO / "tests" / "schemas" / "cpp_edge.hftc.yaml"


def _tree(ir: Schema, options: dict | None = None) -> dict[str, bytes]:
    report = generate(ir, ["rust"], "/nonexistent", options)
    assert not report.diagnostics, [d.message for d in report.diagnostics]
    return report.outputs[0].files


def write_crate(ir: Schema, root: Path) -> Path:
    """The generated crate under `root`, depending on this checkout's runtime; unchanged files
    are not rewritten, so cargo's incremental build is reused."""
    files = _tree(ir, {"runtime_rust_path": str(RUNTIME)})
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    return root


def cargo(args: list[str], crate: Path, cache_dir: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARGO_TARGET_DIR": str(cache_dir / "cargo-generated"), "CARGO_TERM_COLOR": "never"}
    env.pop("RUSTFLAGS", None)
    return subprocess.run(["cargo", *args], check=False, cwd=crate, env=env, capture_output=True, text=True, timeout=timeout)


def need_cargo() -> None:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")


@pytest.fixture(scope="module")
def fx_ir() -> Schema:
    return compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir


def test_golden_tree(fx_ir: Schema, golden) -> None:
    golden.check_tree("rust/fx_market_maker", _tree(fx_ir))


def test_deterministic(fx_ir: Schema) -> None:
    assert _tree(fx_ir) == _tree(fx_ir)
    if EDGE.exists():
        edge = compile_file(str(EDGE)).ir
        assert _tree(edge) == _tree(edge)


def test_layout_and_options(fx_ir: Schema) -> None:
    files = _tree(fx_ir)
    assert {"Cargo.toml", "src/lib.rs", "src/wire.rs", "src/types.rs", "src/messages.rs", "src/dispatch.rs",
            "src/owned.rs", "src/bin/bench.rs", "tests/roundtrip.rs"} <= set(files)
    cargo_toml = files["Cargo.toml"].decode()
    assert 'name = "fx_mm"' in cargo_toml
    assert f'runtime_rust = {{ path = "{DEFAULT_RUNTIME_PATH}" }}' in cargo_toml
    custom = _tree(fx_ir, {"runtime_rust_path": "/opt/hftc/runtime_rust"})["Cargo.toml"].decode()
    assert 'runtime_rust = { path = "/opt/hftc/runtime_rust" }' in custom
    # Every Rust module forbids unsafe code.
    for rel, data in files.items():
        if rel.endswith(".rs"):
            assert b"#![forbid(unsafe_code)]" in data, rel
    # The default matches the default output folder of a checkout.
    assert runtime_rust_path_for("hftc-out/fx_mm", str(Path.cwd() / "runtime_rust")) == DEFAULT_RUNTIME_PATH
    assert runtime_rust_path_for("/a/b", "/a/runtime_rust") == "../../runtime_rust"


def test_api_surface(fx_ir: Schema) -> None:
    messages = _tree(fx_ir)["src/messages.rs"].decode()
    for needle in (
        "pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError>",
        "pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError>",
        "pub fn side_raw(&self) -> u8",
        "pub fn order_count(&self) -> Option<u16>",
        "pub fn levels(&self) -> GroupIter<'a, SnapshotLevelsDecoder<'a>>",
        "pub fn encode_levels(",
        "-> Result<SnapshotLevelsGroupEncoder<'_>, EncodeError>",
        "pub fn venue_note_str(&self) -> Result<&'a str, DecodeError>",
        "pub fn symbol(&self) -> &'a [u8; 12]",
    ):
        assert needle in messages, needle
    types = _tree(fx_ir)["src/types.rs"].decode()
    assert "Unknown(u8)," in types and "impl FromStr for Price" in types
    dispatch = _tree(fx_ir)["src/dispatch.rs"].decode()
    assert "fn on_book_delta(&mut self, message: BookDeltaDecoder<'_>)" in dispatch


def test_name_clash_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "clash.hftc.yaml"
    path.write_text(
        "hftc: 1\npackage: clash.me\nversion: 1\nmessages:\n  M:\n    id: 1\n"
        "    fields: {wrap: uint8}\n",
        encoding="utf-8",
    )
    ir = compile_file(str(path)).ir
    report = generate(ir, ["rust"], "/nonexistent")
    assert any("shadow" in d.message for d in report.diagnostics)


def test_generated_crate_builds_tests_and_lints(fx_ir: Schema, cache_dir: Path) -> None:
    need_cargo()
    crate = write_crate(fx_ir, cache_dir / "rust-generated" / "fx_mm")
    fmt = cargo(["fmt", "--check"], crate, cache_dir)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    clippy = cargo(["clippy", "--all-targets", "--", "-D", "warnings"], crate, cache_dir)
    assert clippy.returncode == 0, clippy.stderr[-4000:]
    test = cargo(["test", "--release"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert "test result: ok" in test.stdout
    assert "snapshot_round_trips ... ok" in test.stdout


def test_edge_schema_crate_lints_and_tests(cache_dir: Path) -> None:
    need_cargo()
    if not EDGE.exists():
        pytest.skip(f"{EDGE.name} is absent")
    crate = write_crate(compile_file(str(EDGE)).ir, cache_dir / "rust-generated" / "edge_cases")
    clippy = cargo(["clippy", "--all-targets", "--", "-D", "warnings"], crate, cache_dir)
    assert clippy.returncode == 0, clippy.stderr[-4000:]
    test = cargo(["test", "--release"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
