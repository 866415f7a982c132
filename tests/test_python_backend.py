"""`--target python`: the generated package — golden tree, lint and type checks, and behaviour:
round trips (property-based), truncation, acting versions, unknown enums and numpy batch decoding."""

from __future__ import annotations

import importlib
import math
import os
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLES, REPO
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.model import PRIMITIVES, Group, Message, Schema, WireFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Every field kind: composites (nested), arrays (of composites, of arrays), floats, optional fields with
# and without an explicit null, explicit offsets, and fields, groups and var-data added in later versions.
KITCHEN_YAML = """\
hftc: 1
package: kit.sink
version: 3
schema_id: 42
description: Every field kind.
types:
  Px: {decimal: int32, exponent: -2}
  Big: {decimal: int64, exponent: 3}
  Color: {enum: uint16, values: {red: 1, green: 2, blue: 300}}
  Caps: {set: uint16, choices: {a: 0, b: 9, c: 15}}
  Tag: {char: 4}
  Quote: {composite: {bid: Px, ask: Px, venue: Tag, color: Color}}
  Pair: {composite: {left: Quote, right: int8}}
  Ladder: {array: Px, length: 3}
  Quotes: {array: Quote, length: 2}
  Grid: {array: Ladder, length: 2}
messages:
  Every:
    id: 5
    fields:
      i8: int8
      u64: uint64
      f32: float32
      f64: float64
      ch: char
      px: Px
      color: Color
      caps: Caps
      tag: Tag
      quote: Quote
      pair: Pair
      ladder: Ladder
      quotes: Quotes
      grid: Grid
      maybe_px: {type: Px, optional: true}
      maybe_f: {type: float64, optional: true}
      maybe_i: {type: int32, optional: true, null_value: 0}
      padded: {type: uint32, offset: 200}
      late: {type: Big, since_version: 3}
      late_color: {type: Color, since_version: 3}
      late_f: {type: float32, since_version: 3}
      late_tag: {type: Tag, since_version: 3}
      late_quote: {type: Quote, since_version: 3}
      late_ladder: {type: Ladder, since_version: 3}
    groups:
      legs:
        fields: {qty: int64, late_qty: {type: int32, since_version: 3}}
        groups:
          fills:
            fields: {px: Px}
            data: [{name: note, encoding: utf8}]
        data: [{name: blob, encoding: bytes}]
      extras:
        since_version: 3
        fields: {x: uint8}
    data:
      - {name: text, encoding: utf8}
      - {name: raw, encoding: bytes, since_version: 2}
  Tiny:
    id: 6
    fields:
      quote: Quote
      grid: Grid
      late: {type: Big, since_version: 2}
"""

BIN = Path(sys.executable).parent


def _tree(ir: Schema) -> dict[str, bytes]:
    report = generate(ir, ["python"], "/nonexistent")
    assert not report.diagnostics, [d.message for d in report.diagnostics]
    return report.outputs[0].files


def _write(files: dict[str, bytes], root: Path) -> Path:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


@pytest.fixture(scope="session")
def fx_ir() -> Schema:
    return compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir


@pytest.fixture(scope="session")
def kit_ir(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    path = tmp_path_factory.mktemp("kit") / "kitchen.hftc.yaml"
    path.write_text(KITCHEN_YAML, encoding="utf-8")
    result = compile_file(str(path))
    assert result.ir is not None
    return result.ir


@pytest.fixture(scope="session")
def trees(fx_ir: Schema, kit_ir: Schema, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, ir in (("fx", fx_ir), ("kit", kit_ir)):
        out[name] = _write(_tree(ir), tmp_path_factory.mktemp(f"py-{name}"))
    return out


def _import(root: Path, package: str) -> dict[str, ModuleType]:
    from conftest import import_generated

    first = {"codec": import_generated(root / "src", package, "codec")}  # fresh package, then its modules
    return {**first, **{m: importlib.import_module(f"{package}.{m}") for m in ("types", "messages", "dispatch", "batch")}}


@pytest.fixture(scope="session")
def fx(trees: dict[str, Path]) -> dict[str, ModuleType]:
    return _import(trees["fx"], "fx_mm")


@pytest.fixture(scope="session")
def kit(trees: dict[str, Path]) -> dict[str, ModuleType]:
    return _import(trees["kit"], "kit_sink")


# ---- the generated tree ------------------------------------------------------------------------


def test_golden_tree(fx_ir: Schema, golden: Any) -> None:
    golden.check_tree("python/fx_market_maker", _tree(fx_ir))


def test_deterministic(fx_ir: Schema, kit_ir: Schema) -> None:
    assert _tree(fx_ir) == _tree(fx_ir)
    assert _tree(kit_ir) == _tree(kit_ir)


def test_layout(fx_ir: Schema) -> None:
    files = _tree(fx_ir)
    expected = {"pyproject.toml", *(f"src/fx_mm/{m}" for m in (
        "__init__.py", "codec.py", "types.py", "messages.py", "dispatch.py", "batch.py", "py.typed"))}
    assert expected <= set(files)
    assert b'name = "fx-mm"' in files["pyproject.toml"]


@pytest.mark.parametrize("name", ["fx", "kit"])
def test_ruff_check(trees: dict[str, Path], name: str) -> None:
    proc = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "src"], cwd=trees[name],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict(trees: dict[str, Path], tmp_path: Path) -> None:
    srcs = [str(trees[n] / "src") for n in ("fx", "kit")]
    env = {**os.environ, "MYPYPATH": os.pathsep.join(srcs)}
    proc = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--cache-dir", str(tmp_path / "cache"), "-p", "fx_mm", "-p", "kit_sink"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_name_clash_is_a_diagnostic(fx_ir: Schema) -> None:
    from dataclasses import replace

    m = fx_ir.messages[0]
    clash = replace(m, fields=(*m.fields, replace(m.fields[0], name="encoded_length", offset=m.block_length)))
    report = generate(replace(fx_ir, messages=(clash,)), ["python"], "/nonexistent")
    assert [d.code for d in report.diagnostics] == ["HFT0820"]


# ---- values for any message of a schema, drawn from its IR ------------------------------------


class Values:
    """Hypothesis strategies for the fields, groups and var-data of a schema, from its IR."""

    def __init__(self, ir: Schema, mods: dict[str, ModuleType]):
        self.ir = ir
        self.types = mods["types"]

    def of_type(self, name: str) -> st.SearchStrategy[Any]:
        if name in PRIMITIVES:
            info = PRIMITIVES[name]
            if name == "char":
                return st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=1)
            if info.is_float:
                return st.floats(allow_nan=False, width=8 * info.size)
            return st.integers(int(info.min_value), int(info.max_value))
        t = self.ir.type_named(name)
        assert t is not None
        cls = getattr(self.types, name, None)
        if t.kind == "decimal":
            info = PRIMITIVES[t.encoding or "int64"]
            return st.integers(int(info.min_value), int(info.max_value)).map(cls)
        if t.kind == "enum":
            return st.sampled_from(list(cls))
        if t.kind == "set":
            return st.integers(0, (1 << (8 * t.size)) - 1).map(cls)
        if t.kind == "char":
            return st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=t.length)
        if t.kind == "composite":
            return st.builds(cls, *(self.of_type(f.type) for f in t.fields))
        assert t.kind == "array"
        return st.lists(self.of_type(t.element or ""), min_size=t.length, max_size=t.length).map(tuple)

    def of_owner(self, owner: Message | Group, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
        parts: dict[str, st.SearchStrategy[Any]] = {}
        for f in owner.fields:
            s = self.of_type(f.type)
            if f.optional and f.null_value is not None:
                # The null value itself reads back as None: draw it only as None.
                s = s.filter(lambda v, null=f.null_value: getattr(v, "mantissa", v) != null)
            parts[f.name] = st.one_of(st.none(), s) if f.optional else s
        for g in owner.groups:
            parts[g.name] = st.lists(self.of_owner(g, depth + 1), max_size=3 if depth == 0 else 2)
        for d in owner.data:
            parts[d.name] = st.text(max_size=40) if d.encoding == "utf8" else st.binary(max_size=40)
        return st.fixed_dictionaries(parts)


def _fill(obj: Any, owner: Message | Group, values: dict[str, Any]) -> None:
    for f in owner.fields:
        setattr(obj, f.name, values[f.name])
    for g in owner.groups:
        writer = getattr(obj, f"encode_{g.name}")(len(values[g.name]))
        for entry_values in values[g.name]:
            _fill(writer.next(), g, entry_values)
    for d in owner.data:
        setattr(obj, d.name, values[d.name])


def _encode(cls: Any, m: Message, values: dict[str, Any], size: int = 1 << 16) -> bytes:
    buf = bytearray(size)
    msg = cls.wrap_and_apply_header(buf)
    _fill(msg, m, values)
    return bytes(buf[: msg.encoded_length])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _expected_size(owner: Message | Group, values: dict[str, Any], wire: WireFormat = WireFormat()) -> int:
    size = owner.block_length
    for g in owner.groups:
        size += wire.group_header_size + sum(_expected_size(g, e, wire) for e in values[g.name])
    for d in owner.data:
        v = values[d.name]
        size += wire.var_length_size + len(v.encode("utf-8") if isinstance(v, str) else v)
    return size


def _round_trip(mods: dict[str, ModuleType], m: Message, values: dict[str, Any],
                wire: WireFormat = WireFormat()) -> None:
    cls = getattr(mods["messages"], m.name)
    data = _encode(cls, m, values)
    assert len(data) == wire.header_size + _expected_size(m, values, wire)
    decoded = mods["dispatch"].decode(data)
    assert type(decoded) is cls
    assert _same(decoded.to_dict(), values), (decoded.to_dict(), values)
    assert decoded.encoded_length == len(data)
    again = cls.wrap_for_decode(memoryview(b"\xee" * 5 + data), 5)  # at an offset, in a read-only buffer
    assert _same(again.to_dict(), values)


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("message", ["BookDelta", "Trade", "Snapshot", "NewOrder", "ExecutionReport"])
def test_round_trip_fx(fx: dict[str, ModuleType], fx_ir: Schema, message: str) -> None:
    m = fx_ir.message_named(message)
    assert m is not None

    @_SETTINGS
    @given(Values(fx_ir, fx).of_owner(m))
    def check(values: dict[str, Any]) -> None:
        _round_trip(fx, m, values)

    check()


@pytest.mark.parametrize("message", ["Every", "Tiny"])
def test_round_trip_every_kind(kit: dict[str, ModuleType], kit_ir: Schema, message: str) -> None:
    m = kit_ir.message_named(message)
    assert m is not None

    @_SETTINGS
    @given(Values(kit_ir, kit).of_owner(m))
    def check(values: dict[str, Any]) -> None:
        _round_trip(kit, m, values)

    check()


@pytest.mark.parametrize("message", ["Everything", "Nested"])
def test_round_trip_custom_framing(tmp_path_factory: pytest.TempPathFactory, message: str) -> None:
    """Big-endian, a 6-byte header, 3-byte group sizes and uint8 var-data lengths."""
    ir = compile_file(str(REPO / "tests" / "schemas" / "wire_custom.hftc.yaml")).ir
    mods = _import(_write(_tree(ir), tmp_path_factory.mktemp("py-wire")), ir.package_snake)
    m = ir.message_named(message)
    assert m is not None

    @_SETTINGS
    @given(Values(ir, mods).of_owner(m))
    def check(values: dict[str, Any]) -> None:
        _round_trip(mods, m, values, ir.wire)

    check()


def test_custom_framing_limits_are_encode_errors(tmp_path: Path) -> None:
    """A uint8 group count holds 255 entries and a uint8 var-data length 255 bytes."""
    ir = compile_file(str(REPO / "tests" / "schemas" / "wire_custom.hftc.yaml")).ir
    mods = _import(_write(_tree(ir), tmp_path), ir.package_snake)
    msg = mods["messages"].Nested.wrap_and_apply_header(bytearray(1 << 16))
    with pytest.raises(mods["codec"].EncodeError, match="the limit is 255"):
        msg.encode_outer(256)
    msg = mods["messages"].Nested.wrap_and_apply_header(bytearray(1 << 16))
    with pytest.raises(mods["codec"].EncodeError, match="the limit is 255"):
        msg.trailer = "x" * 256
    msg.trailer = "x" * 255
    assert msg.encoded_length == 6 + 8 + 3 * 3 + 1 + 255  # header, block, three empty 3-byte group sizes, the text


def test_decode_all_walks_a_stream(fx: dict[str, ModuleType], fx_ir: Schema) -> None:
    msgs = fx["messages"]
    t = fx["types"]
    buf = bytearray(1024)
    first = msgs.ExecutionReport.wrap_and_apply_header(buf)
    first.client_order_id = 5
    first.reject_reason = "price band"
    n = first.encoded_length
    second = msgs.Trade.wrap_and_apply_header(buf, n)
    second.price = t.Price.from_str("1.0815")
    end = n + second.encoded_length
    out = list(fx["dispatch"].decode_all(buf[:end]))
    assert [type(x).__name__ for x in out] == ["ExecutionReport", "Trade"]
    assert out[0].reject_reason == "price band" and str(out[1].price) == "1.0815"


# ---- malformed input ------------------------------------------------------------------------


@given(data=st.data())
@settings(max_examples=25, deadline=None)
def test_truncated_buffers_raise_decode_error(fx: dict[str, ModuleType], kit: dict[str, ModuleType],
                                              fx_ir: Schema, kit_ir: Schema, data: st.DataObject) -> None:
    for mods, ir in ((fx, fx_ir), (kit, kit_ir)):
        m = data.draw(st.sampled_from(ir.messages))
        cls = getattr(mods["messages"], m.name)
        full = _encode(cls, m, data.draw(Values(ir, mods).of_owner(m)))
        for cut in range(len(full)):
            with pytest.raises(mods["codec"].DecodeError):
                cls.wrap_for_decode(full[:cut])
            with pytest.raises(mods["codec"].DecodeError):
                mods["dispatch"].decode(full[:cut])


@given(st.binary(max_size=120), st.sampled_from([1, 2, 3, 10, 11, 99]))
@settings(max_examples=300, deadline=None)
def test_garbage_never_leaks_low_level_errors(fx: dict[str, ModuleType], junk: bytes, template: int) -> None:
    data = struct.pack("<HHHH", min(len(junk), 60), template, 7, 2) + junk
    try:
        fx["dispatch"].decode(data).to_dict()
    except fx["codec"].DecodeError:
        pass


def test_decode_errors_are_value_errors(fx: dict[str, ModuleType]) -> None:
    codec, msgs = fx["codec"], fx["messages"]
    assert issubclass(codec.DecodeError, ValueError) and issubclass(codec.EncodeError, ValueError)
    buf = bytearray(64)
    msgs.Trade.wrap_and_apply_header(buf)
    with pytest.raises(codec.DecodeError, match="template id 2 is not BookDelta"):
        msgs.BookDelta.wrap_for_decode(buf)
    struct.pack_into("<H", buf, 2, 77)
    with pytest.raises(codec.DecodeError, match="unknown template id 77"):
        fx["dispatch"].decode(buf)
    struct.pack_into("<HH", buf, 2, 2, 8)
    with pytest.raises(codec.DecodeError, match="schema id 8"):
        fx["dispatch"].decode(buf)


def test_group_count_past_the_buffer(fx: dict[str, ModuleType]) -> None:
    msgs = fx["messages"]
    buf = bytearray(256)
    snap = msgs.Snapshot.wrap_and_apply_header(buf)
    snap.encode_levels(1).next()
    n = snap.encoded_length
    struct.pack_into("<H", buf, 8 + 12 + 2, 500)  # numInGroup of `levels`
    with pytest.raises(fx["codec"].DecodeError, match="truncated"):
        msgs.Snapshot.wrap_for_decode(bytes(buf[:n]))


def test_bad_utf8_is_a_decode_error(fx: dict[str, ModuleType]) -> None:
    msgs = fx["messages"]
    buf = bytearray(128)
    rep = msgs.ExecutionReport.wrap_and_apply_header(buf)
    rep.reject_reason = "ab"
    n = rep.encoded_length
    buf[n - 1] = 0xFF
    decoded = msgs.ExecutionReport.wrap_for_decode(bytes(buf[:n]))
    assert bytes(decoded.reject_reason_view) == b"a\xff"
    with pytest.raises(fx["codec"].DecodeError, match="UTF-8"):
        _ = decoded.reject_reason


# ---- versions and unknown values --------------------------------------------------------------


def _book_delta(fx: dict[str, ModuleType], **fields: Any) -> bytearray:
    buf = bytearray(47)
    msg = fx["messages"].BookDelta.wrap_and_apply_header(buf)
    for k, v in fields.items():
        setattr(msg, k, v)
    return buf


def test_acting_version_nulls_newer_fields(fx: dict[str, ModuleType]) -> None:
    msgs, t = fx["messages"], fx["types"]
    buf = _book_delta(fx, seq=9, order_count=12, price=t.Price.from_str("1.5"))
    assert msgs.BookDelta.wrap_for_decode(buf).order_count == 12
    struct.pack_into("<H", buf, 6, 1)  # a version 1 sender, same block length
    old = msgs.BookDelta.wrap_for_decode(buf)
    assert old.acting_version == 1 and old.order_count is None and old.seq == 9
    struct.pack_into("<H", buf, 0, 37)  # a version 1 sender with the version 1 block
    old = msgs.BookDelta.wrap_for_decode(bytes(buf[:45]))
    assert old.order_count is None and str(old.price) == "1.5" and old.encoded_length == 45
    struct.pack_into("<H", buf, 6, 2)  # version 2 needs 39 bytes of block
    with pytest.raises(fx["codec"].DecodeError, match="shorter"):
        msgs.BookDelta.wrap_for_decode(buf)


def test_longer_block_from_a_newer_sender_is_skipped(fx: dict[str, ModuleType]) -> None:
    msgs = fx["messages"]
    buf = bytearray(256)
    snap = msgs.Snapshot.wrap_and_apply_header(buf)
    snap.seq = 3
    snap.venue_note = "hi"
    n = snap.encoded_length
    wire = bytearray(buf[:20]) + b"\x99" * 6 + buf[20:n]  # 6 unknown trailing block bytes
    struct.pack_into("<HH", wire, 0, 12 + 6, 3)
    struct.pack_into("<H", wire, 6, 3)
    decoded = msgs.Snapshot.wrap_for_decode(wire)
    assert decoded.seq == 3 and decoded.venue_note == "hi" and decoded.encoded_length == n + 6


def test_acting_version_every_kind(kit: dict[str, ModuleType], kit_ir: Schema) -> None:
    msgs, t = kit["messages"], kit["types"]
    every = kit_ir.message_named("Every")
    assert every is not None
    legs = every.groups[0]
    # A version 1 message: no `extras` group, no `raw` var-data; one leg with no fills and an empty blob.
    wire = struct.pack("<HHHH", every.block_length, 5, 42, 1) + bytes(every.block_length)
    wire += struct.pack("<HH", legs.block_length, 1) + struct.pack("<q", 77) + b"\x55" * 4
    wire += struct.pack("<HH", legs.groups[0].block_length, 0) + struct.pack("<I", 0)
    wire += struct.pack("<I", 2) + b"ok"
    msg = msgs.Every.wrap_for_decode(wire)
    assert msg.encoded_length == len(wire)
    assert msg.late.is_null and str(msg.late) == "null" and msg.late_raw == -(1 << 63)
    assert msg.late_color is None and msg.late_color_raw == 65535
    assert math.isnan(msg.late_f) and msg.late_tag == ""
    assert msg.late_quote == t.Quote.null() and msg.late_ladder == (t.Px.null(),) * 3
    assert len(msg.extras) == 0 and list(msg.extras) == [] and msg.raw == b"" and msg.text == "ok"
    (leg,) = msg.legs
    assert leg.qty == 77 and leg.late_qty == -(1 << 31) and leg.blob == b""
    assert msg.maybe_px is None or msg.maybe_px == t.Px(0)  # zero bytes on the wire are a value, not null


def test_unknown_enum_values_decode(fx: dict[str, ModuleType], kit: dict[str, ModuleType]) -> None:
    msgs, t = fx["messages"], fx["types"]
    buf = _book_delta(fx, side=t.Side.sell)
    buf[8 + 20] = 77
    msg = fx["dispatch"].decode(bytes(buf))
    assert msg.side is None and msg.side_raw == 77
    assert msg.to_dict()["side"] is None
    buf2 = bytearray(64)
    order = msgs.NewOrder.wrap_and_apply_header(buf2)
    order.tif_raw = 9
    order.flags_raw = 0b1111_1011
    decoded = msgs.NewOrder.wrap_for_decode(bytes(buf2[: order.encoded_length]))
    assert decoded.tif is None and decoded.tif_raw == 9
    assert int(decoded.flags) == 0b1111_1011 and t.OrderFlags.post_only in decoded.flags
    assert t.OrderFlags.reduce_only in decoded.flags and t.OrderFlags.ioc not in decoded.flags
    assert t.Side.from_raw(2) is t.Side.sell and t.Side.from_raw(255) is None
    # inside a composite too
    kq = kit["types"].Quote.decode(memoryview(struct.pack("<iiIH", 1, 2, 0, 999)), 0)
    assert kq.color is None


def test_optional_fields(kit: dict[str, ModuleType], kit_ir: Schema) -> None:
    msgs = kit["messages"]
    buf = bytearray(1024)
    msg = msgs.Every.wrap_and_apply_header(buf)
    assert msg.maybe_px is None and msg.maybe_f is None and msg.maybe_i is None  # start null
    msg.maybe_i = 5
    assert msg.maybe_i == 5
    msg.maybe_i = None
    offset = next(f.offset for f in kit_ir.messages[0].fields if f.name == "maybe_i")
    assert msg.maybe_i is None and struct.unpack_from("<i", buf, 8 + offset)[0] == 0  # its null is 0


# ---- encoding rules ---------------------------------------------------------------------------


def test_encoding_errors(fx: dict[str, ModuleType]) -> None:
    msgs, t, codec = fx["messages"], fx["types"], fx["codec"]
    err = codec.EncodeError
    buf = bytearray(256)
    snap = msgs.Snapshot.wrap_and_apply_header(buf)
    levels = snap.encode_levels(2)
    levels.next()
    with pytest.raises(err, match="2 entries declared but 1 written"):
        snap.venue_note = "x"
    snap = msgs.Snapshot.wrap_and_apply_header(buf)
    snap.venue_note = "x"
    with pytest.raises(err, match="schema order"):
        snap.encode_levels(0)
    snap = msgs.Snapshot.wrap_and_apply_header(buf)
    w = snap.encode_levels(1)
    w.next()
    with pytest.raises(err, match="already written"):
        w.next()
    with pytest.raises(err, match="instrument"):
        snap.instrument = -1
    with pytest.raises(err, match="char\\[12\\]"):
        msgs.NewOrder.wrap_and_apply_header(buf).symbol = "X" * 13
    order = msgs.NewOrder.wrap_and_apply_header(buf)
    order.symbol = codec.truncate_chars("XY" * 7, 12)  # the explicit truncating form
    assert msgs.NewOrder.wrap_for_decode(buf).symbol == "XY" * 6
    with pytest.raises(err, match="writable"):
        msgs.Trade.wrap_and_apply_header(bytes(64))
    with pytest.raises(err, match="too small"):
        msgs.Trade.wrap_and_apply_header(bytearray(20))
    # Header, block and the var-data's length prefix fit; no room for its bytes.
    small = msgs.ExecutionReport.wrap_and_apply_header(bytearray(8 + msgs.ExecutionReport.BLOCK_LENGTH + 4))
    with pytest.raises(err, match="too small"):
        small.reject_reason = "too long for the buffer"
    decoded = msgs.ExecutionReport.wrap_for_decode(bytearray(_encode_report(fx)))
    with pytest.raises(err, match="already written"):
        decoded.reject_reason = "no"
    with pytest.raises(ValueError):
        t.Price.from_str("1.0000000001")


def _encode_report(fx: dict[str, ModuleType]) -> bytes:
    buf = bytearray(128)
    rep = fx["messages"].ExecutionReport.wrap_and_apply_header(buf)
    rep.reject_reason = "r"
    return bytes(buf[: rep.encoded_length])


def test_unwritten_groups_and_var_data_are_empty(fx: dict[str, ModuleType]) -> None:
    msgs = fx["messages"]
    buf = bytearray(256)
    snap = msgs.Snapshot.wrap_and_apply_header(buf)
    snap.instrument = 4
    lv = snap.encode_levels(1).next()
    lv.encode_orders(0)
    assert snap.encoded_length == 8 + 12 + 4 + 17 + 4 + 4
    decoded = msgs.Snapshot.wrap_for_decode(buf[: snap.encoded_length])
    assert decoded.to_dict()["levels"][0]["orders"] == [] and decoded.venue_note == ""
    assert decoded.levels[0].side is None and decoded.levels[-1].price == decoded.levels[0].price
    with pytest.raises(IndexError):
        decoded.levels[1]


# ---- decimals ------------------------------------------------------------------------------------


@given(st.integers(-(1 << 63) + 1, (1 << 63) - 1))
@settings(max_examples=200, deadline=None)
def test_decimal_text_is_exact(fx: dict[str, ModuleType], mantissa: int) -> None:
    t = fx["types"]
    for cls in (t.Price, t.Qty):
        value = cls(mantissa)
        assert cls.from_str(str(value)) == value
        assert cls.from_decimal(value.to_decimal()) == value
        assert value.to_decimal() == __import__("decimal").Decimal(mantissa).scaleb(cls.EXPONENT)


def test_decimal_conversions(fx: dict[str, ModuleType]) -> None:
    t = fx["types"]
    assert t.Price.from_str("1.08125").mantissa == 1_081_250_000
    assert str(t.Price.from_str("-0.000000001")) == "-0.000000001"
    assert str(t.Qty.from_str("2.5e3")) == "2500" and str(t.Qty(-5)) == "-0.0005"
    assert t.Price.from_str("null").is_null and str(t.Price.null()) == "null"
    assert repr(t.Qty.from_str("1.5")) == "Qty('1.5')"
    assert t.Qty(1) < t.Qty(2) and t.Qty(3) != t.Price(3) and float(t.Qty(5)) == 0.0005
    for bad in ("1.00001", "abc", "nan", "inf", "1e30", "1" * 1200):
        with pytest.raises(ValueError):
            t.Qty.from_str(bad)


# ---- numpy batches -----------------------------------------------------------------------------


def test_batch_decode_equals_per_message(fx: dict[str, ModuleType]) -> None:
    msgs, batch, t = fx["messages"], fx["batch"], fx["types"]
    n = 500
    rng = np.random.default_rng(1)
    size = 8 + msgs.BookDelta.BLOCK_LENGTH
    assert batch.BookDelta.DTYPE.itemsize == size
    buf = bytearray(n * size)
    for i in range(n):
        m = msgs.BookDelta.wrap_and_apply_header(buf, i * size)
        m.instrument = int(rng.integers(0, 1 << 32))
        m.seq = int(rng.integers(0, 1 << 63))
        m.ts_exchange = int(rng.integers(0, 1 << 63))
        m.side_raw = int(rng.choice([1, 2, 7]))
        m.price = t.Price(int(rng.integers(-(1 << 62), 1 << 62)))
        m.qty = t.Qty(int(rng.integers(0, 1 << 40)))
        m.order_count = None if i % 5 == 0 else int(rng.integers(0, 65535))
        if i % 7 == 0:
            struct.pack_into("<H", buf, i * size + 6, 1)  # an older sender: order_count reads as null
    records = batch.BookDelta.decode(bytes(buf))
    assert records.shape == (n,)
    assert set(records.dtype.names[:4]) == {"header_block_length", "header_template_id",
                                            "header_schema_id", "header_version"}
    for i in range(n):
        m = msgs.BookDelta.wrap_for_decode(buf, i * size)
        r = records[i]
        assert (r["instrument"], r["seq"], r["ts_exchange"]) == (m.instrument, m.seq, m.ts_exchange)
        assert (r["side"], r["price"], r["qty"]) == (m.side_raw, m.price_raw, m.qty_raw)
        assert r["order_count"] == (65535 if m.order_count is None else m.order_count)
        assert r["header_version"] == m.acting_version
    view = np.frombuffer(bytes(buf), dtype=batch.BookDelta.DTYPE)
    assert np.array_equal(view["price"], records["price"])
    assert batch.BookDelta.EXPONENTS == {"price": -9, "qty": -4}


def test_batch_encode_and_errors(fx: dict[str, ModuleType]) -> None:
    msgs, batch, codec = fx["messages"], fx["batch"], fx["codec"]
    recs = batch.BookDelta.zeros(3)
    assert list(recs["order_count"]) == [65535] * 3 and list(recs["header_template_id"]) == [1] * 3
    recs["seq"] = [10, 11, 12]
    recs["price"] = 1_081_250_000
    recs["side"] = 2
    data = batch.BookDelta.encode(recs)
    decoded = list(fx["dispatch"].decode_all(data))
    assert [m.seq for m in decoded] == [10, 11, 12] and str(decoded[0].price) == "1.08125"
    assert decoded[2].side == fx["types"].Side.sell and decoded[0].order_count is None
    target = bytearray(10 + len(data))
    assert batch.BookDelta.encode_into(recs, target, 10) == len(data)
    assert bytes(target[10:]) == data
    with pytest.raises(codec.DecodeError, match="whole number"):
        batch.BookDelta.decode(data[:-1])
    with pytest.raises(codec.DecodeError, match="truncated"):
        batch.BookDelta.decode(data, count=4)
    wrong = bytearray(data)
    struct.pack_into("<H", wrong, 47 + 2, 2)
    with pytest.raises(codec.DecodeError, match="message 1: template 2"):
        batch.BookDelta.decode(wrong)
    with pytest.raises(codec.EncodeError):
        batch.BookDelta.encode(batch.Trade.zeros(1))
    assert not hasattr(batch, "Snapshot")  # groups and var-data: not fixed layout
    assert msgs.BookDelta.wrap_for_decode(data, 47).seq == 11


def test_batch_nested_dtypes(kit: dict[str, ModuleType]) -> None:
    msgs, batch, t = kit["messages"], kit["batch"], kit["types"]
    buf = bytearray(2 * batch.Tiny.DTYPE.itemsize)
    size = batch.Tiny.DTYPE.itemsize
    for i in range(2):
        m = msgs.Tiny.wrap_and_apply_header(buf, i * size)
        m.quote = t.Quote(t.Px(101 + i), t.Px(102), "NY4", t.Color.blue)
        m.grid = ((t.Px(1), t.Px(2), t.Px(3)), (t.Px(4), t.Px(5), t.Px(6 + i)))
        m.late = t.Big.from_str("12000")
    struct.pack_into("<H", buf, size + 6, 1)  # the second is from a version 1 sender
    recs = batch.Tiny.decode(buf)
    assert recs["quote"]["bid"].tolist() == [101, 102] and recs["quote"]["venue"][0] == b"NY4"
    assert recs["quote"]["color"][0] == 300 and recs["grid"].shape == (2, 2, 3)
    assert recs["grid"][1].tolist() == [[1, 2, 3], [4, 5, 7]]
    assert recs["late"].tolist() == [12, -(1 << 63)]
    assert msgs.Tiny.wrap_for_decode(buf, size).late.is_null
