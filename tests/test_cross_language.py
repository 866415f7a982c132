"""Cross-language vectors (`hftc.vectors`): the generated Python, Rust and C++ codecs all decode
the reference bytes to the reference values and encode them back byte for byte, at every acting
version; old-version readers (Python) read new-version bytes and write old-version bytes."""

from __future__ import annotations

import importlib
import itertools
import json
import math
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import EXAMPLES, REPO
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.model import Group, Message, Schema
from hftc.vectors import Codec, schema_at_version, vectors_json

SEED = 20240808
COUNT = 4

EDGE = REPO / "tests" / "schemas" / "cpp_edge.hftc.yaml"
# cpp_edge's messages, big-endian, with a 6-byte header, a 3-byte group size and uint8 var-data lengths
WIRE = REPO / "tests" / "schemas" / "wire_custom.hftc.yaml"
# cpp_edge's messages with 8-byte group sizes (uint32 + uint32) and uint16 var-data lengths
WIDE = REPO / "tests" / "schemas" / "wire_wide.hftc.yaml"


def _kitchen(tmp: Path) -> Path:
    from test_python_backend import KITCHEN_YAML

    path = tmp / "kitchen.hftc.yaml"
    path.write_text(KITCHEN_YAML, encoding="utf-8")
    return path


SCHEMAS = ("fx", "edge", "kitchen", "wire", "wide")
CPP_SCHEMAS = ("fx", "edge", "wire", "wide")  # the schemas the C++ backend's tests cover


@pytest.fixture(scope="module")
def irs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Schema]:
    out = {"fx": compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir}
    if EDGE.exists():
        out["edge"] = compile_file(str(EDGE)).ir
    out["kitchen"] = compile_file(str(_kitchen(tmp_path_factory.mktemp("kitchen")))).ir
    out["wire"] = compile_file(str(WIRE)).ir
    out["wide"] = compile_file(str(WIDE)).ir
    return out


def _ir(irs: dict[str, Schema], name: str) -> Schema:
    if name not in irs:
        pytest.skip(f"{EDGE.name} is absent")
    return irs[name]


def _vectors(ir: Schema) -> dict:
    # Through JSON, as another language would read them.
    return json.loads(vectors_json(ir, SEED, COUNT))


# ---- the vectors themselves ------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMAS)
def test_vectors_are_reproducible_and_complete(irs: dict[str, Schema], name: str) -> None:
    ir = _ir(irs, name)
    data = _vectors(ir)
    assert data["seed"] == SEED and data["schema_version"] == ir.version
    assert vectors_json(ir, SEED, COUNT) == vectors_json(ir, SEED, COUNT)
    assert vectors_json(ir, SEED + 1, COUNT) != vectors_json(ir, SEED, COUNT)
    seen = {(v["message"], v["acting_version"]) for v in data["vectors"]}
    for m in ir.messages:
        assert (m.name, ir.version) in seen
        for f in m.fields:
            assert (m.name, f.since_version) in seen
    for v in data["vectors"]:
        if v["acting_version"] == ir.version:
            assert v["hex"] == v["current_hex"]
        header = Codec(ir).header_format  # the schema's header fields and byte order
        block_length, template_id, schema_id, version = struct.unpack_from(header, bytes.fromhex(v["hex"]))
        assert (template_id, schema_id, version) == (v["template_id"], ir.schema_id, v["acting_version"])
    # groups with 0, 1 and many entries, and empty and non-empty var-data, where the schema has them
    for m in ir.messages:
        cur = [v for v in data["vectors"] if v["message"] == m.name and v["acting_version"] == ir.version]
        for g in m.groups:
            counts = {len(v["values"][g.name]) for v in cur}
            assert {0, 1} <= counts and max(counts) > 1, (m.name, g.name, counts)
        for d in m.data:
            assert {v["values"][d.name] == "" for v in cur} == {True, False}, (m.name, d.name)


def test_old_version_vectors_read_newer_fields_as_null(irs: dict[str, Schema]) -> None:
    ir = irs["fx"]
    old = [v for v in _vectors(ir)["vectors"] if v["message"] == "BookDelta" and v["acting_version"] == 0]
    assert old
    for v in old:
        assert v["values"]["order_count"] is None
        raw = bytes.fromhex(v["hex"])
        assert int.from_bytes(raw[:2], "little") == 37 and len(raw) == 8 + 37
        assert len(bytes.fromhex(v["current_hex"])) == 8 + 39


# ---- Python ------------------------------------------------------------------------------------


def _python_package(ir: Schema, root: Path) -> ModuleType:
    report = generate(ir, ["python"], "/nonexistent")
    if report.diagnostics:
        pytest.skip("the python backend rejects this schema: " + "; ".join(d.message for d in report.diagnostics))
    for rel, data in report.outputs[0].files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    from conftest import import_generated

    return import_generated(root / "src", ir.package_snake, "messages")


def _py_ident(name: str) -> str:
    import keyword

    return name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name


class PyAdapter:
    """Vector values to and from the generated Python package's objects."""

    def __init__(self, ir: Schema, messages: ModuleType):
        self.c = Codec(ir)
        self.types = importlib.import_module(messages.__name__.rsplit(".", 1)[0] + ".types")
        self.messages = messages

    def to_json(self, type_name: str, value: Any) -> Any:
        k = self.c.kind(type_name)
        if k == "enum":  # inside composites: None stands for null (only members and null are drawn there)
            return self.c.type_null(type_name) if value is None else int(value)
        if value is None:
            return None
        if k == "float":
            return None if math.isnan(value) else value
        if k == "decimal":
            return value.mantissa
        if k == "set":
            return int(value)
        if k == "composite":
            t = self.c.types[type_name]
            return {f.name: self.to_json(f.type, getattr(value, _py_ident(f.name))) for f in t.fields}
        if k == "array":
            return [self.to_json(self.c.types[type_name].element or "", x) for x in value]
        return value

    def from_json(self, type_name: str, value: Any) -> Any:
        k = self.c.kind(type_name)
        if k == "float":
            return math.nan if value is None else value
        if k in ("decimal", "set"):
            return getattr(self.types, type_name)(value)
        if k == "enum":
            return getattr(self.types, type_name).from_raw(value)
        if k == "composite":
            t = self.c.types[type_name]
            return getattr(self.types, type_name)(
                **{_py_ident(f.name): self.from_json(f.type, value[f.name]) for f in t.fields})
        if k == "array":
            return tuple(self.from_json(self.c.types[type_name].element or "", x) for x in value)
        return value

    def read(self, node: Message | Group, obj: Any) -> dict:
        out: dict[str, Any] = {}
        for f in node.fields:
            a = _py_ident(f.name)
            if self.c.kind(f.type) == "enum":
                out[f.name] = getattr(obj, a + "_raw")
            else:
                out[f.name] = self.to_json(f.type, getattr(obj, a))
        for g in node.groups:
            out[g.name] = [self.read(g, e) for e in getattr(obj, _py_ident(g.name))]
        for d in node.data:
            v = getattr(obj, _py_ident(d.name))
            out[d.name] = v if d.encoding == "utf8" else v.hex()
        return out

    def write(self, node: Message | Group, obj: Any, values: dict) -> None:
        for f in node.fields:
            a, v = _py_ident(f.name), values[f.name]
            k = self.c.kind(f.type)
            if k == "enum":
                setattr(obj, a + "_raw", v)
            elif self.c.nullable(f) and v is None:
                setattr(obj, a, None)
            elif k == "float" and v is None:
                setattr(obj, a, self.c.field_null(f))
            else:
                setattr(obj, a, self.from_json(f.type, v))
        for g in node.groups:
            writer = getattr(obj, "encode_" + g.name)(len(values[g.name]))
            for entry in values[g.name]:
                self.write(g, writer.next(), entry)
        for d in node.data:
            v = values[d.name]
            setattr(obj, _py_ident(d.name), v if d.encoding == "utf8" else bytes.fromhex(v))

    def encode(self, m: Message, values: dict, size: int) -> bytes:
        buf = bytearray(size + 64)
        msg = getattr(self.messages, m.name).wrap_and_apply_header(buf)
        self.write(m, msg, values)
        return bytes(buf[: msg.encoded_length])

    def decode(self, m: Message, raw: bytes) -> dict:
        msg = getattr(self.messages, m.name).wrap_for_decode(raw)
        assert msg.encoded_length == len(raw)
        return self.read(m, msg)


def _only_known(node: Message | Group, values: dict) -> dict:
    """Values restricted to what a schema (maybe an older one) knows."""
    out = {f.name: values[f.name] for f in node.fields}
    for g in node.groups:
        out[g.name] = [_only_known(g, e) for e in values[g.name]]
    for d in node.data:
        out[d.name] = values[d.name]
    return out


@pytest.mark.parametrize("name", SCHEMAS)
def test_python_codecs_match_vectors(irs: dict[str, Schema], name: str, tmp_path: Path) -> None:
    ir = _ir(irs, name)
    py = PyAdapter(ir, _python_package(ir, tmp_path / "py"))
    for v in _vectors(ir)["vectors"]:
        m = ir.message_named(v["message"])
        raw, current = bytes.fromhex(v["hex"]), bytes.fromhex(v["current_hex"])
        where = f"{m.name} v{v['acting_version']} case {v['case']}"
        decoded = py.decode(m, raw)
        assert decoded == v["values"], where
        assert py.encode(m, v["values"], len(current)) == current, where
        assert py.encode(m, decoded, len(current)) == current, where


def _old_reader_can_read(node: Message | Group, version: int) -> bool:
    """Whether groups and var-data newer than `version` all follow the older ones, at every level:
    an old reader cannot step over an item it does not know (as in SBE, only appending is
    compatible)."""
    items = [*node.groups, *node.data]
    newer = [i.since_version > version for i in items]
    if any(n and not later for n, later in itertools.pairwise(newer)):
        return False
    return all(_old_reader_can_read(g, version) for g in node.groups if g.since_version <= version)


@pytest.mark.parametrize("name", SCHEMAS)
def test_python_old_readers_and_writers(irs: dict[str, Schema], name: str, tmp_path: Path) -> None:
    """A package generated from the schema as version v knew it writes the version-v bytes exactly
    and reads current-version bytes (newer fields, groups and var-data unseen)."""
    ir = _ir(irs, name)
    vectors = _vectors(ir)["vectors"]
    olds = sorted({v["acting_version"] for v in vectors if v["acting_version"] < ir.version})
    if not olds:
        pytest.skip("no vectors older than the schema version")
    read = 0
    for version in olds:
        old_ir = schema_at_version(ir, version, package_suffix=f"_v{version}")
        py = PyAdapter(old_ir, _python_package(old_ir, tmp_path / f"py{version}"))
        for v in vectors:
            m_old = old_ir.message_named(v["message"])
            if m_old is None:
                continue
            where = f"{m_old.name} v{v['acting_version']} case {v['case']} read by v{version}"
            if v["acting_version"] == version:
                raw = bytes.fromhex(v["hex"])
                assert py.encode(m_old, _only_known(m_old, v["values"]), len(raw)) == raw, where
            if v["acting_version"] == ir.version and _old_reader_can_read(ir.message_named(m_old.name), version):
                raw = bytes.fromhex(v["current_hex"])
                msg = getattr(py.messages, m_old.name).wrap_for_decode(raw)
                assert py.read(m_old, msg) == _only_known(m_old, v["values"]), where
                read += 1
    assert read > 0


# ---- Rust --------------------------------------------------------------------------------------


def _rust_vector_test(ir: Schema, vectors: list[dict]) -> str:
    from hftc.backends.rust.literals import Literals
    from hftc.backends.rust.naming import snake

    lit = Literals(ir)
    pkg = ir.package_snake
    types = [t.name for t in ir.types if t.kind in ("decimal", "enum", "set", "composite")]
    lines = [
        "//! Cross-language vectors: decode to the expected values, encode them to the expected bytes.",
        "",
        "#![forbid(unsafe_code)]",
        "#![allow(unused_imports)]",
        "",
        f"use {pkg}::owned::{{self, OwnedMessage}};",
        *([f"use {pkg}::types::{{{', '.join(types)}}};"] if types else []),
        "",
        "fn unhex(s: &str) -> Vec<u8> {",
        "    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect(\"hex\")).collect()",
        "}",
        "",
        "struct Ignore;",
        f"impl {pkg}::Handler for Ignore {{}}",
        "",
        "/// `exact`: the message is all the reader knows (else a newer writer appended what it skips).",
        "fn check<M: OwnedMessage + core::fmt::Debug>(expected: M, hex: &str, current: &str, exact: bool) {",
        "    let bytes = unhex(hex);",
        "    let current = unhex(current);",
        "    let decoded = M::decode(&bytes, 0).expect(\"decode\");",
        "    assert_eq!(format!(\"{decoded:?}\"), format!(\"{expected:?}\"), \"{hex}\");",
        f"    let length = {pkg}::dispatch(&bytes, 0, &mut Ignore).expect(\"dispatch\");",
        "    assert!(length == bytes.len() || (!exact && length < bytes.len()));",
        "    let mut buf = vec![0u8; current.len() + 16];",
        "    let n = expected.encode(&mut buf, 0).expect(\"encode values\");",
        "    assert_eq!(&buf[..n], &current[..], \"values of {hex}\");",
        "    let n = decoded.encode(&mut buf, 0).expect(\"re-encode\");",
        "    assert_eq!(&buf[..n], &current[..], \"re-encoded {hex}\");",
        "}",
        "",
        "fn transcode<M: OwnedMessage>(bytes: &[u8]) -> Vec<u8> {",
        "    let decoded = M::decode(bytes, 0).expect(\"decode\");",
        "    let mut buf = vec![0u8; bytes.len() * 2 + 64];",
        "    let n = decoded.encode(&mut buf, 0).expect(\"encode\");",
        "    buf.truncate(n);",
        "    buf",
        "}",
        "",
        "#[test]",
        "fn vector_file_transcodes() {",
        "    let path = concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/tests/vectors.txt\");",
        "    let text = std::fs::read_to_string(path).expect(\"vectors.txt\");",
        "    let mut count = 0;",
        "    for line in text.lines() {",
        "        let mut parts = line.split_whitespace();",
        "        let template: u16 = parts.next().expect(\"id\").parse().expect(\"id\");",
        "        let bytes = unhex(parts.next().expect(\"hex\"));",
        "        let current = unhex(parts.next().expect(\"current\"));",
        "        let out = match template {",
        *[f"            {m.id} => transcode::<owned::{m.name}>(&bytes)," for m in ir.messages],
        "            other => panic!(\"unknown template {other}\"),",
        "        };",
        "        assert_eq!(out, current, \"{line}\");",
        "        count += 1;",
        "    }",
        f"    assert_eq!(count, {len(vectors)});",
        "}",
        "",
    ]
    for m in ir.messages:
        mine = [v for v in vectors if v["message"] == m.name]
        if not mine:
            continue
        lines += ["#[test]", f"fn vectors_{snake(m.name)}() {{"]
        for v in mine:
            exact = "false" if v.get("inexact") else "true"
            lines.append(f"    check({lit.message(m, v['values'])}, \"{v['hex']}\", \"{v['current_hex']}\", {exact});")
        lines += ["}", ""]
    return "\n".join(lines)


def _run_rust_vectors(ir: Schema, vectors: list[dict], cache_dir: Path) -> None:
    from test_rust_backend import cargo, write_crate

    crate = write_crate(ir, cache_dir / "rust-vectors" / ir.package_snake)
    (crate / "tests" / "vectors.txt").write_text(
        "".join(f"{v['template_id']} {v['hex']} {v['current_hex']}\n" for v in vectors), encoding="utf-8")
    vectors = list(vectors)
    test_rs = _rust_vector_test(ir, vectors)
    target = crate / "tests" / "vectors.rs"
    if not target.exists() or target.read_text(encoding="utf-8") != test_rs:
        target.write_text(test_rs, encoding="utf-8")
    proc = cargo(["test", "--release", "--test", "vectors"], crate, cache_dir)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    assert "test vector_file_transcodes ... ok" in proc.stdout


@pytest.mark.parametrize("name", SCHEMAS)
def test_rust_codecs_match_vectors(irs: dict[str, Schema], name: str, cache_dir: Path) -> None:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    ir = _ir(irs, name)
    _run_rust_vectors(ir, _vectors(ir)["vectors"], cache_dir)


@pytest.mark.parametrize("name", CPP_SCHEMAS)
def test_rust_old_readers_and_writers(irs: dict[str, Schema], name: str, cache_dir: Path) -> None:
    """A crate generated from the schema as version v knew it: it reads version-v bytes and writes
    them back exactly, and reads current-version bytes (skipping what it does not know)."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    ir = _ir(irs, name)
    vectors = _vectors(ir)["vectors"]
    codec = Codec(ir)
    olds = sorted({v["acting_version"] for v in vectors if v["acting_version"] < ir.version})
    if not olds:
        pytest.skip("no vectors older than the schema version")
    for version in olds:
        old_ir = schema_at_version(ir, version, package_suffix=f"_v{version}")
        mine = []
        for v in vectors:
            m_old = old_ir.message_named(v["message"])
            m = ir.message_named(v["message"])
            if m_old is None:
                continue
            old_bytes = codec.encode_message(m, v["values"], version).hex()
            if v["acting_version"] == version:
                assert old_bytes == v["hex"]
                mine.append({**v, "values": _only_known(m_old, v["values"]), "current_hex": v["hex"]})
            elif v["acting_version"] == ir.version and _old_reader_can_read(m, version):
                mine.append({**v, "values": _only_known(m_old, v["values"]), "hex": v["current_hex"],
                             "current_hex": old_bytes, "inexact": True})
        assert mine
        _run_rust_vectors(old_ir, mine, cache_dir)


# ---- C++ ---------------------------------------------------------------------------------------


def _cpp_driver(ir: Schema) -> str:
    ns = "::".join(ir.package_parts)
    pkg = ir.package_snake
    cases = "\n".join(
        f"      case {m.id}: ok = transcode<{m.name}>(in, expected, why); break;" for m in ir.messages)
    return f"""// Cross-language vectors: decode each message, re-encode it, compare bytes.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "{pkg}/codecs.hpp"
#include "model.hpp"

using namespace {ns};

static std::vector<char> unhex(const std::string& s) {{
  std::vector<char> out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(std::stoi(s.substr(2 * i, 2), nullptr, 16));
  return out;
}}

template <class M>
bool transcode(const std::vector<char>& in, const std::vector<char>& expected, std::string& why) {{
  M d;
  d.wrap_and_read_header(in.data(), 0, in.size());
  if (!d.ok()) {{ why = "wrap failed"; return false; }}
  const auto x = model::decode(d);
  if (!d.ok()) {{ why = "decode failed"; return false; }}
  if (d.encoded_length() != in.size()) {{ why = "decoded length " + std::to_string(d.encoded_length()); return false; }}
  std::vector<char> out(expected.size() + 64);
  M e;
  e.wrap_and_apply_header(out.data(), 0, out.size());
  model::encode(x, e);
  if (!e.ok()) {{ why = "encode failed"; return false; }}
  out.resize(e.encoded_length());
  if (out != expected) {{
    static const char* digits = "0123456789abcdef";
    why = "bytes differ: got ";
    for (char c : out) {{
      why += digits[(static_cast<unsigned char>(c) >> 4) & 15];
      why += digits[static_cast<unsigned char>(c) & 15];
    }}
    return false;
  }}
  // Every truncation is an error.
  for (std::size_t n = 0; n < in.size(); ++n) {{
    M t;
    t.wrap_and_read_header(in.data(), 0, n);
    (void)model::decode(t);
    if (t.ok()) {{ why = "truncated to " + std::to_string(n) + " bytes decoded"; return false; }}
  }}
  return true;
}}

int main(int argc, char** argv) {{
  if (argc != 2) return 2;
  std::ifstream file(argv[1]);
  std::string line;
  int count = 0, failures = 0;
  while (std::getline(file, line)) {{
    std::istringstream parts(line);
    int id = 0;
    std::string hex, current;
    parts >> id >> hex >> current;
    const auto in = unhex(hex);
    const auto expected = unhex(current);
    bool ok = false;
    std::string why = "unknown template";
    switch (id) {{
{cases}
      default: break;
    }}
    ++count;
    if (!ok) {{
      ++failures;
      std::printf("FAIL %s: %s\\n", line.c_str(), why.c_str());
    }}
  }}
  std::printf("%d vectors, %d failures\\n", count, failures);
  return failures == 0 && count > 0 ? 0 : 1;
}}
"""


def _cpp_keeps_enums(ir: Schema, node: Message | Group, values: dict) -> bool:
    """Whether every enum value is one the C++ test model keeps: a member, or the `unknown`
    sentinel (the encoding's maximum). The model copies enums through their typed accessor, so
    other unknown values come back as the sentinel; the decoder's `_raw()` keeps them."""
    from hftc.ir.model import PRIMITIVES

    codec = Codec(ir)
    for f in node.fields:
        if codec.kind(f.type) == "enum":
            t = codec.types[f.type]
            kept = {v.value for v in t.values} | ({t.null_value} if t.char_values else set())  # char enums: NUL
            if values[f.name] not in kept | {PRIMITIVES[t.encoding or "uint8"].max_value + 1
                                                                    if not PRIMITIVES[t.encoding or "uint8"].signed
                                                                    else PRIMITIVES[t.encoding or "uint8"].max_value}:
                return False
    return all(_cpp_keeps_enums(ir, g, e) for g in node.groups for e in values[g.name])


@pytest.mark.parametrize("name", CPP_SCHEMAS)
def test_cpp_codecs_match_vectors(irs: dict[str, Schema], name: str, tmp_path: Path) -> None:
    if not (REPO / "backends" / "cpp" / "__init__.py").exists():
        pytest.skip("the C++ backend is absent")
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ is not installed")
    ir = _ir(irs, name)
    report = generate(ir, ["cpp"], "/nonexistent")
    if any(d.code == "HFT0801" for d in report.diagnostics):
        pytest.skip("the C++ backend is not registered")
    assert not report.diagnostics, [d.message for d in report.diagnostics]
    root = tmp_path / "cpp"
    for rel, data in report.outputs[0].files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if not (root / "tests" / "model.hpp").exists():
        pytest.skip("the C++ backend generates no tests/model.hpp to copy messages with")
    vectors = [v for v in _vectors(ir)["vectors"]
               if _cpp_keeps_enums(ir, ir.message_named(v["message"]), v["values"])]
    assert len(vectors) * 2 >= len(_vectors(ir)["vectors"])
    text = tmp_path / "vectors.txt"
    text.write_text("".join(f"{v['template_id']} {v['hex']} {v['current_hex']}\n" for v in vectors), encoding="utf-8")
    driver = tmp_path / "vectors.cpp"
    driver.write_text(_cpp_driver(ir), encoding="utf-8")
    exe = tmp_path / "vectors"
    build = subprocess.run([compiler, "-std=c++20", "-O1", "-I", str(root / "include"), "-I", str(root / "tests"),
                            str(driver), "-o", str(exe)], check=False, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-4000:]
    run = subprocess.run([str(exe), str(text)], check=False, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"{len(vectors)} vectors, 0 failures" in run.stdout
