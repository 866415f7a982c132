"""Per-schema framing (`byte_order:`, `encoding:`): the IR it lowers to, the diagnostics for values
that do not fit the chosen encodings, the reference bytes, and the generated docs."""

from __future__ import annotations

import struct

import pytest
from conftest import REPO
from hftc.diagnostics.model import Severity
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.frontend.compile import compile_text
from hftc.ir.model import WireFormat
from hftc.vectors import make_vectors

HEAD = "hftc: 1\npackage: framing.demo\nversion: 2\nschema_id: 7\n"
BODY = """messages:
  Quote:
    id: 3
    fields: {px: int64, qty: uint32}
    groups:
      levels:
        fields: {px: int64}
    data: [note]
"""


def _compile(framing: str, body: str = BODY, head: str = HEAD):
    return compile_text("wire.hftc.yaml", head + framing + body)


def _errors(result) -> list[tuple[str, int]]:
    return [(d.code, d.span.line if d.span else 0) for d in result.diagnostics if d.severity is Severity.ERROR]


def test_default_framing_is_hftc_s_own() -> None:
    r = _compile("")
    assert r.ok and r.ir.wire == WireFormat() and r.ir.wire.is_default
    assert (r.ir.wire.header_size, r.ir.wire.group_header_size, r.ir.wire.var_length_size) == (8, 4, 4)


def test_framing_lowers_to_the_ir() -> None:
    r = _compile("byte_order: big\nencoding:\n  header: {schema_id: uint8, version: uint8}\n"
                 "  group_size: {block_length: uint16, count: uint8}\n  var_data_length: uint8\n")
    assert r.ok, [str(d) for d in r.diagnostics]
    w = r.ir.wire
    assert (w.byte_order, w.header_size, w.group_header_size, w.var_length_size) == ("big", 6, 3, 1)
    assert [(n, p, o) for n, p, o in w.header_fields] == [
        ("block_length", "uint16", 0), ("template_id", "uint16", 2), ("schema_id", "uint8", 4), ("version", "uint8", 5)]
    assert w.span is not None and w.span.line == 6  # the `encoding` key, for diagnostics about it


@pytest.mark.parametrize("framing, body, head, expected", [
    # a template id over a uint8 header field: at the message
    ("encoding: {header: {template_id: uint8}}\n", BODY.replace("id: 3", "id: 300"), HEAD, [("HFT0315", 7)]),
    # the schema id and version must fit their header fields: at `encoding`
    ("encoding: {header: {schema_id: uint8}}\n", BODY, HEAD.replace("schema_id: 7", "schema_id: 700"),
     [("HFT0315", 5)]),
    ("encoding: {header: {version: uint8}}\n", BODY, HEAD.replace("version: 2", "version: 256"), [("HFT0315", 5)]),
    # a block longer than a uint8 block length holds: the message, then the group
    ("encoding: {header: {block_length: uint8}}\n", BODY.replace("qty: uint32}", "qty: uint32, pad: {type: uint8, "
                                                                 "offset: 300}}"), HEAD, [("HFT0315", 7)]),
    ("encoding: {group_size: {block_length: uint8}}\n", BODY.replace("fields: {px: int64}\n", "fields: {px: int64, "
                                                                     "pad: {type: uint8, offset: 255}}\n"), HEAD,
     [("HFT0315", 11)]),
    # encodings outside what the language allows: invalid values at the key
    ("encoding: {group_size: {count: uint64}}\n", BODY, HEAD, [("HFT0105", 5)]),
    ("encoding: {header: {version: uint32}}\n", BODY, HEAD, [("HFT0105", 5)]),
    ("byte_order: middle\n", BODY, HEAD, [("HFT0105", 5)]),
])
def test_values_that_do_not_fit_are_diagnostics(framing: str, body: str, head: str,
                                                expected: list[tuple[str, int]]) -> None:
    r = _compile(framing, body, head)
    assert _errors(r) == expected, [str(d) for d in r.diagnostics]
    assert all(d.help for d in r.diagnostics if d.code == "HFT0315")


def test_an_import_framed_differently_is_an_error(tmp_path) -> None:
    (tmp_path / "common.hftc.yaml").write_text("hftc: 1\npackage: wire.common\nbyte_order: big\n"
                                               "types:\n  Px: {decimal: int64, exponent: -2}\n")
    root = tmp_path / "root.hftc.yaml"
    root.write_text(HEAD + "imports: [common.hftc.yaml]\n" + BODY)
    r = compile_file(str(root))
    assert [(d.code, d.span.file.endswith("common.hftc.yaml")) for d in r.diagnostics
            if d.severity is Severity.ERROR] == [("HFT0315", True)]
    root.write_text(HEAD + "byte_order: big\nimports: [common.hftc.yaml]\n" + BODY)
    assert compile_file(str(root)).ok


def test_reference_bytes_follow_the_framing() -> None:
    r = _compile("byte_order: big\nencoding:\n  group_size: {block_length: uint32, count: uint32}\n"
                 "  var_data_length: uint16\n")
    assert r.ok
    vec = next(v for v in make_vectors(r.ir, 1, 4)["vectors"] if v["shape"] == "many" and v["acting_version"] == 2)
    raw = bytes.fromhex(vec["hex"])
    values = vec["values"]
    assert struct.unpack_from(">HHHH", raw) == (12, 3, 7, 2)
    assert struct.unpack_from(">qI", raw, 8) == (values["px"], values["qty"])
    assert struct.unpack_from(">II", raw, 20) == (8, 3)  # the 8-byte group size
    assert struct.unpack_from(">q", raw, 28)[0] == values["levels"][0]["px"]
    note = values["note"].encode()
    assert raw[52:] == len(note).to_bytes(2, "big") + note


def test_docs_describe_the_framing() -> None:
    ir = compile_file(str(REPO / "tests" / "schemas" / "wire_custom.hftc.yaml")).ir
    text = generate(ir, ["docs"], "unused").outputs[0].files["README.md"].decode()
    assert "a 6-byte big-endian header: `block_length` (uint16)" in text
    assert "`schema_id` (uint8), `version` (uint8)" in text
    assert "(a 3-byte header: `block_length` uint16,\n`num_in_group` uint8" in text
    assert "then var-data (uint8 length, then the bytes)" in text
    assert "note (utf8, uint8 length prefix)" in text
