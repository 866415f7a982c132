"""Build the generated extension into a reusable virtual environment (tests and benchmarks).

Not part of the backend (which never touches disk): this writes the generated project and the
pure-Python package of the same schema under `<cache>/python_ext/`, and `pip install`s the project
into `<cache>/python_ext/pyext-venv`, once per distinct generated project (keyed by its hash).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hftc.ir.model import Schema


@dataclass(frozen=True)
class ExtEnv:
    python: Path  # the venv's interpreter: `import <module>` works in it
    module: str  # e.g. fx_mm_ext
    pure_src: Path  # put on PYTHONPATH to import the pure-Python package of the same schema
    project: Path  # the generated python-ext project
    site_packages: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.pure_src)
        return env


def default_cache() -> Path:
    return Path(os.environ.get("HFTC_BUILD_CACHE", Path(__file__).resolve().parents[2] / ".build-cache"))


def _generate(ir: Schema, target: str) -> dict[str, bytes]:
    from hftc.driver.build import generate

    report = generate(ir, [target], "/nonexistent")
    errors = [d.message for d in report.diagnostics if d.severity.value == "error"]
    if errors:
        raise RuntimeError(f"{target}: " + "; ".join(errors))
    return report.outputs[0].files


def _write(files: dict[str, bytes], root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def tree_hash(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        if rel == "hftc-manifest.json":  # carries the generator version only
            continue
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()[:16]


def _build_requires(files: dict[str, bytes]) -> list[str]:
    """The generated project's `[build-system] requires` (its build backend and nanobind)."""
    import tomllib

    return list(tomllib.loads(files["pyproject.toml"].decode())["build-system"]["requires"])


def ensure(ir: Schema, cache: Path | None = None, log=None) -> ExtEnv:
    """The venv with this schema's extension installed; builds it only when the project changed."""
    root = (cache or default_cache()) / "python_ext"
    root.mkdir(parents=True, exist_ok=True)
    ext_files = _generate(ir, "python-ext")
    digest = tree_hash(ext_files)
    project = root / f"project-{ir.package_snake}"
    pure = root / f"pure-{ir.package_snake}"
    _write(_generate(ir, "python"), pure)
    venv = root / "pyext-venv"
    python = venv / "bin" / "python"
    module = f"{ir.package_snake}_ext"
    marker = venv / f".installed-{module}-{digest}"

    def run(*args: str) -> None:
        if log:
            log(" ".join(args))
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")

    if not python.exists():
        run(sys.executable, "-m", "venv", str(venv))
    if not marker.exists():
        _write(ext_files, project)
        # The build backend and nanobind are installed into the venv once and every project is built
        # without build isolation: a fresh isolated build environment per project costs seconds each.
        requires = _build_requires(ext_files)
        check = subprocess.run([str(python), "-c", "import numpy, scikit_build_core, nanobind"], capture_output=True,
                               check=False)
        if check.returncode != 0:
            run(str(python), "-m", "pip", "install", "-q", "numpy", *requires)
        run(str(python), "-m", "pip", "install", "-q", "--no-build-isolation", "--force-reinstall", "--no-deps",
            str(project))
        for old in venv.glob(f".installed-{module}-*"):
            old.unlink()
        marker.write_text(digest + "\n")
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    return ExtEnv(python, module, pure / "src", project, Path(site))
