"""The one exception type of the data package, convertible to a diagnostic.

Readers raise `DataError` with a registered HFT10xx code and the file (and line,
when the input is text) so the CLI prints an ordinary diagnostic, never a
traceback. Binary inputs (tapes, npz) have no line: the path goes in the message.
"""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, Severity, Span


class DataError(Exception):
    """Bad market-data input or a bad tape file."""

    def __init__(self, code: str, message: str, path: str | None = None, line: int | None = None,
                 hint: str | None = None):
        self.code = code
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.hint = hint
        where = f"{self.path}:{line}: " if self.path and line else (f"{self.path}: " if self.path else "")
        super().__init__(f"{where}{message}")

    def diagnostic(self) -> Diagnostic:
        return make_diagnostic(Severity.ERROR, self.code, self.message, self.path, self.line, self.hint)


def make_diagnostic(severity: Severity, code: str, message: str, path: str | None = None,
                    line: int | None = None, hint: str | None = None) -> Diagnostic:
    """A diagnostic pointing at `path:line`, or naming `path` when there is no line."""
    if path and line:
        return Diagnostic(severity, code, message, Span.point(path, line, 1), help=hint)
    text = f"{path}: {message}" if path else message
    return Diagnostic(severity, code, text, None, help=hint)
