"""Compile one schema file (with its imports) to IR, collecting every diagnostic."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from hftc.diagnostics.model import Diagnostic, error, has_errors, sort_diagnostics
from hftc.frontend.lower import Lowerer
from hftc.frontend.sources import SourceSet, decode, display_path, import_roots, inside_roots, read_bounded, read_file
from hftc.frontend.templates import TemplateLibrary
from hftc.ir.model import Schema
from hftc.loader.yaml_nodes import LoadedYaml
from hftc.schema.document import MODELS, SchemaDocument, document_kind
from hftc.schema.validate import mentions, validate_parts

LANGUAGE_VERSION = 1
IR_SUFFIX = ".ir.json"


@dataclass
class CompileResult:
    ir: Schema | None
    diagnostics: list[Diagnostic]
    sources: SourceSet = field(default_factory=SourceSet)
    # Definitions left out because they failed validation; the IR holds the rest (see validate_parts).
    left_out: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return self.ir is not None and not has_errors(self.diagnostics)


def _check_form(doc: LoadedYaml) -> tuple[str | None, list[Diagnostic]]:
    kind = document_kind(doc.value)
    top = doc.span_of(())
    if kind is None:
        what = ("has none of `hftc:`, `type: hft_component` or `parameters:`" if isinstance(doc.value, dict)
                else "is not a mapping")
        return None, [error("HFT0007", f"unknown document form: the top level {what}", top,
                            help="a full schema starts with `hftc: 1`; see `hftc explain HFT0007`")]
    if kind == "schema":
        version = doc.value.get("hftc")
        if isinstance(version, int) and not isinstance(version, bool) and version != LANGUAGE_VERSION:
            return None, [error("HFT0008", f"schema language version {version} is not supported",
                                doc.span_of(("hftc",)), label=f"this compiler reads version {LANGUAGE_VERSION}",
                                help=f"write `hftc: {LANGUAGE_VERSION}`")]
    return kind, []


class _Compilation:
    def __init__(self, sources: SourceSet):
        self.sources = sources
        self.lowerer = Lowerer(TemplateLibrary(sources))
        self.diagnostics: list[Diagnostic] = []
        self.loaded: list[str] = []
        self.left_out: frozenset[str] = frozenset()  # definitions that failed validation, see validate_parts

    def add_schema_file(self, doc: LoadedYaml, model: SchemaDocument, stack: tuple[str, ...]) -> None:
        """Depth-first: imports first, so a file's definitions follow what it uses."""
        base = os.path.dirname(os.path.abspath(doc.file))
        for i, entry in enumerate(model.imports):
            span = doc.span_of(("imports", i))
            target = self.resolve_import(base, entry)
            if target is None:
                self.diagnostics.append(error(
                    "HFT0205", f"import `{entry}` is outside the schema's folder and the import paths", span,
                    label="refused, not read",
                    help="imports must stay inside the schema's folder tree or under an `--import-path DIR`"))
                continue
            shown = display_path(target)
            if shown in stack:
                cycle = " → ".join([*stack[stack.index(shown):], shown])
                self.diagnostics.append(error("HFT0202", f"import cycle: {cycle}", span, label="imported here",
                                              help="move the shared definitions into a file both import"))
                continue
            if shown in self.loaded:
                continue
            if not os.path.exists(target):
                self.diagnostics.append(error("HFT0201", f"imported file `{entry}` not found", span,
                                              label=f"no file at {shown}",
                                              help="imports are resolved relative to the importing file"))
                continue
            sub, diags = read_file(target, self.sources)
            if sub is None or diags:
                self.diagnostics.extend(diags)
                if sub is None:
                    continue
            kind, diags = _check_form(sub)
            self.diagnostics.extend(diags)
            if kind != "schema":
                if kind is not None:
                    self.diagnostics.append(error("HFT0204", f"`{entry}` is not a full schema and cannot be imported",
                                                  span, label="imported here"))
                continue
            sub_model, diags, left_out = validate_parts(SchemaDocument, sub)
            self.diagnostics.extend(diags)
            self.left_out |= left_out
            if sub_model is None:
                continue
            self.add_schema_file(sub, sub_model, stack + (shown,))
        self.loaded.append(doc.file)
        self.lowerer.add_schema(model, doc)

    def resolve_import(self, base: str, entry: str) -> str | None:
        """The file `entry` names (relative to the importing file, else to an import root); None when it
        would leave the allowed folders. A name found nowhere resolves beside the importing file."""
        roots = self.sources.import_roots
        if os.path.isabs(entry):
            return os.path.normpath(entry) if inside_roots(entry, roots) else None
        beside = os.path.normpath(os.path.join(base, entry))
        candidates = [beside] + [os.path.normpath(os.path.join(root, entry)) for root in roots[1:]]
        allowed = [c for c in candidates if inside_roots(c, roots)]
        for candidate in allowed:
            if os.path.exists(candidate):
                return candidate
        return beside if beside in allowed else None


def _compile_loaded(doc: LoadedYaml | None, diagnostics: list[Diagnostic], sources: SourceSet) -> CompileResult:
    from hftc.passes import run_passes

    if doc is None or has_errors(diagnostics):
        return CompileResult(None, sort_diagnostics(diagnostics), sources)
    kind, diags = _check_form(doc)
    if kind is None:
        return CompileResult(None, sort_diagnostics(diagnostics + diags), sources)
    model, diags, left_out = validate_parts(MODELS[kind], doc)
    diagnostics = diagnostics + diags
    if model is None:
        return CompileResult(None, sort_diagnostics(diagnostics), sources)
    comp = _Compilation(sources)
    comp.left_out = left_out
    if kind == "schema":
        assert isinstance(model, SchemaDocument)
        comp.add_schema_file(doc, model, (doc.file,))
        meta = (model.package, model.version, model.schema_id, model.description)
    elif kind == "component":
        meta = (comp.lowerer.add_component_document(model, doc), 1, 1, model.description)
    else:
        meta = (comp.lowerer.add_strategy_template(model, doc), 1, 1, model.description)
    low = comp.lowerer
    wire = low.root_wire()
    semantic = low.diagnostics + low.templates.diagnostics
    # Sources relative to the root schema's folder: output must not depend on the working directory.
    root = os.path.dirname(os.path.abspath(doc.file))
    sources_rel = tuple(os.path.relpath(os.path.abspath(f), root).replace(os.sep, "/") for f in (comp.loaded or [doc.file]))
    ir = Schema(package=meta[0], version=meta[1], schema_id=meta[2], description=meta[3], document_kind=kind,
                sources=sources_rel, types=tuple(low.types), messages=tuple(low.messages),
                components=tuple(low.components), pipelines=tuple(low.pipelines),
                strategies=tuple(low.strategies), deployments=tuple(low.deployments), monitoring=low.monitoring,
                wire=wire)
    ir, pass_diags = run_passes(ir)
    semantic += pass_diags
    if comp.left_out:  # what is said about a definition left out is a consequence of its own error
        semantic = [d for d in semantic if not mentions(d, comp.left_out)]
    result = CompileResult(ir, sort_diagnostics(diagnostics + comp.diagnostics + semantic), sources)
    result.left_out = comp.left_out
    return result


def load_ir_file(path: str) -> CompileResult:
    """An IR already compiled by `hftc ir` (a `.ir.json` file): where the YAML sources are not at hand,
    e.g. the optimiser's pod, which gets the schema from a ConfigMap."""
    import json

    from pydantic import ValidationError

    from hftc.diagnostics.model import Span
    from hftc.ir.model import IR_VERSION
    from hftc.ir.serialize import ir_from_json

    sources = SourceSet()
    file = display_path(path)
    hint = f"write it with `hftc ir SCHEMA > {os.path.basename(path)}` using this version of hftc"
    data, diags = read_bounded(path, file, "IR")
    if data is None:
        return CompileResult(None, diags, sources)
    text, diags = decode(file, data)
    if text is None:
        return CompileResult(None, diags, sources)
    sources.texts[file] = text
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return CompileResult(None, [error("HFT0010", f"IR file is not JSON: {exc.msg}",
                                          Span.point(file, exc.lineno, exc.colno), help=hint)], sources)
    version = raw.get("ir_version") if isinstance(raw, dict) else None
    if isinstance(raw, dict) and version != IR_VERSION:
        return CompileResult(None, [error("HFT0010", f"IR version {version} is not supported (this hftc reads "
                                          f"{IR_VERSION})", Span.point(file, 1, 1), help=hint)], sources)
    try:
        ir = ir_from_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        return CompileResult(None, [error("HFT0010", f"not an hftc IR: {where}: {first['msg']}",
                                          Span.point(file, 1, 1), help=hint)], sources)
    return CompileResult(ir, [], sources)


@contextmanager
def without_cyclic_gc():
    """Compiling allocates a few objects per input byte and frees nothing until the end; Python's
    cyclic collector would rescan all of them again and again (a 1 MB schema took twice as long)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_file(path: str, import_paths: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """Read, validate and lower `path` and its imports, then run every pass; a `.ir.json` file is
    read as an already compiled IR. Imports are confined to `path`'s folder tree and `import_paths`."""
    if path.endswith(IR_SUFFIX):
        return load_ir_file(path)
    with without_cyclic_gc():
        sources = SourceSet(import_roots=import_roots(path, import_paths))
        doc, diagnostics = read_file(path, sources)
        return _compile_loaded(doc, diagnostics, sources)


def compile_text(file: str, text: str, import_paths: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """Compile in-memory text (tests, fuzzing, the editor); imports are read from disk, confined as
    for compile_file."""
    from hftc.loader.yaml_nodes import load_yaml_text

    with without_cyclic_gc():
        sources = SourceSet(import_roots=import_roots(file, import_paths))
        sources.texts[file] = text
        doc, diagnostics = load_yaml_text(file, text)
        if doc is not None:
            sources.docs[file] = doc
        return _compile_loaded(doc, diagnostics, sources)
