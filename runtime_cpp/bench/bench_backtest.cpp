// Throughput of the backtest engine replaying a real tape with a market-making strategy.
//
//   bench_backtest TAPE.hftt [RUNS=7] [--probabilistic] [--latency-ns N] [--half-spread TICKS]
//
// The strategy quotes both sides around the mid with an inventory skew on every END event of
// every instrument (the hftbacktest-comparable workload: a market maker evaluated at every
// event), so the engine requotes whenever the touch moves: orders, cancels, queue tracking and
// fills are all on the measured path.
//
// Baseline, measured in the same process: the same tape replayed into bare hft::PriceLevelBooks
// with no strategy and no exchange simulation, the ceiling the engine can approach.
//
// Output: one JSON object on stdout: {"events", "seconds", "events_per_s", ...} where seconds and
// events_per_s are the medians over RUNS runs of the replay loop; run details on stderr.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "hft/backtest/backtest.hpp"
#include "hft/book/l2_book.hpp"

namespace {

namespace bt = hft::backtest;

/// Inventory-skewed quoting around the mid, never inside the touch (post-only would reject).
struct MarketMaker {
  double half_spread_ticks = 0.5;  // joins the touch when the spread is one tick
  double skew_ticks_per_lot = 0.05;
  std::int64_t qty = 1;
  std::int64_t max_position = 20;

  void on_market(const bt::MarketView& v, bt::Intent& out) {
    for (std::size_t i = 0; i < v.n; ++i) {
      const bt::InstrumentView& x = v.inst[i];
      if (!x.valid) continue;
      const double mid = 0.5 * static_cast<double>(x.bid_px + x.ask_px);
      const double fair = mid - skew_ticks_per_lot * static_cast<double>(x.position);
      bt::InstrumentIntent& w = out.inst[i];
      w.quote = true;
      w.bid_px =
          std::min(static_cast<std::int64_t>(std::floor(fair - half_spread_ticks)), x.bid_px);
      w.ask_px = std::max(static_cast<std::int64_t>(std::ceil(fair + half_spread_ticks)), x.ask_px);
      w.bid_qty = x.position < max_position ? qty : 0;
      w.ask_qty = x.position > -max_position ? qty : 0;
    }
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Book-only replay: the work every backtester must do at minimum.
double baseline_seconds(const bt::Tape& tape, std::size_t capacity, std::int64_t& checksum) {
  std::vector<std::unique_ptr<hft::PriceLevelBook>> books;
  for (std::size_t i = 0; i < tape.instruments(); ++i)
    books.push_back(std::make_unique<hft::PriceLevelBook>(capacity));
  const auto px = tape.px();
  const auto qty = tape.qty();
  const auto ids = tape.instrument_ids();
  const auto kinds = tape.kinds();
  const auto flags = tape.flags();
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t sum = 0;
  for (std::size_t r = 0; r < tape.size(); ++r) {
    hft::PriceLevelBook& b = *books[ids[r]];
    const hft::Side side = (flags[r] & bt::kFlagAsk) != 0 ? hft::Side::Ask : hft::Side::Bid;
    if (kinds[r] == bt::kDepth) b.set_level(side, px[r], qty[r]);
    if ((flags[r] & bt::kFlagEnd) != 0) {
      const auto bb = b.best_bid();
      sum += bb ? bb->px : 0;
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  checksum = sum;
  return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: %s TAPE.hftt [RUNS] [--probabilistic] [--latency-ns N] [--half-spread TICKS]\n",
        argv[0]);
    return 2;
  }
  int runs = 7;
  double half_spread = MarketMaker{}.half_spread_ticks;
  bt::Config cfg;
  cfg.latency.entry_ns = cfg.latency.response_ns = 1'000'000;  // 1 ms each way
  cfg.maker_fee_bps = -0.5;
  cfg.taker_fee_bps = 2.5;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--probabilistic") == 0) {
      cfg.queue = bt::QueueModel::kProbabilistic;
    } else if (std::strcmp(argv[i], "--half-spread") == 0 && i + 1 < argc) {
      half_spread = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--latency-ns") == 0 && i + 1 < argc) {
      cfg.latency.entry_ns = cfg.latency.response_ns = std::atoll(argv[++i]);
    } else {
      runs = std::max(1, std::atoi(argv[i]));
    }
  }
  try {
    const bt::Tape tape = bt::Tape::open(argv[1]);
    for (std::size_t i = 0; i < tape.instruments(); ++i) {
      const bt::InstrumentInfo& in = tape.instrument(i);
      std::fprintf(stderr, "instrument %zu: %s tick %g lot %g multiplier %g\n", i,
                   in.symbol.c_str(), in.tick_size, in.lot_size, in.multiplier);
    }
    std::vector<double> secs, base;
    bt::Result last{};
    std::int64_t checksum = 0;
    for (int r = 0; r < runs; ++r) {
      MarketMaker mm;
      mm.half_spread_ticks = half_spread;
      last = bt::run(tape, cfg, mm);
      secs.push_back(last.summary.seconds);
      base.push_back(baseline_seconds(tape, cfg.book_capacity_ticks, checksum));
      std::fprintf(stderr, "run %d: %.1f ms engine (%.2f M events/s), %.1f ms book-only baseline\n",
                   r, secs.back() * 1e3,
                   static_cast<double>(last.summary.events) / secs.back() / 1e6, base.back() * 1e3);
    }
    const bt::Summary& s = last.summary;
    const double sec = median(secs), bsec = median(base);
    std::printf(
        "{\"results\": [{\"name\": \"backtest_replay\", \"unit\": \"events/s\", \"median\": %.0f, "
        "\"p99\": null, \"target\": null, \"baseline\": %.0f}], "
        "\"events\": %llu, \"seconds\": %.6f, \"events_per_s\": %.0f, \"runs\": %d, "
        "\"baseline_book_only_events_per_s\": %.0f, \"strategy_calls\": %llu, \"orders\": %llu, "
        "\"cancels\": %llu, \"fills\": %llu, \"post_only_rejects\": %llu, \"pnl\": %.6f, "
        "\"queue\": \"%s\", \"latency_ns\": %lld, \"half_spread_ticks\": %g, \"checksum\": %lld}\n",
        static_cast<double>(s.events) / sec, static_cast<double>(tape.size()) / bsec,
        static_cast<unsigned long long>(s.events), sec, static_cast<double>(s.events) / sec, runs,
        static_cast<double>(tape.size()) / bsec, static_cast<unsigned long long>(s.strategy_calls),
        static_cast<unsigned long long>(s.orders), static_cast<unsigned long long>(s.cancels),
        static_cast<unsigned long long>(s.fills),
        static_cast<unsigned long long>(s.post_only_rejects), s.pnl,
        cfg.queue == bt::QueueModel::kProbabilistic ? "probabilistic" : "risk_averse",
        static_cast<long long>(cfg.latency.entry_ns), half_spread,
        static_cast<long long>(checksum));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_backtest: %s\n", e.what());
    return 1;
  }
  return 0;
}
