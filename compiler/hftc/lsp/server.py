"""The pygls server: LSP requests mapped onto the analysis, hover, completion and navigation modules.

Edits are debounced: each change waits DEBOUNCE_S for the next one, then the front end runs in-process
and its diagnostics are published at once; the build targets' checks follow from a worker thread and
are published only if no newer edit arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import os

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from hftc import __version__
from hftc.lsp.analysis import Analysis, Workspace, analyze, check_targets_of
from hftc.lsp.positions import Lines, path_at

DEBOUNCE_S = 0.15


class HftcServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("hftc", __version__)
        self.state = Workspace()
        self.pending: dict[str, asyncio.Task] = {}
        self.import_paths: tuple[str, ...] = tuple(p for p in os.environ.get("HFTC_IMPORT_PATH", "").split(os.pathsep) if p)

    # --- diagnostics ---------------------------------------------------------------------------
    def publish(self, analysis: Analysis) -> None:
        from hftc.lsp.convert import by_uri

        grouped = by_uri(analysis)
        before = self.state.published.get(analysis.uri, set())
        for uri in before - set(grouped):
            grouped[uri] = []  # clear what this document said about an import before
        self.state.published[analysis.uri] = {u for u, ds in grouped.items() if ds} | {analysis.uri}
        for uri, diagnostics in grouped.items():
            version = analysis.version if uri == analysis.uri else None
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def check_now(self, uri: str) -> Analysis:
        document = self.workspace.get_text_document(uri)
        analysis = analyze(uri, document.version, document.source, self.import_paths)
        self.state.store(analysis)
        self.publish(analysis)
        return analysis

    async def check_later(self, uri: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            analysis = self.check_now(uri)
            loop = asyncio.get_running_loop()
            targets = await loop.run_in_executor(None, check_targets_of, analysis)
            if self.state.latest.get(uri) is analysis:  # no newer edit: show the complete picture
                analysis.targets = targets
                self.publish(analysis)
                self.window_log_message(types.LogMessageParams(
                    type=types.MessageType.Log,
                    message=f"hftc: {os.path.basename(analysis.file)} front end {analysis.front_end_ms:.1f} ms, "
                            f"target checks {analysis.targets_ms:.1f} ms"))
        except asyncio.CancelledError:
            pass

    def schedule(self, uri: str, delay: float) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self.check_later(uri, delay))


server = HftcServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: HftcServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0.0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: HftcServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, DEBOUNCE_S)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: HftcServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0.0)  # an imported file may have changed on disk


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: HftcServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    for published in ls.state.published.pop(uri, {uri}):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=published, diagnostics=[]))
    ls.state.forget(uri)


def _current(ls: HftcServer, uri: str) -> Analysis | None:
    """The analysis of the document's current text (computed now if an edit is still debounced)."""
    document = ls.workspace.get_text_document(uri)
    latest = ls.state.latest.get(uri)
    if latest is not None and latest.text == document.source:
        return latest
    analysis = analyze(uri, document.version, document.source, ls.import_paths)
    ls.state.store(analysis)
    return analysis


def _located(ls: HftcServer, uri: str, position: types.Position):
    analysis = _current(ls, uri)
    if analysis is None or analysis.doc is None:
        return analysis, (), False
    line, col = Lines(analysis.text).point(position)
    path, on_key = path_at(analysis.doc, line, col)
    return analysis, path, on_key


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: HftcServer, params: types.HoverParams) -> types.Hover | None:
    from hftc.lsp.hover import hover_text

    analysis, path, on_key = _located(ls, params.text_document.uri, params.position)
    text = hover_text(analysis, path, on_key) if analysis is not None else None
    if not text:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=[":", " ", ".", "[", ",", "{"]))
def completion(ls: HftcServer, params: types.CompletionParams) -> types.CompletionList:
    from hftc.lsp.completion import complete
    from hftc.lsp.context import place_at

    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    place = place_at(document.source, params.position.line, params.position.character)
    good = ls.state.structured(uri) or _current(ls, uri)
    value = good.doc.value if good is not None and good.doc is not None else {}
    return types.CompletionList(is_incomplete=False, items=complete(place, value, good))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: HftcServer, params: types.DefinitionParams) -> list[types.Location]:
    from hftc.lsp.navigation import definition as find

    analysis, path, on_key = _located(ls, params.text_document.uri, params.position)
    return find(analysis, path, on_key) if analysis is not None else []


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: HftcServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    from hftc.lsp.navigation import document_symbols

    analysis = _current(ls, params.text_document.uri)
    return document_symbols(analysis) if analysis is not None else []


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: HftcServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    from hftc.driver.schema_format import format_schema_text

    document = ls.workspace.get_text_document(params.text_document.uri)
    formatted = format_schema_text(document.path or document.uri, document.source)
    if formatted.text is None:
        reason = formatted.diagnostics[0].message if formatted.diagnostics else "cannot format"
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=f"hftc format: {reason}"))
        return []
    if formatted.text == document.source:
        return []
    return [types.TextEdit(range=Lines(document.source).whole(), new_text=formatted.text)]


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(ls: HftcServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    from hftc.lsp.convert import code_actions

    analysis = _current(ls, params.text_document.uri)
    return code_actions(analysis, params.range) if analysis is not None else []


def serve() -> None:
    """Serve one client on stdin/stdout until it exits."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    server.start_io()
