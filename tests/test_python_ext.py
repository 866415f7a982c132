"""`--target python-ext`: the generated nanobind project — golden tree, then built with pip into a
fresh venv (cached under $HFTC_BUILD_CACHE/python_ext/, rebuilt only when the project changes) and
exercised there: round trips of every message, byte-for-byte agreement with the pure-Python backend
in both directions, batch decode/encode, errors, unknown enums, stubs, and the runtime classes."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, build_cache
from hftc.backends.python_ext import BACKEND, runtime_headers
from hftc.backends.python_ext.venv import ExtEnv, ensure
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.backend import BackendOptions
from hftc.ir.model import PRIMITIVES, Group, Message, Schema
from hftc.paths import runtime_cpp_dir


@pytest.fixture(scope="session")
def fx_ir() -> Schema:
    return compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir


def _tree(ir: Schema) -> dict[str, bytes]:
    report = generate(ir, ["python-ext"], "/nonexistent")
    assert not report.diagnostics, [d.message for d in report.diagnostics]
    return report.outputs[0].files


def test_golden_tree(fx_ir: Schema, golden: Any) -> None:
    # The generated files; the C++ codec headers (golden-tested by the cpp backend) and the
    # vendored runtime headers under include/ are checked separately below.
    files = {k: v for k, v in _tree(fx_ir).items() if not k.startswith("include/")}
    golden.check_tree("python_ext/fx_market_maker", files)


def test_layout_and_vendored_headers(fx_ir: Schema) -> None:
    files = _tree(fx_ir)
    assert {"pyproject.toml", "CMakeLists.txt", "src/module.cpp", "src/support.hpp", "python/fx_mm_ext/__init__.py",
            "python/fx_mm_ext/py.typed", "include/fx_mm/codecs.hpp", "include/fx_mm/book_delta.hpp"} <= set(files)
    include = runtime_cpp_dir() / "include"
    vendored = {k[len("include/"):]: v for k, v in files.items() if k.startswith("include/hft/")}
    assert {"hft/histogram.hpp", "hft/book/l2_book.hpp", "hft/trading/risk_gate.hpp"} <= set(vendored)
    for rel, data in vendored.items():
        assert data.decode() == (include / rel).read_text(encoding="utf-8"), rel
    assert b"nanobind_add_stub" in files["CMakeLists.txt"]
    assert _tree(fx_ir) == files  # deterministic


def test_runtime_include_option(fx_ir: Schema, tmp_path: Path) -> None:
    for rel, text in runtime_headers(runtime_cpp_dir() / "include").items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text.replace("#pragma once", "#pragma once  // vendored"), encoding="utf-8")
    result = BACKEND.generate(fx_ir, BackendOptions(extra={"runtime_cpp_include": str(tmp_path)}))
    hist = next(f for f in result.files if f.path == "include/hft/histogram.hpp")
    assert "// vendored" in hist.content


# ---- the built extension ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def ext(fx_ir: Schema) -> ExtEnv:
    return ensure(fx_ir, build_cache())


# Every scalar field kind the extension supports: wide enums and sets, floats (NaN null), a single
# char, a null_value override, padding, fields/groups/var-data newer than the first version.
KIT_YAML = """\
hftc: 1
package: kit.sink
version: 3
schema_id: 42
description: Every scalar field kind.
types:
  Px: {decimal: int32, exponent: -2}
  Big: {decimal: int64, exponent: 3}
  Color: {enum: uint16, values: {red: 1, green: 2, blue: 300}}
  Caps: {set: uint16, choices: {a: 0, b: 9, c: 15}}
  Tag: {char: 4}
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
      maybe_px: {type: Px, optional: true}
      maybe_f: {type: float64, optional: true}
      maybe_i: {type: int32, optional: true, null_value: 0}
      padded: {type: uint32, offset: 200}
      late: {type: Big, since_version: 3}
      late_color: {type: Color, since_version: 3}
      late_f: {type: float32, since_version: 3}
      late_tag: {type: Tag, since_version: 3}
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
      f: float64
      c: Color
      late: {type: Big, since_version: 2}
"""


@pytest.fixture(scope="session")
def kit_ir(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    path = tmp_path_factory.mktemp("kit") / "kit.hftc.yaml"
    path.write_text(KIT_YAML, encoding="utf-8")
    result = compile_file(str(path))
    assert result.ir is not None
    return result.ir


@pytest.fixture(scope="session")
def kit_ext(kit_ir: Schema) -> ExtEnv:
    return ensure(kit_ir, build_cache())


def _run(ext: ExtEnv, code: str, *args: str) -> str:
    proc = subprocess.run([str(ext.python), "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          env=ext.env(), timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _spec(ir: Schema) -> dict[str, Any]:
    """What the in-venv script needs to draw values for every message: fields, groups, var-data."""

    def field(f: Any) -> dict[str, Any]:
        t = ir.type_named(f.type)
        out: dict[str, Any] = {"name": f.name, "kind": f.kind, "type": f.type, "optional": f.optional}
        if f.kind == "primitive":
            info = PRIMITIVES[f.type]
            out.update(lo=int(info.min_value), hi=int(info.max_value), float=info.is_float, size=info.size,
                       null=f.null_value)
        elif f.kind == "decimal":
            info = PRIMITIVES[t.encoding]
            out.update(lo=int(info.min_value), hi=int(info.max_value), null=f.null_value)
        elif f.kind == "enum":
            out["values"] = [v.value for v in t.values]
        elif f.kind == "set":
            out["bits"] = 8 * t.size
        elif f.kind == "char":
            out["length"] = t.length
        return out

    def owner(o: Message | Group) -> dict[str, Any]:
        return {"fields": [field(f) for f in o.fields], "groups": {g.name: owner(g) for g in o.groups},
                "data": {d.name: d.encoding for d in o.data}}

    return {m.name: owner(m) for m in ir.messages}


_HELPERS = r"""
import enum, importlib, json, random, struct, sys
import numpy as np

SPEC = json.loads(sys.argv[1])
x = importlib.import_module(sys.argv[2])  # the extension
pure = importlib.import_module(sys.argv[3])  # the pure-Python backend's package of the same schema
pt = importlib.import_module(sys.argv[3] + ".types")
rng = random.Random(7)

def snake(name):
    import re
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()

def draw_field(f):
    if f["optional"] and rng.random() < 0.3:
        return None
    k = f["kind"]
    if f["type"] == "char":
        return chr(rng.randint(1, 127))
    if k in ("primitive", "decimal"):
        if f.get("float"):
            v = rng.uniform(-1e9, 1e9)
            return struct.unpack("<f", struct.pack("<f", v))[0] if f["size"] == 4 else v
        v = rng.choice([f["lo"], f["hi"], 0, rng.randint(f["lo"], f["hi"])])
        return v + 1 if f["optional"] and v == f.get("null") else v
    if k == "enum":
        return rng.choice(f["values"])
    if k == "set":
        return rng.randrange(1 << f["bits"])
    if k == "char":
        return "".join(chr(rng.randint(1, 255)) for _ in range(rng.randint(0, f["length"])))
    raise AssertionError(k)

def draw(o, depth=0):
    v = {f["name"]: draw_field(f) for f in o["fields"]}
    for name, g in o["groups"].items():
        v[name] = [draw(g, depth + 1) for _ in range(rng.randint(0, 3 if depth == 0 else 2))]
    for name, enc in o["data"].items():
        n = rng.randint(0, 40)
        v[name] = "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(160, 0x2FFF)])) for _ in range(n)) \
            if enc == "utf8" else rng.randbytes(n)
    return v

def norm(v):
    # Wire values: enums and sets as ints, decimals as mantissas, views as bytes.
    if isinstance(v, dict):
        return {k: norm(e) for k, e in v.items()}
    if isinstance(v, (list, tuple)):
        return [norm(e) for e in v]
    if isinstance(v, enum.Enum):
        return int(v.value)
    if hasattr(v, "mantissa"):
        return int(v.mantissa)
    if isinstance(v, memoryview):
        return bytes(v)
    if isinstance(v, int):
        return int(v)
    return v

def to_ext(o, v):
    # Raw values -> what a user passes the extension: its enums for enum fields.
    out = dict(v)
    for f in o["fields"]:
        if f["kind"] == "enum" and v[f["name"]] is not None:
            out[f["name"]] = getattr(x, f["type"])(v[f["name"]])
    for name, g in o["groups"].items():
        out[name] = [to_ext(g, e) for e in v[name]]
    return out

def to_pure(o, v):
    out = dict(v)
    for f in o["fields"]:
        val = v[f["name"]]
        if val is not None and f["kind"] in ("enum", "decimal", "set"):
            out[f["name"]] = getattr(pt, f["type"])(val)
    for name, g in o["groups"].items():
        out[name] = [to_pure(g, e) for e in v[name]]
    return out

def pure_fill(obj, o, v):
    for f in o["fields"]:
        setattr(obj, f["name"], v[f["name"]])
    for name, g in o["groups"].items():
        w = getattr(obj, f"encode_{name}")(len(v[name]))
        for e in v[name]:
            pure_fill(w.next(), g, e)
    for name in o["data"]:
        setattr(obj, name, v[name])

def pure_encode(name, v):
    buf = bytearray(1 << 16)
    msg = getattr(pure, name).wrap_and_apply_header(buf)
    pure_fill(msg, SPEC[name], to_pure(SPEC[name], v))
    return bytes(buf[: msg.encoded_length])

def pure_decode(data):
    return norm(pure.decode(data).to_dict())
"""


def test_import_stub_and_typed(ext: ExtEnv) -> None:
    out = _run(ext, """
        import fx_mm_ext, pathlib
        pkg = pathlib.Path(fx_mm_ext.__file__).parent
        print(pkg)
        print(fx_mm_ext.SCHEMA_ID, fx_mm_ext.SCHEMA_VERSION, fx_mm_ext.DECIMAL_EXPONENTS)
    """)
    pkg = Path(out.splitlines()[0])
    assert out.splitlines()[1] == "7 2 {'Price': -9, 'Qty': -4}"
    assert (pkg / "py.typed").exists()
    stub = (pkg / "_core.pyi").read_text(encoding="utf-8")
    for name in ("book_delta", "trade", "snapshot", "new_order", "execution_report"):
        assert f"def decode_{name}(buf: Buffer, offset: int = 0) -> dict[str, Any]" in stub
        assert f"def encode_{name}(" in stub and f"def encode_{name}_into(" in stub
    assert "def decode_many_book_delta(buf: Buffer) -> dict[str, numpy.ndarray]" in stub
    assert "def decode_many_snapshot" not in stub  # groups and var-data: no batch API
    for cls in ("class Side(enum.Enum)", "class DecodeError(ValueError)", "class RiskGate", "class PriceLevelBook",
                "class LatencyHistogram", "class RiskDecision(enum.Enum)"):
        assert cls in stub


@pytest.mark.parametrize("schema", ["fx", "kit"])
def test_round_trips_and_pure_python_interop(schema: str, ext: ExtEnv, kit_ext: ExtEnv, fx_ir: Schema,
                                             kit_ir: Schema) -> None:
    """Every message, 40 random instances each: ext encode == pure encode byte for byte, each side
    decodes the other's bytes, and the extension reads at offsets from every buffer type."""
    env, ir = (ext, fx_ir) if schema == "fx" else (kit_ext, kit_ir)
    out = _run(env, _HELPERS + r"""
for name, o in SPEC.items():
    s = snake(name)
    enc, dec, into = getattr(x, f"encode_{s}"), getattr(x, f"decode_{s}"), getattr(x, f"encode_{s}_into")
    for i in range(40):
        v = draw(o)
        data = enc(to_ext(o, v)) if i % 2 else enc(**to_ext(o, v))
        assert norm(dec(data)) == v, (name, norm(dec(data)), v)
        theirs = pure_encode(name, v)
        assert data == theirs, (name, data.hex(), theirs.hex())
        assert pure_decode(data) == v
        assert norm(dec(theirs)) == v
        buf = bytearray(len(data) + 9)
        assert into(buf, 5, to_ext(o, v)) == len(data) and bytes(buf[5:5 + len(data)]) == data
        arr = np.zeros(len(data) + 3, dtype=np.uint8)
        into(arr, 3, **to_ext(o, v))
        for view in (memoryview(bytes(buf)), arr, bytearray(buf)):
            off = 5 if view is not arr else 3
            assert norm(dec(view, off)) == v
        kind, fields, length = x.decode(b"\xee" * 2 + data, 2)
        assert (kind, norm(fields), length) == (name, v, len(data))
        if not o["groups"] and not o["data"]:  # batch API: columns back to the same bytes
            many = getattr(x, f"decode_many_{s}")(data * 3)
            assert getattr(x, f"encode_many_{s}")(many) == data * 3
    print(name, "ok")
""", json.dumps(_spec(ir)), env.module, ir.package_snake)
    assert out.split() == [w for m in ir.messages for w in (m.name, "ok")]


def test_batch_decode_100k_book_deltas(ext: ExtEnv, fx_ir: Schema) -> None:
    _run(ext, _HELPERS + r"""
import fx_mm.batch
n = 100_000
g = np.random.default_rng(1)
cols = {
    "instrument": g.integers(0, 2**32 - 1, n, dtype=np.uint32), "seq": np.arange(n, dtype=np.uint64),
    "ts_exchange": g.integers(0, 2**63, n, dtype=np.uint64), "side": g.choice([1, 2, 7], n).astype(np.uint8),
    "price": g.integers(-2**62, 2**62, n), "qty": g.integers(0, 10**12, n),
    "order_count": g.choice([0, 5, 65535], n).astype(np.uint16),
}
data = x.encode_many_book_delta(cols)
assert len(data) == n * 47
batch = x.decode_many_book_delta(data)
for k, c in cols.items():
    assert batch[k].dtype == c.dtype and np.array_equal(batch[k], c), k
assert x.encode_many_book_delta(batch) == data
# per-message decode agrees, row by row
for i in range(n):
    d = x.decode_book_delta(data, i * 47)
    assert d["seq"] == i and d["price"] == batch["price"][i] and d["qty"] == batch["qty"][i]
    assert d["instrument"] == batch["instrument"][i] and d["ts_exchange"] == batch["ts_exchange"][i]
    raw_side = int(batch["side"][i])
    assert d["side"] == (x.Side(raw_side) if raw_side in (1, 2) else x.Side.unknown)
    oc = int(batch["order_count"][i])
    assert d["order_count"] == (None if oc == 65535 else oc)
# and so does the pure-Python backend's numpy view
rec = pure.batch.BookDelta.decode(data)
for k in cols:
    assert np.array_equal(rec[k], batch[k]), k
# fixed messages of other templates, and char columns
orders = x.encode_many_new_order({"client_order_id": [1, 2], "instrument": [3, 4], "symbol": ["EURUSD", "GBPUSD"],
    "side": [1, 2], "price": [5, 6], "qty": [7, 8], "flags": [0, 5], "tif": [0, 3], "ts_sent": [9, 10]})
back = x.decode_many_new_order(orders)
assert list(back["symbol"]) == [b"EURUSD", b"GBPUSD"]
assert x.decode_new_order(orders, len(orders) // 2)["symbol"] == "GBPUSD"
try:
    x.decode_many_book_delta(data + orders)
except x.DecodeError as e:
    assert e.error == "unknown_template" and e.offset == len(data), (e.error, e.offset)
else:
    raise AssertionError("mixed templates decoded")
try:
    x.encode_many_book_delta({k: c[:10] if k != "seq" else c[:9] for k, c in cols.items()})
except x.EncodeError as e:
    assert "rows" in str(e)
else:
    raise AssertionError("ragged columns encoded")
""", json.dumps(_spec(fx_ir)), "fx_mm_ext", "fx_mm")


def test_errors_and_unknown_enums(ext: ExtEnv) -> None:
    _run(ext, r"""
import numpy as np
import fx_mm_ext as x
delta = dict(instrument=1, seq=2, ts_exchange=3, side=x.Side.buy, price=4, qty=5, order_count=6)
data = x.encode_book_delta(delta)
snap = x.encode_snapshot(instrument=1, seq=2, venue_note="note",
                         levels=[{"side": 2, "price": 3, "qty": 4, "orders": [{"order_id": 9, "qty": 1}]}])
for msg, dec in ((data, x.decode_book_delta), (snap, x.decode_snapshot)):
    for cut in range(len(msg)):
        try:
            dec(msg[:cut])
        except x.DecodeError as e:
            assert isinstance(e, ValueError) and e.error == "short_buffer" and 0 <= e.offset <= cut, (cut, e)
            assert "short_buffer at byte" in str(e)
        else:
            raise AssertionError(f"truncated to {cut} bytes decoded")
for patch, error in (((2, 99), "unknown_template"), ((4, 8), "wrong_schema")):
    bad = bytearray(data); bad[patch[0]] = patch[1]
    try:
        x.decode_book_delta(bad)
    except x.DecodeError as e:
        assert e.error == error and e.offset == 0, (e.error, error)
    else:
        raise AssertionError(error)
try:
    x.decode(b"\x00" * 8)
except x.DecodeError as e:
    assert e.error in ("unknown_template", "wrong_schema")
# an enum value this schema does not know decodes as `unknown`, never raises
bad = bytearray(data); bad[8 + 20] = 77
assert x.decode_book_delta(bad)["side"] is x.Side.unknown
assert x.decode_many_book_delta(bytes(bad))["side"][0] == 77
assert x.decode_book_delta(x.encode_book_delta(delta, side=77))["side"] is x.Side.unknown
# an older writer (version 1, 37-byte block) lacks order_count: it reads as None
v1 = bytearray(data[:45]); v1[0:2] = (37).to_bytes(2, "little"); v1[6:8] = (1).to_bytes(2, "little")
assert x.decode_book_delta(v1)["order_count"] is None and x.decode_book_delta(v1)["qty"] == 5
# invalid UTF-8 in var-data
raw = bytearray(x.encode_execution_report(client_order_id=1, exec_id=2, side=1, last_price=3, last_qty=4,
                                           leaves_qty=5, ts_exchange=6, reject_reason="ab"))
raw[-1] = 0xFF
try:
    x.decode_execution_report(raw)
except x.DecodeError as e:
    assert e.error == "invalid_utf8" and e.offset is None
else:
    raise AssertionError("bad utf-8 decoded")
# encode errors name the field
for kwargs, text in (({"instrument": -1}, "BookDelta.instrument: cannot store -1 as uint32"),
                     ({"side": "buy"}, "BookDelta.side"), ({"price": 1.5}, "BookDelta.price"),
                     ({"seq": None}, "BookDelta.seq is required"),
                     ({"ordr_count": 3}, "BookDelta: unknown field 'ordr_count'")):
    try:
        x.encode_book_delta(delta, **kwargs)
    except x.EncodeError as e:
        assert text in str(e), (str(e), text)
    else:
        raise AssertionError(kwargs)
try:
    x.encode_snapshot(instrument=1, seq=2, levels=[{"side": 1, "price": 1, "qty": 1, "orders": [], "extra": 1}])
except x.EncodeError as e:
    assert "Snapshot.levels: unknown field 'extra'" in str(e)
else:
    raise AssertionError("unknown group entry field encoded")
try:
    x.encode_new_order(client_order_id=1, instrument=2, symbol="X" * 13, side=1, price=1, qty=1, flags=0, tif=0,
                       ts_sent=0)
except x.EncodeError as e:
    assert "char[12]" in str(e)
try:
    x.encode_book_delta_into(bytearray(46), 0, delta)
except x.EncodeError as e:
    assert "short_buffer" in str(e)
else:
    raise AssertionError("encoded into a short buffer")
try:
    x.encode_book_delta_into(b"\0" * 64, 0, delta)
except (TypeError, BufferError):
    pass
else:
    raise AssertionError("encoded into read-only bytes")
try:
    x.encode_snapshot(instrument=1, seq=2, levels=[{}] * 70000)
except x.EncodeError as e:
    assert "65535" in str(e)
# zero copy: a numpy buffer is written in place and read back
arr = np.zeros(47 * 2, dtype=np.uint8)
x.encode_book_delta_into(arr, 47, delta)
assert bytes(arr[47:]) == data and x.decode_book_delta(arr, 47)["order_count"] == 6
""")


def test_runtime_classes(ext: ExtEnv) -> None:
    _run(ext, r"""
import numpy as np
import fx_mm_ext as x
h = x.LatencyHistogram()
h.record_many(np.arange(1, 10001, dtype=np.uint64))
h.record(50_000)
assert h.count == 10001 and h.min == 1 and h.max >= 49_990
assert abs(h.value_at_percentile(50) - 5000) <= 10
copy = x.LatencyHistogram.deserialize(h.serialize())
assert copy.count == h.count and copy.value_at_percentile(99) == h.value_at_percentile(99)
try:
    x.LatencyHistogram.deserialize(b"junk")
except x.HistogramFormatError as e:
    assert isinstance(e, ValueError)
else:
    raise AssertionError("junk histogram")

b = x.PriceLevelBook(64)
assert b.best_bid() is None and b.mid() is None
assert b.set_level(x.BookSide.bid, 100, 5) == x.L2Update.applied
b.set_level(x.BookSide.bid, 99, 7)
b.set_level(x.BookSide.ask, 102, 3)
assert b.best_bid() == (100, 5) and b.best_ask() == (102, 3) and b.mid() == 101.0 and b.spread() == 2
assert b.depth(x.BookSide.bid, 5) == [(100, 5), (99, 7)] and b.level_count(x.BookSide.bid) == 2
assert b.set_level(x.BookSide.bid, 100, 0) == x.L2Update.applied and b.best_bid() == (99, 7)
assert b.set_level(x.BookSide.ask, 500, 0) == x.L2Update.ignored

limits = x.RiskLimits(max_position=10, max_order_qty=5, max_orders_per_second=2, price_band_bps=100)
g = x.RiskGate(limits, instruments=2)
ok = g.check(0, x.BookSide.bid, 100, 5, 99, 101, 0)
assert ok == x.RiskDecision.accept
assert g.check(0, x.BookSide.bid, 100, 6, 99, 101, 0) == x.RiskDecision.max_order_qty
assert g.check(0, x.BookSide.bid, 120, 1, 99, 101, 0) == x.RiskDecision.price_band
assert g.check(0, x.BookSide.bid, 100, 1, None, 101, 0) == x.RiskDecision.no_market
assert g.check(5, x.BookSide.bid, 100, 1, 99, 101, 0) == x.RiskDecision.invalid_order
assert g.check(0, x.BookSide.ask, 100, 1, 99, 101, 0) == x.RiskDecision.accept
assert g.check(0, x.BookSide.ask, 100, 1, 99, 101, 0) == x.RiskDecision.order_rate
g.on_fill(0, x.BookSide.bid, 9)
assert g.position(0) == 9
assert g.check(0, x.BookSide.bid, 100, 2, 99, 101, 2_000_000_000) == x.RiskDecision.max_position
g.trip()
assert g.tripped and g.check(0, x.BookSide.ask, 100, 1, 99, 101, 4_000_000_000) == x.RiskDecision.kill_switch
g.reset()
assert g.accepted == 2 and g.rejected == 7 and g.count(x.RiskDecision.price_band) == 1
assert g.limits.max_order_qty == 5
""")
