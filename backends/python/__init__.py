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

from hftc.backends.naming import name_clashes, respelled
from hftc.backends.python.codegen import Generator, ident
from hftc.backends.templating import environment
from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.ir.model import GROUP_HEADER_SIZE, MESSAGE_HEADER_SIZE, VAR_DATA_LENGTH_SIZE, Schema


def _name_errors(problems: list[str]) -> tuple[Diagnostic, ...]:
    return tuple(error("HFT0820", f"python backend: {p}", None, help="rename the field, group or var-data")
                 for p in problems)


class PythonBackend:
    name = "python"
    description = "Pure-Python package: zero-copy message flyweights, exact decimals, numpy batch decoding"
    ir_versions = (3,)

    def check(self, ir: Schema, options: BackendOptions) -> tuple[Diagnostic, ...]:
        """The diagnostics `generate` reports, without generating: `hftc lint` runs this."""
        return name_clashes(ir, ident, "Python") or _name_errors(Generator(respelled(ir, ident)).name_problems())

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        clashes = name_clashes(ir, ident, "Python")
        if clashes:
            return BackendResult(diagnostics=clashes)
        ir = respelled(ir, ident)  # classes named after keywords take a trailing underscore
        gen = Generator(ir)
        package = ir.package_snake
        env = environment(__file__)
        codec = env.get_template("codec.py.j2").render(
            package=ir.package,
            header_size=MESSAGE_HEADER_SIZE,
            group_header_size=GROUP_HEADER_SIZE,
            var_length_size=VAR_DATA_LENGTH_SIZE,
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
