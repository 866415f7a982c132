"""Python classes over the generated C++ pipelines: encoded market data in, encoded orders out.

Each pipeline the C++ backend generates (`include/<pkg>/pipeline_<name>.hpp`) becomes a class
`<Name>Pipeline` of the extension. It runs the generated feed handler, book, strategy, risk gate
and gateway exactly as C++ does, but inline on the calling thread: the schema's `threads` describe a
deployment, and a Python caller wants each call to return the orders it caused. Its gateway is the
generated one, with every encoded order also appended to a tape that `process` returns as bytes.
"""

from __future__ import annotations

from string import Template

from hftc.backends.cpp.components import PipelineView
from hftc.backends.exprgen import ident as param_ident
from hftc.ir.expr import Type
from hftc.ir.model import Schema

# The C++ backend's component templates and where their headers go ({pkg}, {name}: strategy or pipeline);
# test_python_ext checks that the files equal the C++ backend's.
COMPONENT_HEADERS = (("components/components.hpp.j2", "include/{pkg}/components.hpp"),)
STRATEGY_HEADER = ("components/strategy.hpp.j2", "include/{pkg}/strategies/{name}.hpp")
PIPELINE_HEADER = ("components/pipeline.hpp.j2", "include/{pkg}/pipeline_{name}.hpp")

# C++ type of a strategy parameter (exprgen's Params struct).
_CPP_TYPE = {Type.FLOAT: "double", Type.INT: "std::int64_t", Type.BOOL: "bool"}


def class_name(p: PipelineView) -> str:
    return "".join(part[:1].upper() + part[1:] for part in p.name.split("_") if part) + "Pipeline"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pipeline_cpp(ir: Schema, c: dict, p: PipelineView) -> tuple[list[str], list[str]]:
    """(definitions, binding statements) of one pipeline's class."""
    cls = class_name(p)
    w = f"Py{cls}"
    ns = f"{c['ns']}::pipelines::{p.ident}"
    strategy = ir.strategy_named(p.strategy.name)
    checked = strategy.checked() if strategy is not None else None
    params = list(checked.params) if checked is not None else []
    gw = p.gateway.cls
    defs = [
        f"// Pipeline `{p.name}` run inline: {' -> '.join(s for s, _ in p.stages)}.",
        f"class {w} {{",
        " public:",
        f"  using Gateway = {ns}::{gw}<>;",
        "  // Every order the gateway encodes, back to back, with where each one ends.",
        "  struct Tape {",
        "    std::array<char, Gateway::kMaxLength> wire{};",
        "    std::string bytes;",
        "    std::vector<std::size_t> ends;",
        "  };",
        "  struct TapeGateway {",
        "    Gateway inner;",
        "    Tape* tape;",
        "    void encode(const hft::trading::OrderRequest& o) noexcept {",
        "      inner.encode(o);",
        "      const auto s = inner.last_encoded();",
        "      if (s.empty()) return;",
        "      // Capacity is reserved before each call into the pipeline (see reserve()), so these",
        "      // appends do not allocate on the pipeline's noexcept path.",
        "      tape->bytes.append(s.data(), s.size());",
        "      tape->ends.push_back(tape->bytes.size());",
        "    }",
        "  };",
        f"  using Pipe = {ns}::Pipeline<TapeGateway, hft::trading::kInline>;",
        "  struct Publish {",
        "    Pipe* pipe;",
        "    void operator()(const hft::trading::MarketMsg& m) noexcept { pipe->publish(m); }",
        "  };",
        f"  using Feed = {ns}::{p.feed.cls}<Publish>;",
        f"  static constexpr std::size_t kInstruments = {p.instruments};",
        "",
        f"  {w}(nb::handle params, std::optional<hft::trading::RiskLimits> limits,",
        "       std::optional<std::vector<std::uint32_t>> instruments)",
        "      : tape_(std::make_unique<Tape>()), venue_ids_(instruments.value_or(std::vector<std::uint32_t>{})) {",
        "    if (instruments && venue_ids_.size() != kInstruments) {",
        f'      throw nb::value_error(("{cls}: " + std::to_string(kInstruments) + " venue instrument ids expected, got " +',
        "                             std::to_string(venue_ids_.size())).c_str());",
        "    }",
        f"    {p.strategy.ns}::Params p{{}};",
        "    if (params.is_valid() && !params.is_none()) {",
        "      const Args a{params, nb::handle(), " + _q(f"{cls} params") + "};",
    ]
    names = [prm.name for prm in params]
    for prm in params:
        cpp = _CPP_TYPE[prm.type]
        defs.append(f"      if (nb::handle h = a.get(K_{prm.name}); h.is_valid()) "
                    f"p.{param_ident(prm.name)} = to<{cpp}>(h, {_q(f'{cls} params.{prm.name}')});")
    array = ("std::array<const char*, " + str(len(names)) + ">{" + ", ".join(_q(n) for n in names) + "}.data()"
             if names else "nullptr")
    defs += [
        f"      a.reject_unknown({array}, {len(names)});",
        "    }",
        f"    const {c['ns']}::components::InstrumentTable table{{std::span<const std::uint32_t>(venue_ids_)}};",
        f"    pipe_ = {ns}::make<TapeGateway, hft::trading::kInline>(",
        "        TapeGateway{Gateway(std::span<char>(tape_->wire), table), tape_.get()}, clock(),",
        f"        {ns}::config(), limits.value_or({ns}::kLimits), {ns}::Strategy(p));",
        "    feed_ = std::make_unique<Feed>(Publish{pipe_.get()}, table);",
        "  }",
        "",
        "  // Runs every message of `buf` (back to back) through the pipeline; the orders it sent.",
        "  nb::list process(nb::handle buf, std::uint64_t receive_ns) {",
        "    const ReadBuffer b(buf);",
        "    feed_->set_receive_ns(receive_ns);",
        "    std::size_t pos = 0;",
        "    while (pos < b.size) {",
        "      reserve();",
        f"      const auto r = {c['ns']}::dispatch(b.data + pos, b.size - pos, *feed_);",
        "      if (!r.ok()) {",
        "        // The messages before the bad one went through: their orders ride on the exception.",
        f"        throw_decode_impl(codec_error_name(r.error), pos, {_q(cls)}, drain());",
        "      }",
        "      pos += r.length;",
        "    }",
        "    return drain();",
        "  }",
        "",
        "  nb::list fill(std::uint32_t instrument, hft::Side side, std::int64_t px, std::int64_t qty, std::uint64_t ts) {",
        "    reserve();",
        "    pipe_->publish(hft::trading::fill_msg(instrument, side, px, qty, ts));",
        "    return drain();",
        "  }",
        "",
        "  nb::dict stats() const {",
        "    const hft::trading::PipelineStats s = pipe_->stats();",
        "    const hft::trading::FeedStats& f = pipe_->feed_stats();",
        "    const auto& d = feed_->drops();",
        "    nb::dict out;",
        '    out["published"] = s.published;',
        '    out["dropped"] = s.dropped;',
        '    out["strategy_calls"] = s.strategy_calls;',
        '    out["quotes"] = s.quotes;',
        '    out["orders_sent"] = s.orders_sent;',
        '    out["quote_overflow"] = pipe_->quote_overflow();',
        '    out["gaps"] = f.gaps;',
        '    out["missed"] = f.missed;',
        '    out["duplicates"] = f.duplicates;',
        '    out["bad_instrument"] = f.bad_instrument;',
        '    out["unknown_instrument"] = d.unknown_instrument;',
        '    out["bad_side"] = d.bad_side;',
        '    out["off_grid"] = d.off_grid;',
        '    out["gateway_failed"] = pipe_->gateway().inner.failed();',
        "    return out;",
        "  }",
        "",
        "  const hft::trading::InstrumentView& view(std::uint32_t instrument) const {",
        "    if (instrument >= kInstruments) {",
        f'      throw nb::index_error(("{cls}: instrument " + std::to_string(instrument) + " of " +',
        "                             std::to_string(kInstruments)).c_str());",
        "    }",
        "    return pipe_->books().instrument(instrument);",
        "  }",
        "",
        "  Pipe& pipe() { return *pipe_; }",
        "",
        " private:",
        "  static const hft::TscClock& clock() {",
        "    static const hft::TscClock c = hft::TscClock::calibrate();",
        "    return c;",
        "  }",
        "",
        "  // Room for every order one message can cause (a snapshot may quote after each level), grown",
        "  // geometrically so that a long call stays linear.",
        "  void reserve() {",
        "    constexpr std::size_t room = 4 * hft::trading::QuoteSink::kCapacity;",
        "    grow(tape_->bytes, room * Gateway::kMaxLength);",
        "    grow(tape_->ends, room);",
        "  }",
        "",
        "  template <class C>",
        "  static void grow(C& c, std::size_t room) {",
        "    if (c.capacity() - c.size() < room) c.reserve(std::max(2 * c.capacity(), c.size() + room));",
        "  }",
        "",
        "  nb::list drain() {",
        "    nb::list out;",
        "    std::size_t start = 0;",
        "    for (const std::size_t end : tape_->ends) {",
        "      out.append(nb::bytes(tape_->bytes.data() + start, end - start));",
        "      start = end;",
        "    }",
        "    tape_->bytes.clear();",
        "    tape_->ends.clear();",
        "    return out;",
        "  }",
        "",
        "  std::unique_ptr<Tape> tape_;",
        "  std::vector<std::uint32_t> venue_ids_;",
        "  std::unique_ptr<Pipe> pipe_;",
        "  std::unique_ptr<Feed> feed_;",
        "};",
        "",
    ]
    defaults = ", ".join(f"{prm.name}={prm.default!r}" for prm in params) or "none"
    doc = (f"Pipeline `{p.name}` ({' -> '.join(s for s, _ in p.stages)}) of strategy `{p.strategy.name}`, run "
           f"inline on the calling thread. `params` overrides strategy parameters by name (defaults: {defaults}); "
           f"`limits` replaces the schema's risk limits; `instruments` lists the venue instrument id of each of "
           f"the {p.instruments} instrument(s) (default: the venue id is the index). Prices are ticks of "
           f"{p.grid.tick}, quantities lots of {p.grid.lot}.")
    b = Template(_BINDINGS).substitute(w=w, cls=cls, doc=_q(doc)).splitlines()
    return defs, b


_BINDINGS = r'''  nb::class_<$w>(m, "$cls", $doc)
      .def(nb::init<nb::handle, std::optional<hft::trading::RiskLimits>, std::optional<std::vector<std::uint32_t>>>(),
           "params"_a = nb::none(), "limits"_a = nb::none(), "instruments"_a = nb::none(),
           nb::sig("def __init__(self, params: collections.abc.Mapping[str, float | int | bool] | None = None, limits: RiskLimits | None = None, instruments: collections.abc.Sequence[int] | None = None) -> None"))
      .def("process", &$w::process, "buf"_a, "receive_ns"_a = 0,
           nb::sig("def process(self, buf: typing_extensions.Buffer, receive_ns: int = 0) -> list[bytes]"),
           "Feeds every message of `buf` (encoded, back to back) through feed handler, book, strategy, risk gate "
           "and gateway; returns the encoded orders the gateway sent, in order. `receive_ns` (0: each message's own "
           "timestamp) stamps the messages. A malformed message raises DecodeError, whose `orders` holds the orders "
           "the messages before it caused.")
      .def("fill", &$w::fill, "instrument"_a, "side"_a, "px_ticks"_a, "qty_lots"_a, "ts_ns"_a = 0,
           nb::sig("def fill(self, instrument: int, side: BookSide, px_ticks: int, qty_lots: int, ts_ns: int = 0) -> list[bytes]"),
           "Reports an own fill: the risk gate's position and the strategy's inventory follow it. Returns the "
           "orders it caused.")
      .def_prop_ro("stats", &$w::stats, nb::for_getter(nb::sig("def stats(self, /) -> dict[str, int]")),
                   "Counters: published, dropped, strategy_calls, quotes, orders_sent, quote_overflow; feed gaps, "
                   "missed, duplicates, bad_instrument; feed-handler drops unknown_instrument, bad_side, off_grid; "
                   "gateway_failed.")
      .def_prop_ro("risk", []($w& p) -> hft::trading::RiskGate& { return p.pipe().risk(); },
                   nb::rv_policy::reference_internal,
                   "The pipeline's risk gate (live): decision counts, position, trip() and reset().")
      .def_prop_ro("latency", []($w& p) -> hft::LatencyHistogram& { return p.pipe().latency(); },
                   nb::rv_policy::reference_internal, "Tick-to-order latency (ns) of every order sent (live).")
      .def("best_bid", [](const $w& p, std::uint32_t i) { return level(p.view(i).book->best_bid()); },
           "instrument"_a = 0, nb::sig("def best_bid(self, instrument: int = 0) -> tuple[int, int] | None"),
           "(price ticks, qty lots) of the book's best bid, or None.")
      .def("best_ask", [](const $w& p, std::uint32_t i) { return level(p.view(i).book->best_ask()); },
           "instrument"_a = 0, nb::sig("def best_ask(self, instrument: int = 0) -> tuple[int, int] | None"),
           "(price ticks, qty lots) of the book's best ask, or None.")
      .def("position", [](const $w& p, std::uint32_t i) { return p.view(i).position; }, "instrument"_a = 0,
           "Position in lots, from fills.");
'''
