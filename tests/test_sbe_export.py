"""`hftc export sbe`: import of the export gives back the same IR (examples and a hypothesis
property over generated schemas); what SBE cannot say is a diagnostic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, REPO
from hftc.frontend import compile_file
from hftc.frontend.compile import compile_text
from hftc.ir.model import Schema
from hftc.ir.serialize import ir_to_dict
from hftc.sbe.exporter import export_sbe
from hftc.sbe.importer import import_sbe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _plain(x):
    """The IR without source positions (the two schemas are different files)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items() if not k.endswith(("span", "spans")) and k != "sources"}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def _round_trip(ir: Schema, tmp: Path) -> Schema:
    exported = export_sbe(ir)
    assert exported.xml, [str(d) for d in exported.diagnostics]
    path = tmp / "exported.xml"
    path.write_text(exported.xml)
    imported = import_sbe(path)
    assert imported.ok, [str(d) for d in imported.diagnostics]
    back = compile_text("back.hftc.yaml", imported.yaml)
    assert back.ok, [str(d) for d in back.diagnostics]
    return back.ir


def _same(a: Schema, b: Schema, drop: tuple[str, ...] = ()) -> None:
    da, db = _plain(ir_to_dict(a)), _plain(ir_to_dict(b))
    for d in (da, db):
        for key in drop:
            d.pop(key, None)
    assert da == db


def test_the_vehicle_extension_round_trips(tmp_path: Path) -> None:
    imported = import_sbe(REPO / "tests" / "sbe" / "vehicle_extension.xml")
    ir = compile_text("vehicle.hftc.yaml", imported.yaml).ir
    _same(ir, _round_trip(ir, tmp_path))


def test_the_example_schema_round_trips_but_hftc_only_metadata(tmp_path: Path) -> None:
    ir = compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir
    exported = export_sbe(ir)
    assert {d.code for d in exported.diagnostics} == {"HFT1406"}  # units are hftc-only
    back = _round_trip(ir, tmp_path)
    _same(ir, back, drop=("components", "pipelines", "strategies", "deployments", "monitoring", "messages"))

    def wire(messages: list) -> list:  # feed roles (inferred from components) and units are not SBE's
        drop = ("role", "role_declared", "field_roles", "role_span", "fields_map_spans")
        return [{**{k: v for k, v in m.items() if k not in drop},
                 "fields": [{**f, "unit": None} for f in m["fields"]]} for m in messages]

    assert wire(_plain(ir_to_dict(back))["messages"]) == wire(_plain(ir_to_dict(ir))["messages"])


def test_arrays_of_types_are_an_error(tmp_path: Path) -> None:
    ir = compile_file(str(REPO / "tests" / "schemas" / "cpp_edge.hftc.yaml")).ir
    result = export_sbe(ir)
    assert result.xml == "" and [d.code for d in result.diagnostics] == ["HFT1405"]
    proc = subprocess.run([sys.executable, "-m", "hftc", "export", "sbe", str(REPO / "tests" / "schemas" /
                           "cpp_edge.hftc.yaml"), "-o", str(tmp_path / "edge.xml")],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 1 and "HFT1405" in proc.stderr and not (tmp_path / "edge.xml").exists()


PRIMS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "char"]
TYPES = """types:
  Px: {decimal: int64, exponent: -6}
  Qty: {decimal: uint32, exponent: 2}
  Side: {enum: uint8, values: {buy: 1, sell: 2}}
  Status: {enum: char, values: {fresh: "0", done: "2", bad: "J"}}
  Flags: {set: uint16, choices: {a: 0, b: 9}}
  Sym: {char: 6}
  Four: {array: uint32, length: 4}
  Pair: {composite: {bid: Px, ask: Px, side: Side}}
"""
FIELD_TYPES = PRIMS + ["Px", "Qty", "Side", "Status", "Flags", "Sym", "Four", "Pair"]
NULLABLE = set(PRIMS) | {"Px", "Qty", "Side", "Status"}
CONSTANTS = {"uint16": "7", "int32": "-3", "float64": "2.5", "char": '"z"', "Px": '"1.25"', "Side": "sell",
             "Status": "done", "Sym": "ABC"}


@st.composite
def schemas(draw) -> str:
    version = draw(st.integers(0, 4))
    lines = ["hftc: 1", "package: prop.sbe", f"version: {version}", "schema_id: 5", TYPES, "messages:"]
    # the framing: any byte order, header, group size and var-data length the language allows
    header = ", ".join(f"{k}: {draw(st.sampled_from(['uint8', 'uint16']))}"
                       for k in ("block_length", "template_id", "schema_id", "version"))
    lengths = ["uint8", "uint16", "uint32"]
    lines[4:4] = [f"byte_order: {draw(st.sampled_from(['little', 'big']))}", "encoding:", f"  header: {{{header}}}",
                  f"  group_size: {{block_length: {draw(st.sampled_from(lengths))}, "
                  f"count: {draw(st.sampled_from(lengths))}}}",
                  f"  var_data_length: {draw(st.sampled_from(lengths))}"]

    def fields(prefix: str, since: int, indent: str) -> list[str]:
        out = []
        at = since
        for i in range(draw(st.integers(1, 5))):
            t = draw(st.sampled_from(FIELD_TYPES))
            opts = [f"type: {t}"]
            at = draw(st.integers(at, version))
            if at > since:
                opts.append(f"since_version: {at}")
            if t in NULLABLE and draw(st.booleans()):
                opts.append("optional: true")
            out.append(f"{indent}{prefix}{i}: {{{', '.join(opts)}}}")
        for i, (t, v) in enumerate(draw(st.lists(st.sampled_from(sorted(CONSTANTS.items())), max_size=2,
                                                 unique=True))):
            out.append(f"{indent}{prefix}k{i}: {{type: {t}, constant: {v}}}")
        return out

    for m in range(draw(st.integers(1, 3))):
        since = draw(st.integers(0, version))
        lines += [f"  M{m}:", f"    id: {m + 1}", f"    since_version: {since}", "    fields:"]
        lines += fields("f", since, "      ")
        if draw(st.booleans()):
            lines += ["    groups:", "      g:", "        fields:"]
            lines += fields("e", since, "          ")
        if draw(st.booleans()):
            lines += ["    data:", "      - {name: note, encoding: utf8}", "      - {name: blob, encoding: bytes}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schemas())
def test_import_of_the_export_is_the_same_ir(tmp_path: Path, text: str) -> None:
    compiled = compile_text("prop.hftc.yaml", text)
    assert compiled.ok, [str(d) for d in compiled.diagnostics] + [text]
    _same(compiled.ir, _round_trip(compiled.ir, tmp_path))
