"""`hftc lint`: every diagnostic `hftc build` could report, for any target, without building."""

from __future__ import annotations

from hftc.diagnostics.model import sort_diagnostics
from hftc.driver.build import check_targets
from hftc.frontend import compile_file
from hftc.frontend.compile import CompileResult, without_cyclic_gc


def lint_file(path: str, import_paths: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """The schema compiled, with the checks of every build target added once it compiles."""
    result = compile_file(path, import_paths)
    if result.ok:
        with without_cyclic_gc():  # the checks walk an IR that may hold millions of objects
            result.diagnostics = sort_diagnostics(result.diagnostics + check_targets(result.ir))
    return result
