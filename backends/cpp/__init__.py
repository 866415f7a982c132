"""`--target cpp`: C++20 flyweight codecs, a dispatcher, tests, a fuzz target and benchmarks.

The output is a self-contained CMake project: `include/<package>/` holds the header-only
codecs (INTERFACE target `<package>::codecs`), `tests/`, `fuzz/` and `bench/` exercise them.
With trading components (`<package>::components`), the runtime headers they include are
vendored into `runtime/include/hft/` (see `hftc.backends.vendor`), so the project builds and
installs without the hftc runtime elsewhere. `README.md` says how to consume it.
"""

from __future__ import annotations

from hftc.backends.cpp.components import build_components, component_messages
from hftc.backends.cpp.engine import engine_view
from hftc.backends.cpp.venue import venue_messages, venue_view
from hftc.backends.cpp.view import build_view, ident, member
from hftc.backends.naming import name_clashes
from hftc.backends.templating import environment
from hftc.backends.vendor import CPP_VENDOR_DIR, RuntimeNotFound, cpp_runtime_headers
from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.ir import engine_contract as contract
from hftc.ir.model import Schema

# (template, output path with {pkg} and {snake} placeholders, formatted by clang-format)
_SCHEMA_FILES = (
    ("wire.hpp.j2", "include/{pkg}/wire.hpp", True),
    ("types.hpp.j2", "include/{pkg}/types.hpp", True),
    ("dispatch.hpp.j2", "include/{pkg}/dispatch.hpp", True),
    ("codecs.hpp.j2", "include/{pkg}/codecs.hpp", True),
    ("model.hpp.j2", "tests/model.hpp", True),
    ("roundtrip_test.cpp.j2", "tests/roundtrip_test.cpp", True),
    ("fuzz_dispatch.cpp.j2", "fuzz/fuzz_dispatch.cpp", True),
    ("bench_codecs.cpp.j2", "bench/bench_codecs.cpp", True),
    ("components/CMakeLists.txt.j2", "CMakeLists.txt", False),  # the codecs' CMakeLists.txt.j2 + components
    ("config.cmake.j2", "cmake/{pkg}-config.cmake", False),
)

# Trading components (components.py), rendered with `c`, the components view, when the schema has a
# pipeline to generate; {name} is a pipeline or a strategy.
_COMPONENT_FILES = (
    ("components/components.hpp.j2", "include/{pkg}/components.hpp", True),
    ("components/components_test.cpp.j2", "tests/components_test.cpp", True),
)
_STRATEGY_FILE = ("components/strategy.hpp.j2", "include/{pkg}/strategies/{name}.hpp", True)
_PIPELINE_FILE = ("components/pipeline.hpp.j2", "include/{pkg}/pipeline_{name}.hpp", True)


class CppBackend:
    name = "cpp"
    description = "C++20 header-only SBE-style codecs with dispatcher, GoogleTest round trips, fuzz target, benchmarks"
    ir_versions = (4,)

    def check(self, ir: Schema, options: BackendOptions) -> tuple[Diagnostic, ...]:
        """The diagnostics `generate` reports, rendering only the files that include the runtime
        (the trading components, the engine's order entry and the venue), not the per-message codecs:
        `hftc lint` runs this."""
        clashes = name_clashes(ir, ident, "C++", member)
        if clashes:
            return clashes
        # The order entry and the venue read the order-entry messages (declared roles) too.
        only = component_messages(ir) | venue_messages(ir) | {m.name for m in ir.messages if m.role_declared}
        view = build_view(ir, only=only)
        components, diagnostics = build_components(ir, view)
        env = environment(__file__) if components is not None else None  # no components: nothing to render
        _, runtime_problem = self._runtime(self._runtime_users(env, view, components, ir), components)
        return (*diagnostics, *runtime_problem)

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        clashes = name_clashes(ir, ident, "C++", member)
        if clashes:
            return BackendResult(diagnostics=clashes)
        view = build_view(ir)
        components, diagnostics = build_components(ir, view)
        env = environment(__file__)
        files = self._runtime_users(env, view, components, ir)
        if components is not None:  # the CMakeLists builds <pkg>_venue when its source was generated
            components = {**components, "venue": any(f.path == "src/venue_main.cpp" for f in files)}
        for template, path, formatted in _SCHEMA_FILES:
            text = env.get_template(template).render(v=view, c=components)
            files.append(GeneratedFile(path.format(pkg=view["pkg"]), text, "clang-format" if formatted else None))
        message_template = env.get_template("message.hpp.j2")
        for m in view["messages"]:
            text = message_template.render(v=view, m=m)
            files.append(GeneratedFile(f"include/{view['pkg']}/{m.snake}.hpp", text, "clang-format"))
        vendored, runtime_problem = self._runtime(files, components)
        if runtime_problem:
            return BackendResult(diagnostics=(*diagnostics, *runtime_problem))
        files += [GeneratedFile(path, text) for path, text in vendored.items()]
        readme = env.get_template("README.md.j2").render(v=view, c=components, vendor_dir=CPP_VENDOR_DIR,
                                                         runtime_headers=[p.split("/", 2)[2] for p in vendored])
        files.append(GeneratedFile("README.md", readme))
        return BackendResult(files=tuple(sorted(files, key=lambda f: f.path)), diagnostics=tuple(diagnostics))

    @staticmethod
    def _runtime_users(env, view: dict, components: dict | None, ir: Schema) -> list[GeneratedFile]:
        """The files that `#include` runtime headers: the trading components' (their templates need
        only the view of the messages they read)."""
        files: list[GeneratedFile] = []
        if components is None:
            return files
        pkg = view["pkg"]
        for template, path, formatted in _COMPONENT_FILES:
            text = env.get_template(template).render(v=view, c=components)
            files.append(GeneratedFile(path.format(pkg=pkg), text, "clang-format" if formatted else None))
        for items, (template, path, formatted), key in ((components["strategies"], _STRATEGY_FILE, "s"),
                                                       (components["pipelines"], _PIPELINE_FILE, "p")):
            for item in items:
                text = env.get_template(template).render(v=view, c=components, **{key: item})
                files.append(GeneratedFile(path.format(pkg=pkg, name=item.name), text,
                                           "clang-format" if formatted else None))
        engine = engine_view(components, ir)
        if engine is not None:
            # The venue's side of the wire, when the schema has one, also serves the engine's backtest.
            venue = venue_view(ir, view, engine) if engine["md"] else None
            text = env.get_template("engine_main.cpp.j2").render(v=view, c=components, e=engine, vn=venue)
            files.append(GeneratedFile("src/engine_main.cpp", text, "clang-format"))
            files.append(GeneratedFile("Dockerfile", env.get_template("Dockerfile.j2").render(
                c=components, uid=contract.ENGINE_UID, journal_dir=contract.JOURNAL_DIR,
                metrics_port=contract.DEFAULT_METRICS_PORT, health_port=contract.DEFAULT_HEALTH_PORT)))
            if engine["md"]:
                pipeline = engine["pipeline"].name
                for template, path in (("md_feed.hpp.j2", f"include/{pkg}/md_{pipeline}.hpp"),
                                       ("md_publish_main.cpp.j2", "src/md_publish_main.cpp"),
                                       ("bench_pipeline.cpp.j2", "bench/bench_pipeline.cpp")):
                    text = env.get_template(template).render(v=view, c=components, e=engine)
                    files.append(GeneratedFile(path, text, "clang-format"))
                if venue is not None:
                    for template, path in (("venue_wire.hpp.j2", f"include/{pkg}/venue_{pipeline}.hpp"),
                                           ("venue_main.cpp.j2", "src/venue_main.cpp")):
                        text = env.get_template(template).render(v=view, c=components, e=engine, vn=venue)
                        files.append(GeneratedFile(path, text, "clang-format"))
            if engine["order_entry"] is not None:
                text = env.get_template("order_entry.hpp.j2").render(v=view, c=components, e=engine)
                files.append(GeneratedFile(f"include/{pkg}/order_entry.hpp", text, "clang-format"))
        return files

    def _runtime(self, files: list[GeneratedFile], components: dict | None) -> tuple[dict[str, str], tuple]:
        """The runtime headers `files` include (vendored only with trading components), or HFT0808."""
        if components is None:
            return {}, ()
        try:
            return self.vendored_runtime([f.content for f in files]), ()
        except RuntimeNotFound as exc:
            return {}, (error("HFT0808", f"cpp backend: {exc}", None, help="reinstall hftc"),)

    @staticmethod
    def vendored_runtime(sources: list[str]) -> dict[str, str]:
        from hftc.paths import runtime_cpp_dir

        return cpp_runtime_headers(runtime_cpp_dir() / "include", sources)


BACKEND = CppBackend()
