"""Run code formatters on generated text, so output is canonical and readable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# Fixed style, not a file lookup: output must not depend on where it is written.
CLANG_FORMAT_STYLE = "{BasedOnStyle: Google, ColumnLimit: 100, IncludeBlocks: Preserve, SortIncludes: false}"


class FormatError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _command(formatter: str, path: str) -> list[str]:
    if formatter == "clang-format":
        return ["clang-format", f"--style={CLANG_FORMAT_STYLE}", f"--assume-filename={path}"]
    if formatter == "rustfmt":
        return ["rustfmt", "--edition", "2021", "--emit", "stdout", "--quiet"]
    if formatter == "ruff":
        return ["ruff", "format", "--quiet", "--line-length", "100", f"--stdin-filename={path}", "-"]
    raise FormatError("HFT0806", f"unknown formatter `{formatter}`")


def _which(tool: str) -> str | None:
    """Prefer the tool installed beside this Python (the pinned PyPI build) over PATH."""
    local = os.path.join(os.path.dirname(sys.executable), tool)
    return local if os.access(local, os.X_OK) else shutil.which(tool)


def format_text(formatter: str | None, path: str, text: str) -> str:
    if formatter is None:
        return text
    cmd = _command(formatter, path)
    found = _which(cmd[0])
    if found is None:
        raise FormatError("HFT0806", f"`{cmd[0]}` is needed to format {path} but is not installed")
    cmd[0] = found
    proc = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise FormatError("HFT0807", f"{cmd[0]} failed on {path}: {proc.stderr.strip()[:2000]}")
    out = proc.stdout
    if formatter == "rustfmt" and out.startswith("stdin:\n"):
        out = out[len("stdin:\n"):]
    return out
