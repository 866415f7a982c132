"""`hftc export sbe`: an hftc schema's messages as an SBE XML message schema, so SBE's Java or
.NET tooling can sit beside hftc. `hftc import sbe` of the output gives back the same IR.

What SBE cannot say is a diagnostic: arrays of non-primitive elements are an error (HFT1405);
hftc-only metadata (units, feed roles) is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from hftc.diagnostics.model import Diagnostic, error, warning
from hftc.ir.model import PRIMITIVES, Constant, Field, Group, Message, Schema, TypeDef, VarData

SBE_PRIMITIVE = {**{p: p for p in PRIMITIVES}, "float32": "float", "float64": "double"}
FRAMING = """    <types>
        <composite name="messageHeader" description="Message identifiers and length of message root">
            <type name="blockLength" primitiveType="{block_length}"/>
            <type name="templateId" primitiveType="{template_id}"/>
            <type name="schemaId" primitiveType="{schema_id}"/>
            <type name="version" primitiveType="{version}"/>
        </composite>
        <composite name="groupSizeEncoding" description="Repeating group dimensions">
            <type name="blockLength" primitiveType="{group_block_length}"/>
            <type name="numInGroup" primitiveType="{group_count}"/>
        </composite>
        <composite name="varStringEncoding">
            <type name="length" primitiveType="{var_data_length}"{max_length}/>
            <type name="varData" primitiveType="uint8" length="0" characterEncoding="UTF-8"/>
        </composite>
        <composite name="varDataEncoding">
            <type name="length" primitiveType="{var_data_length}"{max_length}/>
            <type name="varData" primitiveType="uint8" length="0"/>
        </composite>
    </types>
"""


def framing_xml(ir: Schema) -> str:
    """The framing composites with the schema's encodings (SBE's defaults for hftc's defaults)."""
    w = ir.wire
    # SBE's own examples cap uint32 lengths at 2^30; narrower lengths are capped by their type.
    max_length = ' maxValue="1073741824"' if w.var_data_length == "uint32" else ""
    return FRAMING.format(block_length=w.block_length, template_id=w.template_id, schema_id=w.schema_id,
                          version=w.version, group_block_length=w.group_block_length, group_count=w.group_count,
                          var_data_length=w.var_data_length, max_length=max_length)


@dataclass
class ExportResult:
    xml: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _desc(text: str) -> str:
    return f" description={quoteattr(' '.join(text.split()))}" if text else ""


class _Exporter:
    def __init__(self, ir: Schema):
        self.ir = ir
        self.diags: list[Diagnostic] = []

    def type_xml(self, t: TypeDef) -> list[str]:
        d = _desc(t.description)
        if t.kind == "decimal":
            return [f'        <composite name="{t.name}"{d}>',
                    f'            <type name="mantissa" primitiveType="{t.encoding}"/>',
                    f'            <type name="exponent" primitiveType="int8" presence="constant">{t.exponent}</type>',
                    "        </composite>"]
        if t.kind == "enum":
            enc = "char" if t.char_values else t.encoding
            values = [f'            <validValue name="{v.name}">{escape(chr(v.value)) if t.char_values else v.value}'
                      "</validValue>" for v in t.values]
            return [f'        <enum name="{t.name}" encodingType="{enc}"{d}>', *values, "        </enum>"]
        if t.kind == "set":
            choices = [f'            <choice name="{c.name}">{c.bit}</choice>' for c in t.choices]
            return [f'        <set name="{t.name}" encodingType="{t.encoding}"{d}>', *choices, "        </set>"]
        if t.kind == "char":
            return [f'        <type name="{t.name}" primitiveType="char" length="{t.length}"{d}/>']
        if t.kind == "array":
            if t.element not in PRIMITIVES:
                self.diags.append(error("HFT1405", f"array `{t.name}` of `{t.element}` has no SBE equivalent",
                                        t.span, label="SBE arrays hold primitives only",
                                        help="use a composite with one member per element"))
                return []
            return [f'        <type name="{t.name}" primitiveType="{SBE_PRIMITIVE[t.element]}" '
                    f'length="{t.length}"{d}/>']
        members = []
        for f in t.fields:
            if f.type in PRIMITIVES:
                members.append(f'            <type name="{f.name}" primitiveType="{SBE_PRIMITIVE[f.type]}"/>')
            else:
                members.append(f'            <ref name="{f.name}" type="{f.type}"/>')
        return [f'        <composite name="{t.name}"{d}>', *members, "        </composite>"]

    def field_xml(self, f: Field, fid: int, indent: str) -> str:
        attrs = f'name="{f.name}" id="{fid}" type="{SBE_PRIMITIVE.get(f.type, f.type)}"'
        t = self.ir.type_named(f.type)
        if f.optional:
            attrs += ' presence="optional"'
            default = (t.null_value if t is not None and t.kind in ("enum", "decimal") else
                       PRIMITIVES[f.type].null_value if f.type in PRIMITIVES else None)
            if f.null_value is not None and f.null_value != default and \
                    not (isinstance(f.null_value, float) and f.null_value != f.null_value):
                attrs += f' nullValue="{f.null_value}"'
        attrs += f' offset="{f.offset}"'
        if f.since_version:
            attrs += f' sinceVersion="{f.since_version}"'
        if f.deprecated is not None:
            attrs += f' deprecated="{f.deprecated}"'
        if f.unit:
            self.diags.append(warning("HFT1406", f"unit `{f.unit}` of `{f.name}` is not exported: SBE has no units",
                                      f.span, label="not exported"))
        return f"{indent}<field {attrs}{_desc(f.description)}/>"

    def constant_xml(self, c: Constant, fid: int, indent: str) -> str:
        t = self.ir.type_named(c.type)
        head = f'{indent}<field name="{c.name}" id="{fid}" type="{SBE_PRIMITIVE.get(c.type, c.type)}" ' \
               f'presence="constant"{_desc(c.description)}'
        if t is not None and t.kind == "enum":
            return f'{head} valueRef="{t.name}.{c.value_name}"/>'
        if c.type == "char":
            text = chr(int(c.value))
        elif t is not None and t.kind == "decimal":
            text = str(Decimal(int(c.value)).scaleb(t.exponent))
        else:
            text = str(c.value)
        return f"{head}>{escape(text)}</field>"

    def data_xml(self, d: VarData, fid: int, indent: str) -> str:
        enc = "varStringEncoding" if d.encoding == "utf8" else "varDataEncoding"
        since = f' sinceVersion="{d.since_version}"' if d.since_version else ""
        return f'{indent}<data name="{d.name}" id="{fid}" type="{enc}"{since}{_desc(d.description)}/>'

    def members(self, owner: Message | Group, indent: str) -> list[str]:
        out = []
        fid = 1
        for f in owner.fields:
            out.append(self.field_xml(f, fid, indent))
            fid += 1
        for c in owner.constants:
            out.append(self.constant_xml(c, fid, indent))
            fid += 1
        for g in owner.groups:
            since = f' sinceVersion="{g.since_version}"' if g.since_version else ""
            out.append(f'{indent}<group name="{g.name}" id="{100 + fid}" dimensionType="groupSizeEncoding"'
                       f'{since}{_desc(g.description)}>')
            out += self.members(g, indent + "    ")
            out.append(f"{indent}</group>")
            fid += 1
        for d in owner.data:
            out.append(self.data_xml(d, 200 + fid, indent))
            fid += 1
        return out

    def run(self) -> str:
        ir = self.ir
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 f"<!-- Exported from the hftc schema `{ir.package}` by `hftc export sbe`. -->",
                 '<sbe:messageSchema xmlns:sbe="http://fixprotocol.io/2016/sbe"',
                 f'                   package="{ir.package}" id="{ir.schema_id}" version="{ir.version}"',
                 f'                   byteOrder="{ir.wire.byte_order}Endian"{_desc(ir.description)}>',
                 framing_xml(ir).rstrip("\n"), "    <types>"]
        for t in ir.types:
            lines += self.type_xml(t)
        lines.append("    </types>")
        for m in ir.messages:
            attrs = f'name="{m.name}" id="{m.id}"'
            if m.since_version:
                attrs += f' sinceVersion="{m.since_version}"'
            if m.deprecated is not None:
                attrs += f' deprecated="{m.deprecated}"'
            if m.role_declared:
                self.diags.append(warning("HFT1406", f"feed role `{m.role}` of `{m.name}` is not exported",
                                          m.role_span or m.span, label="hftc only"))
            lines.append(f"    <sbe:message {attrs}{_desc(m.description)}>")
            lines += self.members(m, "        ")
            lines.append("    </sbe:message>")
        lines.append("</sbe:messageSchema>")
        return "\n".join(lines) + "\n"


def export_sbe(ir: Schema) -> ExportResult:
    exporter = _Exporter(ir)
    xml = exporter.run()
    result = ExportResult(xml, exporter.diags)
    if any(d.severity.value == "error" for d in result.diagnostics):
        result.xml = ""
    return result
