"""The one exception of the backtest package: a diagnostic the CLI renders like any other."""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, Span, error


class BacktestError(Exception):
    """A problem with the strategy, the data or the options of a backtest (never a traceback).

    `code` is an HFT11xx code registered in `hftc.diagnostics.codes`; `span`, when known,
    points into the schema or the params file.
    """

    def __init__(self, code: str, message: str, *, span: Span | None = None, help: str | None = None,
                 label: str = ""):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.span = span
        self.help = help
        self.label = label

    def diagnostic(self) -> Diagnostic:
        return error(self.code, self.message, self.span, label=self.label, help=self.help)
