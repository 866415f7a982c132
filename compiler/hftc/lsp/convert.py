"""hftc diagnostics as LSP diagnostics, and their fix edits as code actions."""

from __future__ import annotations

import os

from lsprotocol import types

from hftc.diagnostics.model import Diagnostic, Severity
from hftc.lsp.analysis import Analysis, path_to_uri
from hftc.lsp.positions import Lines

SOURCE = "hftc"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.NOTE: types.DiagnosticSeverity.Information}


def _message(d: Diagnostic) -> str:
    parts = [d.message]
    if d.label:
        parts.append(d.label)
    parts.extend(d.notes)
    if d.help:
        parts.append(f"help: {d.help}")
    return "\n".join(parts)


def lsp_diagnostic(d: Diagnostic, lines: Lines, texts: dict[str, Lines]) -> types.Diagnostic:
    related = []
    for label in d.secondary:
        other = texts.get(label.span.file, lines)
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=path_to_uri(label.span.file), range=other.range(label.span)),
            message=label.message))
    return types.Diagnostic(range=lines.range(d.span), message=_message(d), severity=_SEVERITY[d.severity],
                            code=d.code, source=SOURCE, related_information=related or None,
                            data={"fixes": len(d.fixes)} if d.fixes else None)


def by_uri(analysis: Analysis) -> dict[str, list[types.Diagnostic]]:
    """The analysis's diagnostics grouped by the file they point into; those without a place (a
    backend's remark about the whole schema) go on the document's first line."""
    texts = {file: Lines(text) for file, text in analysis.result.sources.texts.items()}
    own = Lines(analysis.text)
    texts[analysis.file] = own
    out: dict[str, list[types.Diagnostic]] = {analysis.uri: []}
    for d in analysis.diagnostics:
        file = d.span.file if d.span is not None else analysis.file
        file = file if os.path.isabs(file) else os.path.abspath(file)
        uri = analysis.uri if file == analysis.file else path_to_uri(file)
        out.setdefault(uri, []).append(lsp_diagnostic(d, texts.get(file, own) if d.span else own, texts))
    return out


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and \
        (b.start.line, b.start.character) <= (a.end.line, a.end.character)


def code_actions(analysis: Analysis, wanted: types.Range) -> list[types.CodeAction]:
    """A quick fix for every fix edit of a diagnostic in this document that touches `wanted`."""
    lines = Lines(analysis.text)
    actions = []
    for d in analysis.diagnostics:
        if not d.fixes or d.span is None or os.path.abspath(d.span.file) != analysis.file:
            continue
        if not _overlaps(lines.range(d.span), wanted):
            continue
        diagnostic = lsp_diagnostic(d, lines, {})
        for i, fix in enumerate(d.fixes):
            edits = [types.TextEdit(range=lines.range(e.span), new_text=e.text) for e in fix.edits]
            actions.append(types.CodeAction(
                title=fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                is_preferred=i == 0, edit=types.WorkspaceEdit(changes={analysis.uri: edits})))
    return actions
