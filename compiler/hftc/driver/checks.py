"""What `hftc build` would report for each target, nothing generated or written: `hftc lint` and the
language server run these, so this module imports only the registry and the IR, not the formatters and
the atomic writer `hftc build` needs."""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, error
from hftc.driver.registry import CHECKS_ONLY, NO_CHECKS, known_targets, load_backend
from hftc.ir.backend import BackendOptions
from hftc.ir.model import Schema


def check_targets(ir: Schema, targets: list[str] | None = None) -> list[Diagnostic]:
    """What `hftc build` would report for each target (every known one by default), nothing
    written or formatted: `hftc lint` adds these to the passes' diagnostics, so a schema that
    lints clean builds for every target."""
    targets = list(targets if targets is not None else known_targets())
    found: list[Diagnostic] = []
    seen: set[tuple] = set()
    for target in targets:
        if target in NO_CHECKS:
            continue  # reports nothing for any IR: not loaded at all
        if target in CHECKS_ONLY and not getattr(ir, CHECKS_ONLY[target]):
            continue  # nothing for this target to check: not loaded at all
        backend = load_backend(target)
        if backend is None or ir.ir_version not in backend.ir_versions:
            continue
        try:
            diagnostics = backend_diagnostics(backend, ir)
        except Exception as exc:  # a backend bug must surface as a diagnostic, not a traceback
            found.append(error("HFT0802", f"backend `{target}` failed: {type(exc).__name__}: {exc}", None))
            continue
        for d in diagnostics:
            key = (d.code, d.message, d.span)
            if key not in seen:
                seen.add(key)
                found.append(d)
    return found


def backend_diagnostics(backend, ir: Schema) -> tuple[Diagnostic, ...]:
    """What `backend.generate` would report: its `check` when it has one (the same checks without
    generating code, so linting a large schema stays fast), else a generation thrown away."""
    check = getattr(backend, "check", None)
    if callable(check):
        return tuple(check(ir, BackendOptions()))
    return backend.generate(ir, BackendOptions()).diagnostics
