"""`--target python`: a pure-Python package per schema (no native code).

Layout: `pyproject.toml` (setuptools; numpy is the optional `batch` extra) and
`src/<package>/` with

* `types.py` — enums as `IntEnum` (with `from_raw(value) -> Member | None`), bit
  sets as `IntFlag` (unknown bits kept), decimals as `ExactDecimal` subclasses
  (integer `mantissa`, exact `from_str`/`__str__`/`from_decimal`/`to_decimal`),
  composites as frozen dataclasses, array fields as tuples;
* `messages.py` — one flyweight class per message over a `memoryview`:
  `wrap_for_decode(buf, offset)` checks the header and every length once, typed
  properties read and write in place, groups are `GroupView`s (sized, iterable,
  indexable, nested) encoded with `encode_<group>(count)` then `next()` per
  entry, var-data are `str` (utf8) or `bytes` properties plus `<name>_view`;
  `encoded_length` is the size on the wire;
* `dispatch.py` — template id → class, `decode(buf)`, `decode_all(buf)`;
* `batch.py` — a packed little-endian numpy structured `DTYPE` per fixed-layout
  message, header first, with `decode`, `zeros`, `encode`, `encode_into`;
* `codec.py` — the shared runtime: `DecodeError` and `EncodeError` (both
  `ValueError`s), group views and writers.

Acting version: fields newer than the header's version read as null (optional
fields as None), newer groups and var-data as empty. Unknown enum values never
raise: the typed property returns None (as for the null value) and
`<field>_raw` returns the integer.
"""

from __future__ import annotations

from hftc.backends.python.codegen import STRUCTS, Generator
from hftc.backends.templating import environment
from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.ir.model import PRIMITIVES, Schema


def _name_errors(problems: list[str]) -> tuple[Diagnostic, ...]:
    return tuple(error("HFT0820", f"python backend: {p}", None, help="rename the field, group or var-data")
                 for p in problems)


def wire_view(ir: Schema) -> dict:
    """The framing of codec.py: struct formats of the header, group size and var-data length."""
    w = ir.wire
    fmt = {p: STRUCTS[p][1] for p in ("uint8", "uint16", "uint32")}
    max_var = (1 << (8 * w.var_length_size)) - 1
    return {
        "order": ">" if w.big_endian else "<",
        "header_format": "".join(fmt[p] for _, p, _ in w.header_fields),
        "group_format": fmt[w.group_block_length] + fmt[w.group_count],
        "var_format": fmt[w.var_data_length],
        "header_size": w.header_size,
        "group_header_size": w.group_header_size,
        "var_length_size": w.var_length_size,
        "header_sizes_equal": w.group_header_size == w.var_length_size == 4,
        "max_group_entries": str((1 << (8 * (w.group_header_size - PRIMITIVES[w.group_block_length].size))) - 1),
        "max_var_length": "0xFFFFFFFF" if max_var == 0xFFFFFFFF else str(max_var),
    }


class PythonBackend:
    name = "python"
    description = "Pure-Python package: zero-copy message flyweights, exact decimals, numpy batch decoding"
    ir_versions = (4,)

    def check(self, ir: Schema, options: BackendOptions) -> tuple[Diagnostic, ...]:
        """The diagnostics `generate` reports, without generating: `hftc lint` runs this."""
        return _name_errors(Generator(ir).name_problems())

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        gen = Generator(ir)
        package = ir.package_snake
        env = environment(__file__)
        codec = env.get_template("codec.py.j2").render(
            package=ir.package,
            **wire_view(ir),
            schema_id=ir.schema_id,
            schema_version=ir.version,
        )
        modules = {
            "codec.py": codec,
            "types.py": gen.types_module(),
            "messages.py": gen.messages_module(),
            "dispatch.py": gen.dispatch_module(),
            "batch.py": gen.batch_module(),
            "__init__.py": gen.init_module(),
        }
        if gen.problems:
            return BackendResult(diagnostics=_name_errors(sorted(set(gen.problems))))
        pyproject = env.get_template("pyproject.toml.j2").render(
            dist_name=package.replace("_", "-"),
            version=f"{ir.version}.0.0",
            description=(ir.description or f"Messages of {ir.package}").replace("\\", "").replace('"', "'"),
            package=package,
        )
        files = [GeneratedFile("pyproject.toml", pyproject)]
        files += [GeneratedFile(f"src/{package}/{name}", text, formatter="ruff") for name, text in modules.items()]
        files.append(GeneratedFile(f"src/{package}/py.typed", ""))
        return BackendResult(files=tuple(files))


BACKEND = PythonBackend()
