"""The one exception of the venue package: a diagnostic the CLI renders like any other."""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, Span, error


class VenueError(Exception):
    """A problem with the schema, the options or the venue program (never a traceback).

    `code` is an HFT15xx code registered in `hftc.diagnostics.codes`.
    """

    def __init__(self, code: str, message: str, *, span: Span | None = None, help: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.span = span
        self.help = help

    def diagnostic(self) -> Diagnostic:
        return error(self.code, self.message, self.span, help=self.help)
