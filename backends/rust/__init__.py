"""`--target rust`: a std-only Rust crate per schema (crate name `ir.package_snake`).

Layout of `<out>/rust/`:

* `Cargo.toml` — depends on `runtime_rust = { path = "runtime_rust" }`, a copy of hftc's Rust
  runtime library vendored into the crate (`runtime_rust/`, see `hftc.backends.vendor`), so
  the crate builds wherever it is copied. The backend option `runtime_rust_path`
  (`BackendOptions.extra`) depends on an existing runtime checkout by path instead, and
  vendors nothing.
* `README.md` — what the crate holds and how to depend on it.
* `src/wire.rs` — `DecodeError`, `EncodeError`, the `Fixed` trait (little-endian values),
  the message header, group iteration and exact decimal text.
* `src/types.rs` — decimals (`mantissa` newtype structs with exact `Display`/`FromStr`),
  enums (`Unknown(raw)` variant, `from_raw`/`raw`), bit sets (unknown bits kept), composites.
* `src/messages.rs` — per message `XDecoder<'a>` over `&'a [u8]` (`wrap(buf, offset)` checks
  header and every length once, then typed accessors, `<field>_raw()` for enums, groups as
  `ExactSizeIterator`s of entry decoders, var-data as `&[u8]` plus `<name>_str()` for UTF-8)
  and `XEncoder<'a>` over `&mut [u8]` (`wrap_and_apply_header`, chaining `set_<field>`,
  `encode_<group>(count)` → `next_entry()`, `put_<var>`, `encoded_length()`). Fields newer
  than the acting version read as null, newer groups and var-data as empty; truncated or
  invalid input is an `Err`, never a panic; nothing allocates.
* `src/dispatch.rs` — `Handler` trait (one `on_<message>` method each) and `dispatch`.
* `src/owned.rs` — owned structs (`Vec` groups) with `decode`/`encode`, for tests and tools.
* `tests/roundtrip.rs` and `src/bin/bench.rs` (`cargo run --release --bin bench`).
* With a complete pipeline (feed handler, order book, strategy with quote rules, risk gate,
  order gateway; see `components.py`): `src/components.rs` (grids, feed handlers, gateways,
  risk limits), `src/strategies.rs` (exprgen's rules plus an adapter implementing
  `runtime_rust::trading::Strategy`), `src/pipelines.rs`, `tests/components.rs` and
  `src/bin/replay.rs` (a capture through the first pipeline, printing the encoded orders) and
  `src/bin/trade.rs` (the same through the pipeline's order entry, printing the requests).

Every generated module is `#![forbid(unsafe_code)]` (the vendored runtime is not); the output
passes rustfmt and `cargo clippy --all-targets -- -D warnings`.
"""

from __future__ import annotations

from hftc.backends.rust.codegen import Generator
from hftc.backends.rust.components import ComponentsView
from hftc.backends.rust.naming import name_clashes, rust_names
from hftc.backends.rust.testgen import TestGen
from hftc.backends.templating import environment
from hftc.backends.vendor import RUST_VENDOR_DIR, RuntimeNotFound, rust_runtime_files
from hftc.diagnostics.model import Diagnostic, Severity, error
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.backends.rust.wireview import WireView
from hftc.ir.model import Schema


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _name_errors(problems: list[str]) -> tuple[Diagnostic, ...]:
    return tuple(error("HFT0821", f"rust backend: {p}", None, help="rename the field, group or var-data")
                 for p in problems)


class RustBackend:
    name = "rust"
    description = ("Rust crate (std only): zero-copy SBE-style codecs, dispatcher, trading components and "
                   "pipelines, round-trip and pipeline tests, benchmark")
    ir_versions = (4,)

    def check(self, ir: Schema, options: BackendOptions) -> tuple[Diagnostic, ...]:
        """The diagnostics `generate` reports, without generating the modules: `hftc lint` runs this."""
        _, missing = self._runtime(options)
        if missing:
            return missing
        clashes = name_clashes(ir)
        if clashes:
            return clashes
        ir = rust_names(ir)
        gen = Generator(ir)
        problems = gen.name_problems()
        if problems:
            return _name_errors(problems)
        trading = ComponentsView(ir, gen)
        trading.build()
        return tuple(trading.diagnostics)

    def _runtime(self, options: BackendOptions) -> tuple[dict[str, str], tuple[Diagnostic, ...]]:
        """The vendored runtime (none with a runtime_rust_path), or HFT0808 when it is missing."""
        if options.extra.get("runtime_rust_path"):
            return {}, ()
        try:
            return self.vendored_runtime(), ()
        except RuntimeNotFound as exc:
            return {}, (error("HFT0808", f"rust backend: {exc}", None,
                              help="reinstall hftc, or pass the runtime_rust_path option"),)

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        clashes = name_clashes(ir)
        if clashes:
            return BackendResult(diagnostics=clashes)
        ir = rust_names(ir)
        gen = Generator(ir)
        runtime_path = options.extra.get("runtime_rust_path")
        vendored, missing = self._runtime(options)
        if missing:
            return BackendResult(diagnostics=missing)
        wire = environment(__file__).get_template("wire.rs.j2").render(
            package=ir.package,
            schema_id=ir.schema_id,
            schema_version=ir.version,
            header_size=ir.wire.header_size,
            group_header_size=ir.wire.group_header_size,
            var_length_size=ir.wire.var_length_size,
            w=WireView(ir.wire),
        )
        sources = {
            "src/wire.rs": wire,
            "src/types.rs": gen.types_module(),
            "src/messages.rs": gen.messages_module(),
            "src/dispatch.rs": gen.dispatch_module(),
            "src/owned.rs": gen.owned_module(),
        }
        if gen.problems:
            return BackendResult(diagnostics=_name_errors(sorted(set(gen.problems))))
        tests = TestGen(gen)
        trading = ComponentsView(ir, gen)
        view = trading.build()
        diagnostics = list(trading.diagnostics)
        if any(d.severity == Severity.ERROR for d in diagnostics):
            return BackendResult(diagnostics=tuple(diagnostics))
        if view is not None:
            env = environment(__file__)
            sources["src/components.rs"] = env.get_template("components.rs.j2").render(c=view)
            sources["src/strategies.rs"] = env.get_template("strategies.rs.j2").render(c=view)
            sources["src/pipelines.rs"] = env.get_template("pipelines.rs.j2").render(c=view)
            sources["tests/components.rs"] = env.get_template("components_test.rs.j2").render(c=view)
            sources["src/bin/replay.rs"] = env.get_template("replay.rs.j2").render(c=view)
            sources["src/bin/trade.rs"] = env.get_template("trade.rs.j2").render(c=view)
        sources["src/lib.rs"] = self.lib_rs(ir, view is not None)
        sources["tests/roundtrip.rs"] = tests.roundtrip()
        sources["src/bin/bench.rs"] = tests.bench()
        description = (ir.description or f"Messages of {ir.package}").strip().splitlines()[0]
        cargo = "\n".join([
            "# Generated by hftc. Do not edit.",
            "[package]",
            f"name = {_toml_string(ir.package_snake)}",
            f'version = "{ir.version}.0.0"',
            'edition = "2021"',
            f"description = {_toml_string(description)}",
            "publish = false",
            "",
            "[dependencies]",
            f"runtime_rust = {{ path = {_toml_string(str(runtime_path or RUST_VENDOR_DIR))} }}",
            "",
            "[[bin]]",
            'name = "bench"',
            'path = "src/bin/bench.rs"',
            "",
            *(["[[bin]]", 'name = "replay"', 'path = "src/bin/replay.rs"', "",
               "[[bin]]", 'name = "trade"', 'path = "src/bin/trade.rs"', ""] if view is not None else []),
            "[profile.release]",
            "opt-level = 3",
            'lto = "thin"',
            "codegen-units = 1",
            "",
        ])
        readme = environment(__file__).get_template("README.md.j2").render(
            package=ir.package, crate=ir.package_snake, description=description, trading=view is not None,
            runtime_path=runtime_path, vendor_dir=RUST_VENDOR_DIR)
        files = [GeneratedFile("Cargo.toml", cargo), GeneratedFile("README.md", readme)]
        files += [GeneratedFile(path, text, formatter="rustfmt") for path, text in sorted(sources.items())]
        files += [GeneratedFile(path, text) for path, text in sorted(vendored.items())]
        return BackendResult(files=tuple(files), diagnostics=tuple(diagnostics))

    @staticmethod
    def vendored_runtime() -> dict[str, str]:
        from hftc.paths import runtime_rust_dir

        return rust_runtime_files(runtime_rust_dir())

    @staticmethod
    def lib_rs(ir: Schema, trading: bool = False) -> str:
        desc = (ir.description or f"Messages of `{ir.package}`.").strip()
        lines = [f"//! {line}".rstrip() for line in desc.splitlines()]
        lines += [
            "//!",
            f"//! Generated by hftc from the schema `{ir.package}` version {ir.version} (schema id {ir.schema_id}).",
            "//! Decode with `XDecoder::wrap(buf, offset)` or [`dispatch`]; encode with",
            "//! `XEncoder::wrap_and_apply_header(buf, offset)`. Std only; no unsafe code.",
            "",
            "#![forbid(unsafe_code)]",
            "",
            *(["pub mod components;"] if trading else []),
            "pub mod dispatch;",
            "pub mod messages;",
            "pub mod owned;",
            *(["pub mod pipelines;", "pub mod strategies;"] if trading else []),
            "pub mod types;",
            "pub mod wire;",
            "",
            "/// The runtime crate (rings, pools, clocks, histograms, books) the generated code builds on.",
            "pub use runtime_rust as runtime;",
            "",
            "pub use dispatch::{dispatch, dispatch_all, Handler};",
            "pub use wire::{DecodeError, EncodeError, SCHEMA_ID, SCHEMA_VERSION};",
            "",
        ]
        return "\n".join(lines)


BACKEND = RustBackend()
