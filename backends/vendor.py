"""Runtime sources copied into generated projects, so a generated C++ project or Rust crate
builds wherever it is copied, without the hftc checkout or wheel it came from.

The Rust crate gets the whole runtime library (`runtime_rust/`, a path dependency); the C++
project gets the runtime headers its own sources include, followed transitively
(`runtime/include/hft/...`). Both are copied byte for byte (the manifest's hashes then show
which runtime a project carries); only the vendored `Cargo.toml` is written anew, as a
library-only package without the runtime's binaries or profiles.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

RUST_VENDOR_DIR = "runtime_rust"
CPP_VENDOR_DIR = "runtime/include"

_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](hft/[^">]+)[">]', re.MULTILINE)


class RuntimeNotFound(Exception):
    """The runtime sources to vendor are missing (a broken install)."""


def rust_runtime_files(runtime: Path | None) -> dict[str, str]:
    """`runtime_rust/Cargo.toml` and every library source under `runtime_rust/src/` (not `src/bin/`)."""
    if runtime is None or not (runtime / "Cargo.toml").is_file():
        raise RuntimeNotFound(f"the Rust runtime (runtime_rust/Cargo.toml) was not found{_at(runtime)}")
    package = tomllib.loads((runtime / "Cargo.toml").read_text(encoding="utf-8"))["package"]
    cargo = "\n".join([
        f"# Vendored by hftc from its Rust runtime ({package['name']} {package['version']}), so the crate",
        "# above builds wherever it is copied. Do not edit.",
        "[package]",
        f'name = "{package["name"]}"',
        f'version = "{package["version"]}"',
        f'edition = "{package.get("edition", "2021")}"',
        *([f'license = "{package["license"]}"'] if "license" in package else []),
        "publish = false",
        "",
        "[lib]",
        'path = "src/lib.rs"',
        "",
    ])
    files = {f"{RUST_VENDOR_DIR}/Cargo.toml": cargo}
    src = runtime / "src"
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src).as_posix()
        if not rel.startswith("bin/"):
            files[f"{RUST_VENDOR_DIR}/src/{rel}"] = path.read_text(encoding="utf-8")
    return files


def cpp_runtime_headers(include: Path, sources: list[str]) -> dict[str, str]:
    """The runtime headers (`hft/...`) that `sources` include, directly or through each other,
    keyed by their path under `runtime/include/`."""
    roots = [name for text in sources for name in _INCLUDE.findall(text)]
    return {f"{CPP_VENDOR_DIR}/{name}": text for name, text in header_closure(include, roots).items()}


def header_closure(include: Path, roots: list[str]) -> dict[str, str]:
    """`roots` (paths such as `hft/clock.hpp` under `include`) and every runtime header they
    include, transitively: relative path -> text, sorted by path."""
    if not (include / "hft").is_dir():
        raise RuntimeNotFound(f"the C++ runtime headers (include/hft/) were not found{_at(include)}")
    found: dict[str, str] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        header = include / name
        if not header.is_file():
            raise RuntimeNotFound(f"the C++ runtime header {name} was not found under {include}")
        found[name] = header.read_text(encoding="utf-8")
        pending += _INCLUDE.findall(found[name])
    return {name: found[name] for name in sorted(found)}


def _at(path: Path | None) -> str:
    return f" at {path}" if path is not None else ""
