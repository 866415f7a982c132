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
from conftest import EXAMPLES, REPO, build_cache
from hftc.backends.python_ext import BACKEND, runtime_headers
from hftc.backends.python_ext.venv import ExtEnv, ensure
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.backend import BackendOptions
from hftc.ir.model import PRIMITIVES, Group, Message, Schema
from hftc.paths import runtime_cpp_dir
from test_python_backend import KITCHEN_YAML


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
    assert {"hft/histogram.hpp", "hft/book/l2_book.hpp", "hft/book/l3_book.hpp", "hft/trading/risk_gate.hpp",
            "hft/trading/pipeline.hpp", "hft/spsc_ring.hpp"} <= set(vendored)
    # the C++ backend's component headers of the pipeline the module wraps, rendered from the same IR
    cpp = generate(fx_ir, ["cpp"], "/nonexistent").outputs[0].files
    for rel in ("include/fx_mm/components.hpp", "include/fx_mm/strategies/mm.hpp",
                "include/fx_mm/pipeline_tick_to_trade.hpp"):
        assert files[rel] == cpp[rel], rel
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


def test_name_clashes_are_diagnostics(fx_ir: Schema) -> None:
    from dataclasses import replace

    from hftc.diagnostics.codes import CODES

    side = next(t for t in fx_ir.types if t.name == "Side")
    for name in ("OrderBook", "TickToTradePipeline"):
        report = generate(replace(fx_ir, types=(*fx_ir.types, replace(side, name=name))), ["python-ext"],
                          "/nonexistent")
        assert [d.code for d in report.diagnostics] == ["HFT0821"], report.diagnostics
        assert name in report.diagnostics[0].message and set(report.outputs[0].files) <= {"hftc-manifest.json"}
    m = fx_ir.messages[0]
    offset = replace(m, fields=(*m.fields, replace(m.fields[0], name="offset", offset=m.block_length)))
    report = generate(replace(fx_ir, messages=(offset, *fx_ir.messages[1:])), ["python-ext"], "/nonexistent")
    assert [(d.code, d.severity.value) for d in report.diagnostics] == [("HFT0822", "warning")]
    assert report.outputs[0].files and {"HFT0821", "HFT0822"} <= set(CODES)


# ---- the built extension ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def ext(fx_ir: Schema) -> ExtEnv:
    return ensure(fx_ir, build_cache())


# Every field kind: wide enums and sets, floats (NaN null), a single char, a null_value override,
# padding, composites (nested) and arrays (of composites, of arrays), fields/groups/var-data newer
# than the first version: the pure-Python backend's kitchen-sink schema.
KIT_YAML = KITCHEN_YAML
EDGE = REPO / "tests" / "schemas" / "cpp_edge.hftc.yaml"
# cpp_edge's messages framed big-endian, with a 6-byte header, 3-byte group sizes and uint8 var-data lengths
WIRE = REPO / "tests" / "schemas" / "wire_custom.hftc.yaml"


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
    """What the in-venv script needs to draw values for every message: fields (composites with their
    members, arrays with their element), groups, var-data."""

    def value(type_name: str, optional: bool = False, null: Any = None) -> dict[str, Any]:
        t = ir.type_named(type_name)
        kind = "primitive" if t is None else t.kind
        out: dict[str, Any] = {"kind": kind, "type": type_name, "optional": optional}
        if kind == "primitive":
            info = PRIMITIVES[type_name]
            out.update(lo=int(info.min_value), hi=int(info.max_value), float=info.is_float, size=info.size, null=null)
        elif kind == "decimal":
            info = PRIMITIVES[t.encoding]
            out.update(lo=int(info.min_value), hi=int(info.max_value), null=null)
        elif kind == "enum":
            own = null if null is not None else t.null_value
            out.update(values=[v.value for v in t.values],
                       null=int(own if own is not None else PRIMITIVES[t.encoding].null_value))
        elif kind == "set":
            out["bits"] = 8 * t.size
        elif kind == "char":
            out["length"] = t.length
        elif kind == "composite":
            out["members"] = [{"name": f.name, **value(f.type)} for f in t.fields]
        elif kind == "array":
            out.update(length=t.length, element=value(t.element))
        return out

    def owner(o: Message | Group) -> dict[str, Any]:
        return {"fields": [{"name": f.name, **value(f.type, f.optional, f.null_value)} for f in o.fields],
                "groups": {g.name: owner(g) for g in o.groups}, "data": {d.name: d.encoding for d in o.data}}

    return {m.name: owner(m) for m in ir.messages}


_HELPERS = r"""
import dataclasses, enum, importlib, json, random, struct, sys
import numpy as np

SPEC = json.loads(sys.argv[1])
x = importlib.import_module(sys.argv[2])  # the extension
pure = importlib.import_module(sys.argv[3])  # the pure-Python backend's package of the same schema
pt = importlib.import_module(sys.argv[3] + ".types")
rng = random.Random(7)

def py(name):
    # A schema name as both Python packages spell an attribute or class: keywords get a trailing `_`.
    import keyword
    return name + "_" if keyword.iskeyword(name) or name in ("_", "case", "match", "type") else name

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
    if k == "composite":
        return {m["name"]: draw_field(m) for m in f["members"]}
    if k == "array":
        return [draw_field(f["element"]) for _ in range(f["length"])]
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
    # Wire values: enums and sets as ints, decimals as mantissas, composites as dicts, arrays as lists.
    if isinstance(v, dict):
        return {k: norm(e) for k, e in v.items()}
    if isinstance(v, (list, tuple)):
        return [norm(e) for e in v]
    if dataclasses.is_dataclass(v):  # a pure-Python composite
        return {f.name.rstrip("_"): norm(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, enum.Enum):
        return int(v.value)
    if hasattr(v, "mantissa"):
        return int(v.mantissa)
    if isinstance(v, memoryview):
        return bytes(v)
    if isinstance(v, int):
        return int(v)
    return v

def ext_value(f, v, pure_objects):
    # Raw values -> what a user passes the extension: its enums for enum fields; composites as dicts
    # or (pure_objects) the pure-Python backend's dataclasses; arrays as tuples.
    if v is None:
        return None
    k = f["kind"]
    if k == "enum":
        return getattr(x, py(f["type"]))(v)
    if k == "composite":
        return pure_value(f, v) if pure_objects else {m["name"]: ext_value(m, v[m["name"]], False) for m in f["members"]}
    if k == "array":
        return tuple(ext_value(f["element"], e, pure_objects) for e in v)
    return v

def to_ext(o, v, pure_objects=False):
    out = dict(v)
    for f in o["fields"]:
        out[f["name"]] = ext_value(f, v[f["name"]], pure_objects)
    for name, g in o["groups"].items():
        out[name] = [to_ext(g, e, pure_objects) for e in v[name]]
    return out

def pure_value(f, v):
    if v is None:
        return None
    k = f["kind"]
    if k in ("enum", "decimal", "set"):
        return getattr(pt, py(f["type"]))(v)
    if k == "composite":
        return getattr(pt, py(f["type"]))(**{py(m["name"]): pure_value(m, v[m["name"]]) for m in f["members"]})
    if k == "array":
        return tuple(pure_value(f["element"], e) for e in v)
    return v

def to_pure(o, v):
    out = dict(v)
    for f in o["fields"]:
        out[f["name"]] = pure_value(f, v[f["name"]])
    for name, g in o["groups"].items():
        out[name] = [to_pure(g, e) for e in v[name]]
    return out

def pure_fill(obj, o, v):
    for f in o["fields"]:
        setattr(obj, py(f["name"]), v[f["name"]])
    for name, g in o["groups"].items():
        w = getattr(obj, f"encode_{name}")(len(v[name]))
        for e in v[name]:
            pure_fill(w.next(), g, e)
    for name in o["data"]:
        setattr(obj, py(name), v[name])

def pure_encode(name, v):
    buf = bytearray(1 << 16)
    msg = getattr(pure, py(name)).wrap_and_apply_header(buf)
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
                "class LatencyHistogram", "class RiskDecision(enum.Enum)", "class OrderBook",
                "class OrderResult(enum.Enum)", "class TickToTradePipeline"):
        assert cls in stub
    assert "def process(self, buf: Buffer, receive_ns: int = 0) -> list[bytes]" in stub
    assert "def best_bid(self) -> tuple[int, int, int] | None" in stub  # L3 levels carry the order count


@pytest.fixture(scope="session")
def edge_ir() -> Schema:
    if not EDGE.exists():
        pytest.skip(f"{EDGE.name} is absent")
    result = compile_file(str(EDGE))
    assert result.ir is not None
    return result.ir


@pytest.fixture(scope="session")
def edge_ext(edge_ir: Schema) -> ExtEnv:
    return ensure(edge_ir, build_cache())


KEYWORDS = REPO / "tests" / "schemas" / "keywords.hftc.yaml"  # types, fields, groups... named `new`, `lambda`...


@pytest.fixture(scope="session")
def keywords_ir() -> Schema:
    result = compile_file(str(KEYWORDS))
    assert result.ir is not None
    return result.ir


@pytest.fixture(scope="session")
def keywords_ext(keywords_ir: Schema) -> ExtEnv:
    return ensure(keywords_ir, build_cache())


@pytest.fixture(scope="session")
def wire_ir() -> Schema:
    result = compile_file(str(WIRE))
    assert result.ir is not None
    return result.ir


@pytest.fixture(scope="session")
def wire_ext(wire_ir: Schema) -> ExtEnv:
    return ensure(wire_ir, build_cache())


@pytest.fixture(scope="session")
def built(request: pytest.FixtureRequest) -> Any:
    """(extension venv, IR) of a schema by name, built on first use."""
    return lambda name: (request.getfixturevalue(f"{name}_ext"), request.getfixturevalue(f"{name}_ir"))


@pytest.fixture(scope="session")
def fx_ext(ext: ExtEnv) -> ExtEnv:
    return ext


def test_package_passes_mypy_strict(ext: ExtEnv, tmp_path: Path) -> None:
    """The installed package (stub included) type-checks, so editors and users' mypy runs accept it."""
    import sys

    mypy = Path(sys.executable).parent / "mypy"
    if not mypy.exists():
        pytest.skip("mypy is not installed")
    proc = subprocess.run([str(mypy), "--strict", "--no-incremental", "-p", ext.module], capture_output=True,
                          text=True, cwd=tmp_path, env={**ext.env(), "MYPYPATH": str(ext.site_packages)},
                          check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("schema", ["fx", "kit", "edge", "wire", "keywords"])
def test_round_trips_and_pure_python_interop(schema: str, built: Any) -> None:
    """Every message, 40 random instances each: ext encode == pure encode byte for byte, each side
    decodes the other's bytes, the extension reads at offsets from every buffer type and takes the
    pure-Python backend's composites; batch columns equal the pure-Python backend's numpy records."""
    env, ir = built(schema)
    out = _run(env, _HELPERS + r"""
for name, o in SPEC.items():
    s = snake(name)
    enc, dec, into = getattr(x, f"encode_{s}"), getattr(x, f"decode_{s}"), getattr(x, f"encode_{s}_into")
    for i in range(40):
        v = draw(o)
        data = enc(to_ext(o, v, i % 4 == 3)) if i % 2 else enc(**to_ext(o, v))
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
        if not o["groups"] and not o["data"] and o["fields"]:  # batch API: columns back to the same bytes
            many = getattr(x, f"decode_many_{s}")(data * 3)
            assert getattr(x, f"encode_many_{s}")(many) == data * 3
            rec = getattr(importlib.import_module(sys.argv[3] + ".batch"), py(name)).decode(data * 3)
            for f in o["fields"]:
                col, theirs = many[f["name"]], rec[f["name"]]
                assert col.dtype == theirs.dtype and col.shape == theirs.shape, (name, f, col.dtype, theirs.dtype)
                assert col.tobytes() == np.ascontiguousarray(theirs).tobytes(), (name, f["name"])
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
raw = bytearray(x.encode_execution_report(client_order_id=1, orig_client_order_id=0, exec_id=2, exec_type=0,
                                           order_status=0, side=1, last_price=3, last_qty=4, leaves_qty=5,
                                           cum_qty=0, seq=7, ts_exchange=6, reject_reason="ab"))
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
else:
    raise AssertionError("13 characters encoded into char[12]")
cut = x.encode_new_order(client_order_id=1, instrument=2, symbol=x.truncate_chars("XY" * 7, 12), side=1, price=1,
                         qty=1, flags=0, tif=0, ts_sent=0)
assert x.decode_new_order(cut)["symbol"] == "XY" * 6
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
# Open orders count towards the position limit until filled, canceled, rejected or expired.
h = x.RiskGate(x.RiskLimits(max_position=10, max_order_qty=10, max_orders_per_second=1000, price_band_bps=100,
                            max_open_orders=3, max_open_notional=1_500))
A, B = x.BookSide.bid, x.BookSide.ask
assert [h.check(0, A, 100, 4, 99, 101, 0, client_order_id=i) for i in (1, 2, 3)] == [
    x.RiskDecision.accept, x.RiskDecision.accept, x.RiskDecision.max_position]
assert h.open_qty(0, A) == 8 and h.worst_case(0, A) == 8 and h.open_orders == 2 and h.open_notional == 800
assert h.check(0, A, 100, 1, 99, 101, 0, client_order_id=2) == x.RiskDecision.duplicate_order_id
assert h.on_order_fill(1, 4) and h.position(0) == 4 and h.leaves(1) == 0 and h.worst_case(0, A) == 8
assert h.on_cancel(2) and not h.on_cancel(2) and h.worst_case(0, A) == 4
assert h.check(0, B, 100, 10, 99, 101, 0) == x.RiskDecision.accept  # id 3; short: -4 + 10 = 6
assert h.check(0, B, 600, 1, 99, 101, 0) == x.RiskDecision.max_open_notional  # 1000 + 600 > 1500
assert h.on_order_accepted(50, 0, B, 100, 1) and h.open_orders == 2 and h.open_qty(0, B) == 11
assert h.on_expire(50) and h.on_reject(3)
assert h.check(0, B, 2**62, 2**62, 99, 101, 0) == x.RiskDecision.overflow
h.trip(); assert h.check(0, A, 100, 1, 99, 101, 0) == x.RiskDecision.kill_switch
h.rearm(); assert not h.tripped and h.open_orders == 0
""")


# ---- the cross-language vectors ----------------------------------------------------------------

_VECTORS = r"""
import math
VECTORS = json.load(open(sys.argv[4]))["vectors"]

def unknown_enum(f, v):
    return f["kind"] == "enum" and v is not None and v not in f["values"] and v != f["null"]

def has_unknown(o, values):
    def walk(f, v):
        if f["kind"] == "composite":
            return any(walk(m, v[m["name"]]) for m in f["members"])
        if f["kind"] == "array":
            return any(walk(f["element"], e) for e in v)
        return unknown_enum(f, v)
    return any(walk(f, values[f["name"]]) for f in o["fields"]) or \
        any(has_unknown(g, e) for name, g in o["groups"].items() for e in values[name])

def same(f, got, want):
    # The extension's decoded value against the vector's JSON value.
    k = f["kind"]
    if k == "enum":
        if got is None:  # an optional enum's null
            return want == f["null"]
        if got.name == "unknown" or got.name == "unknown_":  # null, or a value the schema does not know
            return want == f["null"] or want not in f["values"]
        return int(got.value) == want
    if k == "composite":
        return all(same(m, got[m["name"]], want[m["name"]]) for m in f["members"])
    if k == "array":
        return len(got) == len(want) and all(same(f["element"], g, w) for g, w in zip(got, want))
    if f.get("float"):
        return (want is None and (got is None or math.isnan(got))) or got == want
    return got == want

def check(o, got, want, where):
    for f in o["fields"]:
        assert same(f, got[f["name"]], want[f["name"]]), (where, f["name"], got[f["name"]], want[f["name"]])
    for name, g in o["groups"].items():
        assert len(got[name]) == len(want[name]), (where, name)
        for a, b in zip(got[name], want[name]):
            check(g, a, b, where)
    for name, enc in o["data"].items():
        assert (got[name] if enc == "utf8" else got[name].hex()) == want[name], (where, name)

def from_json(f, v):
    k = f["kind"]
    if k == "composite":
        return {m["name"]: from_json(m, v[m["name"]]) for m in f["members"]}
    if k == "array":
        return [from_json(f["element"], e) for e in v]
    if f.get("float") and v is None and not f["optional"]:
        return float("nan")
    return v  # enums as their wire integer, nullable fields as None

def values_of(o, v):
    out = {f["name"]: from_json(f, v[f["name"]]) for f in o["fields"]}
    for name, g in o["groups"].items():
        out[name] = [values_of(g, e) for e in v[name]]
    for name, enc in o["data"].items():
        out[name] = v[name] if enc == "utf8" else bytes.fromhex(v[name])
    return out

count = 0
for v in VECTORS:
    name, o = v["message"], SPEC[v["message"]]
    s = snake(name)
    raw, current = bytes.fromhex(v["hex"]), bytes.fromhex(v["current_hex"])
    where = f"{name} v{v['acting_version']} case {v['case']}"
    decoded = getattr(x, f"decode_{s}")(raw)
    check(o, decoded, v["values"], where)
    assert x.decode(raw)[2] == len(raw), where
    assert getattr(x, f"encode_{s}")(values_of(o, v["values"])) == current, where
    if not has_unknown(o, v["values"]):  # the enums keep only members and `unknown`
        assert getattr(x, f"encode_{s}")(decoded) == current, where
    if not o["groups"] and not o["data"] and o["fields"]:  # columns keep the wire integers
        many = getattr(x, f"decode_many_{s}")(raw * 2)
        assert getattr(x, f"encode_many_{s}")(many) == current * 2, where
    count += 1
print(count)
"""


@pytest.mark.parametrize("schema", ["fx", "kit", "edge", "keywords"])
def test_cross_language_vectors(schema: str, built: Any, tmp_path: Path) -> None:
    """The shared vectors the C++, Rust and pure-Python codecs pass (test_cross_language.py): the
    extension decodes every vector's bytes, at every acting version, to its values and encodes the
    values (and what it decoded) back to the current version's bytes; batch columns too."""
    from hftc.vectors import vectors_json

    env, ir = built(schema)
    path = tmp_path / "vectors.json"
    path.write_text(vectors_json(ir, 20240808, 4), encoding="utf-8")
    count = len(json.loads(path.read_text(encoding="utf-8"))["vectors"])
    out = _run(env, _HELPERS + _VECTORS, json.dumps(_spec(ir)), env.module, ir.package_snake, str(path))
    assert out.split() == [str(count)] and count > 0


# ---- L3 book and the generated pipeline --------------------------------------------------------


def test_order_book(ext: ExtEnv) -> None:
    _run(ext, r"""
import numpy as np
import fx_mm_ext as x
bid, ask, R = x.BookSide.bid, x.BookSide.ask, x.OrderResult
b = x.OrderBook(max_orders=4)
assert b.max_orders == 4 and b.order_count == 0 and b.best_bid() is None
assert b.add(1, bid, 100, 5) == R.ok and b.add(2, bid, 100, 3) == R.ok and b.add(3, ask, 102, 7) == R.ok
assert b.add(1, ask, 103, 1) == R.duplicate_id and b.add(9, bid, 99, 0) == R.invalid_qty
assert b.best_bid() == (100, 8, 2) and b.best_ask() == (102, 7, 1)
assert b.find(2) == (bid, 100, 3) and b.find(42) is None
assert b.qty_ahead(2) == 5 and b.qty_ahead(1) == 0 and b.qty_ahead(42) is None
assert b.modify(1, 6) == R.ok and b.qty_ahead(2) == 0 and b.qty_ahead(1) == 3  # up: to the back
assert b.modify(1, 2) == R.ok and b.qty_ahead(1) == 3  # down: keeps its place
assert b.execute(2, 3) == R.ok and b.find(2) is None and b.best_bid() == (100, 2, 1)
assert b.execute(1, 5) == R.invalid_qty and b.cancel(7) == R.unknown_id
assert b.add(4, bid, 99, 1) == R.ok and b.add(5, bid, 98, 1) == R.ok and b.add(6, bid, 97, 1) == R.pool_full
assert b.level_qty(bid, 99) == 1 and b.level_order_count(bid, 100) == 1 and b.level_count(bid) == 3
assert b.order_count == 4
b.clear()
assert b.order_count == 0 and b.best_ask() is None
# batch: add, add, execute, modify, cancel, cancel of an unknown id
out = b.apply_many([0, 0, 3, 2, 1, 1], [10, 11, 10, 11, 11, 99], [0, 1, 0, 0, 0, 0], [100, 101, 0, 0, 0, 0],
                   [5, 4, 2, 9, 0, 0])
assert out.dtype == np.uint8 and [R(int(r)) for r in out] == [R.ok] * 5 + [R.unknown_id]
assert b.find(10) == (bid, 100, 3) and b.find(11) is None
for bad in (([4], [1], [0], [1], [1]), ([0, 0], [1], [0], [1], [1]), ([0], [1], [2], [1], [1])):
    try:
        b.apply_many(*bad)
    except ValueError:
        pass
    else:
        raise AssertionError(bad)
try:
    x.OrderBook(2**40)
except (ValueError, MemoryError):
    pass
else:
    raise AssertionError("an impossible capacity was accepted")
""")


def test_pipeline(ext: ExtEnv) -> None:
    """fx's tick_to_trade pipeline from Python: encoded deltas in, the gateway's NewOrders out; the
    quotes follow the strategy (0.5 bp around the mid on a 0.00001 grid), risk and params apply."""
    _run(ext, r"""
import fx_mm_ext as x
def delta(side, px_ticks, lots, seq, instrument=0):
    # Price: 10^-9 units, so 10^4 per 0.00001 tick; qty: 10^-4 units, so 10^7 per lot of 1000.
    return x.encode_book_delta(instrument=instrument, seq=seq, ts_exchange=1000 + seq, side=side,
                               price=px_ticks * 10_000, qty=lots * 10_000_000, order_count=1)
book = delta(x.Side.buy, 110_000, 1, 1) + delta(x.Side.sell, 110_002, 1, 2)
p = x.TickToTradePipeline()
orders = [x.decode_new_order(o) for o in p.process(book)]
# mid 1.10001: bid 1.10001 * (1 - 0.5/20000) rounds down to 1.09998, ask up to 1.10004
assert [(o["side"], o["price"], o["qty"], o["client_order_id"], o["ts_sent"]) for o in orders] == [
    (x.Side.buy, 1_099_980_000, 10_000_000, 1, 1002), (x.Side.sell, 1_100_040_000, 10_000_000, 2, 1002)], orders
assert p.best_bid() == (110_000, 1) and p.best_ask() == (110_002, 1)
st = p.stats
assert (st["published"], st["strategy_calls"], st["orders_sent"], st["dropped"]) == (2, 2, 2, 0), st
assert p.risk.accepted == 2 and p.risk.count(x.RiskDecision.accept) == 2 and p.latency.count == 2
assert p.process(delta(x.Side.buy, 110_000, 1, 2)) == [] and p.stats["dropped"] == 1  # stale sequence number
assert p.process(delta(x.Side.buy, 110_000, 3, 3)) == []  # same quotes: nothing new to send
p.risk.trip()  # the new ask quote (mid 1.100015) is refused
assert p.process(delta(x.Side.buy, 110_001, 1, 4)) == [] and p.risk.count(x.RiskDecision.kill_switch) == 1
p.risk.reset()
assert len(p.process(delta(x.Side.sell, 110_002, 0, 5) + delta(x.Side.sell, 110_006, 1, 6))) == 2
# 2 lots (2000) bought: past the strategy's inventory_limit (1000), so `when` stops its quotes
assert p.fill(0, x.BookSide.bid, 109_998, 2) == [] and p.position() == 2 and p.risk.position(0) == 2
assert p.process(delta(x.Side.sell, 110_006, 0, 7) + delta(x.Side.sell, 110_009, 1, 8)) == []
assert p.stats["orders_sent"] == 4 and p.stats["strategy_calls"] == 9 and p.stats["gaps"] == 0
# a malformed message: the orders of the messages before it ride on the DecodeError
q = x.TickToTradePipeline()
try:
    q.process(book + b"\x01" * 9)
except x.DecodeError as e:
    assert e.offset == len(book) and len(e.orders) == 2 and x.decode_new_order(e.orders[0])["client_order_id"] == 1
else:
    raise AssertionError("garbage processed")
# params and limits
wide = x.TickToTradePipeline(params={"spread_bps": 2.0})
bids = [x.decode_new_order(o)["price"] for o in wide.process(book) if x.decode_new_order(o)["side"] is x.Side.buy]
assert bids and bids[0] < 1_099_980_000
tight = x.TickToTradePipeline(limits=x.RiskLimits(max_position=10, max_order_qty=1, max_orders_per_second=1,
                                                  price_band_bps=25))
assert len(tight.process(book)) == 1 and tight.risk.count(x.RiskDecision.order_rate) == 1
for bad in ({"sprad_bps": 1.0}, {"spread_bps": "wide"}):
    try:
        x.TickToTradePipeline(params=bad)
    except ValueError as e:
        assert "TickToTradePipeline params" in str(e), str(e)
    else:
        raise AssertionError(bad)
# venue instrument ids: 42 is index 0; anything else is dropped by the feed handler
v = x.TickToTradePipeline(instruments=[42])
assert len(v.process(delta(x.Side.buy, 110_000, 1, 1, 42) + delta(x.Side.sell, 110_002, 1, 2, 42))) == 2
assert v.process(delta(x.Side.buy, 110_001, 1, 3, 7)) == [] and v.stats["unknown_instrument"] == 1
try:
    x.TickToTradePipeline(instruments=[1, 2])
except ValueError:
    pass
else:
    raise AssertionError("two venue ids for one instrument")
""")
