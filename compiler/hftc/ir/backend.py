"""The contract a backend implements. It lives beside the IR because backends
import only the IR package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

from hftc.diagnostics.model import Diagnostic
from hftc.ir.model import Schema


@dataclass(frozen=True)
class GeneratedFile:
    """A file relative to the backend's output folder. `formatter` names a tool
    the driver runs on it (clang-format, rustfmt, ruff) before writing."""

    path: str
    content: str
    formatter: str | None = None
    executable: bool = False


@dataclass(frozen=True)
class BackendResult:
    files: tuple[GeneratedFile, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class BackendOptions:
    """Options the driver passes on; `extra` carries backend-specific settings."""

    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """Pure: IR and options in, files and diagnostics out. Never touches disk.

    A backend may also define `check(ir, options) -> tuple[Diagnostic, ...]`: the diagnostics
    `generate` would report, found without generating. `hftc lint` prefers it, so a large schema
    lints fast; `generate` must report the same diagnostics (tests compare the two)."""

    name: str
    description: str
    ir_versions: tuple[int, ...]

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult: ...
