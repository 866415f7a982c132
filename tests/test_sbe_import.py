"""`hftc import sbe`: SBE XML schemas (our own Car-like example, its extension over two
versions, a large generated venue-style schema) into hftc schemas with the same wire layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from hftc.diagnostics.model import Severity
from hftc.frontend.compile import compile_text
from hftc.sbe.importer import import_sbe
from hftc.vectors import make_vectors

SBE = REPO / "tests" / "sbe"


def _imported(path: Path):
    result = import_sbe(path)
    assert result.ok, [str(d) for d in result.diagnostics]
    compiled = compile_text(f"{path.stem}.hftc.yaml", result.yaml)
    assert compiled.ok, [str(d) for d in compiled.diagnostics]
    return result, compiled.ir


def test_vehicle_example_keeps_the_sbe_layout() -> None:
    result, ir = _imported(SBE / "vehicle.xml")
    assert (ir.package, ir.schema_id, ir.version) == ("vehicle.listing", 7, 0)
    types = {t.name: t for t in ir.types}
    assert "messageHeader" not in types and "groupSizeEncoding" not in types and "varStringEncoding" not in types
    assert types["BodyStyle"].char_values and [v.value for v in types["BodyStyle"].values] == [83, 67, 87]
    assert types["Price"].kind == "decimal" and types["Price"].exponent == -2
    assert types["Readings"].kind == "array" and types["Readings"].length == 4
    assert types["Motor"].size == 5  # displacement, cylinders, turbo{kind, boost}: constants take no bytes
    vehicle = ir.messages[0]
    offsets = {f.name: (f.offset, f.size) for f in vehicle.fields}
    # Offsets as SBE computes them: packed in order, constants not on the wire.
    assert offsets == {"listingId": (0, 8), "year": (8, 2), "certified": (10, 1), "body": (11, 1),
                       "readings": (12, 16), "vin": (28, 8), "options": (36, 1), "motor": (37, 5),
                       "askingPrice": (42, 8), "mileage": (50, 4)}
    assert vehicle.block_length == 54
    assert [(c.name, c.value_name) for c in vehicle.constants] == [("defaultBody", "SEDAN")]
    assert [g.name for g in vehicle.groups] == ["economy", "tests"]
    assert [g.name for g in vehicle.groups[1].groups] == ["sprint"]
    assert [(d.name, d.encoding) for d in vehicle.data] == [("maker", "utf8"), ("model", "utf8"), ("photo", "bytes")]
    # What does not reach the wire is reported, at its XML line, not dropped silently.
    dropped = {(d.code, d.span.line) for d in result.diagnostics}
    assert ("HFT1403", 15) in dropped and ("HFT1403", 29) in dropped and ("HFT1403", 31) in dropped
    assert all(d.severity is Severity.WARNING for d in result.diagnostics)
    vectors = make_vectors(ir, 3, 2)["vectors"]
    assert all(bytes.fromhex(v["hex"])[:8] == bytes([54, 0, 1, 0, 7, 0, 0, 0]) for v in vectors)


def test_extension_schema_versions() -> None:
    _, ir = _imported(SBE / "vehicle_extension.xml")
    assert ir.version == 2
    vehicle = ir.messages[0]
    fields = {f.name: f for f in vehicle.fields}
    assert fields["cupHolders"].since_version == 1
    assert fields["warrantyYears"].deprecated == 2 and fields["warrantyYears"].null_value == 0
    assert fields["trim"].since_version == 2 and fields["trim"].optional
    assert {g.name: {f.name: f.since_version for f in g.fields} for g in vehicle.groups}["economy"]["co2"] == 1
    assert [(d.name, d.since_version) for d in vehicle.data][-1] == ("notes", 1)
    old = make_vectors(ir, 5, 1)["vectors"]
    assert {v["acting_version"] for v in old} == {0, 1, 2}


def _venue_xml(messages: int, versions: int) -> str:
    """A venue-style schema: many messages, fields and groups added over many versions."""
    body = []
    for i in range(messages):
        since = i % versions
        fields = ['<field name="seq" id="1" type="uint64"/>', '<field name="side" id="2" type="Side"/>',
                  '<field name="px" id="3" type="PriceNull" presence="optional"/>']
        for v in range(since + 1, versions):
            fields.append(f'<field name="added{v}" id="{10 + v}" type="{"uint32" if v % 2 else "Qty"}" '
                          f'sinceVersion="{v}"/>')
        group = ('<group name="entries" id="90" dimensionType="groupSizeEncoding">'
                 '<field name="qty" id="91" type="Qty"/><field name="status" id="92" type="OrdStatus"/></group>'
                 if i % 3 == 0 else "")
        data = '<data name="text" id="99" type="varString"/>' if i % 4 == 0 else ""
        body.append(f'<sbe:message name="Msg{i}" id="{i + 1}" sinceVersion="{since}">{"".join(fields)}{group}'
                    f"{data}</sbe:message>")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbe:messageSchema xmlns:sbe="http://fixprotocol.io/2016/sbe" package="venue.md" id="91" version="{versions - 1}">
  <types>
    <composite name="messageHeader"><type name="blockLength" primitiveType="uint16"/>
      <type name="templateId" primitiveType="uint16"/><type name="schemaId" primitiveType="uint16"/>
      <type name="version" primitiveType="uint16"/></composite>
    <composite name="groupSizeEncoding"><type name="blockLength" primitiveType="uint16"/>
      <type name="numInGroup" primitiveType="uint16"/></composite>
    <composite name="varString"><type name="length" primitiveType="uint32"/>
      <type name="varData" primitiveType="uint8" length="0" characterEncoding="UTF-8"/></composite>
    <composite name="PriceNull"><type name="mantissa" primitiveType="int64"/>
      <type name="exponent" primitiveType="int8" presence="constant">-9</type></composite>
    <type name="Qty" primitiveType="int32"/>
    <enum name="Side" encodingType="uint8"><validValue name="Buy">1</validValue><validValue name="Sell">2</validValue></enum>
    <enum name="OrdStatus" encodingType="char"><validValue name="New">0</validValue>
      <validValue name="Filled">2</validValue><validValue name="Rejected">8</validValue></enum>
  </types>
  {"".join(body)}
</sbe:messageSchema>
"""


def test_large_venue_schema_with_many_versions(tmp_path: Path) -> None:
    path = tmp_path / "venue.xml"
    path.write_text(_venue_xml(60, 12))
    _, ir = _imported(path)
    assert len(ir.messages) == 60 and ir.version == 11
    for i, m in enumerate(ir.messages):
        since = i % 12
        assert m.since_version == since
        added = [f for f in m.fields if f.name.startswith("added")]
        assert [f.since_version for f in added] == list(range(since + 1, 12))
        assert m.block_length == 8 + 1 + 8 + 4 * len(added)
        assert bool(m.groups) == (i % 3 == 0) and bool(m.data) == (i % 4 == 0)
    assert ir.type_named("OrdStatus").char_values


@pytest.mark.parametrize("name, xml, code, line", [
    ("custom header", '<composite name="messageHeader"><type name="blockLength" primitiveType="uint16"/>'
     '<type name="templateId" primitiveType="uint16"/><type name="schemaId" primitiveType="uint32"/>'
     '<type name="version" primitiveType="uint16"/></composite>', "HFT1402", 3),
    ("SBE 2.0 header", '<composite name="messageHeader"><type name="blockLength" primitiveType="uint16"/>'
     '<type name="templateId" primitiveType="uint16"/><type name="schemaId" primitiveType="uint16"/>'
     '<type name="version" primitiveType="uint16"/><type name="numGroups" primitiveType="uint16"/>'
     '</composite>', "HFT1402", 3),
    ("two group sizes", '<composite name="groupSize"><type name="blockLength" primitiveType="uint16"/>'
     '<type name="numInGroup" primitiveType="uint8"/></composite>', "HFT1402", 5),
    ("uint64 var-data length", '<composite name="varString"><type name="length" primitiveType="uint64"/>'
     '<type name="varData" primitiveType="uint8" length="0"/></composite>', "HFT1402", 5),
    ("unknown type", "", "HFT1401", 5),
])
def test_what_hftc_cannot_lay_out_is_an_error_at_the_xml_line(tmp_path: Path, name: str, xml: str, code: str,
                                                                line: int) -> None:
    header = ('<composite name="messageHeader"><type name="blockLength" primitiveType="uint16"/>'
              '<type name="templateId" primitiveType="uint16"/><type name="schemaId" primitiveType="uint16"/>'
              '<type name="version" primitiveType="uint16"/></composite>')
    members = {"two group sizes": '<group name="g" id="2" dimensionType="groupSize"><field name="x" id="3" '
                                  'type="uint8"/></group><group name="h" id="6" dimensionType="wide"><field '
                                  'name="y" id="7" type="uint8"/></group>',
               "uint64 var-data length": '<data name="d" id="4" type="varString"/>',
               "unknown type": '<field name="y" id="5" type="Nope"/>'}.get(name, "")
    wide = ('<composite name="wide"><type name="blockLength" primitiveType="uint32"/>'
            '<type name="numInGroup" primitiveType="uint32"/></composite>')
    text = (f'<?xml version="1.0"?>\n<messageSchema package="p" id="1" version="0">\n<types>'
            f'{xml if name.endswith("header") else header + xml}{wide}</types>\n'
            f'<message name="M" id="1"><field name="a" id="1" type="uint32"/>\n{members}</message>\n'
            "</messageSchema>\n")
    path = tmp_path / "bad.xml"
    path.write_text(text)
    result = import_sbe(path)
    assert not result.ok and result.yaml == ""
    assert (code, line) in [(d.code, d.span.line) for d in result.diagnostics if d.span], \
        [str(d) for d in result.diagnostics]


def test_malformed_big_endian_and_doctype_are_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<messageSchema>\n  <types>\n</messageSchema>\n')
    assert [(d.code, d.span.line) for d in import_sbe(bad).diagnostics] == [("HFT1401", 4)]
    bad.write_text('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<messageSchema/>\n')
    assert [d.code for d in import_sbe(bad).diagnostics] == ["HFT1401"]
    bad.write_text('<messageSchema byteOrder="middleEndian"><types/></messageSchema>')
    assert [d.code for d in import_sbe(bad).diagnostics] == ["HFT1401"]
    bad.write_text('<messageSchema xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="nope.xml"/>'
                   '</messageSchema>')
    assert [d.code for d in import_sbe(bad).diagnostics] == ["HFT1401"]
    (tmp_path / "in").mkdir()
    secret = tmp_path / "secret.xml"
    secret.write_text("<types/>")
    inner = tmp_path / "in" / "s.xml"
    inner.write_text('<messageSchema xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="../secret.xml"/>'
                     '</messageSchema>')
    result = import_sbe(inner)
    assert [d.code for d in result.diagnostics] == ["HFT1401"] and str(secret) not in result.sources


def test_cli_writes_the_schema_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "vehicle.hftc.yaml"
    proc = subprocess.run([sys.executable, "-m", "hftc", "import", "sbe", str(SBE / "vehicle.xml"), "-o", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "warning[HFT1403]" in proc.stderr and out.read_text().startswith("# Imported from an SBE")
    bad = tmp_path / "bad.xml"
    bad.write_text("<messageSchema><types><composite name='messageHeader'><type name='blockLength' "
                   "primitiveType='uint64'/></composite></types></messageSchema>")
    out2 = tmp_path / "bad.hftc.yaml"
    proc = subprocess.run([sys.executable, "-m", "hftc", "import", "sbe", str(bad), "-o", str(out2)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 1 and "error[HFT1402]" in proc.stderr and "Traceback" not in proc.stderr
    assert not out2.exists()


def test_custom_framing_and_big_endian_are_imported_and_exported() -> None:
    """A custom header, MDP3's 3-byte group size, uint16 var-data lengths and byteOrder="bigEndian"
    become `byte_order` and `encoding`; the bytes are SBE's, and export gives the framing back."""
    from hftc.sbe.exporter import export_sbe

    result, ir = _imported(SBE / "big_endian_book.xml")
    assert "byte_order: big" in result.yaml
    w = ir.wire
    assert (w.byte_order, w.header_size, w.group_header_size, w.var_length_size) == ("big", 6, 3, 2)
    assert (w.schema_id, w.version, w.group_count, w.var_data_length) == ("uint8", "uint8", "uint8", "uint16")
    assert not ir.type_named("groupSize") and not ir.type_named("varString16") and not ir.type_named("header")
    book = ir.messages[0]
    assert book.block_length == 9 and book.groups[0].block_length == 13
    vec = next(v for v in make_vectors(ir, 5, 4)["vectors"] if v["shape"] == "many" and v["acting_version"] == 1)
    raw = bytes.fromhex(vec["hex"])
    assert raw[:6] == bytes([0, 9, 0, 46, 9, 1])  # block length 9, template 46, schema 9, version 1: big-endian
    assert raw[6:14] == vec["values"]["transactTime"].to_bytes(8, "big")
    assert raw[15:18] == bytes([0, 13, 3])  # the group size: uint16 block length, uint8 count
    price = vec["values"]["entries"][0]["price"]
    assert raw[18:26] == price.to_bytes(8, "big", signed=True)
    text = vec["values"]["text"].encode()
    assert raw[-len(text) - 2:] == len(text).to_bytes(2, "big") + text
    xml = export_sbe(ir).xml
    assert 'byteOrder="bigEndian"' in xml and '<type name="numInGroup" primitiveType="uint8"/>' in xml
    assert '<type name="schemaId" primitiveType="uint8"/>' in xml
    assert '<type name="length" primitiveType="uint16"/>' in xml
