"""`hftc lint`: every diagnostic `hftc build` could report, for any target, without building."""

from __future__ import annotations

import re
import sys
from typing import BinaryIO

from hftc.diagnostics.model import Diagnostic, Severity, has_errors, sort_diagnostics
from hftc.driver.checks import check_targets
from hftc.frontend import compile_file
from hftc.frontend.compile import CompileResult, compile_text, without_cyclic_gc
from hftc.frontend.sources import MAX_FILE_BYTES, SourceSet, decode, display_path

STDIN_NAME = "<stdin>"

BACKEND_FAILED = "HFT0802"


def add_target_checks(result: CompileResult) -> CompileResult:
    """The checks of every build target, added to a compiled result. They run on every IR the front end
    produced, also one with errors elsewhere, so one run reports every independent problem; a backend
    that cannot handle an IR already known to be wrong (an unresolved type) reports nothing, since its
    failure is a consequence of an error already shown."""
    if result.ir is None:
        return _with_fixes(result)
    earlier_errors = has_errors(result.diagnostics)
    with without_cyclic_gc():  # the checks walk an IR that may hold millions of objects
        found: list[Diagnostic] = check_targets(result.ir)
    if earlier_errors:
        from hftc.schema.validate import mentions

        names = _definitions_in_error(result) | result.left_out
        found = [d for d in found if d.code != BACKEND_FAILED and not mentions(d, result.left_out)
                 and not _about(d, names, result)]
    result.diagnostics = sort_diagnostics(result.diagnostics + found)
    return _with_fixes(result)


def _with_fixes(result: CompileResult) -> CompileResult:
    from hftc.diagnostics.fixes import add_fixes

    result.diagnostics = add_fixes(result.diagnostics, result.sources.texts, result.sources.docs)
    return result


def _definition_at(result: CompileResult, span) -> str | None:
    """The name of the top-level definition (`types.Price`, `messages.M`) whose text holds `span`."""
    doc = result.sources.docs.get(span.file) if span is not None else None
    if doc is None:
        return None
    for path, extent in doc.value_spans.items():
        if len(path) == 2 and isinstance(path[1], str) and extent.line <= span.line <= extent.end_line:
            key = doc.key_spans.get(path)
            if key is not None and (key.line, key.col) <= (span.line, span.col) <= (extent.end_line, extent.end_col):
                return path[1]
    return None


def _definitions_in_error(result: CompileResult) -> frozenset[str]:
    names = (_definition_at(result, d.span) for d in result.diagnostics if d.severity is Severity.ERROR)
    return frozenset(n for n in names if n)


def _about(diagnostic: Diagnostic, names: frozenset[str], result: CompileResult) -> bool:
    """Whether a target's diagnostic concerns a definition that already has an error: then it is
    likely that error's consequence (a duplicate member the passes reported is also a duplicate
    attribute for every backend)."""
    if not names:
        return False
    if _definition_at(result, diagnostic.span) in names:
        return True
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", diagnostic.message))
    return not words.isdisjoint(names)


def lint_file(path: str, import_paths: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """The schema compiled, with the checks of every build target added to what compiled."""
    return add_target_checks(compile_file(path, import_paths))


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
    return add_target_checks(compile_text(file, text, import_paths))


def front_end_text(file: str, text: str, import_paths: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """The front end and passes over unsaved text with fix edits, without the targets' checks (the
    language server shows these first and adds the targets' checks when they finish)."""
    return _with_fixes(compile_text(file, text, import_paths))


def lint_text(file: str, text: str, import_paths: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """As lint_file for text not saved yet (an editor's buffer); imports are read from disk."""
    return add_target_checks(compile_text(file, text, import_paths))
