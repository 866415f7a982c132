"""Positions: hftc spans (1-based lines, 1-based code-point columns) and LSP positions (0-based, UTF-16)."""

from __future__ import annotations

from lsprotocol import types

from hftc.diagnostics.model import Span
from hftc.loader.yaml_nodes import LoadedYaml


def _utf16(line: str, col0: int) -> int:
    """UTF-16 code units of the first `col0` code points of `line`."""
    head = line[:col0]
    return len(head) + sum(1 for ch in head if ord(ch) > 0xFFFF)


def _codepoints(line: str, units: int) -> int:
    """Code points of `line` covering `units` UTF-16 code units."""
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


class Lines:
    """A text's lines, for converting positions both ways."""

    def __init__(self, text: str):
        self.lines = text.split("\n")

    def line(self, number1: int) -> str:
        return self.lines[number1 - 1] if 0 < number1 <= len(self.lines) else ""

    def position(self, line1: int, col1: int) -> types.Position:
        if line1 > len(self.lines):
            return types.Position(line=len(self.lines) - 1, character=_utf16(self.lines[-1], len(self.lines[-1])))
        return types.Position(line=max(line1 - 1, 0), character=_utf16(self.line(line1), max(col1 - 1, 0)))

    def range(self, span: Span | None) -> types.Range:
        if span is None:
            return types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
        return types.Range(start=self.position(span.line, span.col), end=self.position(span.end_line, span.end_col))

    def point(self, position: types.Position) -> tuple[int, int]:
        """The 1-based line and code-point column of an LSP position."""
        line1 = position.line + 1
        return line1, _codepoints(self.line(line1), position.character) + 1

    def whole(self) -> types.Range:
        last = len(self.lines)
        return types.Range(start=types.Position(line=0, character=0), end=self.position(last, len(self.lines[-1]) + 1))


def contains(span: Span | None, line: int, col: int) -> bool:
    if span is None:
        return False
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


def path_at(doc: LoadedYaml, line: int, col: int) -> tuple[tuple, bool]:
    """The deepest YAML path at a point, and whether the point is on that path's key."""
    best: tuple = ()
    on_key = False
    for path, span in doc.key_spans.items():
        if len(path) > len(best) and contains(span, line, col):
            best, on_key = path, True
    for path, span in doc.value_spans.items():
        if len(path) > len(best) and contains(span, line, col):
            best, on_key = path, False
    return best, on_key
