"""hftc as a new user gets it: the wheel built from this checkout, installed into a fresh venv
and run from an empty folder outside the checkout. It must carry both runtimes with their
build files (bench, backtest) and generate projects that build on their own (C++ configured
without HFTC_RUNTIME_DIR, the Rust crate tested after being moved elsewhere).

Slow (about 2-3 minutes on 2 cores with warm caches): the wheel's CMake build folder, the
venv's dependencies, the runtime benchmark builds and cargo's target folder live in the
build cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, require_shared_data

pytestmark = pytest.mark.slow

EXAMPLE = "fx_market_maker.hftc.yaml"
TARGETS = ("docs", "cpp", "rust", "python", "python-ext", "k8s", "terraform", "prometheus", "grafana")


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


class Install:
    """The installed `hftc` and a user's empty folder holding only the example schemas."""

    def __init__(self, bin_dir: Path, home: Path, cache: Path):
        self.hftc = str(bin_dir / "hftc")
        self.home = home
        self.cache = cache
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "HFTC_DATA")}
        self.env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", HFTC_BUILD_CACHE=str(cache),
                        HFTC_CACHE_DIR=str(cache / "backtest"), CARGO_TERM_COLOR="never")

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        return _run([self.hftc, *args], self.home, self.env, timeout)


def _venv_with(wheel: Path, cache: Path) -> Path:
    """A venv (not the one running the tests) with `wheel` installed; its bin folder.

    The venv is made and the wheel installed with its dependencies once per set of declared
    dependencies (so a missing or wrong one fails here); later runs reinstall only hftc.
    """
    import hashlib
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = sorted(line for line in archive.read(name).decode().splitlines() if line.startswith("Requires-Dist:"))
    key = hashlib.sha256("\n".join([sys.version, *requires]).encode()).hexdigest()[:12]
    env_dir = cache / f"venv-{key}"
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if (env_dir / ".complete").exists():
        _run([str(bin_dir / "pip"), "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], cache, env, 900)
    else:
        shutil.rmtree(env_dir, ignore_errors=True)
        venv.create(env_dir, with_pip=True)
        _run([str(bin_dir / "pip"), "install", "-q", str(wheel)], cache, env, timeout=900)
        (env_dir / ".complete").touch()
    _run([str(bin_dir / "pip"), "check"], cache, env)
    return bin_dir


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Install:
    for tool in ("cmake", "g++"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is needed to build the wheel")
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", str(REPO), "-w", str(dist), "--no-deps", "-q",
          f"--config-settings=build-dir={cache_dir / 'wheel-build'}"], REPO, dict(os.environ), timeout=900)
    [wheel] = dist.glob("hftc-*.whl")
    bin_dir = _venv_with(wheel, cache_dir / "wheel-user")
    home = root / "user"
    home.mkdir()
    for schema in EXAMPLES.glob("*.hftc.yaml"):
        shutil.copy(schema, home)
    return Install(bin_dir, home, cache_dir / "wheel-user")


def test_the_installed_package_is_not_the_checkout(install: Install) -> None:
    code = "import hftc, hftc.paths as p; print(hftc.__file__); print(p.runtime_cpp_dir()); print(p.runtime_rust_dir())"
    lines = _run([str(Path(install.hftc).parent / "python"), "-c", code], install.home, install.env).stdout.split()
    assert len(lines) == 3 and all("site-packages" in line for line in lines), lines
    cpp, rust = Path(lines[1]), Path(lines[2])
    for rel in ("CMakeLists.txt", "cmake/HftTargetDefaults.cmake", "bench/bench_ring.cpp", "include/hft/hft.hpp"):
        assert (cpp / rel).is_file(), rel
    for rel in ("Cargo.toml", "src/lib.rs", "src/bin/ring_bench.rs"):
        assert (rust / rel).is_file(), rel


def test_lint_and_build_every_target(install: Install) -> None:
    install.run("lint", EXAMPLE)
    out = install.home / "out"
    install.run("build", EXAMPLE, "-o", str(out), *[a for t in TARGETS for a in ("-t", t)])
    for target in TARGETS:
        assert (out / target / "hftc-manifest.json").is_file(), target
    assert (out / "cpp" / "README.md").is_file() and (out / "rust" / "README.md").is_file()


def test_learn_ships_its_notes(install: Install) -> None:
    db = str(install.home / "knowledge.db")
    found = json.loads(install.run("learn", "search", "lock-free ring", "--json", "--db", db).stdout)
    assert found["results"][0]["id"] == "lock-free-rings"
    path = json.loads(install.run("learn", "curriculum", "huge pages", "--json", "--no-summary", "--db", db).stdout)
    ids = [u["id"] for u in path["units"]]
    assert ids.index("memory-pools") < ids.index("huge-pages")  # a prerequisite first


def test_generated_cpp_configures_builds_and_tests_on_its_own(install: Install) -> None:
    out = install.home / "out-cpp"
    install.run("build", EXAMPLE, "-o", str(out), "-t", "cpp")
    build = install.home / "build-cpp"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    # Release, as its README says: GCC 12's -O3 warnings (-Werror) must not fire either.
    configure = _run(["cmake", "-S", str(out / "cpp"), "-B", str(build), *generator, "-DCMAKE_BUILD_TYPE=Release"],
                     install.home, install.env)
    assert "HFTC_RUNTIME_DIR" not in configure.stdout
    _run(["cmake", "--build", str(build), "-j", "2"], install.home, install.env, timeout=900)
    tests = _run(["ctest", "--test-dir", str(build), "--output-on-failure"], install.home, install.env)
    assert "100% tests passed" in tests.stdout and "fx_mm_components_test" in tests.stdout, tests.stdout
    prefix = install.home / "prefix"
    _run(["cmake", "--install", str(build), "--prefix", str(prefix)], install.home, install.env)
    assert (prefix / "include" / "fx_mm" / "components.hpp").is_file()
    assert (prefix / "include" / "fx_mm" / "runtime" / "hft" / "trading" / "pipeline.hpp").is_file()


def test_generated_rust_crate_tests_after_being_moved(install: Install) -> None:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    out = install.home / "out-rust"
    install.run("build", EXAMPLE, "-o", str(out), "-t", "rust")
    elsewhere = install.home / "elsewhere" / "fx_mm"
    elsewhere.parent.mkdir()
    shutil.move(str(out / "rust"), elsewhere)
    shutil.rmtree(out)
    env = {**install.env, "CARGO_TARGET_DIR": str(install.cache / "cargo-moved")}
    test = _run(["cargo", "test", "--offline"], elsewhere, env, timeout=900)
    assert "test result: ok" in test.stdout
    assert "inline_pipeline_sends_the_strategys_orders ... ok" in test.stdout


def test_bench_runs_runtime_benchmarks_of_both_languages(install: Install) -> None:
    proc = install.run("bench", EXAMPLE, "--lang", "all", "--json", "--only", "bench_ring,ring_bench", "--quick",
                       timeout=900)
    data = json.loads(proc.stdout)
    sources = {(r["lang"], r["source"]) for r in data["results"]}
    assert ("cpp", "bench_ring") in sources, data["problems"]
    if shutil.which("cargo") is not None:
        assert ("rust", "ring_bench") in sources, data["problems"]
    else:
        assert any("cargo is not installed" in p for p in data["problems"])
    assert not any(r["source"] in ("bench_codecs", "bench (generated)") for r in data["results"])


def test_backtest_on_the_bundled_data(install: Install) -> None:
    data = require_shared_data("binance/usdm_btcusdt_20240808.gz")
    proc = install.run("backtest", "btc_market_maker.hftc.yaml", "--strategy", "mm", "--data", str(data), "--json")
    summary = json.loads(proc.stdout)
    assert summary["events"] > 100_000 and summary["fills"] > 0


def test_init_modeline_points_at_the_installed_json_schema(install: Install) -> None:
    install.run("init", "desk.wheel")
    first = (install.home / "desk_wheel.hftc.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = Path(first.split("$schema=", 1)[1])
    assert "site-packages" in str(target) and target.is_file(), target
    assert target.read_text(encoding="utf-8") == install.run("schema").stdout
