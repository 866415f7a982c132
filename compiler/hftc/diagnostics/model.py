"""The `Diagnostic` value and its parts.

Diagnostics are plain frozen data so passes can return them, tests can compare
them and every renderer (text, JSON, GitHub annotations, LSP) reads the same thing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable, Sequence


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based line/column range in a source file; `end_*` is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    @staticmethod
    def point(file: str, line: int, col: int, width: int = 1) -> "Span":
        return Span(file, line, col, line, col + max(width, 1))

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
        }

    @staticmethod
    def from_json(data: dict) -> "Span":
        return Span(data["file"], data["line"], data["col"], data["end_line"], data["end_col"])


@dataclass(frozen=True)
class Label:
    """A secondary span with a short message ("the budget is declared here")."""

    span: Span
    message: str


@dataclass(frozen=True)
class Edit:
    """Replace the text of `span` with `text` (an empty span inserts, empty text deletes)."""

    span: Span
    text: str

    def to_json(self) -> dict:
        return {"span": self.span.to_json(), "text": self.text}


@dataclass(frozen=True)
class Fix:
    """A machine-applicable correction: editors offer it as a quick fix. Its edits never overlap and
    refer to the text the diagnostic was computed from."""

    title: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict:
        return {"title": self.title, "edits": [e.to_json() for e in self.edits]}


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    span: Span | None = None
    label: str = ""
    secondary: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    fixes: tuple[Fix, ...] = ()

    def sort_key(self) -> tuple:
        span = self.span or Span("", 0, 0, 0, 0)
        return (span.file, span.line, span.col, self.code, self.message)

    def to_json(self) -> dict:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "span": self.span.to_json() if self.span else None,
            "label": self.label,
            "secondary": [{"span": s.span.to_json(), "message": s.message} for s in self.secondary],
            "notes": list(self.notes),
            "help": self.help,
            "fixes": [f.to_json() for f in self.fixes],
        }


def error(code: str, message: str, span: Span | None, **kwargs) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, **kwargs)


def warning(code: str, message: str, span: Span | None, **kwargs) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, **kwargs)


class DiagnosticError(Exception):
    """Raised by library entry points (not passes) when input has errors."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        first = next((d for d in self.diagnostics if d.severity is Severity.ERROR), None)
        super().__init__(f"{first.code}: {first.message}" if first else "errors")


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by position and drop exact duplicates, so output is stable."""
    seen: set = set()
    out = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (d.severity, d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean `x`?" hint for a misspelt name, or None."""
    import difflib  # only when something is misspelt

    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


__all__ = [
    "Diagnostic",
    "DiagnosticError",
    "Edit",
    "Fix",
    "Label",
    "Severity",
    "Span",
    "did_you_mean",
    "error",
    "field",
    "has_errors",
    "sort_diagnostics",
    "warning",
]
