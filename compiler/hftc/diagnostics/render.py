"""Render diagnostics as rustc-style text, JSON lines or GitHub annotations."""

from __future__ import annotations

import functools
import json
from typing import Callable, Iterable, Mapping

from hftc.diagnostics.model import Diagnostic, Severity, Span

SourceLookup = Callable[[str], "str | None"]


# ANSI styles of the text renderer (rustc's palette); applied only when colour is asked for.
_RESET = "\x1b[0m"
_STYLES = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m", "gutter": "\x1b[1;34m",
           "bold": "\x1b[1m"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_STYLES[style]}{text}{_RESET}" if color and text else text


MAX_SNIPPET = 160  # characters of a source line shown; a minified or generated line can be megabytes


@functools.lru_cache(maxsize=8)
def _lines(text: str) -> list[str]:
    """Split once per file, not once per diagnostic (16k warnings on a 1 MB schema were quadratic)."""
    return text.splitlines()


def _source_line(lookup: SourceLookup, span: Span) -> str | None:
    text = lookup(span.file)
    if text is None:
        return None
    lines = _lines(text)
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1].replace("\t", " ")
    return None


def _snippet(lookup: SourceLookup, span: Span, label: str, marker: str, gutter: int,
             color: bool = False, style: str = "gutter") -> list[str]:
    line = _source_line(lookup, span)
    pad = " " * gutter
    if line is None:
        return []
    start = max(span.col, 1)
    if span.end_line == span.line:
        width = max(span.end_col - span.col, 1)
    else:
        width = max(len(line) - start + 1, 1)
    if len(line) > MAX_SNIPPET:  # a window around the start of the span, marked as cut
        first = max(start - 1 - MAX_SNIPPET // 3, 0)
        cut = line[first:first + MAX_SNIPPET]
        lead = "..." if first else ""
        line = lead + cut + ("..." if first + MAX_SNIPPET < len(line) else "")
        start = start - first + len(lead)
        width = max(min(width, MAX_SNIPPET - (start - 1 - len(lead))), 1)
    carets = marker * width + (f" {label}" if label else "")
    return [
        _paint(f"{str(span.line).rjust(gutter)} |", "gutter", color) + f" {line}",
        _paint(f"{pad} |", "gutter", color) + " " + " " * (start - 1) + _paint(carets, style, color),
    ]


def render_text(diagnostic: Diagnostic, lookup: SourceLookup, color: bool = False) -> str:
    """One diagnostic in the style of rustc: header, location, snippet, help (ANSI-coloured if `color`)."""
    severity = diagnostic.severity.value
    head = _paint(f"{severity}[{diagnostic.code}]", severity, color) + _paint(f": {diagnostic.message}", "bold", color)
    spans = [s for s in [diagnostic.span, *(lab.span for lab in diagnostic.secondary)] if s]
    gutter = max((len(str(s.line)) for s in spans), default=1)
    pad = " " * gutter
    bar = _paint(f"{pad} |", "gutter", color)
    out = [head]
    if diagnostic.span:
        s = diagnostic.span
        out.append(_paint(f"{pad}-->", "gutter", color) + f" {s.file}:{s.line}:{s.col}")
        snippet = _snippet(lookup, s, diagnostic.label, "^", gutter, color, severity)
        if snippet:
            out.append(bar)
            out.extend(snippet)
    for lab in diagnostic.secondary:
        s = lab.span
        out.append(_paint(f"{pad}:::", "gutter", color) + f" {s.file}:{s.line}:{s.col}")
        snippet = _snippet(lookup, s, lab.message, "-", gutter, color)
        if snippet:
            out.append(bar)
            out.extend(snippet)
        elif lab.message:
            out.append(_paint(f"{pad} =", "gutter", color) + f" {lab.message}")
    if diagnostic.notes or diagnostic.help:
        out.append(bar)
    for note in diagnostic.notes:
        out.append(_paint(f"{pad} =", "gutter", color) + " " + _paint("note", "bold", color) + f": {note}")
    if diagnostic.help:
        out.append(_paint(f"{pad} =", "gutter", color) + " " + _paint("help", "bold", color) + f": {diagnostic.help}")
    return "\n".join(out)


def render_json(diagnostic: Diagnostic) -> str:
    return json.dumps(diagnostic.to_json(), sort_keys=True)


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command, so errors annotate the pull request."""
    kind = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}[
        diagnostic.severity
    ]
    props = [f"title={diagnostic.code}"]
    if diagnostic.span:
        s = diagnostic.span
        props = [f"file={s.file}", f"line={s.line}", f"col={s.col}"]
        if s.end_line == s.line:
            props.append(f"endColumn={s.end_col}")
        props.append(f"title={diagnostic.code}")
    message = diagnostic.message + (f" ({diagnostic.help})" if diagnostic.help else "")
    return f"::{kind} {','.join(props)}::{_gh_escape(message)}"


def render_all(
    diagnostics: Iterable[Diagnostic], fmt: str, sources: Mapping[str, str] | SourceLookup, color: bool = False
) -> str:
    """Every diagnostic in `fmt`; `color` (ANSI styles) applies to text only: JSON and GitHub stay plain."""
    lookup: SourceLookup = sources.get if isinstance(sources, Mapping) else sources
    items = list(diagnostics)
    if fmt == "json":
        return "\n".join(render_json(d) for d in items)
    if fmt == "github":
        return "\n".join(render_github(d) for d in items)
    blocks = [render_text(d, lookup, color) for d in items]
    errors = sum(1 for d in items if d.severity is Severity.ERROR)
    warnings = sum(1 for d in items if d.severity is Severity.WARNING)
    if errors or warnings:
        parts = []
        if errors:
            parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        blocks.append(_paint(f"{' and '.join(parts)} emitted", "bold", color))
    return "\n\n".join(blocks)
