"""One diagnostic type shared by the CLI, the editor tooling and the backends."""

from hftc.diagnostics.model import (
    Diagnostic,
    DiagnosticError,
    Label,
    Severity,
    Span,
    did_you_mean,
    has_errors,
    sort_diagnostics,
)

__all__ = [
    "Diagnostic",
    "DiagnosticError",
    "Label",
    "Severity",
    "Span",
    "did_you_mean",
    "has_errors",
    "sort_diagnostics",
]
