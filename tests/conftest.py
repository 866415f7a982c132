"""Shared test fixtures: repository paths, the build cache, golden files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples on every run, so a red build always reproduces; local runs
# keep drawing new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Every `hftc lint` the tests start lints in its own process and leaves no lint server behind; the
# server's own tests (tests/test_lint_server.py) switch it on where they mean it. Set
# HFTC_LINT_SERVER=on to run the whole suite's lints through a server instead.
os.environ.setdefault("HFTC_LINT_SERVER", "off")

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
GOLDEN = REPO / "tests" / "golden"
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")


def build_cache() -> Path:
    """Where native builds are cached and shared between tests (and CI runs)."""
    path = Path(os.environ.get("HFTC_BUILD_CACHE", REPO / ".build-cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def _shared_backtest_cache():
    """Compiled strategy libraries and converted tapes live in the build cache, shared by every test,
    the subprocesses they start and later CI runs (HFTC_CACHE_DIR is inherited)."""
    old = os.environ.get("HFTC_CACHE_DIR")
    os.environ["HFTC_CACHE_DIR"] = str(build_cache() / "backtest")
    yield
    if old is None:
        os.environ.pop("HFTC_CACHE_DIR", None)
    else:
        os.environ["HFTC_CACHE_DIR"] = old


# Release Rust builds in the tests (cargo test --release, the tools and generated crates' bins) skip
# the shipped profile's link-time optimisation and single codegen unit: the code is still built at
# opt-level 3 without debug assertions, and a cold `cargo test --release` of runtime_rust takes a
# seventh of the time. The profile itself is checked where it is generated (the golden Cargo.toml).
CARGO_TEST_PROFILE = {"CARGO_PROFILE_RELEASE_LTO": "false", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16"}


@pytest.fixture(scope="session", autouse=True)
def _cargo_test_profile():
    """Inherited by every cargo the tests start, directly or through hftc (bench, wheel install)."""
    old = {k: os.environ.get(k) for k in CARGO_TEST_PROFILE}
    for key, value in CARGO_TEST_PROFILE.items():
        os.environ.setdefault(key, value)
    yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _color_mode_auto():
    """`hftc --color always` in one in-process CLI test must not colour the next test's output."""
    from hftc.diagnostics.color import set_mode

    yield
    set_mode("auto")


class Golden:
    """Compare text with `tests/golden/<name>`, or rewrite it under --update-goldens."""

    def __init__(self, update: bool):
        self.update = update

    def check(self, name: str, actual: str) -> None:
        path = GOLDEN / name
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-goldens"
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path}; run pytest --update-goldens and review the diff"

    def check_tree(self, name: str, files: dict[str, bytes]) -> None:
        """Compare a generated tree file by file (and the set of files)."""
        root = GOLDEN / name
        if self.update:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
            for rel, data in files.items():
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            return
        assert root.is_dir(), f"missing golden tree {root}; run pytest --update-goldens"
        on_disk = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        assert sorted(on_disk) == sorted(files), f"set of generated files differs from {root}"
        for rel, data in files.items():
            assert data == on_disk[rel], f"{rel} differs from {root / rel}; run pytest --update-goldens"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return build_cache()


def require_shared_data(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"market data {relative} not found under {SHARED_DATA} (the shared data folder is absent)")
    return path


def import_generated(src: Path, package: str, module: str):
    """Import `package.module` from a generated tree at `src`, never a cached copy.

    Several tests generate packages with the same name from different schemas or
    versions; a stale `sys.modules` entry would silently test the wrong code.
    """
    import importlib
    import sys

    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    src_text = str(src)
    if src_text in sys.path:
        sys.path.remove(src_text)
    sys.path.insert(0, src_text)
    importlib.invalidate_caches()
    return importlib.import_module(f"{package}.{module}")


def without_vendored(files: dict[str, bytes], prefix: str) -> dict[str, bytes]:
    """A generated tree without its vendored runtime copy under `prefix`, and the manifest without
    its entries, so golden trees do not change with every edit of the runtime (tests compare the
    copy with the runtime itself)."""
    import json

    kept = {rel: data for rel, data in files.items() if not rel.startswith(prefix)}
    if "hftc-manifest.json" in kept:
        doc = json.loads(kept["hftc-manifest.json"])
        doc["files"] = [e for e in doc["files"] if not e["path"].startswith(prefix)]
        kept["hftc-manifest.json"] = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    return kept


@pytest.fixture(scope="module")
def server():
    """A loopback server speaking the OpenAI and Anthropic protocols with scripted replies (llm_loopback)."""
    from llm_loopback import LoopbackLLM

    srv = LoopbackLLM().start()
    yield srv
    srv.stop()
