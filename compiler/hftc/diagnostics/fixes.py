"""Fix edits for diagnostics whose correction is obvious, computed from the source text.

Passes report problems on the IR, where the text is gone; the edits are added here, once, from the
spans they report: a misspelt name with a "did you mean" becomes a replacement of that name, a field
added out of version order (HFT0701) becomes a move of its lines above the newer field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from hftc.diagnostics.model import Diagnostic, Edit, Fix, Span

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_QUOTED = re.compile(r"`([^`]+)`")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _did_you_mean(d: Diagnostic, text: str) -> Fix | None:
    match = _DID_YOU_MEAN.search(d.help or "")
    if match is None or d.span is None or d.span.line != d.span.end_line:
        return None
    lines = _lines(text)
    if not 0 < d.span.line <= len(lines):
        return None
    line = lines[d.span.line - 1]
    start, end = d.span.col - 1, min(d.span.end_col - 1, len(line))
    window = line[start:end]
    suggestion = match.group(1)
    for wrong in _QUOTED.findall(d.message):
        if wrong == suggestion:
            continue
        found = [m.start() for m in re.finditer(rf"(?<![\w.]){re.escape(wrong)}(?![\w])", window)]
        if len(found) == 1:
            col = start + found[0] + 1
            return Fix(f"Replace `{wrong}` with `{suggestion}`",
                       (Edit(Span(d.span.file, d.span.line, col, d.span.line, col + len(wrong)), suggestion),))
    return None


def _key_line(doc, name: str, line: int) -> tuple[tuple, Span] | None:
    """The member `name` of a `fields:` mapping whose key or value spans `line`."""
    for path, span in doc.key_spans.items():
        if len(path) >= 2 and path[-1] == name and path[-2] == "fields":
            value = doc.value_spans.get(path, span)
            if span.line <= line <= value.end_line:
                return path, span
    return None


def _move_out_of_order(d: Diagnostic, text: str, doc) -> Fix | None:
    names = _QUOTED.findall(d.message)
    if d.code != "HFT0701" or len(names) < 2 or d.span is None or not d.secondary or doc is None \
            or d.message.startswith(("var-data", "group")):
        return None
    moved = _key_line(doc, names[0], d.span.line)
    newer = _key_line(doc, names[1], d.secondary[0].span.line)
    if moved is None or newer is None or moved[0][:-1] != newer[0][:-1]:
        return None
    lines = _lines(text)
    (path, key), (_, newer_key) = moved, newer
    value = doc.value_spans.get(path)
    if value is None:
        return None
    # A block value ends where the next key starts: then its last line is the one before.
    ends_at_next = value.end_line > key.line and (value.end_line > len(lines)
                                                  or lines[value.end_line - 1][:value.end_col - 1].strip() == "")
    last = value.end_line - 1 if ends_at_next else value.end_line
    own_lines = lines[key.line - 1][:key.col - 1].strip() == "" and \
        lines[newer_key.line - 1][:newer_key.col - 1].strip() == "" and \
        lines[newer_key.line - 1][:newer_key.col - 1] == lines[key.line - 1][:key.col - 1] and \
        last < len(lines)
    if not own_lines:  # a flow mapping `{a: x, b: y}`: no line of its own to move
        return None
    block = "\n".join(lines[key.line - 1:last]) + "\n"
    file = d.span.file
    return Fix(f"Move `{names[0]}` above `{names[1]}`", (
        Edit(Span(file, newer_key.line, 1, newer_key.line, 1), block),
        Edit(Span(file, key.line, 1, last + 1, 1), ""),
    ))


def add_fixes(diagnostics: Iterable[Diagnostic], texts: Mapping[str, str], docs: Mapping | None = None) -> list[Diagnostic]:
    """The diagnostics, each with the fix edits that apply to it added."""
    out = []
    for d in diagnostics:
        text = texts.get(d.span.file) if d.span is not None else None
        if text is None or d.fixes:
            out.append(d)
            continue
        fix = _did_you_mean(d, text) or _move_out_of_order(d, text, (docs or {}).get(d.span.file))
        out.append(dataclasses.replace(d, fixes=(fix,)) if fix else d)
    return out


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with non-overlapping edits applied (positions refer to the original text)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(line: int, col: int) -> int:
        if line > len(lines):
            return len(text)
        return min(starts[line - 1] + col - 1, len(text))

    out = text
    for e in sorted(edits, key=lambda e: (e.span.line, e.span.col), reverse=True):
        out = out[:offset(e.span.line, e.span.col)] + e.text + out[offset(e.span.end_line, e.span.end_col):]
    return out
