"""Where hftc's own files are: the runtimes, the data folder, the build cache.

The runtime folders are found with `os.path` (`runtime_cpp_folder`, `runtime_rust_folder`): the lint
cache and the lint server's key read them on every `hftc lint`, which then need not import pathlib."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_PACKAGE = os.path.dirname(os.path.realpath(__file__))
_CHECKOUT = os.path.dirname(os.path.dirname(_PACKAGE))  # the repository, when running from one


def runtime_cpp_folder() -> str:
    """The C++ runtime: the repository's copy in a checkout, else the installed one."""
    checkout = os.path.join(_CHECKOUT, "runtime_cpp")
    if os.path.exists(os.path.join(checkout, "CMakeLists.txt")):
        return checkout
    return os.path.join(_PACKAGE, "runtime_cpp")


def runtime_rust_folder() -> str | None:
    checkout = os.path.join(_CHECKOUT, "runtime_rust")
    if os.path.exists(os.path.join(checkout, "Cargo.toml")):
        return checkout
    installed = os.path.join(_PACKAGE, "runtime_rust")
    return installed if os.path.exists(os.path.join(installed, "Cargo.toml")) else None


def runtime_cpp_dir() -> Path:
    from pathlib import Path

    return Path(runtime_cpp_folder())


def runtime_rust_dir() -> Path | None:
    from pathlib import Path

    folder = runtime_rust_folder()
    return Path(folder) if folder is not None else None


def shared_data_dir() -> Path | None:
    """The market-data folder beside a checkout (`../shared/data`), or $HFTC_DATA."""
    from pathlib import Path

    env = os.environ.get("HFTC_DATA")
    if env:
        return Path(env)
    candidate = Path(_CHECKOUT).parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def build_cache() -> Path:
    from pathlib import Path

    checkout = Path(_CHECKOUT)
    default = checkout / ".build-cache" if (checkout / "pyproject.toml").exists() else Path.home() / ".cache" / "hftc"
    path = Path(os.environ.get("HFTC_BUILD_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path
