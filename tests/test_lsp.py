"""`hftc lsp` end to end: a real LSP client (pytest-lsp) drives the server process over stdio."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fx_market_maker.hftc.yaml"
TIMEOUT = 60  # seconds for the server to answer under load


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "hftc", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE.parent / "common.hftc.yaml", tmp_path / "common.hftc.yaml")
    path = tmp_path / "mm.hftc.yaml"
    shutil.copy(EXAMPLE, path)
    return path


def _open(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="yaml", version=1, text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def _diagnostics(client: LanguageClient, uri: str, until) -> list[types.Diagnostic]:
    """Wait for published diagnostics of `uri` that satisfy `until`."""
    async def wait() -> list[types.Diagnostic]:
        while True:
            found = client.diagnostics.get(uri)
            if found is not None and until(found):
                return list(found)
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return await asyncio.wait_for(wait(), TIMEOUT)


def _position(text: str, needle: str, offset: int = 0) -> types.Position:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return types.Position(line=line, character=index - (text.rfind("\n", 0, index) + 1))


@pytest.mark.asyncio
async def test_diagnostics_appear_and_clear_on_change(client: LanguageClient, schema: Path) -> None:
    text = schema.read_text(encoding="utf-8")
    uri = _open(client, schema)
    clean = await _diagnostics(client, uri, lambda ds: True)
    assert [d for d in clean if d.severity == types.DiagnosticSeverity.Error] == []
    broken = text.replace("price: Price\n      qty: {type: Qty", "price: Pricee\n      qty: {type: Qty", 1)
    broken = broken.replace("mid * (1 - spread_bps", "mid * (1 - spread_bsp", 1)
    _change(client, uri, 2, broken)
    found = await _diagnostics(client, uri, lambda ds: {"HFT0301", "HFT0511"} <= {d.code for d in ds})
    unknown_type = next(d for d in found if d.code == "HFT0301")
    assert unknown_type.range.start == _position(broken, "Pricee")
    assert "did you mean `Price`?" in unknown_type.message
    # The expression error points at the exact character of the misspelt parameter.
    expression = next(d for d in found if d.code == "HFT0511")
    assert expression.range.start == _position(broken, "spread_bsp")
    _change(client, uri, 3, text)
    await _diagnostics(client, uri, lambda ds: not [d for d in ds if d.severity == types.DiagnosticSeverity.Error])


@pytest.mark.asyncio
async def test_target_checks_are_published_too(client: LanguageClient, schema: Path) -> None:
    text = schema.read_text(encoding="utf-8").replace("region: us-east-1,", "region: us-east-1, zone: eu-west-1a,")
    uri = _open(client, schema, text)
    found = await _diagnostics(client, uri, lambda ds: any(d.code == "HFT0626" for d in ds))
    assert [d.code for d in found if d.severity == types.DiagnosticSeverity.Error] == ["HFT0626"]


@pytest.mark.asyncio
async def test_hover(client: LanguageClient, schema: Path) -> None:
    text = schema.read_text(encoding="utf-8")
    uri = _open(client, schema)

    async def hover(needle: str, offset: int = 0) -> str:
        result = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=_position(text, needle, offset))), TIMEOUT)
        assert result is not None, needle
        return result.contents.value

    field = await hover("seq: uint64\n      ts_exchange: {type: uint64, unit: ns, description")
    assert "field `BookDelta.seq`" in field and "offset 4, size 8 B" in field
    message = await hover("BookDelta:\n")
    assert "block length" in message and "on the wire with the 8 B header" in message
    type_ref = await hover("price: Price\n      qty: {type: Qty", len("price: "))
    assert "type `Price`" in type_ref and "decimal" in type_ref
    expression = await hover("skew: -risk", len("skew: "))
    assert "let `skew`" in expression and "`float`" in expression
    described = await hover("budget_ns: 50")
    assert "Latency budget" in described
    template = await hover("template: market_making", len("template: "))
    assert "strategy template `market_making`" in template and "`gamma`" in template


@pytest.mark.asyncio
async def test_completion(client: LanguageClient, schema: Path) -> None:
    text = schema.read_text(encoding="utf-8")
    uri = _open(client, schema)

    async def labels(edited: str, needle: str) -> set[str]:
        _change(client, uri, labels.version, edited)
        labels.version += 1
        result = await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=_position(edited, needle, len(needle)))),
            TIMEOUT)
        return {item.label for item in result.items}
    labels.version = 2

    assert {"Price", "Qty", "Side", "OrderFlags", "uint64"} <= await labels(text, "      seq: ")
    kinds = await labels(text.replace("{kind: feed_handler,", "{kind: fe,", 1), "{kind: fe")
    assert {"feed_handler", "order_book", "risk_gate"} <= kinds
    stages = await labels(text.replace("stages: [feed, book,", "stages: [feed, b,", 1), "stages: [feed, b")
    assert {"feed", "book", "quoter"} <= stages
    assert {"market_making", "pairs_trading"} <= await labels(text.replace("template: market_making", "template: m", 1),
                                                             "template: m")
    params = await labels(text.replace("    params:\n", "    params:\n      \n", 1), "    params:\n      ")
    from hftc.frontend.templates import TemplateLibrary

    shipped = {p.name for p in TemplateLibrary().get("market_making").strategy.params}
    assert shipped and shipped <= params  # the template's parameters
    expression = await labels(text.replace("when: abs(position)", "when: ab", 1), "when: ab")
    assert {"abs", "ema", "book.mid", "position", "spread_bps", "mid", "skew"} <= expression
    book = await labels(text.replace("mid: (book.bid", "mid: (book.", 1), "mid: (book.")
    assert {"book.bid", "book.ask", "book.microprice"} <= book
    enum_values = await labels(text.replace("environment: production", "environment: p", 1), "environment: p")
    assert {"production", "staging"} <= enum_values
    keys = await labels(text.replace("  book: {kind: order_book, model", "  book: {kind: order_book, dep, model", 1),
                        "book: {kind: order_book, dep")
    assert {"depth", "tick", "lot", "budget_ns"} <= keys


@pytest.mark.asyncio
async def test_definition(client: LanguageClient, schema: Path) -> None:
    text = schema.read_text(encoding="utf-8")
    uri = _open(client, schema)

    async def where(needle: str, offset: int) -> list[types.Location]:
        return await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=_position(text, needle, offset))), TIMEOUT)

    local = await where("flags: OrderFlags", len("flags: "))
    assert local[0].uri == uri and local[0].range.start == _position(text, "OrderFlags: {set")
    imported = await where("price: Price\n      qty: {type: Qty", len("price: "))
    common = (schema.parent / "common.hftc.yaml")
    assert imported[0].uri == common.as_uri()
    assert imported[0].range.start == _position(common.read_text(encoding="utf-8"), "Price:")
    file = await where("imports: [common", len("imports: ["))
    assert file[0].uri == common.as_uri()
    template = await where("template: market_making", len("template: "))
    assert template[0].uri.endswith("/market_making.hftc.yaml")
    stage = await where("stages: [feed, book", len("stages: [feed, "))
    assert stage[0].range.start == _position(text, "book: {kind")


@pytest.mark.asyncio
async def test_document_symbols(client: LanguageClient, schema: Path) -> None:
    uri = _open(client, schema)
    found = await asyncio.wait_for(client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
    sections = {s.name: s for s in found}
    assert {"types", "messages", "components", "pipelines", "strategies", "deployments"} <= set(sections)
    messages = {m.name: m for m in sections["messages"].children}
    assert {"BookDelta", "NewOrder"} <= set(messages)
    assert "price" in {f.name for f in messages["BookDelta"].children}


@pytest.mark.asyncio
async def test_formatting(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "f.hftc.yaml"
    messy = "# keep me\nhftc: 1\npackage:   t.f   \n\n\n\ntypes:\n    P: {decimal: int64, exponent: -2}  # price\n"
    uri = _open(client, path, messy)
    edits = await asyncio.wait_for(client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True))), TIMEOUT)
    assert len(edits) == 1
    from hftc.driver.schema_format import format_schema_text

    assert edits[0].new_text == format_schema_text(str(path), messy).text
    assert edits[0].new_text.startswith("# keep me\nhftc: 1\npackage: t.f\n\ntypes:\n  P: {decimal: int64, exponent: -2}")
    assert edits[0].new_text.endswith("# price\n")


@pytest.mark.asyncio
async def test_code_actions_apply_the_fixes(client: LanguageClient, schema: Path) -> None:
    text = schema.read_text(encoding="utf-8").replace("{kind: feed_handler, input:", "{kind: feed_handler, inptu:", 1)
    uri = _open(client, schema, text)
    found = await _diagnostics(client, uri, lambda ds: any(d.code == "HFT0101" for d in ds))
    typo = next(d for d in found if d.code == "HFT0101")
    actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=typo.range,
        context=types.CodeActionContext(diagnostics=[typo]))), TIMEOUT)
    assert [a.title for a in actions] == ["Replace `inptu` with `input`"]
    (edit,) = actions[0].edit.changes[uri]
    assert edit.range == typo.range and edit.new_text == "input"


@pytest.mark.asyncio
async def test_other_yaml_files_get_no_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    other = tmp_path / "workflow.yaml"
    uri = _open(client, other, "on: push\njobs: {}\n")
    assert await _diagnostics(client, uri, lambda ds: True) == []
    schema = tmp_path / "s.hftc.yaml"
    broken = _open(client, schema, "hftc: 1\npackage: t.s\ntypes: {P: {decimal: int64, exponent: -2, colour: red}}\n")
    found = await _diagnostics(client, broken, lambda ds: len(ds) > 0)
    assert [d.code for d in found] == ["HFT0101"]


@pytest.mark.asyncio
async def test_code_action_moves_a_field_added_out_of_order(client: LanguageClient, tmp_path: Path) -> None:
    text = ("hftc: 1\npackage: t.v\nversion: 2\nmessages:\n  M:\n    id: 1\n    fields:\n      a: uint32\n"
            "      b: {type: uint32, since_version: 2}\n      c: uint8\n")
    uri = _open(client, tmp_path / "v.hftc.yaml", text)
    found = await _diagnostics(client, uri, lambda ds: any(d.code == "HFT0701" for d in ds))
    late = next(d for d in found if d.code == "HFT0701")
    actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=late.range,
        context=types.CodeActionContext(diagnostics=[late]))), TIMEOUT)
    assert [a.title for a in actions] == ["Move `c` above `b`"]
    from hftc.diagnostics.fixes import apply_edits
    from hftc.diagnostics.model import Edit, Span

    edits = [Edit(Span("v", e.range.start.line + 1, e.range.start.character + 1, e.range.end.line + 1,
                       e.range.end.character + 1), e.new_text) for e in actions[0].edit.changes[uri]]
    assert apply_edits(text, edits).endswith("      a: uint32\n      c: uint8\n      b: {type: uint32, since_version: 2}\n")


@pytest.mark.asyncio
async def test_completion_while_the_yaml_is_broken(client: LanguageClient, schema: Path) -> None:
    text = schema.read_text(encoding="utf-8")
    uri = _open(client, schema)
    await _diagnostics(client, uri, lambda ds: True)  # the last text that parsed is known
    half = text.replace("stages: [feed, book, quoter, risk, gateway]", "stages: [feed, b", 1)
    _change(client, uri, 2, half)
    found = await _diagnostics(client, uri, lambda ds: any(d.code == "HFT0003" for d in ds))
    assert [d.code for d in found] == ["HFT0003"]
    result = await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=_position(half, "stages: [feed, b", len("stages: [feed, b")))), TIMEOUT)
    assert {"feed", "book", "quoter", "risk", "gateway"} <= {item.label for item in result.items}
