"""`hftc import sbe`: an SBE XML message schema as an hftc schema with the same wire layout.

Reads FIX SBE 1.0 and the RC forms SBE still accepts (`sbe:` or no namespace, `semanticVersion`,
`encodingType` on composites' members). What hftc cannot lay out identically is an error
(HFT1402); what does not reach the wire and has no hftc counterpart is a warning (HFT1403).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from hftc.diagnostics.model import Diagnostic, Span, error, warning
from hftc.frontend.names import IDENTIFIER, RESERVED
from hftc.sbe.xml import Element, SbeXmlError, parse

PRIMITIVE = {
    "char": "char", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
    "float": "float32", "double": "float64",
}
# SBE's null values of the primitives, which are also hftc's: a nullValue equal to these is implied.
DEFAULT_NULLS = {
    "int8": "-128", "int16": "-32768", "int32": "-2147483648", "int64": "-9223372036854775808",
    "uint8": "255", "uint16": "65535", "uint32": "4294967295", "uint64": "18446744073709551615", "char": "0",
}
HEADER_MEMBERS = ("blockLength", "templateId", "schemaId", "version")
LENGTHS = ("uint8", "uint16", "uint32")
DEFAULT_ENCODING = {"header": dict.fromkeys(("block_length", "template_id", "schema_id", "version"), "uint16"),
                    "group_size": {"block_length": "uint16", "count": "uint16"}, "var_data_length": "uint32"}
NOT_ON_WIRE = ("minValue", "maxValue", "semanticType", "characterEncoding", "epoch", "timeUnit", "id",
               "description")


@dataclass
class ImportResult:
    yaml: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        from hftc.diagnostics.model import has_errors

        return bool(self.yaml) and not has_errors(self.diagnostics)

    def lookup(self, file: str) -> str | None:
        return self.sources.get(file)


class _Stop(Exception):
    pass


@dataclass
class _Type:
    """An SBE type as hftc sees it: a primitive alias, a named hftc type, or a constant."""

    hftc: str  # primitive name or hftc type name
    optional: bool = False
    null_value: str | None = None
    constant: str | None = None  # value text of a presence="constant" type
    is_text: bool = False  # char with length > 1


def _flow(d: dict) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in d.items()) + "}"


def _scalar(v: object) -> str:
    if isinstance(v, dict):
        return _flow(v)
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    text = str(v)
    return text if IDENTIFIER.match(text) and text not in ("true", "false", "null", "yes", "no", "on", "off") \
        else json.dumps(text)


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


class Importer:
    def __init__(self) -> None:
        self.diags: list[Diagnostic] = []
        self.types: dict[str, dict] = {}  # hftc type name -> definition
        self.sbe: dict[str, _Type] = {}  # SBE type name -> how a field refers to it
        self.elements: dict[str, Element] = {}
        self.header = "messageHeader"
        self.byte_order = "little"
        self.header_encoding: dict[str, str] = {}  # hftc's `encoding.header`
        self.group_size: tuple[str, str] | None = None  # (block length, count), one per schema in hftc
        self.group_size_from = ""
        self.var_length: str | None = None
        self.var_length_from = ""

    # -- diagnostics -------------------------------------------------------------------------
    def fail(self, el: Element, message: str, label: str = "", help: str | None = None) -> _Stop:
        self.diags.append(error("HFT1402", message, el.span, label=label, help=help))
        return _Stop()

    def bad(self, el: Element, message: str, label: str = "") -> _Stop:
        self.diags.append(error("HFT1401", message, el.span, label=label))
        return _Stop()

    def note_dropped(self, el: Element, *extra: str) -> None:
        dropped = [a for a in (*NOT_ON_WIRE, *extra) if a in el.attrs and a not in ("id", "description")]
        if dropped:
            self.diags.append(warning("HFT1403", f"`{el.attrs.get('name', el.tag)}`: "
                                      + ", ".join(f"{a}={el.attrs[a]!r}" for a in dropped)
                                      + " not carried over (no hftc counterpart, no effect on the wire)",
                                      el.span, label="not carried over"))

    def name(self, el: Element) -> str:
        raw = el.attrs.get("name")
        if not raw:
            raise self.bad(el, f"<{el.tag}> without `name`", "needs a name")
        if not IDENTIFIER.match(raw):
            raise self.bad(el, f"`{raw}` is not a name hftc accepts", "letters, digits, underscores")
        if raw in RESERVED:
            self.diags.append(warning("HFT1404", f"`{raw}` is a keyword in a generated language; imported as `{raw}_`",
                                      el.span, label="renamed"))
            return raw + "_"
        return raw

    # -- types ---------------------------------------------------------------------------------
    def primitive(self, el: Element, attr: str = "primitiveType") -> str:
        prim = el.attrs.get(attr)
        if prim not in PRIMITIVE:
            raise self.bad(el, f"`{attr}` {prim!r} is not an SBE primitive", "char, int8..uint64, float or double")
        return PRIMITIVE[prim]

    def type_el(self, el: Element, name: str) -> _Type:
        """A <type>: a primitive alias, a char array, a fixed array or a constant."""
        prim = self.primitive(el)
        length = int(el.attrs.get("length", "1"))
        presence = el.attrs.get("presence", "required")
        self.note_dropped(el)
        if presence == "constant":
            value = (el.text or "").strip()
            if el.attrs.get("valueRef"):
                value = el.attrs["valueRef"]
            if prim == "char":
                length = max(length, len(value))
            return _Type(prim if length == 1 else self.char_type(name, length), constant=value,
                         is_text=length > 1)
        null = el.attrs.get("nullValue")
        if prim == "char" and length > 1:
            return _Type(self.char_type(name, length), optional=presence == "optional", is_text=True)
        if length > 1:
            self.types[name] = {"array": prim, "length": length}
            return _Type(name)
        if null is not None and DEFAULT_NULLS.get(prim) == null:
            null = None
        return _Type(prim, optional=presence == "optional", null_value=null)

    def char_type(self, name: str, length: int) -> str:
        self.types[name] = {"char": length}
        return name

    def enum_el(self, el: Element, name: str) -> _Type:
        enc_name = el.attrs.get("encodingType", "")
        enc = PRIMITIVE.get(enc_name) or (self.sbe[enc_name].hftc if enc_name in self.sbe else None)
        if enc is None or enc in ("float32", "float64"):
            raise self.bad(el, f"enum `{name}`: encodingType {enc_name!r} is not an integer or char type")
        values: dict[str, object] = {}
        for v in el.children:
            if v.tag != "validValue":
                continue
            vname = self.name(v)
            text = (v.text or "").strip()
            if enc == "char":
                if len(text) != 1:
                    raise self.bad(v, f"char enum value `{vname}` = {text!r} is not one character")
                values[vname] = text
            else:
                try:
                    values[vname] = int(text)
                except ValueError:
                    raise self.bad(v, f"enum value `{vname}` = {text!r} is not an integer") from None
            self.note_dropped(v)
        self.types[name] = {"enum": enc, "values": values}
        return _Type(name)

    def set_el(self, el: Element, name: str) -> _Type:
        enc = PRIMITIVE.get(el.attrs.get("encodingType", ""))
        if enc not in ("uint8", "uint16", "uint32", "uint64"):
            raise self.bad(el, f"set `{name}`: encodingType must be uint8..uint64")
        choices = {self.name(c): int((c.text or "0").strip()) for c in el.children if c.tag == "choice"}
        self.types[name] = {"set": enc, "choices": choices}
        return _Type(name)

    def composite_el(self, el: Element, name: str) -> _Type:
        self.types[name] = {}  # keeps the document order when members define types of their own
        members = [c for c in el.children if c.tag in ("type", "ref", "enum", "set", "composite")]
        names = [c.attrs.get("name") for c in members]
        # The decimal idiom: an integer mantissa and a constant int8 exponent.
        if names == ["mantissa", "exponent"] and members[0].tag == "type" and members[1].tag == "type" \
                and members[1].attrs.get("presence") == "constant":
            mantissa = self.primitive(members[0])
            self.types[name] = {"decimal": mantissa, "exponent": int((members[1].text or "0").strip())}
            return _Type(name)
        out: dict[str, str] = {}
        for m in members:
            mname = self.name(m)
            if "offset" in m.attrs:
                raise self.fail(m, f"`{name}.{mname}`: explicit offsets inside composites have no hftc equivalent")
            if m.tag == "ref":
                t = self.resolve(m, m.attrs.get("type", ""))
            else:
                t = self.define(m, f"{name}{mname[:1].upper()}{mname[1:]}")
            if t.constant is not None:
                if m.tag == "type":
                    self.types.pop(f"{name}{mname[:1].upper()}{mname[1:]}", None)  # its char type is unused
                self.diags.append(warning("HFT1403", f"constant `{name}.{mname}` = {t.constant!r} not carried over: "
                                          "hftc composites hold no constants (it is not on the wire)", m.span,
                                          label="not carried over"))
                continue
            if t.optional or t.null_value is not None:
                self.note_dropped(m, "presence", "nullValue")
            out[mname] = t.hftc
        self.types[name] = {"composite": out}
        return _Type(name)

    def define(self, el: Element, name: str) -> _Type:
        kinds = {"type": self.type_el, "enum": self.enum_el, "set": self.set_el, "composite": self.composite_el}
        if el.tag not in kinds:
            raise self.bad(el, f"unknown element <{el.tag}> among the types")
        t = kinds[el.tag](el, name)
        if el.attrs.get("description") and t.hftc == name and name in self.types:
            self.types[name]["description"] = el.attrs["description"]
        self.sbe[el.attrs.get("name", name)] = t
        return t

    def resolve(self, el: Element, type_name: str) -> _Type:
        if type_name in PRIMITIVE:
            return _Type(PRIMITIVE[type_name])
        if type_name in self.sbe:
            return self.sbe[type_name]
        target = self.elements.get(type_name)
        if target is None:
            raise self.bad(el, f"unknown type `{type_name}`", "not a primitive or a type of the schema")
        return self.define(target, self.name(target))

    # -- the header, group dimensions and var-data ----------------------------------------------
    def _composite_prims(self, el: Element) -> list[tuple[str, str]]:
        return [(m.attrs.get("name", ""), PRIMITIVE.get(m.attrs.get("primitiveType", ""), "?"))
                for m in el.children if m.tag == "type"]

    def _framing_members(self, el: Element, names: tuple[str, ...], allowed: tuple[str, ...], what: str,
                         at: Element) -> list[str]:
        """The primitives of a framing composite whose members must be exactly `names`, in order."""
        members = self._composite_prims(el)
        if len([c for c in el.children if c.tag != "type"]) or tuple(n for n, _ in members) != names:
            raise self.fail(at, f"{what} `{el.attrs.get('name')}` has members "
                            f"{', '.join(n for n, _ in members) or '(none)'}; hftc frames with exactly "
                            f"{', '.join(names)}, in this order", label=what,
                            help="other members (SBE 2.0's numGroups, numVarDataFields) have no hftc equivalent")
        for n, p in members:
            if p not in allowed:
                raise self.fail(at, f"{what} `{el.attrs.get('name')}`: `{n}` is {p}; hftc encodes it as "
                                f"{' or '.join(allowed)}", label=what)
        return [p for _, p in members]

    def check_header(self, root: Element) -> None:
        header = self.elements.get(self.header)
        if header is None:
            raise self.bad(root, f"the message header type `{self.header}` is not defined")
        prims = self._framing_members(header, HEADER_MEMBERS, ("uint8", "uint16"), "message header", header)
        self.header_encoding = dict(zip(("block_length", "template_id", "schema_id", "version"), prims))

    def check_dimension(self, el: Element, dim_name: str) -> None:
        dim = self.elements.get(dim_name)
        if dim is None:
            raise self.bad(el, f"dimension type `{dim_name}` is not defined")
        block, count = self._framing_members(dim, ("blockLength", "numInGroup"), LENGTHS, "group dimension", el)
        if self.group_size is None:
            self.group_size, self.group_size_from = (block, count), dim_name
        elif self.group_size != (block, count):
            raise self.fail(el, f"group dimension `{dim_name}` ({block}, {count}) differs from `{self.group_size_from}` "
                            f"({', '.join(self.group_size)}) used before: an hftc schema has one group size",
                            label="another group size")

    def var_data(self, el: Element) -> dict | str:
        name = self.name(el)
        tname = el.attrs.get("type", "")
        comp = self.elements.get(tname)
        if comp is None or comp.tag != "composite":
            raise self.bad(el, f"var-data `{name}`: type `{tname}` is not a composite")
        members = [m for m in comp.children if m.tag == "type"]
        length = PRIMITIVE.get(members[0].attrs.get("primitiveType", "")) if members else None
        if len(members) != 2 or length not in LENGTHS:
            raise self.fail(el, f"var-data `{name}`: `{tname}` is not a uint8, uint16 or uint32 length and the "
                            "bytes", label="var-data encoding")
        if self.var_length is None:
            self.var_length, self.var_length_from = length, tname
        elif self.var_length != length:
            raise self.fail(el, f"var-data `{name}`: the {length} length of `{tname}` differs from the "
                            f"{self.var_length} length of `{self.var_length_from}` used before: an hftc schema has "
                            "one var-data length", label="another var-data length")
        text = members[1].attrs.get("characterEncoding") or members[1].attrs.get("primitiveType") == "char"
        spec: dict = {"name": name, "encoding": "utf8" if text else "bytes"}
        if "sinceVersion" in el.attrs:
            spec["since_version"] = int(el.attrs["sinceVersion"])
        if el.attrs.get("description"):
            spec["description"] = el.attrs["description"]
        return spec

    # -- messages ------------------------------------------------------------------------------
    def field_el(self, el: Element) -> tuple[str, object]:
        name = self.name(el)
        t = self.resolve(el, el.attrs.get("type", ""))
        spec: dict = {"type": t.hftc}
        presence = el.attrs.get("presence", "required")
        constant = t.constant
        if presence == "constant":
            constant = el.attrs.get("valueRef") or (el.text or "").strip() or constant
            if constant is None:
                raise self.bad(el, f"constant field `{name}` has no value")
        if constant is not None:
            if "." in constant and constant.split(".")[0] in self.sbe:
                constant = self.name_of_value(constant.split(".", 1)[1])
            spec["constant"] = constant if t.is_text or not re.fullmatch(r"-?\d+(\.\d+)?", constant) \
                or t.hftc in self.types else _number(constant)
            if t.hftc == "char" and isinstance(spec["constant"], (int, float)):
                spec["constant"] = str(constant)
        else:
            if presence == "optional" or t.optional:
                spec["optional"] = True
            null = el.attrs.get("nullValue", t.null_value)
            if null is not None and (spec.get("optional")) and DEFAULT_NULLS.get(t.hftc) != null:
                spec["null_value"] = _number(null)
        for attr, key in (("sinceVersion", "since_version"), ("deprecated", "deprecated"), ("offset", "offset")):
            if attr in el.attrs and not (attr == "offset" and constant is not None):
                spec[key] = int(el.attrs[attr])
        if el.attrs.get("description"):
            spec["description"] = el.attrs["description"]
        self.note_dropped(el)
        return name, (spec if len(spec) > 1 else t.hftc)

    def name_of_value(self, value: str) -> str:
        return value + "_" if value in RESERVED else value

    def members(self, el: Element, owner: str) -> dict:
        out: dict = {}
        fields = {}
        groups = {}
        data = []
        for c in el.children:
            if c.tag == "field":
                k, v = self.field_el(c)
                fields[k] = v
            elif c.tag == "group":
                self.check_dimension(c, c.attrs.get("dimensionType", "groupSizeEncoding"))
                gname = self.name(c)
                groups[gname] = self.members(c, f"{owner}.{gname}")
                if "sinceVersion" in c.attrs:
                    groups[gname]["since_version"] = int(c.attrs["sinceVersion"])
                if c.attrs.get("description"):
                    groups[gname]["description"] = c.attrs["description"]
            elif c.tag == "data":
                data.append(self.var_data(c))
        if fields:
            out["fields"] = fields
        if groups:
            out["groups"] = groups
        if data:
            out["data"] = data
        return out

    def message(self, el: Element) -> tuple[str, dict]:
        name = self.name(el)
        try:
            spec: dict = {"id": int(el.attrs["id"])}
        except (KeyError, ValueError):
            raise self.bad(el, f"message `{name}` needs an integer `id`") from None
        if el.attrs.get("description"):
            spec["description"] = el.attrs["description"]
        for attr, key in (("sinceVersion", "since_version"), ("deprecated", "deprecated")):
            if attr in el.attrs:
                spec[key] = int(el.attrs[attr])
        spec.update(self.members(el, name))
        self.note_dropped(el, "semanticType")
        return name, spec

    # -- the document --------------------------------------------------------------------------
    def run(self, root: Element) -> str:
        if root.tag != "messageSchema":
            raise self.bad(root, f"the root element is <{root.tag}>, not <messageSchema>")
        order = root.attrs.get("byteOrder", "littleEndian")
        if order not in ("littleEndian", "bigEndian"):
            raise self.bad(root, f"byteOrder {order!r} is neither littleEndian nor bigEndian", "byteOrder")
        self.byte_order = "big" if order == "bigEndian" else "little"
        self.header = root.attrs.get("headerType", "messageHeader")
        for block in (c for c in root.children if c.tag == "types"):
            for t in block.children:
                if "name" in t.attrs:
                    self.elements[t.attrs["name"]] = t
        self.check_header(root)
        skip = {self.header}
        for block in (c for c in root.children if c.tag == "types"):  # in document order
            for t in block.children:
                n = t.attrs.get("name")
                if n and n not in skip and n not in self.sbe and not self._is_framing(n, root):
                    self.define(t, self.name(t))
        messages: dict = {}
        for m in (c for c in root.children if c.tag == "message"):
            k, v = self.message(m)
            messages[k] = v
        package = root.attrs.get("package", "sbe.schema").replace("-", "_").lower()
        lines = ["# Imported from an SBE message schema by `hftc import sbe`.", "hftc: 1",
                 f"package: {_scalar(package)}",
                 f"version: {int(root.attrs.get('version', '0') or 0)}",
                 f"schema_id: {int(root.attrs.get('id', '0') or 0)}"]
        if root.attrs.get("description"):
            lines.append(f"description: {_scalar(root.attrs['description'])}")
        lines += self.framing_lines()
        if self.types:
            lines += ["", "types:"] + [f"  {k}: {_flow(v)}" for k, v in self.types.items()]
        lines += ["", "messages:"]
        for k, v in messages.items():
            lines.append(f"  {k}:")
            lines += self._block(v, 4)
        return "\n".join(lines) + "\n"

    def framing_lines(self) -> list[str]:
        """`byte_order:` and `encoding:` when the schema's framing is not hftc's default."""
        out = [f"byte_order: {self.byte_order}"] if self.byte_order != "little" else []
        # A schema without groups or var-data still declares SBE's standard framing composites: keep them.
        if self.group_size is None and "groupSizeEncoding" in self.elements:
            dim = self.elements["groupSizeEncoding"]
            block, count = self._framing_members(dim, ("blockLength", "numInGroup"), LENGTHS, "group dimension", dim)
            self.group_size = (block, count)
        for name in ("varStringEncoding", "varDataEncoding"):
            el = self.elements.get(name)
            members = [m for m in el.children if m.tag == "type"] if el is not None else []
            length = PRIMITIVE.get(members[0].attrs.get("primitiveType", "")) if members else None
            if self.var_length is None and length in LENGTHS:
                self.var_length = length
        group = self.group_size or ("uint16", "uint16")
        encoding = {"header": self.header_encoding, "group_size": {"block_length": group[0], "count": group[1]},
                    "var_data_length": self.var_length or "uint32"}
        if encoding != DEFAULT_ENCODING:
            out += ["encoding:"] + [f"  {k}: {_scalar(v)}" for k, v in encoding.items()]
        return out

    def _is_framing(self, name: str, root: Element) -> bool:
        """Composites that only describe group sizes and var-data lengths."""
        el = self.elements[name]
        if el.tag != "composite":
            return False
        prims = [m.attrs.get("name") for m in el.children if m.tag == "type"]
        return prims in (["blockLength", "numInGroup"], ["length", "varData"])

    def _block(self, spec: dict, indent: int) -> list[str]:
        pad = " " * indent
        out = []
        for key in ("id", "description", "since_version", "deprecated"):
            if key in spec:
                out.append(f"{pad}{key}: {_scalar(spec[key])}")
        if "fields" in spec:
            out.append(f"{pad}fields:")
            out += [f"{pad}  {k}: {_scalar(v)}" for k, v in spec["fields"].items()]
        if "groups" in spec:
            out.append(f"{pad}groups:")
            for k, v in spec["groups"].items():
                out.append(f"{pad}  {k}:")
                out += self._block(v, indent + 4)
        if "data" in spec:
            out.append(f"{pad}data:")
            out += [f"{pad}  - {_flow(d)}" for d in spec["data"]]
        return out


def import_sbe(path: str | Path) -> ImportResult:
    """Convert the SBE schema at `path`; on error `yaml` is empty and a diagnostic says why."""
    result = ImportResult()
    importer = Importer()
    try:
        root = parse(Path(path), result.sources)
        result.yaml = importer.run(root)
    except SbeXmlError as exc:
        importer.diags.append(exc.diagnostic)
    except _Stop:
        pass
    result.diagnostics = importer.diags
    if any(d.severity.value == "error" for d in importer.diags):
        result.yaml = ""
    return result


__all__ = ["ImportResult", "Span", "import_sbe"]
