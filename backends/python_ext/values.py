"""C++ conversions between the schema's composite and array values and Python objects.

The extension speaks plain Python data: messages and group entries are dicts, so a composite is a
dict of its members and an array a tuple of its elements (a tuple, as in the pure-Python backend).
Encoders take, for a composite, a mapping or any object with the member attributes (such as the
pure-Python backend's composite dataclasses) and, for an array, any sequence of exactly its length
(tuple, list, numpy array). Members convert like fields: decimals as mantissas, enums as the
module's enums (None or the wire integer accepted when encoding), sets as ints, chars as str.

One `<prefix>_to_py` / `<prefix>_from_py` pair is generated per distinct C++ value type; batch
columns of these fields use the pure-Python backend's numpy dtype of the type, so the two Python
targets hand out identical record layouts.
"""

from __future__ import annotations

from hftc.backends.cpp.view import Types, ident
from hftc.backends.python.codegen import Codecs
from hftc.backends.python.codegen import ident as py_ident
from hftc.ir.model import PRIMITIVES, Schema


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ValueConverters:
    """Generated C++ of the converters, and for each C++ value type its prefix and numpy dtype."""

    def __init__(self, ir: Schema):
        self.types = Types(ir)
        self.by_name = {t.name: t for t in ir.types}
        self.codecs = Codecs(ir)
        self.prefix: dict[str, str] = {}  # C++ spelling -> function prefix
        self.dtype: dict[str, str] = {}  # C++ spelling -> numpy dtype, a Python literal
        self.lines: list[str] = []
        for name in self._used(ir):
            self._emit(name)

    def _used(self, ir: Schema) -> list[str]:
        """Composite and array types of message and group fields, in schema order (no unused code)."""
        out: list[str] = []

        def walk(owner) -> None:
            for f in owner.fields:
                if f.kind in ("composite", "array") and f.type not in out:
                    out.append(f.type)
            for g in owner.groups:
                walk(g)

        for m in ir.messages:
            walk(m)
        return out

    def dtype_function(self, cpp: str) -> list[str]:
        """`<prefix>_dtype()`: the numpy dtype of a column of this type, created once."""
        return [f"// numpy dtype of a column of {cpp} (created once, kept for the process).",
                f"nb::handle {self.prefix[cpp]}_dtype() {{",
                f"  static PyObject* dtype = make_dtype({_q(self.dtype[cpp])}).release().ptr();",
                "  return dtype;", "}", ""]

    def _kind(self, name: str) -> str:
        return "primitive" if name in PRIMITIVES else self.by_name[name].kind

    def to_py(self, name: str, expr: str) -> str:
        """nb::object of the C++ value `expr` of schema type `name`."""
        kind = self._kind(name)
        if kind == "primitive":
            return f"char_to_py({expr})" if name == "char" else f"nb::cast({expr})"
        if kind == "decimal":
            return f"nb::cast({expr}.mantissa)"
        if kind == "set":
            return f"nb::cast({expr}.raw)"
        if kind == "enum":
            return f"nb::cast({expr})"
        if kind == "char":
            return f"latin1({expr}.view())"
        return f"{self.prefix[self.types.cpp(name)]}_to_py({expr})"

    def from_py(self, name: str, h: str, what: str) -> str:
        """The C++ value of schema type `name` from Python handle `h` (EncodeError naming `what`)."""
        kind = self._kind(name)
        cpp = self.types.cpp(name)
        if kind == "primitive":
            return f"char_from_py({h}, {what})" if name == "char" else f"to<{cpp}>({h}, {what})"
        if kind == "decimal":
            return f"{cpp}{{mantissa<{self.types.raw(name)}>({h}, {what})}}"
        if kind == "set":
            return f"{cpp}{{to<{self.types.raw(name)}>({h}, {what})}}"
        if kind == "enum":
            return f"enum_from_py<{cpp}, {self.types.raw(name)}>({h}, {self.types.null(name)}, {what})"
        if kind == "char":
            return f"chars_value<{self.by_name[name].length}, {cpp}>({h}, {what})"
        return f"{self.prefix[cpp]}_from_py({h}, {what})"

    def _emit(self, name: str) -> None:
        cpp = self.types.cpp(name)
        if cpp in self.prefix:
            return
        t = self.by_name[name]
        deps = [f.type for f in t.fields] if t.kind == "composite" else [t.element or ""]
        for dep in deps:
            if self._kind(dep) in ("composite", "array"):
                self._emit(dep)
        prefix = f"value_{name}"
        self.prefix[cpp] = prefix
        self.dtype[cpp] = self.codecs.get(name).numpy
        if t.kind == "composite":
            self._composite(t, cpp, prefix)
        else:
            self._array(t, cpp, prefix)

    def _composite(self, t, cpp: str, prefix: str) -> None:
        names = ", ".join(_q(f.name) for f in t.fields)
        self.lines += [f"// Composite `{t.name}` <-> dict of its members.",
                       f"nb::object {prefix}_to_py(const {cpp}& v) {{", "  nb::dict d;"]
        self.lines += [f"  set_item(d, K_{f.name}, {self.to_py(f.type, f'v.{ident(f.name)}')});" for f in t.fields]
        self.lines += ["  return d;", "}", "",
                       f"{cpp} {prefix}_from_py(nb::handle h, const char* what) {{",
                       f"  static constexpr std::array<const char*, {len(t.fields)}> kNames{{{names}}};",
                       "  const Members a{h, what, kNames.data(), kNames.size()};",
                       f"  {cpp} v{{}};"]
        for f in t.fields:
            # An object's attribute is named as the pure-Python backend names it (`def_`).
            attr = f", K_{py_ident(f.name)}" if py_ident(f.name) != f.name else ""
            get = f"a.get(K_{f.name}, w.c_str(){attr})"
            self.lines += ["  {", f'    const std::string w = std::string(what) + ".{f.name}";',
                           f"    v.{ident(f.name)} = {self.from_py(f.type, get, 'w.c_str()')};",
                           "  }"]
        self.lines += ["  return v;", "}", ""]

    def _array(self, t, cpp: str, prefix: str) -> None:
        n, element = t.length, t.element or ""
        item = self.to_py(element, "v[i]")
        self.lines += [f"// Array `{t.name}` <-> tuple of {n} elements.",
                       f"nb::object {prefix}_to_py(const {cpp}& v) {{",
                       f"  nb::object out = new_tuple({n});",
                       f"  for (std::size_t i = 0; i < {n}; ++i) {{",
                       f"    PyTuple_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), {item}.release().ptr());",
                       "  }", "  return out;", "}", "",
                       f"{cpp} {prefix}_from_py(nb::handle h, const char* what) {{",
                       f"  const Elements e{{h, what, {n}}};",
                       f"  {cpp} v{{}};",
                       f"  for (std::size_t i = 0; i < {n}; ++i) v[i] = {self.from_py(element, 'e[i]', 'what')};",
                       "  return v;", "}", ""]
