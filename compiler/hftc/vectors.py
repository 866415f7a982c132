"""Cross-language test vectors: messages with known values and their exact bytes.

`make_vectors(ir, seed, count_per_message)` draws reproducible random values for every
message of a schema — every field kind, null values, groups with 0, 1 and many entries
(nested), empty and non-empty var-data — at every acting version from the versions the
message's fields, groups and var-data were added in up to the schema version, and
encodes them with the reference encoder below. It imports only `hftc.ir`, so it is
independent of every backend. Each vector holds:

* `message`, `template_id`, `acting_version`, `shape` (`empty|one|many|mixed`);
* `values` — what a reader of the current schema version decodes (fields the acting
  version predates at their null, groups and var-data it predates empty);
* `hex` — the bytes a writer of the acting version produces (its block length, its
  groups and var-data only);
* `current_hex` — the bytes a writer of the current schema version produces from `values`.

Values as JSON: integers and enum/set fields as their integer on the wire; decimals as
their mantissa; floats as numbers; chars as text (Latin-1, NUL padding dropped); var-data
as text (utf8) or hex (bytes); composites as objects, arrays as lists, groups as lists of
objects. `null` stands for the null of an optional integer, decimal or float field, and for
the NaN (or declared null) of any float.

The byte order and the framing (message header, group size, var-data length) are the schema's
(`Schema.wire`).

`write_vectors(ir, path, seed=...)` writes the JSON file (`hftc build --vectors FILE`).
`schema_at_version(ir, v)` is the schema as a writer of version `v` knew it.
"""

from __future__ import annotations

import json
import math
import random
import struct
from dataclasses import replace
from typing import Any

from hftc.ir.model import PRIMITIVES, Field, Group, Message, Schema, VarData

FORMATS = {
    "int8": "b", "int16": "h", "int32": "i", "int64": "q", "uint8": "B", "uint16": "H", "uint32": "I", "uint64": "Q",
    "float32": "f", "float64": "d",
}
SHAPES = ("empty", "one", "many", "mixed")
DEFAULT_SEED = 20240808
VECTOR_FORMAT = 1


class Codec:
    """Reference encoding and decoding of field values, from the IR alone."""

    def __init__(self, ir: Schema):
        self.ir = ir
        self.types = {t.name: t for t in ir.types}
        w = ir.wire
        self.order = ">" if w.big_endian else "<"  # struct's byte-order prefix
        self.group_format = self.order + FORMATS[w.group_block_length] + FORMATS[w.group_count]
        self.length_format = self.order + FORMATS[w.var_data_length]
        self.header_format = self.order + "".join(FORMATS[p] for _, p, _ in w.header_fields)

    # ---- kinds and nulls -----------------------------------------------------------------------

    def kind(self, type_name: str) -> str:
        if type_name == "char":
            return "char"
        if type_name in PRIMITIVES:
            return "float" if PRIMITIVES[type_name].is_float else "int"
        t = self.types[type_name]
        return "chars" if t.kind == "char" else t.kind

    def encoding(self, type_name: str) -> str:
        if type_name in PRIMITIVES:
            return type_name
        return self.types[type_name].encoding or "int64"

    def type_null(self, type_name: str) -> int | float | None:
        k = self.kind(type_name)
        if k == "float":
            return math.nan
        if k == "int":
            return int(PRIMITIVES[type_name].null_value or 0)
        if k in ("decimal", "enum"):
            t = self.types[type_name]
            value = t.null_value if t.null_value is not None else PRIMITIVES[t.encoding or "int64"].null_value
            return int(value or 0)
        return None

    def field_null(self, f: Field) -> int | float | None:
        k = self.kind(f.type)
        if k == "float":
            return float(f.null_value) if f.null_value is not None else math.nan
        if k in ("int", "decimal", "enum"):
            return int(f.null_value) if f.null_value is not None else self.type_null(f.type)
        return None

    def nullable(self, f: Field) -> bool:
        return f.optional and self.kind(f.type) in ("int", "float", "decimal")

    # ---- encoding ------------------------------------------------------------------------------

    def pack(self, type_name: str, value: Any, null: float | None) -> bytes:
        """One value of a type; `null` replaces None (a field's own null, else its type's)."""
        k = self.kind(type_name)
        if k in ("int", "decimal", "enum", "set"):
            raw = null if value is None else value
            return struct.pack(self.order + FORMATS[self.encoding(type_name)], int(raw or 0))
        if k == "float":
            raw = (math.nan if null is None else null) if value is None else value
            return struct.pack(self.order + FORMATS[type_name], float(raw))
        if k == "char":
            return (value or "").encode("latin-1").ljust(1, b"\0")[:1]
        t = self.types[type_name]
        if k == "chars":
            raw = (value or "").encode("latin-1")
            if len(raw) > t.length:
                raise ValueError(f"{raw!r} does not fit char[{t.length}]")
            return raw.ljust(t.length, b"\0")
        if k == "composite":
            out = bytearray(t.size)
            for f in t.fields:
                b = self.pack(f.type, value[f.name], self.type_null(f.type))
                out[f.offset : f.offset + len(b)] = b
            return bytes(out)
        if k == "array":
            return b"".join(self.pack(t.element or "", v, self.type_null(t.element or "")) for v in value)
        raise ValueError(k)

    def unpack(self, type_name: str, b: bytes, null: float | None, nullable: bool) -> Any:
        k = self.kind(type_name)
        if k in ("int", "decimal", "enum", "set"):
            (raw,) = struct.unpack_from(self.order + FORMATS[self.encoding(type_name)], b)
            return None if nullable and raw == null else raw
        if k == "float":
            (raw,) = struct.unpack_from(self.order + FORMATS[type_name], b)
            if math.isnan(raw) or (null is not None and not math.isnan(null) and raw == null):
                return None
            return raw
        if k == "char":
            return b[:1].split(b"\0")[0].decode("latin-1")
        t = self.types[type_name]
        if k == "chars":
            return b[: t.length].split(b"\0")[0].decode("latin-1")
        if k == "composite":
            return {f.name: self.unpack(f.type, b[f.offset :], self.type_null(f.type), False) for f in t.fields}
        if k == "array":
            e = t.element or ""
            size = self.size(e)
            return [self.unpack(e, b[i * size :], self.type_null(e), False) for i in range(t.length)]
        raise ValueError(k)

    def size(self, type_name: str) -> int:
        return PRIMITIVES[type_name].size if type_name in PRIMITIVES else self.types[type_name].size

    def absent(self, f: Field) -> Any:
        """What a field the acting version predates reads as."""
        null = self.field_null(f)
        if null is None:
            return self.unpack(f.type, self.null_bytes(f.type), None, False)
        b = struct.pack(self.order + FORMATS[self.encoding(f.type)], null)
        return self.unpack(f.type, b, null, self.nullable(f))

    def null_bytes(self, type_name: str) -> bytes:
        k = self.kind(type_name)
        if k in ("int", "float", "decimal", "enum"):
            return self.pack(type_name, None, self.type_null(type_name))
        if k in ("set", "char", "chars"):
            return bytes(self.size(type_name))
        t = self.types[type_name]
        if k == "composite":
            out = bytearray(t.size)
            for f in t.fields:
                b = self.null_bytes(f.type)
                out[f.offset : f.offset + len(b)] = b
            return bytes(out)
        return self.null_bytes(t.element or "") * t.length

    # ---- messages ------------------------------------------------------------------------------

    def encode_block(self, node: Message | Group, values: dict, version: int) -> bytes:
        block = bytearray(block_length_at(node, version))
        for f in node.fields:
            if f.since_version > version:
                continue
            b = self.pack(f.type, values[f.name], self.field_null(f))
            block[f.offset : f.offset + len(b)] = b
        return bytes(block)

    def encode_items(self, node: Message | Group, values: dict, version: int) -> bytes:
        out = bytearray()
        for g in node.groups:
            if g.since_version > version:
                continue
            entries = values[g.name]
            out += struct.pack(self.group_format, block_length_at(g, version), len(entries))
            for e in entries:
                out += self.encode_block(g, e, version) + self.encode_items(g, e, version)
        for d in node.data:
            if d.since_version > version:
                continue
            raw = var_bytes(d, values[d.name])
            out += struct.pack(self.length_format, len(raw)) + raw
        return bytes(out)

    def encode_message(self, m: Message, values: dict, version: int) -> bytes:
        header = struct.pack(self.header_format, block_length_at(m, version), m.id, self.ir.schema_id, version)
        return header + self.encode_block(m, values, version) + self.encode_items(m, values, version)

    def at_version(self, node: Message | Group, values: dict, version: int) -> dict:
        """`values` as a current reader sees them when written by a writer of `version`."""
        out: dict[str, Any] = {}
        for f in node.fields:
            out[f.name] = values[f.name] if f.since_version <= version else self.absent(f)
        for g in node.groups:
            out[g.name] = [self.at_version(g, e, version) for e in values[g.name]] if g.since_version <= version else []
        for d in node.data:
            out[d.name] = values[d.name] if d.since_version <= version else empty_var(d)
        return out

    def canonical(self, node: Message | Group, values: dict) -> dict:
        """Values as decoding their own encoding gives them (float32 rounding, nulls)."""
        out: dict[str, Any] = {}
        for f in node.fields:
            b = self.pack(f.type, values[f.name], self.field_null(f))
            out[f.name] = self.unpack(f.type, b, self.field_null(f), self.nullable(f))
        for g in node.groups:
            out[g.name] = [self.canonical(g, e) for e in values[g.name]]
        for d in node.data:
            out[d.name] = values[d.name]
        return out


def var_bytes(d: VarData, value: str) -> bytes:
    return value.encode("utf-8") if d.encoding == "utf8" else bytes.fromhex(value)


def empty_var(d: VarData) -> str:
    return ""


def block_length_at(node: Message | Group, version: int) -> int:
    """The block length a writer of `version` uses: the whole block when it knows every field,
    else up to the end of the last field it knows."""
    if all(f.since_version <= version for f in node.fields):
        return node.block_length
    return max((f.offset + f.size for f in node.fields if f.since_version <= version), default=0)


def message_versions(ir: Schema, m: Message) -> list[int]:
    """Acting versions worth a vector: each version something of the message was added in, and the schema's."""
    found = {ir.version}

    def visit(node: Message | Group) -> None:
        found.update(f.since_version for f in node.fields)
        found.update(d.since_version for d in node.data)
        for g in node.groups:
            found.add(g.since_version)
            visit(g)

    visit(m)
    return sorted(v for v in found if m.since_version <= v <= ir.version)


# ---- random values ---------------------------------------------------------------------------


class Draw:
    def __init__(self, codec: Codec, rng: random.Random):
        self.c = codec
        self.rng = rng

    def value(self, type_name: str, nested: bool) -> Any:
        """A random value; `nested` (inside composites and arrays) keeps enums to members and null."""
        r = self.rng
        k = self.c.kind(type_name)
        if k == "int":
            info = PRIMITIVES[type_name]
            lo, hi = info.min_value, info.max_value
            return r.choice([int(lo), int(hi), 0, 1, int(info.null_value or 0), r.randint(int(lo), int(hi)),
                             r.randint(int(lo), int(hi))])
        if k == "float":
            if type_name == "float32":
                return r.choice([0.0, -1.5, r.randint(-(1 << 20), 1 << 20) / 64.0, r.randint(-1000, 1000) * 1024.0])
            return r.choice([0.0, -2.25, r.randint(-(1 << 50), 1 << 50) / 1024.0, 1e300, -5e-300])
        if k == "char":
            return r.choice(["", chr(r.randint(0x21, 0x7E))])
        if k == "chars":
            n = self.c.types[type_name].length
            return "".join(chr(r.randint(0x41, 0x5A)) for _ in range(r.randint(0, n)))
        t = self.c.types[type_name]
        if k == "decimal":
            info = PRIMITIVES[t.encoding or "int64"]
            return r.choice([r.randint(int(info.min_value), int(info.max_value)), r.randint(-10**6, 10**6) if info.signed
                             else r.randint(0, 10**6), int(self.c.type_null(type_name) or 0), int(info.max_value)])
        if k == "enum":
            info = PRIMITIVES[t.encoding or "uint8"]
            members = [v.value for v in t.values]
            null = int(self.c.type_null(type_name) or 0)
            if nested:
                return r.choice(members + [null]) if members else null
            unknown = r.randint(int(info.min_value), int(info.max_value))
            return r.choice(members * 2 + [null, unknown]) if members else unknown
        if k == "set":
            info = PRIMITIVES[t.encoding or "uint8"]
            named = 0
            for ch in t.choices:
                if r.random() < 0.5:
                    named |= 1 << ch.bit
            return r.choice([named, named, 0, r.randint(0, int(info.max_value) + 1)])
        if k == "composite":
            return {f.name: self.value(f.type, True) for f in t.fields}
        if k == "array":
            return [self.value(t.element or "", True) for _ in range(t.length)]
        raise ValueError(k)

    def field(self, f: Field) -> Any:
        if self.c.nullable(f) and self.rng.random() < 0.25:
            return None
        return self.value(f.type, False)

    def count(self, shape: str) -> int:
        return {"empty": 0, "one": 1, "many": 3}.get(shape, self.rng.randint(0, 3))

    def var(self, d: VarData, shape: str) -> str:
        n = 0 if shape == "empty" else 1 if shape == "one" else self.rng.randint(0, 24)
        if d.encoding == "utf8":
            alphabet = "abcdefghijklmnopqrstuvwxyz ABC0123456789é€"
            return "".join(self.rng.choice(alphabet) for _ in range(n))
        return bytes(self.rng.randint(0, 255) for _ in range(n)).hex()

    def node(self, node: Message | Group, shape: str) -> dict:
        out: dict[str, Any] = {f.name: self.field(f) for f in node.fields}
        for g in node.groups:
            out[g.name] = [self.node(g, shape) for _ in range(self.count(shape))]
        for d in node.data:
            out[d.name] = self.var(d, shape)
        return out


def make_vectors(ir: Schema, seed: int = DEFAULT_SEED, count_per_message: int = 4) -> dict:
    """Vectors for every message at every acting version (see the module docstring)."""
    codec = Codec(ir)
    vectors = []
    for m in ir.messages:
        for version in message_versions(ir, m):
            rng = random.Random(f"{seed}:{m.name}:{version}")
            draw = Draw(codec, rng)
            for case in range(count_per_message):
                shape = SHAPES[case % len(SHAPES)]
                values = codec.canonical(m, draw.node(m, shape))
                seen = codec.at_version(m, values, version)
                vectors.append({
                    "message": m.name,
                    "template_id": m.id,
                    "acting_version": version,
                    "case": case,
                    "shape": shape,
                    "values": seen,
                    "hex": codec.encode_message(m, values, version).hex(),
                    "current_hex": codec.encode_message(m, seen, ir.version).hex(),
                })
    return {
        "format": VECTOR_FORMAT,
        "package": ir.package,
        "schema_id": ir.schema_id,
        "schema_version": ir.version,
        "seed": seed,
        "count_per_message": count_per_message,
        "vectors": vectors,
    }


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def vectors_json(ir: Schema, seed: int = DEFAULT_SEED, count_per_message: int = 4) -> str:
    return json.dumps(_json_safe(make_vectors(ir, seed, count_per_message)), indent=1, ensure_ascii=False) + "\n"


def write_vectors(ir: Schema, path: str, seed: int = DEFAULT_SEED, count_per_message: int = 4) -> None:
    """Write the vector file of `ir` to `path` (UTF-8 JSON)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(vectors_json(ir, seed, count_per_message))


def schema_at_version(ir: Schema, version: int, package_suffix: str = "") -> Schema:
    """The schema as a writer of `version` knew it: newer fields, groups and var-data dropped,
    blocks cut to that version's length, messages newer than it removed."""

    def fields(node: Message | Group) -> tuple[Field, ...]:
        return tuple(f for f in node.fields if f.since_version <= version)

    def group(g: Group) -> Group:
        return replace(g, fields=fields(g), block_length=block_length_at(g, version),
                       groups=tuple(group(s) for s in g.groups if s.since_version <= version),
                       data=tuple(d for d in g.data if d.since_version <= version))

    messages = tuple(
        replace(m, fields=fields(m), block_length=block_length_at(m, version),
                groups=tuple(group(g) for g in m.groups if g.since_version <= version),
                data=tuple(d for d in m.data if d.since_version <= version))
        for m in ir.messages if m.since_version <= version
    )
    return replace(ir, version=version, messages=messages, package=ir.package + package_suffix)
