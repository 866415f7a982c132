"""Where hftc's own files are: the runtimes, the data folder, the build cache."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def runtime_cpp_dir() -> Path:
    """The C++ runtime: the repository's copy in a checkout, else the installed one."""
    checkout = _PACKAGE.parent.parent / "runtime_cpp"
    return checkout if (checkout / "CMakeLists.txt").exists() else _PACKAGE / "runtime_cpp"


def runtime_rust_dir() -> Path | None:
    checkout = _PACKAGE.parent.parent / "runtime_rust"
    if (checkout / "Cargo.toml").exists():
        return checkout
    installed = _PACKAGE / "runtime_rust"
    return installed if (installed / "Cargo.toml").exists() else None


def shared_data_dir() -> Path | None:
    """The market-data folder beside a checkout (`../shared/data`), or $HFTC_DATA."""
    env = os.environ.get("HFTC_DATA")
    if env:
        return Path(env)
    candidate = _PACKAGE.parent.parent.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def build_cache() -> Path:
    default = _PACKAGE.parent.parent / ".build-cache" if (_PACKAGE.parent.parent / "pyproject.toml").exists() \
        else Path.home() / ".cache" / "hftc"
    path = Path(os.environ.get("HFTC_BUILD_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path
