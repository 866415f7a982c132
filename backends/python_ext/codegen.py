"""C++ source of the nanobind module: per-message encode/decode, batch codecs and enum bindings.

The module wraps the flyweights the C++ backend generates (`include/<pkg>/*.hpp`), so the
Python extension and native C++ code share one codec implementation.
"""

from __future__ import annotations

import re

from hftc.backends.cpp.view import FieldView, GroupView

# numpy dtype strings of the C++ raw types: columns hold values the accessors decoded, in the
# host's (little-endian) byte order, whatever the schema's wire byte order.
NUMPY_DTYPE = {
    "std::int8_t": "i1", "std::int16_t": "<i2", "std::int32_t": "<i4", "std::int64_t": "<i8",
    "std::uint8_t": "u1", "std::uint16_t": "<u2", "std::uint32_t": "<u4", "std::uint64_t": "<u8",
    "float": "<f4", "double": "<f8", "char": "u1",
}

# Python names the runtime part of the module defines; schema types must not reuse them.
RUNTIME_NAMES = frozenset([
    "BookSide", "L2Update", "PriceLevelBook", "OrderBook", "OrderResult", "LatencyHistogram", "RiskDecision",
    "RiskLimits", "RiskGate", "DecodeError", "EncodeError", "HistogramFormatError",
])

# Kinds whose values are converted by a generated function per type (`py_<T>` / `from_py_<T>`).
STRUCTURED = frozenset(["composite", "array"])


def _q(text: str) -> str:
    """A C++ string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def raw_cpp(f: FieldView, v: dict) -> str:
    """The C++ integer/float type of a field's wire value."""
    if f.kind == "enum":
        return f.raw
    if f.kind == "decimal":
        return next(d.rep for d in v["decimals"] if d.name == f.type)
    if f.kind == "set":
        return next(s.raw for s in v["sets"] if s.name == f.type)
    return f.type


def _getter_expr(f: FieldView, obj: str, v: dict) -> str:
    """Python object of the field read from flyweight `obj` (a C++ expression of type nb::object)."""
    n = f.name
    if f.kind in STRUCTURED:
        return f"{v['converters'][f.type]}_to_py({obj}.{n}())"
    if f.kind == "char":
        return f"latin1({obj}.{n}())"
    if f.kind == "decimal":
        value = f"nb::cast({obj}.{n}().mantissa)"
    elif f.kind == "set":
        value = f"nb::cast({obj}.{n}().raw)"
    elif f.kind == "enum" and f.raw == "std::uint8_t":  # members cached per raw byte
        value = f"nb::borrow(E_{f.type}[{obj}.{n}_raw()])"
    elif f.type == "char":  # NUL reads as "", as in the pure-Python backend
        value = f"char_to_py({obj}.{n}())"
    else:  # primitive, wider enums
        value = f"nb::cast({obj}.{n}())"
    if f.has_expr:
        return f"({_has(f, obj)}) ? {value} : nb::object(nb::none())"
    return value


def _has(f: FieldView, obj: str) -> str:
    """The C++ backend's "not null" test of an optional field, applied to flyweight `obj`."""
    return re.sub(rf"\b{re.escape(f.name)}(_raw)?\(\)", lambda m: f"{obj}.{m.group(0)}", f.has_expr)


def _decode_fields(fields: list[FieldView], obj: str, v: dict, indent: str) -> list[str]:
    return [f"{indent}set_item(d, K_{f.schema_name}, {_getter_expr(f, obj, v)});" for f in fields]


def _setter(f: FieldView, obj: str, owner: str, v: dict, indent: str) -> list[str]:
    """Statements setting field `f` of flyweight `obj` from args `a` (an Args)."""
    n, key, what = f.name, f.schema_name, _q(f"{owner}.{f.schema_name}")
    raw = raw_cpp(f, v)
    if f.kind == "enum":
        put = (f"if (PyLong_Check(h.ptr())) {obj}.{n}_raw(to<{raw}>(h, {what})); "
               f"else {obj}.{n}(to<{f.type}>(h, {what}));")
    elif f.kind == "decimal":
        put = f"{obj}.{n}({f.type}{{mantissa<{raw}>(h, {what})}});"
    elif f.kind == "set":
        put = f"{obj}.{n}({f.type}{{to<{raw}>(h, {what})}});"
    elif f.kind == "char":
        put = f"{obj}.{n}(chars(h, {f.length}, {what}));"
    elif f.kind in STRUCTURED:
        put = f"{obj}.{n}({v['converters'][f.type]}_from_py(h, {what}));"
    elif f.type == "char":
        put = f"{obj}.{n}(char_from_py(h, {what}));"
    else:
        put = f"{obj}.{n}(to<{f.type}>(h, {what}));"
    if f.has_expr:
        null_set = f"{obj}.{n}_raw({f.raw_null});" if f.kind == "enum" else f"{obj}.{n}({f.null});"
        absent = f"if (!h.is_valid() || h.is_none()) {{ {null_set} }}"
    else:
        absent = f"if (!h.is_valid() || h.is_none()) missing({what});"
    return [f"{indent}{{", f"{indent}  nb::handle h = a.get(K_{key});", f"{indent}  {absent}",
            f"{indent}  else {{ {put} }}", f"{indent}}}"]


def _data_get(d, obj: str) -> str:
    if d.bytes:
        return f"nb::bytes(reinterpret_cast<const char*>(s_{d.name}.data()), s_{d.name}.size())"
    return f"utf8(s_{d.name}.data(), s_{d.name}.size(), {_q(d.schema_name)})"


def _all_names(owner) -> list[str]:
    return [f.schema_name for f in owner.fields] + [g.name for g in owner.groups] + [d.schema_name for d in owner.data]


def _names(owner) -> str:
    """A C++ array expression of the names a field mapping of `owner` may use."""
    names = _all_names(owner)
    if not names:
        return "nullptr"
    return "std::array<const char*, " + str(len(names)) + ">{" + ", ".join(_q(n) for n in names) + "}.data()"


def _count(owner) -> int:
    return len(_all_names(owner))


def _batched(m) -> bool:
    """Fixed layout with at least one field: one numpy column per field."""
    return not m.has_var and bool(m.fields)


def _gfn(path: list[str]) -> str:
    return "_".join(path)


class ModuleWriter:
    def __init__(self, v: dict, module: str):
        self.v = v
        self.module = module
        self.out: list[str] = []
        self.dtypes: set[str] = set()  # C++ types whose column dtype function is written

    def w(self, *lines: str) -> None:
        self.out.extend(lines)

    # -- groups --------------------------------------------------------------------------------
    def group_functions(self, g: GroupView, path: list[str], owner: str) -> None:
        for sub in g.groups:
            self.group_functions(sub, [*path, sub.name], f"{owner}.{sub.name}")
        fn = _gfn(path)
        max_count = (1 << (8 * self.v["group_count_size"])) - 1  # of the schema's group size count
        q = g.qualified
        self.w(f"nb::list decode_{fn}({q} g) {{", "  nb::list out;", "  while (g.has_next()) {",
               "    g.next();", "    nb::dict d;")
        self.w(*_decode_fields(g.fields, "g", self.v, "    "))
        for sub in g.groups:
            self.w(f"    set_item(d, K_{sub.name}, decode_{_gfn([*path, sub.name])}(g.{sub.name}()));")
        for d in g.data:
            self.w(f"    const auto s_{d.name} = g.{d.name}();")
            self.w(f"    set_item(d, K_{d.schema_name}, {_data_get(d, 'g')});")
        self.w("    out.append(d);", "  }", "  return out;", "}", "")
        self.w("template <class Parent>", f"void encode_{fn}(Parent& parent, nb::handle items) {{",
               f"  nb::list list = as_list(items, {_q(owner)});",
               "  const std::size_t n = list.size();",
               f"  if (n > {max_count}) throw_encode(std::string({_q(owner)}) + \": \" + std::to_string(n) + "
               f"\" entries; a group holds at most {max_count}\");",
               f"  auto g = parent.encode_{g.name}(static_cast<{self.v['group_count_cpp']}>(n));",
               "  for (std::size_t i = 0; i < n; ++i) {",
               "    g.next();",
               f"    Args a{{list[i], nb::handle(), {_q(owner)}}};")
        for f in g.fields:
            self.w(*_setter(f, "g", owner, self.v, "    "))
        for sub in g.groups:
            self.w(f'    encode_{_gfn([*path, sub.name])}(g, a.require(K_{sub.name}, "{sub.name}"));')
        for d in g.data:
            self.w(f"    put_var<{'true' if d.bytes else 'false'}>(a.get(K_{d.schema_name}), "
                   f"{_q(owner + '.' + d.schema_name)}, [&](auto v) {{ g.put_{d.name}(v); }});")
        self.w(f"    a.reject_unknown({_names(g)}, {_count(g)});")
        self.w("  }", "}", "")

    # -- messages ------------------------------------------------------------------------------
    def message(self, m) -> None:
        cls, s = m.name, m.snake
        for g in m.groups:
            self.group_functions(g, [s, g.name], f"{cls}.{g.name}")
        # decode
        self.w(f"nb::dict decode_{s}_at(const char* data, std::size_t size, std::size_t offset, "
               f"std::size_t* length) {{",
               f"  {cls} m;", "  m.wrap_and_read_header(data, offset, size);",
               f'  if (!m.ok()) throw_decode(m.error(), offset, "{cls}");',
               "  nb::dict d;")
        self.w(*_decode_fields(m.fields, "m", self.v, "  "))
        for g in m.groups:
            self.w(f"  set_item(d, K_{g.name}, decode_{_gfn([s, g.name])}(m.{g.name}()));")
        for d in m.data:
            self.w(f"  const auto s_{d.name} = m.{d.name}();")
            self.w(f"  set_item(d, K_{d.schema_name}, {_data_get(d, 'm')});")
        self.w(f'  if (!m.ok()) throw_decode(m.error(), offset + m.encoded_length(), "{cls}");',
               "  if (length != nullptr) *length = m.encoded_length();", "  return d;", "}", "")
        self.w(f"nb::dict decode_{s}(nb::handle buf, std::size_t offset) {{",
               "  const ReadBuffer b(buf);", f"  return decode_{s}_at(b.data, b.size, offset, nullptr);", "}", "")
        # encode
        self.w(f"void fill_{s}([[maybe_unused]] {cls}& m, const Args& a) {{")
        for f in m.fields:
            self.w(*_setter(f, "m", cls, self.v, "  "))
        for g in m.groups:
            self.w(f'  encode_{_gfn([s, g.name])}(m, a.require(K_{g.name}, "{g.name}"));')
        for d in m.data:
            self.w(f"  put_var<{'true' if d.bytes else 'false'}>(a.get(K_{d.schema_name}), "
                   f"{_q(cls + '.' + d.schema_name)}, [&](auto v) {{ m.put_{d.name}(v); }});")
        self.w(f"  a.reject_unknown({_names(m)}, {_count(m)});")
        self.w("}", "")
        small = 8 + m.block_length if not m.has_var else max(256, 8 + m.block_length)
        self.w(f"nb::bytes encode_{s}(nb::handle fields, nb::kwargs kwargs) {{",
               f'  const Args a{{fields, kwargs, "{cls}"}};',
               f"  char small[{small}];", "  std::string big;", "  char* p = small;",
               "  std::size_t cap = sizeof small;",
               "  for (;;) {",
               f"    {cls} m;", "    m.wrap_and_apply_header(p, 0, cap);",
               f"    fill_{s}(m, a);",
               "    if (m.ok()) return nb::bytes(p, m.encoded_length());",
               "    if (m.error() != CodecError::short_buffer || cap > (std::size_t{1} << 40))",
               f'      throw_encode(std::string("{cls}: ") + std::string(codec_error_name(m.error())));',
               "    big.assign(cap * 2, '\\0');", "    p = big.data();", "    cap = big.size();", "  }", "}", "")
        self.w(f"std::size_t encode_{s}_into(nb::handle out, std::size_t offset, nb::handle fields, "
               f"nb::kwargs kwargs) {{",
               f'  const Args a{{fields, kwargs, "{cls}"}};',
               "  const WriteBuffer b(out);",
               f"  {cls} m;", "  m.wrap_and_apply_header(b.data, offset, b.size);",
               "  if (m.ok()) fill_" + s + "(m, a);",
               f'  if (!m.ok()) throw_encode(std::string("{cls}: ") + std::string(codec_error_name(m.error())) + '
               f'" (" + std::to_string(b.size) + "-byte buffer, offset " + std::to_string(offset) + ")");',
               "  return m.encoded_length();", "}", "")
        if _batched(m):
            self.batch(m)

    def batch(self, m) -> None:
        cls, s, v = m.name, m.snake, self.v
        for f in m.fields:
            if f.kind in STRUCTURED and f.type not in self.dtypes:
                self.dtypes.add(f.type)
                self.w(*v["dtype_function"](f.type))
        stride = 8 + m.block_length
        self.w(f"nb::dict decode_many_{s}(nb::handle buf) {{", "  const ReadBuffer b(buf);",
               '  nb::module_ np = nb::module_::import_("numpy");',
               "  std::size_t n = 0;",
               "  for (std::size_t pos = 0; pos < b.size; ++n) {",
               f"    {cls} m;", "    m.wrap_and_read_header(b.data, pos, b.size);",
               f'    if (!m.ok()) throw_decode(m.error(), pos, "{cls}");',
               "    pos += m.encoded_length();", "  }")
        for f in m.fields:
            raw = raw_cpp(f, v)
            if f.kind == "char":
                self.w(f'  Column<std::uint8_t> c_{f.name}(np, n, "S{f.length}");')
            elif f.kind in STRUCTURED:
                self.w(f"  Column<std::uint8_t> c_{f.name}(np, n, {v['converters'][f.type]}_dtype());")
            else:
                self.w(f'  Column<{raw}> c_{f.name}(np, n, "{NUMPY_DTYPE[raw]}");')
        self.w("  std::size_t pos = 0;", "  for (std::size_t i = 0; i < n; ++i) {",
               f"    {cls} m;", "    m.wrap_and_read_header(b.data, pos, b.size);")
        for f in m.fields:
            n = f.name
            if f.kind == "char":
                self.w(f"    wire::store_chars(reinterpret_cast<char*>(c_{n}.data + i * {f.length}), {f.length}, m.{n}());")
            elif f.kind in STRUCTURED:
                self.w(f"    wire::put(reinterpret_cast<char*>(c_{n}.data + i * {f.size}), m.{n}());")
            elif f.kind == "enum":
                self.w(f"    c_{n}.data[i] = m.{n}_raw();")
            elif f.kind == "decimal":
                self.w(f"    c_{n}.data[i] = m.{n}().mantissa;")
            elif f.kind == "set":
                self.w(f"    c_{n}.data[i] = m.{n}().raw;")
            else:
                self.w(f"    c_{n}.data[i] = m.{n}();")
        self.w("    pos += m.encoded_length();", "  }", "  nb::dict d;")
        for f in m.fields:
            self.w(f'  d["{f.schema_name}"] = std::move(c_{f.name}).array();')
        self.w("  return d;", "}", "")
        # encode_many
        self.w(f"nb::bytes encode_many_{s}(nb::dict columns) {{",
               "  nb::module_ np = nb::module_::import_(\"numpy\");",
               "  std::size_t n = 0;", "  bool sized = false;")
        for f in m.fields:
            raw = raw_cpp(f, v)
            optional = "true" if f.has_expr else "false"
            if f.kind == "char":
                self.w(f'  const InColumn<std::uint8_t> i_{f.name}(np, columns, "{f.schema_name}", "S{f.length}", '
                       f"{f.length}, {optional}, n, sized);")
            elif f.kind in STRUCTURED:
                self.w(f'  const InColumn<std::uint8_t> i_{f.name}(np, columns, "{f.schema_name}", '
                       f"{v['converters'][f.type]}_dtype(), {f.size}, false, n, sized);")
            else:
                self.w(f'  const InColumn<{raw}> i_{f.name}(np, columns, "{f.schema_name}", '
                       f'"{NUMPY_DTYPE[raw]}", 1, {optional}, n, sized);')
        self.w(f'  if (!sized) throw_encode("{cls}: no columns given");',
               f"  nb::bytes out = new_bytes(n * {stride});",
               "  char* p = const_cast<char*>(out.c_str());",
               "  for (std::size_t i = 0; i < n; ++i) {",
               f"    {cls} m;", f"    m.wrap_and_apply_header(p, i * {stride}, n * {stride});")
        for f in m.fields:
            nm = f.name
            if f.kind == "char":
                self.w(f"    m.{nm}(i_{nm}.chars(i, {f.length}));")
                continue
            if f.kind in STRUCTURED:
                self.w(f"    m.{nm}(wire::get<{f.type}>(reinterpret_cast<const char*>(i_{nm}.data + i * {f.size})));")
                continue
            val = f"i_{nm}.data[i]"
            if f.has_expr:
                null = f.raw_null if f.kind == "enum" else (f"{f.null}.mantissa" if f.kind == "decimal" else f.null)
                val = f"(i_{nm}.data ? i_{nm}.data[i] : static_cast<{raw_cpp(f, v)}>({null}))"
            if f.kind == "enum":
                self.w(f"    m.{nm}_raw({val});")
            elif f.kind in ("decimal", "set"):
                self.w(f"    m.{nm}({f.type}{{{val}}});")
            else:
                self.w(f"    m.{nm}({val});")
        self.w("  }", "  return out;", "}", "")

    # -- module --------------------------------------------------------------------------------
    def module_body(self) -> None:
        v = self.v
        self.w("nb::tuple decode_any(nb::handle buf, std::size_t offset) {", "  const ReadBuffer b(buf);",
               "  if (offset > b.size || b.size - offset < wire::MessageHeader::kSize)",
               '    throw_decode(CodecError::short_buffer, offset, "message header");',
               "  const auto h = wire::MessageHeader::read(b.data + offset);",
               "  [[maybe_unused]] std::size_t length = 0;", "  switch (h.template_id) {")
        for m in v["messages"]:
            self.w(f"    case {m.name}::kTemplateId: {{",
                   f"      nb::dict d = decode_{m.snake}_at(b.data, b.size, offset, &length);",
                   f'      return nb::make_tuple("{m.name}", d, length);', "    }")
        self.w("    default:", '      throw_decode(CodecError::unknown_template, offset, "message header");',
               "  }", "}", "")

    def bindings(self) -> None:
        v = self.v
        self.w("NB_MODULE(_core, m) {",
               "  m.doc() = " + _q("Native codecs of schema `{}` (version {}, id {}) and the hft runtime.".format(
                   v["package"], v["version"], v["schema_id"])) + ";",
               "  init_keys();", "  bind_errors(m);", "")
        for e in v["enums"]:
            doc = _q(e.description or e.name)
            self.w(f'  nb::enum_<{e.name}>(m, "{e.name}", {doc})')
            for name, _ in e.values:
                self.w(f'      .value("{name}", {e.name}::{name})')
            self.w(f'      .value("{e.unknown}", {e.name}::{e.unknown});')
        self.w("  init_enum_tables();", "")
        sig_buf = "typing_extensions.Buffer"  # collections.abc.Buffer is 3.12+
        for msg in v["messages"]:
            s, cls = msg.snake, msg.name
            self.w(f'  m.def("decode_{s}", &decode_{s}, "buf"_a, "offset"_a = 0,',
                   f'        nb::sig("def decode_{s}(buf: {sig_buf}, offset: int = 0) -> dict[str, typing.Any]"),',
                   f'        {_q(f"Decodes the {cls} at `offset` of `buf` (bytes, bytearray, memoryview, numpy) into a dict; DecodeError on malformed input.")});',
                   f'  m.def("encode_{s}", &encode_{s}, "fields"_a = nb::none(), "kwargs"_a,',
                   f'        nb::sig("def encode_{s}(fields: collections.abc.Mapping[str, typing.Any] | None = None, **kwargs: typing.Any) -> bytes"),',
                   f'        {_q(f"Encodes a {cls} (header included) from a dict and/or keyword arguments.")});',
                   f'  m.def("encode_{s}_into", &encode_{s}_into, "out"_a, "offset"_a = 0, "fields"_a = nb::none(), "kwargs"_a,',
                   f'        nb::sig("def encode_{s}_into(out: {sig_buf}, offset: int = 0, fields: collections.abc.Mapping[str, typing.Any] | None = None, **kwargs: typing.Any) -> int"),',
                   f'        {_q(f"Encodes a {cls} in place into the writable buffer `out` at `offset`; returns the bytes written.")});')
            if _batched(msg):
                self.w(f'  m.def("decode_many_{s}", &decode_many_{s}, "buf"_a,',
                       f'        nb::sig("def decode_many_{s}(buf: {sig_buf}) -> dict[str, numpy.ndarray]"),',
                       f'        {_q(f"Decodes a buffer of back-to-back {cls} messages into one numpy column per field (wire values: decimal mantissas, enum and set integers).")});',
                       f'  m.def("encode_many_{s}", &encode_many_{s}, "columns"_a,',
                       f'        nb::sig("def encode_many_{s}(columns: collections.abc.Mapping[str, typing.Any]) -> bytes"),',
                       f'        {_q(f"Encodes one {cls} per row of the columns (as returned by decode_many_{s}) into one bytes object.")});')
        self.w('  m.def("decode", &decode_any, "buf"_a, "offset"_a = 0,',
               f'        nb::sig("def decode(buf: {sig_buf}, offset: int = 0) -> tuple[str, dict[str, typing.Any], int]"),',
               '        "Decodes the message at `offset` whatever its template: (message name, fields, encoded length).");',
               "", "  bind_runtime(m);", *v["pipeline_bindings"], "}")

    def render(self) -> str:
        v = self.v
        self.w(f"// Generated by hftc from package `{v['package']}`. Do not edit.",
               f"// Python bindings (module `{self.module}._core`) of the generated codecs and the hft runtime.",
               f'#include "{v["pkg"]}/codecs.hpp"', *[f'#include "{h}"' for h in v["pipeline_includes"]],
               '#include "support.hpp"', "",
               f"using namespace {v['ns']};", "using namespace hftc_pyext;", "", "namespace {", "",
               f"std::string_view codec_error_name(CodecError e) {{ return {v['ns']}::to_string(e); }}", "",
               "[[noreturn]] void throw_decode(CodecError e, std::size_t at, const char* what) {",
               "  throw_decode_named(codec_error_name(e), at, what);", "}", "")
        head = len(self.out)
        self.w(*v["converter_lines"])
        for msg in v["messages"]:
            self.message(msg)
        self.module_body()
        self.w(*v["pipeline_defs"])
        keys = sorted(set(re.findall(r"\bK_(\w+)", "\n".join(self.out[head:]))))
        decls = ["// Interned field names: dict keys built once, not per call."]
        decls += [f"PyObject* K_{k} = nullptr;" for k in keys]
        decls += ["", "void init_keys() {"]
        decls += [f'  K_{k} = PyUnicode_InternFromString("{k}");' for k in keys]
        decls += ["}", ""]
        small = [e for e in v["enums"] if e.raw == "std::uint8_t"]
        decls += ["// The Python member of every raw byte of the one-byte enums (`unknown` outside the schema)."]
        decls += [f"PyObject* E_{e.name}[256] = {{}};" for e in small]
        decls += ["", "void init_enum_tables() {"]
        if small:
            decls += ["  for (unsigned r = 0; r < 256; ++r) {"]
            decls += [f"    E_{e.name}[r] = nb::cast({e.snake}_from_raw(static_cast<std::uint8_t>(r))).release().ptr();"
                      for e in small]
            decls += ["  }"]
        decls += ["}", ""]
        self.out[head:head] = decls
        self.w("}  // namespace", "")
        self.bindings()
        return "\n".join(self.out) + "\n"


def module_cpp(v: dict, module: str) -> str:
    return ModuleWriter(v, module).render()
