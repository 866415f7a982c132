"""`hftc lint`: every diagnostic `hftc build` could report, for any target, without building."""

from __future__ import annotations

import sys
from typing import BinaryIO

from hftc.diagnostics.model import sort_diagnostics
from hftc.driver.build import check_targets
from hftc.frontend import compile_file, compile_text
from hftc.frontend.compile import CompileResult, without_cyclic_gc
from hftc.frontend.sources import MAX_FILE_BYTES, SourceSet, decode, display_path

STDIN_NAME = "<stdin>"


def _with_target_checks(result: CompileResult) -> CompileResult:
    if result.ok:
        with without_cyclic_gc():  # the checks walk an IR that may hold millions of objects
            result.diagnostics = sort_diagnostics(result.diagnostics + check_targets(result.ir))
    return result


def lint_file(path: str, import_paths: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """The schema compiled, with the checks of every build target added once it compiles."""
    return _with_target_checks(compile_file(path, import_paths))


def lint_stdin(stdin_filename: str | None, import_paths: tuple[str, ...] | list[str] = (),
               stream: BinaryIO | None = None) -> CompileResult:
    """`hftc lint -`: the schema text from standard input (an editor's buffer, a pre-commit stash).

    `stdin_filename` names it in diagnostics and places it for imports, which resolve relative to
    that path as if the text were saved there; without it imports resolve from the working folder."""
    file = display_path(stdin_filename) if stdin_filename else STDIN_NAME
    stream = stream if stream is not None else sys.stdin.buffer
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        from hftc.diagnostics.model import Span, error

        return CompileResult(None, [error("HFT0001", f"`{file}` (standard input) is too large for a schema "
                                          f"(over {MAX_FILE_BYTES} bytes)", Span.point(file, 1, 1))], SourceSet())
    text, diags = decode(file, data)
    if text is None:
        return CompileResult(None, diags, SourceSet())
    return _with_target_checks(compile_text(file, text, import_paths))
