"""The codec bench's shapes (benchmarks/codec_shapes.py) are what its docstring says they are:
the schemas compile, SBE's Car re-created imports, and the CME-style shape has a 3-byte group
size and character enums. The script itself only times; timings are never asserted."""

from __future__ import annotations

from conftest import REPO
from hftc.frontend import compile_file
from hftc.sbe.importer import import_sbe

SHAPES = REPO / "benchmarks" / "codec_shapes"


def test_standard_shapes() -> None:
    ir = compile_file(str(SHAPES / "shapes.hftc.yaml")).ir
    tick, book = ir.message_named("Tick"), ir.message_named("BookRefresh")
    assert len(tick.fields) == 6 and not tick.groups
    assert [g.name for g in book.groups] == ["levels"] and ir.wire.group_header_size == 4


def test_cme_shape_has_a_three_byte_group_size_and_char_enums() -> None:
    result = compile_file(str(SHAPES / "cme_book.hftc.yaml"))
    assert result.ok, [str(d) for d in result.diagnostics]
    ir = result.ir
    assert ir.wire.group_header_size == 3 and (ir.wire.group_block_length, ir.wire.group_count) == ("uint16", "uint8")
    m = ir.message_named("CmeBookRefresh")
    char_enums = {f.name for f in (*m.fields, *m.groups[0].fields)
                  if (t := ir.type_named(f.type)) is not None and t.char_values}
    assert char_enums == {"aggressor", "action", "entry_type"}


def test_car_shape_imports() -> None:
    imported = import_sbe(REPO / "tests" / "sbe" / "vehicle.xml")
    assert imported.ok and "groups:" in imported.yaml and "data:" in imported.yaml
