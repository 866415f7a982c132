"""`--target rust`: golden tree, determinism, layout, and the generated crate built, tested,
linted (clippy -D warnings) and format-checked with cargo."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, without_vendored
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.model import Schema

RUNTIME = REPO / "runtime_rust"
EDGE = REPO / "tests" / "schemas" / "cpp_edge.hftc.yaml"
WIRE = REPO / "tests" / "schemas" / "wire_custom.hftc.yaml"
WIDE = REPO / "tests" / "schemas" / "wire_wide.hftc.yaml"


def _tree(ir: Schema, options: dict | None = None) -> dict[str, bytes]:
    report = generate(ir, ["rust"], "/nonexistent", options)
    assert not report.diagnostics, [d.message for d in report.diagnostics]
    return report.outputs[0].files


def write_tree(files: dict[str, bytes], root: Path) -> Path:
    """`files` under `root`; unchanged files are not rewritten, so incremental builds are reused."""
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    return root


def write_crate(ir: Schema, root: Path) -> Path:
    """The generated crate under `root`, depending on this checkout's runtime (not a vendored
    copy, so the crates of these tests share one compiled runtime)."""
    return write_tree(_tree(ir, {"runtime_rust_path": str(RUNTIME)}), root)


def cargo(args: list[str], crate: Path, cache_dir: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARGO_TARGET_DIR": str(cache_dir / "cargo-generated"), "CARGO_TERM_COLOR": "never"}
    env.pop("RUSTFLAGS", None)
    return subprocess.run(["cargo", *args], check=False, cwd=crate, env=env, capture_output=True, text=True, timeout=timeout)


def need_cargo() -> None:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")


@pytest.fixture(scope="module")
def fx_ir() -> Schema:
    return compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir


def test_golden_tree(fx_ir: Schema, golden) -> None:
    golden.check_tree("rust/fx_market_maker", without_vendored(_tree(fx_ir), "runtime_rust/"))


def test_deterministic(fx_ir: Schema) -> None:
    assert _tree(fx_ir) == _tree(fx_ir)
    if EDGE.exists():
        edge = compile_file(str(EDGE)).ir
        assert _tree(edge) == _tree(edge)


def test_layout_and_options(fx_ir: Schema) -> None:
    files = _tree(fx_ir)
    assert {"Cargo.toml", "src/lib.rs", "src/wire.rs", "src/types.rs", "src/messages.rs", "src/dispatch.rs",
            "src/owned.rs", "src/bin/bench.rs", "tests/roundtrip.rs"} <= set(files)
    cargo_toml = files["Cargo.toml"].decode()
    assert 'name = "fx_mm"' in cargo_toml
    assert 'runtime_rust = { path = "runtime_rust" }' in cargo_toml
    custom = _tree(fx_ir, {"runtime_rust_path": "/opt/hftc/runtime_rust"})
    assert 'runtime_rust = { path = "/opt/hftc/runtime_rust" }' in custom["Cargo.toml"].decode()
    assert not any(rel.startswith("runtime_rust/") for rel in custom)
    # Every generated Rust module forbids unsafe code (the vendored runtime is not generated).
    for rel, data in files.items():
        if rel.endswith(".rs") and not rel.startswith("runtime_rust/"):
            assert b"#![forbid(unsafe_code)]" in data, rel


def test_the_runtime_library_is_vendored_into_the_crate(fx_ir: Schema) -> None:
    """Every library source of runtime_rust, byte for byte, and a library-only Cargo.toml."""
    files = _tree(fx_ir)
    vendored = {rel.removeprefix("runtime_rust/"): data for rel, data in files.items() if rel.startswith("runtime_rust/")}
    sources = {p.relative_to(RUNTIME).as_posix(): p.read_bytes() for p in (RUNTIME / "src").rglob("*.rs")
               if "bin" not in p.relative_to(RUNTIME / "src").parts}
    assert "src/lib.rs" in sources and "src/trading/pipeline.rs" in sources
    assert {rel: data for rel, data in vendored.items() if rel != "Cargo.toml"} == sources
    cargo_toml = vendored["Cargo.toml"].decode()
    assert 'name = "runtime_rust"' in cargo_toml and 'path = "src/lib.rs"' in cargo_toml
    assert "[[bin]]" not in cargo_toml and "[profile" not in cargo_toml  # a dependency's profiles are ignored
    readme = files["README.md"].decode()
    assert 'fx_mm = { path = "path/to/this/folder" }' in readme and "`runtime_rust/`" in readme


def test_api_surface(fx_ir: Schema) -> None:
    messages = _tree(fx_ir)["src/messages.rs"].decode()
    for needle in (
        "pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError>",
        "pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError>",
        "pub fn side_raw(&self) -> u8",
        "pub fn order_count(&self) -> Option<u16>",
        "pub fn levels(&self) -> GroupIter<'a, SnapshotLevelsDecoder<'a>>",
        "pub fn encode_levels(",
        "-> Result<SnapshotLevelsGroupEncoder<'_>, EncodeError>",
        "pub fn venue_note_str(&self) -> Result<&'a str, DecodeError>",
        "pub fn symbol(&self) -> &'a [u8; 12]",
    ):
        assert needle in messages, needle
    types = _tree(fx_ir)["src/types.rs"].decode()
    assert "#[repr(u8)]" in types and "Unknown(u8) = 0," in types and "impl FromStr for Price" in types
    dispatch = _tree(fx_ir)["src/dispatch.rs"].decode()
    assert "fn on_book_delta(&mut self, message: BookDeltaDecoder<'_>)" in dispatch


def test_name_clash_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "clash.hftc.yaml"
    path.write_text(
        "hftc: 1\npackage: clash.me\nversion: 1\nmessages:\n  M:\n    id: 1\n"
        "    fields: {wrap: uint8}\n",
        encoding="utf-8",
    )
    ir = compile_file(str(path)).ir
    report = generate(ir, ["rust"], "/nonexistent")
    assert any("shadow" in d.message for d in report.diagnostics)


def test_generated_crate_builds_tests_and_lints(fx_ir: Schema, cache_dir: Path) -> None:
    """The crate as `hftc build` writes it, with its vendored runtime."""
    need_cargo()
    crate = write_tree(_tree(fx_ir), cache_dir / "rust-generated" / "fx_mm")
    fmt = cargo(["fmt", "--check"], crate, cache_dir)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    clippy = cargo(["clippy", "--all-targets", "--", "-D", "warnings"], crate, cache_dir)
    assert clippy.returncode == 0, clippy.stderr[-4000:]
    test = cargo(["test", "--release"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert "test result: ok" in test.stdout
    assert "snapshot_round_trips ... ok" in test.stdout
    for name in ("inline_pipeline_sends_the_strategys_orders", "threaded_pipeline_sends_the_same_orders",
                 "risk_limits_block_an_oversized_order", "snapshot_resets_the_book_and_runs_the_strategy_once",
                 "trade_becomes_a_trade_message", "instrument_table_maps_venue_ids",
                 "order_entry_sends_each_desired_quote_once", "order_entry_replaces_a_moved_quote"):
        assert f"{name} ... ok" in test.stdout, name


@pytest.mark.parametrize("schema", [EDGE, WIRE, WIDE], ids=["edge_cases", "wire_custom", "wire_wide"])
def test_edge_schema_crate_lints_and_tests(cache_dir: Path, schema: Path) -> None:
    """cpp_edge, and its messages framed big-endian with a 6-byte header, a 3-byte group size and
    uint8 var-data lengths (wire_custom), or with 8-byte group sizes and uint16 lengths (wire_wide)."""
    need_cargo()
    if not schema.exists():
        pytest.skip(f"{schema.name} is absent")
    crate = write_crate(compile_file(str(schema)).ir, cache_dir / "rust-generated" / schema.name.split(".")[0])
    clippy = cargo(["clippy", "--all-targets", "--", "-D", "warnings"], crate, cache_dir)
    assert clippy.returncode == 0, clippy.stderr[-4000:]
    test = cargo(["test", "--release"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]


MINIMAL_YAML = """\
hftc: 1
package: minimal.test
version: 1
schema_id: 9
messages:
  Tick:
    id: 1
    fields:
      seq: uint64
"""


def test_minimal_schema_crate_lints_and_tests(tmp_path: Path, cache_dir: Path) -> None:
    """One message, one integer: helpers the generated tests and benchmark share go unused and
    must not fail `clippy -D warnings`."""
    need_cargo()
    path = tmp_path / "minimal.hftc.yaml"
    path.write_text(MINIMAL_YAML, encoding="utf-8")
    crate = write_crate(compile_file(str(path)).ir, cache_dir / "rust-generated" / "minimal")
    clippy = cargo(["clippy", "--all-targets", "--", "-D", "warnings"], crate, cache_dir)
    assert clippy.returncode == 0, clippy.stderr[-4000:]
    test = cargo(["test"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert "tick_round_trips ... ok" in test.stdout


@pytest.mark.parametrize("name", ["fx_mm", "edge_cases"])
def test_rust_and_cpp_benchmarks_time_the_same_messages(fx_ir: Schema, cache_dir: Path, name: str) -> None:
    """`hftc bench --lang all` compares the two codec benchmarks row by row, which only means
    something if both encode and decode the same bytes: their `--inputs` must agree."""
    import json

    need_cargo()
    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake and ninja are needed")
    if name == "edge_cases" and not EDGE.exists():
        pytest.skip(f"{EDGE.name} is absent")
    ir = fx_ir if name == "fx_mm" else compile_file(str(EDGE)).ir
    crate = write_crate(ir, cache_dir / "rust-generated" / name)
    built = cargo(["build", "--release", "--bin", "bench"], crate, cache_dir)
    assert built.returncode == 0, built.stderr[-4000:]
    rust = subprocess.run([str(cache_dir / "cargo-generated" / "release" / "bench"), "--inputs"], check=True,
                          capture_output=True, text=True, timeout=120).stdout

    source = write_tree(generate(ir, ["cpp"], "/nonexistent").outputs[0].files, cache_dir / "bench-inputs" / name / "src")
    build = cache_dir / "bench-inputs" / name / "build"

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, check=True, capture_output=True, text=True, timeout=900)

    if not (build / "CMakeCache.txt").exists():
        run(["cmake", "-G", "Ninja", "-S", str(source), "-B", str(build), f"-DHFTC_RUNTIME_DIR={REPO / 'runtime_cpp'}",
             "-DHFTC_BUILD_TESTS=OFF", "-DHFTC_BENCH_ARCH="])
    run(["ninja", "-C", str(build), "bench_codecs"])
    cpp = run([str(build / "bench_codecs"), "--inputs"]).stdout

    rust_inputs, cpp_inputs = json.loads(rust)["inputs"], json.loads(cpp)["inputs"]
    assert set(rust_inputs) == {m.name for m in ir.messages}
    for message, hex_bytes in cpp_inputs.items():
        assert rust_inputs[message] == hex_bytes, message


# ---- trading components ------------------------------------------------------------------------

THREADS = "threads: {feed: {cpu: 2}, quoter: {cpu: 3}}"


def _variant(tmp_path: Path, *replacements: tuple[str, str]) -> Schema:
    """The example with text replaced, compiled (its import is copied beside it)."""
    text = (EXAMPLES / "fx_market_maker.hftc.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    shutil.copy(EXAMPLES / "common.hftc.yaml", tmp_path / "common.hftc.yaml")
    path = tmp_path / "variant.hftc.yaml"
    path.write_text(text, encoding="utf-8")
    result = compile_file(str(path))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.ir


def _rust_view(ir: Schema):
    from hftc.backends.rust.codegen import Generator
    from hftc.backends.rust.components import ComponentsView

    v = ComponentsView(ir, Generator(ir))
    return v.build(), v.diagnostics


def test_component_files_and_api(fx_ir: Schema) -> None:
    files = _tree(fx_ir)
    for name in ("src/components.rs", "src/strategies.rs", "src/pipelines.rs", "tests/components.rs",
                 "src/bin/replay.rs", "src/bin/trade.rs"):
        assert name in files, name
    lib = files["src/lib.rs"].decode()
    assert "pub mod components;" in lib and "pub mod pipelines;" in lib and "pub mod strategies;" in lib
    assert 'name = "replay"' in files["Cargo.toml"].decode() and 'name = "trade"' in files["Cargo.toml"].decode()
    components = files["src/components.rs"].decode()
    assert "impl<F: FnMut(MarketMsg), G: Grid> Handler for FeedHandler<F, G>" in components
    assert "impl<G: Grid> OrderGateway for Gateway<G>" in components
    assert "pub const MAX_LENGTH: usize = 59;" in components
    assert "max_orders_per_second: 2000," in components and "price_band_bps: 25," in components
    strategies = files["src/strategies.rs"].decode()
    assert "impl trading::Strategy for Adapter" in strategies
    assert "spread_bps: 0.5_f64," in strategies
    pipelines = files["src/pipelines.rs"].decode()
    assert "pub const SPLITS: u8 = trading::SPLIT_BEFORE_BOOK;" in pipelines
    assert "cpu: [2, 3, -1, -1]," in pipelines and "queue_capacity: 4096," in pipelines
    assert "pub type Trader<G = Gateway<Grid>> = session::Trader<Strategy, G>;" in pipelines


def test_components_view_agrees_with_the_cpp_target(fx_ir: Schema, tmp_path: Path) -> None:
    """Roles, splits, CPUs and limits are the C++ target's, so both send the same orders."""
    from hftc.backends.cpp.components import build_components
    from hftc.backends.cpp.view import build_view

    variants = [fx_ir, _variant(tmp_path, (THREADS, "threads: {feed: {cpu: 1}, risk: {cpu: 4}, gateway: {cpu: 5}}")),
                _variant(tmp_path, (THREADS, "threads: {}"))]
    for ir in variants:
        rust, rdiags = _rust_view(ir)
        cpp, cdiags = build_components(ir, build_view(ir))
        assert rdiags == [] and cdiags == []
        (rp,), (cp,) = rust["pipelines"], cpp["pipelines"]
        assert (rp.split_bits, rp.cpu, rp.queue_capacity, rp.instruments) == \
            (cp.split_bits, cp.cpu, cp.queue_capacity, cp.instruments)
        assert [(i.name, i.role) for i in rust["feeds"][0].inputs] == [(i.name, i.role) for i in cpp["feeds"][0].inputs]
        assert (rp.grid.tick_num, rp.grid.tick_den, rp.grid.lot_num, rp.grid.lot_den) == \
            (cp.grid.tick_num, cp.grid.tick_den, cp.grid.lot_num, cp.grid.lot_den)
        r, c = rust["risks"][0], cpp["risks"][0]
        assert (r.max_position, r.max_order_qty, r.max_orders_per_second, r.price_band_bps, r.max_notional) == \
            (c.max_position, c.max_order_qty, c.max_orders_per_second, c.price_band_bps, c.max_notional)
        assert rp.gateway.max_length == cp.gateway.max_length
        assert {k for k, v in rp.gateway.acc.items() if v} == {k for k, v in cp.gateway.acc.items() if v}


def test_component_diagnostics_come_from_the_passes(tmp_path: Path) -> None:
    """The shared analysis reports once, at compile time, so the Rust target reports nothing more
    and an IR with a component error still yields no partial crate."""
    # ExecutionReport without its declared role: a feed input the handlers ignore.
    ir = _variant(tmp_path, ("input: [BookDelta, Trade, Snapshot]", "input: [BookDelta, Trade, Snapshot, ExecutionReport]"),
                  ("    role: execution_report\n    fields_map: {price: last_price, qty: last_qty, ts: ts_exchange}\n", ""))
    report = generate(ir, ["rust"], "/nonexistent")
    assert report.diagnostics == []
    assert "/// Ignored (no role): ExecutionReport." in report.outputs[0].files["src/components.rs"].decode()
    text = (EXAMPLES / "fx_market_maker.hftc.yaml").read_text(encoding="utf-8").replace("output: NewOrder", "output: Trade")
    shutil.copy(EXAMPLES / "common.hftc.yaml", tmp_path / "common.hftc.yaml")
    (tmp_path / "broken.hftc.yaml").write_text(text, encoding="utf-8")
    result = compile_file(str(tmp_path / "broken.hftc.yaml"))
    assert [d.code for d in result.diagnostics] == ["HFT0642"]
    report = generate(result.ir, ["rust"], "/nonexistent")
    assert not any(rel.endswith("components.rs") for out in report.outputs for rel in out.files), "no partial output"


def test_schema_without_components_gets_no_component_files() -> None:
    if not EDGE.exists():
        pytest.skip(f"{EDGE.name} is absent")
    files = _tree(compile_file(str(EDGE)).ir)
    assert not any(n in files for n in ("src/components.rs", "src/pipelines.rs", "tests/components.rs"))
    assert b"pub mod components;" not in files["src/lib.rs"]


# A capture of the example's market data: snapshots, deltas and trades with duplicates, gaps, an
# unknown side and off-grid prices, timestamps 50 us to 2 ms apart.
def _capture(ir: Schema, seed: int = 7, n: int = 3000) -> bytes:
    import random

    from hftc.vectors import Codec

    tick, lot = 10_000, 1000 * 10_000  # mantissas of 0.00001 (Price, 1e-9) and of 1000 (Qty, 1e-4)
    codec = Codec(ir)
    msgs = {m.name: m for m in ir.messages}
    rng = random.Random(seed)
    out = bytearray()
    ts, mid, seq, tseq = 1_000_000_000, 108_120, 10, 0

    def enc(name: str, values: dict) -> None:
        out.extend(codec.encode_message(msgs[name], values, ir.version))

    def snapshot(seq: int, bid_lots: int, ask_lots: int) -> None:
        levels = [{"side": 1, "price": (mid - 1) * tick, "qty": bid_lots * lot, "orders": []},
                  {"side": 2, "price": (mid + 2) * tick, "qty": ask_lots * lot, "orders": []}]
        enc("Snapshot", {"instrument": 0, "seq": seq, "levels": levels, "venue_note": ""})

    snapshot(seq, 5, 5)
    for _ in range(n):
        ts += rng.choice((50_000, 100_000, 400_000, 2_000_000))
        r = rng.random()
        if r < 0.1:
            tseq += 1
            enc("Trade", {"instrument": 0, "seq": tseq, "ts_exchange": ts, "aggressor": rng.choice((1, 2)),
                          "price": mid * tick, "qty": rng.randint(1, 9) * lot})
            continue
        mid += rng.choice((-1, 0, 0, 1))
        side = rng.choice((1, 2))
        px = mid - rng.randint(1, 3) if side == 1 else mid + rng.randint(1, 3)
        seq += 1
        s = seq - 1 if r < 0.12 else seq  # a duplicate
        if 0.12 <= r < 0.13:
            seq += 3  # a gap
            s = seq
        enc("BookDelta", {"instrument": 0, "seq": s, "ts_exchange": ts, "side": 9 if 0.99 < r <= 0.992 else side,
                          "price": px * tick + (1 if r > 0.995 else 0), "qty": rng.choice((0, 1, 2, 5)) * lot,
                          "order_count": None})
        if 0.985 < r <= 0.99:
            seq += 1
            snapshot(seq, 3, 4)
    return bytes(out)


CPP_REPLAY = r"""// Replays a capture through the generated C++ pipeline, inline, printing each order in hex.
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <vector>

#include "fx_mm/codecs.hpp"
#include "fx_mm/pipeline_tick_to_trade.hpp"

namespace pl = fx::mm::pipelines::tick_to_trade;

struct Printer {
  using Gateway = pl::Gateway<pl::Grid>;
  using Wire = std::array<char, Gateway::kMaxLength>;
  Printer() : wire(std::make_unique<Wire>()), gateway(std::span<char>(*wire)) {}
  void encode(const hft::trading::OrderRequest& o) noexcept {
    gateway.encode(o);
    const auto bytes = gateway.last_encoded();
    if (bytes.empty()) return;
    for (const char c : bytes) std::printf("%02x", static_cast<unsigned char>(c));
    std::printf("\n");
  }
  std::unique_ptr<Wire> wire;
  Gateway gateway;
};

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const hft::TscClock clock = hft::TscClock::calibrate();
  auto cfg = pl::config();
  cfg.cpu = {-1, -1, -1, -1};
  auto pipe = pl::make<Printer, hft::trading::kInline>(Printer(), clock, cfg);
  auto sink = [&](const hft::trading::MarketMsg& m) { pipe->publish(m); };
  pl::FeedHandler<decltype(sink), pl::Grid> feed(sink);
  std::size_t offset = 0;
  while (offset < data.size()) {
    const auto r = fx::mm::dispatch(data.data() + offset, data.size() - offset, feed);
    if (!r.ok()) return 1;
    offset += r.length;
  }
  pipe->stop();
  return 0;
}
"""


CPP_TRADE = r"""// Replays a capture through the generated C++ pipeline and the engine's order path, inline:
// accepted quotes -> hft::session::OrderRouter -> SimulatedVenue -> reports -> fills back into the
// pipeline, serviced after every market message; prints each request, then position and cash.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <vector>

#include "fx_mm/codecs.hpp"
#include "fx_mm/pipeline_tick_to_trade.hpp"
#include "hft/session/order_router.hpp"

namespace pl = fx::mm::pipelines::tick_to_trade;
namespace tr = hft::trading;

struct Tap {
  using Gateway = pl::Gateway<pl::Grid>;
  using Wire = std::array<char, Gateway::kMaxLength>;
  explicit Tap(std::vector<tr::OrderRequest>* d)
      : wire(std::make_unique<Wire>()), gateway(std::span<char>(*wire)), desired(d) {}
  void encode(const tr::OrderRequest& o) noexcept {
    gateway.encode(o);
    if (!gateway.last_encoded().empty()) desired->push_back(o);
  }
  std::unique_ptr<Wire> wire;
  Gateway gateway;
  std::vector<tr::OrderRequest>* desired;
};

struct Fill {
  tr::InstrumentId instrument;
  hft::Side side;
  std::int64_t px, qty;
};

struct FillSink {
  std::vector<Fill>* out;
  void operator()(tr::InstrumentId i, hft::Side side, std::int64_t px, std::int64_t qty) const {
    out->push_back(Fill{i, side, px, qty});
  }
};

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const hft::TscClock clock = hft::TscClock::calibrate();
  auto cfg = pl::config();
  cfg.cpu = {-1, -1, -1, -1};
  std::vector<tr::OrderRequest> desired;
  std::vector<Fill> fills;
  auto pipe = pl::make<Tap, tr::kInline>(Tap(&desired), clock, cfg);
  hft::session::OrderRouter<FillSink> router(cfg.instruments, hft::oms::OmsConfig{}, 1, FillSink{&fills});
  hft::session::SimulatedVenue venue(std::atof(argv[2]), std::strtoull(argv[3], nullptr, 10));
  std::uint64_t last_ts = 0;
  auto service = [&] {
    for (const tr::OrderRequest& o : desired) router.want(o);
    desired.clear();
    fills.clear();
    venue.poll([&](const hft::oms::ExecReport& r) { router.on_report(r); });
    router.pump([&](const hft::oms::Action& a, tr::InstrumentId i, std::uint64_t request) {
      std::printf("%s %u %llu %llu %llu %s %lld %lld\n",
                  hft::session::kActionKindNames[static_cast<std::size_t>(a.kind)].data(),
                  static_cast<unsigned>(i), static_cast<unsigned long long>(request),
                  static_cast<unsigned long long>(a.cl_ord_id), static_cast<unsigned long long>(a.orig_cl_ord_id),
                  a.side == hft::Side::Bid ? "bid" : "ask", static_cast<long long>(a.px),
                  static_cast<long long>(a.qty));
      venue.send(a, request);
    });
    for (const Fill& f : fills) pipe->publish(tr::fill_msg(f.instrument, f.side, f.px, f.qty, last_ts));
  };
  auto sink = [&](const tr::MarketMsg& m) {
    pipe->publish(m);
    last_ts = std::max(last_ts, m.ts_ns);
    service();
  };
  pl::FeedHandler<decltype(sink), pl::Grid> feed(sink);
  std::size_t offset = 0;
  while (offset < data.size()) {
    const auto r = fx::mm::dispatch(data.data() + offset, data.size() - offset, feed);
    if (!r.ok()) return 1;
    offset += r.length;
  }
  router.cancel_all();
  for (int round = 0; round < 64 && router.live() > 0; ++round) service();
  service();
  service();
  pipe->stop();
  for (std::size_t i = 0; i < router.instruments(); ++i) {
    const auto inst = static_cast<tr::InstrumentId>(i);
    std::printf("position %zu %lld %lld\n", i, static_cast<long long>(router.oms(i).position()),
                static_cast<long long>(router.oms(i).cash()));
    std::printf("risk %zu %lld %lld %lld\n", i, static_cast<long long>(pipe->risk().position(inst)),
                static_cast<long long>(pipe->risk().open_qty(inst, hft::Side::Bid)),
                static_cast<long long>(pipe->risk().open_qty(inst, hft::Side::Ask)));
  }
  return 0;
}
"""


def _cpp_driver(ir: Schema, cache_dir: Path, source: str, name: str) -> Path:
    """A C++ driver over the generated headers and the C++ runtime, built once per content hash."""
    import hashlib

    report = generate(ir, ["cpp"], "/nonexistent")
    assert not report.diagnostics, [d.message for d in report.diagnostics]
    digest = hashlib.sha256(source.encode())
    runtime = REPO / "runtime_cpp" / "include"
    for rel, data in sorted(report.outputs[0].files.items()):
        digest.update(rel.encode() + data)
    for header in sorted(runtime.rglob("*.hpp")):
        digest.update(header.read_bytes())
    root = cache_dir / "rust-components-xl" / digest.hexdigest()[:16]
    exe = root / name
    if exe.exists():
        return exe
    for rel, data in report.outputs[0].files.items():
        target = root / "src" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / f"{name}.cpp").write_text(source, encoding="utf-8")
    proc = subprocess.run(["g++", "-std=c++20", "-O1", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                           "-I", str(root / "src" / "include"), "-I", str(runtime), str(root / f"{name}.cpp"),
                           "-o", str(root / f"{name}.tmp"), "-pthread"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    (root / f"{name}.tmp").rename(exe)
    return exe


def _cpp_replay(ir: Schema, cache_dir: Path) -> Path:
    """The C++ replay driver over the generated headers."""
    return _cpp_driver(ir, cache_dir, CPP_REPLAY, "replay_cpp")


def test_cpp_and_rust_pipelines_send_the_same_order_bytes(fx_ir: Schema, cache_dir: Path, tmp_path: Path) -> None:
    """The same capture through the generated C++ and Rust pipelines: identical orders, byte for byte."""
    need_cargo()
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    capture = tmp_path / "capture.bin"
    capture.write_bytes(_capture(fx_ir))
    crate = write_crate(fx_ir, cache_dir / "rust-generated" / "fx_mm")
    build = cargo(["build", "--release", "--bin", "replay"], crate, cache_dir)
    assert build.returncode == 0, build.stderr[-4000:]
    rust = subprocess.run([str(cache_dir / "cargo-generated" / "release" / "replay"), str(capture)],
                          capture_output=True, text=True, timeout=120)
    assert rust.returncode == 0, rust.stderr
    cpp = subprocess.run([str(_cpp_replay(fx_ir, cache_dir)), str(capture)], capture_output=True, text=True,
                         timeout=120)
    assert cpp.returncode == 0, cpp.stderr
    orders = rust.stdout.splitlines()
    assert len(orders) > 20, rust.stderr
    assert "dropped by the handler" in rust.stderr and " 0 dropped by the handler" not in rust.stderr
    assert rust.stdout == cpp.stdout
    # A truncated capture is an error, reported without a panic.
    capture.write_bytes(_capture(fx_ir)[:-3])
    bad = subprocess.run([str(cache_dir / "cargo-generated" / "release" / "replay"), str(capture)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "truncated" in bad.stderr and "panicked" not in bad.stderr


@pytest.mark.parametrize("fill_ratio", ["0", "0.3"])
def test_cpp_and_rust_order_entry_send_the_same_requests(fx_ir: Schema, cache_dir: Path, tmp_path: Path,
                                                          fill_ratio: str) -> None:
    """The same capture through the generated Rust crate's `trade` (pipeline -> order managers ->
    simulated venue) and the C++ pipeline with the C++ engine's order path: the same requests, in
    the same order, and the same position and cash from the execution reports."""
    need_cargo()
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    capture = tmp_path / "capture.bin"
    capture.write_bytes(_capture(fx_ir))
    crate = write_crate(fx_ir, cache_dir / "rust-generated" / "fx_mm")
    build = cargo(["build", "--release", "--bin", "trade"], crate, cache_dir)
    assert build.returncode == 0, build.stderr[-4000:]
    trade = cache_dir / "cargo-generated" / "release" / "trade"
    rust = subprocess.run([str(trade), str(capture), "--fill-ratio", fill_ratio, "--seed", "9"],
                          capture_output=True, text=True, timeout=120)
    assert rust.returncode == 0, rust.stderr
    cpp = subprocess.run([str(_cpp_driver(fx_ir, cache_dir, CPP_TRADE, "trade_cpp")), str(capture), fill_ratio, "9"],
                         capture_output=True, text=True, timeout=120)
    assert cpp.returncode == 0, cpp.stderr
    assert rust.stdout == cpp.stdout
    lines = [line.split() for line in rust.stdout.splitlines()]
    kinds = [line[0] for line in lines]
    assert kinds[-2:] == ["position", "risk"] and kinds.count("position") == 1
    position, risk = lines[-2], lines[-1]
    assert risk[2] == position[2], "the risk gate's position comes from the same execution reports"
    if fill_ratio == "0":
        # One new order per side; every later move of the quotes is a replace; the close cancels.
        assert kinds.count("new") == 2 and kinds.count("replace") > 20, rust.stdout
        assert kinds[-4:-2] == ["cancel", "cancel"]
        assert position == ["position", "0", "0", "0"], "nothing filled: no position"
        assert "0 fills; 0 unexpected reports" in rust.stderr
    else:
        assert " 0 fills" not in rust.stderr and position != ["position", "0", "0", "0"], rust.stderr
    # Bad arguments: a usage message, no panic.
    bad = subprocess.run([str(trade), str(capture), "--fill-ratio", "2"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--fill-ratio 2" in bad.stderr and "panicked" not in bad.stderr


def _enum_schema(tmp_path: Path) -> Path:
    """Two enums with no spare value on one side of zero or at all: `Dense` (int8) uses 0..=127,
    so `Unknown` goes to -1; `Full` (uint8) uses every value, so it keeps implicit discriminants."""
    dense = ", ".join(f"d{i}: {i}" for i in range(128))
    full = ", ".join(f"f{i}: {i}" for i in range(256))
    path = tmp_path / "enums.hftc.yaml"
    path.write_text(
        "hftc: 1\npackage: enums.test\nversion: 1\nschema_id: 11\n"
        f"types:\n  Dense: {{enum: int8, values: {{{dense}}}}}\n  Full: {{enum: uint8, values: {{{full}}}}}\n"
        "messages:\n  Pick:\n    id: 1\n    fields: {dense: Dense, full: Full}\n",
        encoding="utf-8",
    )
    return path


def test_enum_discriminants_take_a_free_value_or_stay_implicit(tmp_path: Path, cache_dir: Path) -> None:
    ir = compile_file(str(_enum_schema(tmp_path))).ir
    types = _tree(ir)["src/types.rs"].decode()
    dense = types[types.index("pub enum Dense"):types.index("impl Dense")]
    full = types[types.index("pub enum Full"):types.index("impl Full")]
    assert "#[repr(i8)]\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Dense" in types
    assert "D127 = 127," in dense and "Unknown(i8) = -1," in dense
    assert "#[repr(u8)]\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Full" not in types
    assert "    F255,\n" in full and "    Unknown(u8),\n" in full
    need_cargo()
    crate = write_crate(ir, cache_dir / "rust-generated" / "enums")
    test = cargo(["test"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert "dense_unknown_values_are_kept ... ok" in test.stdout
    assert "full_raw_values_round_trip ... ok" in test.stdout


def test_a_missing_runtime_is_a_diagnostic_not_a_broken_crate(fx_ir: Schema, monkeypatch) -> None:
    import hftc.paths

    monkeypatch.setattr(hftc.paths, "runtime_rust_dir", lambda: None)
    report = generate(fx_ir, ["rust"], "/nonexistent")
    assert [d.code for d in report.diagnostics] == ["HFT0808"]
    assert "runtime_rust/Cargo.toml) was not found" in report.diagnostics[0].message
    assert set(report.outputs[0].files) == {"hftc-manifest.json"}  # no crate without its runtime
