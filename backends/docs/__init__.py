"""`--target docs`: a Markdown reference of the schema."""

from __future__ import annotations

from hftc.backends.docs.view import build_view
from hftc.backends.templating import environment
from hftc.diagnostics.model import Diagnostic
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.ir.model import Schema


class DocsBackend:
    name = "docs"
    description = "Markdown reference: messages with byte layouts, components, pipelines, strategies"
    ir_versions = (4,)

    def check(self, ir: Schema, options: BackendOptions) -> tuple[Diagnostic, ...]:
        """The reference renders any schema that compiles: nothing to report."""
        return ()

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        view = build_view(ir)
        text = environment(__file__).get_template("reference.md.j2").render(v=view)
        return BackendResult(files=(GeneratedFile("README.md", text),))


BACKEND = DocsBackend()
