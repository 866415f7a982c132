// hftc._native: Python bindings of the runtime pieces hftc's tools use at run
// time (backtests, the monitor, benchmarks), so Python code shares the exact
// C++ implementation instead of a reimplementation.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/vector.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "hft/book/l2_book.hpp"
#include "hft/histogram.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

nb::bytes to_bytes(const hft::LatencyHistogram& h) {
  const auto data = h.serialize();
  return nb::bytes(reinterpret_cast<const char*>(data.data()), data.size());
}

hft::LatencyHistogram from_bytes(nb::bytes data) {
  const auto* p = reinterpret_cast<const std::byte*>(data.c_str());
  return hft::LatencyHistogram::deserialize(std::span<const std::byte>(p, data.size()));
}

hft::Side side_of(const std::string& s) {
  if (s == "bid" || s == "buy") return hft::Side::Bid;
  if (s == "ask" || s == "sell") return hft::Side::Ask;
  throw nb::value_error("side must be 'bid' or 'ask'");
}

}  // namespace

NB_MODULE(_native, m) {
  m.doc() = "Native runtime pieces shared with generated C++ (histogram, L2 book).";

  nb::exception<hft::HistogramFormatError>(m, "HistogramFormatError", PyExc_ValueError);

  nb::class_<hft::LatencyHistogram>(m, "LatencyHistogram",
                                    "HdrHistogram-style log-linear latency histogram (ns), "
                                    "< 0.1 % relative error, serialisable across C++/Rust/Python.")
      .def(nb::init<>())
      .def("record", &hft::LatencyHistogram::record, "value"_a)
      .def("record_n", &hft::LatencyHistogram::record_n, "value"_a, "count"_a)
      .def(
          "record_many",
          [](hft::LatencyHistogram& h, const std::vector<uint64_t>& values) {
            for (uint64_t v : values) h.record(v);
          },
          "values"_a, "Record many values in one call (amortises the call overhead).")
      .def_prop_ro("count", &hft::LatencyHistogram::count)
      .def_prop_ro("min", &hft::LatencyHistogram::min)
      .def_prop_ro("max", &hft::LatencyHistogram::max)
      .def_prop_ro("mean", &hft::LatencyHistogram::mean)
      .def("value_at_percentile", &hft::LatencyHistogram::value_at_percentile, "p"_a)
      .def("merge", &hft::LatencyHistogram::merge, "other"_a)
      .def("reset", &hft::LatencyHistogram::reset)
      .def("serialize", &to_bytes)
      .def_static("deserialize", &from_bytes, "data"_a);

  nb::class_<hft::PriceLevelBook>(m, "PriceLevelBook",
                                  "Price-level (L2) book over integer ticks and lots.")
      .def(nb::init<size_t>(), "capacity_ticks"_a)
      .def(
          "set_level",
          [](hft::PriceLevelBook& b, const std::string& side, int64_t px, int64_t qty) {
            b.set_level(side_of(side), px, qty);
          },
          "side"_a, "px"_a, "qty"_a)
      .def("best_bid",
           [](const hft::PriceLevelBook& b) -> std::optional<std::pair<int64_t, int64_t>> {
             auto l = b.best_bid();
             if (!l) return std::nullopt;
             return std::make_pair(l->px, l->qty);
           })
      .def("best_ask",
           [](const hft::PriceLevelBook& b) -> std::optional<std::pair<int64_t, int64_t>> {
             auto l = b.best_ask();
             if (!l) return std::nullopt;
             return std::make_pair(l->px, l->qty);
           })
      .def("mid", &hft::PriceLevelBook::mid)
      .def("microprice", &hft::PriceLevelBook::microprice)
      .def("imbalance", &hft::PriceLevelBook::imbalance)
      .def("clear", &hft::PriceLevelBook::clear);
}
