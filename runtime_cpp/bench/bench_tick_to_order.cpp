// Tick-to-order benchmark for hft::trading::Pipeline on a real Binance BTCUSDT depth replay.
//
//   bench_tick_to_order DEPTH_BIN [--quick]
//
// DEPTH_BIN is written by bench/predecode_binance.py (packed 25-byte level updates). Without it
// the bench prints {"error": ...} and exits with status 2.
//
// Records become MarketMsgs with consecutive sequence numbers; consecutive records with the same
// capture timestamp form one exchange event (kMsgMore on all but the last), so the strategy runs
// once per event, as it would live.
//
// Figures:
//  - tick_to_order_p50/p99/p999: single thread, feed -> book -> strategy -> risk -> gateway,
//    from publish() entry (rdtsc) to the gateway's encode() returning (rdtsc), per order sent,
//    in ns. Each repeat replays the whole file into a fresh pipeline; "median" is the median of
//    the repeats' percentile, "p99" the worst repeat's.
//  - pipeline_throughput_inline / _threaded: messages per second through the whole pipeline,
//    inline and split feed | book+strategy+risk+gateway over an SpscRing (ingress on CPU 0,
//    worker on CPU 1). "median" over repeats, "p99" the slowest repeat. The threaded figure's
//    baseline is the inline median.
//
// Strategy: SymmetricQuoter one tick behind the touch, 1 lot, re-quoting on every touch change.
// Risk limits are the schema example's except the order rate (raised so that every quote reaches
// the gateway: the bench measures the full path, not the cheaper reject path).
//
// Output: {"results": [{"name", "unit", "median", "p99", "target", "baseline"}]} on stdout;
// details on stderr.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hft/clock.hpp"
#include "hft/histogram.hpp"
#include "hft/thread.hpp"
#include "hft/trading/pipeline.hpp"

namespace {

using namespace hft::trading;

constexpr std::size_t kRecordBytes = 25;

// Gateway that serialises each order into a small preallocated wire buffer, as a binary order
// entry encoder would, and keeps a checksum so the work cannot be optimised away.
struct BenchGateway {
  static constexpr std::size_t kSlots = 256;
  std::unique_ptr<std::array<char, 48>[]> wire = std::make_unique<std::array<char, 48>[]>(kSlots);
  std::uint64_t sent = 0;
  std::uint64_t checksum = 0;
  void encode(const OrderRequest& o) noexcept {
    char* p = wire[sent & (kSlots - 1)].data();
    std::memcpy(p, &o.client_order_id, 8);
    std::memcpy(p + 8, &o.instrument, 4);
    p[12] = static_cast<char>(o.side);
    std::memcpy(p + 16, &o.px_ticks, 8);
    std::memcpy(p + 24, &o.qty_lots, 8);
    std::memcpy(p + 32, &o.ts_ns, 8);
    checksum += static_cast<std::uint64_t>(o.px_ticks) ^ o.client_order_id;
    ++sent;
  }
};

RiskLimits bench_limits() {
  RiskLimits l;
  l.max_position = 5'000'000;
  l.max_order_qty = 1'000'000;
  l.max_orders_per_second = RiskGate::kMaxRate;
  l.price_band_bps = 25;
  l.max_notional = 0;
  l.kill_switch = true;
  return l;
}

SymmetricQuoter bench_strategy() {
  SymmetricQuoter q;
  q.instrument = 0;
  q.offset_ticks = 1;
  q.qty_lots = 1;
  q.max_position = 5'000'000;
  return q;
}

std::optional<std::vector<MarketMsg>> load(const char* path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  const std::vector<char> raw((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
  if (raw.empty() || raw.size() % kRecordBytes != 0) return std::nullopt;
  const std::size_t n = raw.size() / kRecordBytes;
  std::vector<MarketMsg> msgs(n);
  std::int64_t prev_ts = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char* r = raw.data() + i * kRecordBytes;
    std::int64_t ts = 0, px = 0, qty = 0;
    std::memcpy(&ts, r, 8);
    std::memcpy(&px, r + 9, 8);
    std::memcpy(&qty, r + 17, 8);
    const auto side = r[8] == 0 ? hft::Side::Bid : hft::Side::Ask;
    msgs[i] = book_delta(0, side, px, qty, i + 1, static_cast<std::uint64_t>(ts));
    if (i > 0 && ts == prev_ts) msgs[i - 1].flags |= kMsgMore;
    prev_ts = ts;
  }
  return msgs;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 != 0 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

struct Result {
  std::string name;
  std::string unit;
  double median;
  double p99;
  double target;  // < 0: none
  double baseline;
};

void print_json(const std::vector<Result>& rs) {
  std::printf("{\"results\": [");
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const Result& r = rs[i];
    std::printf("%s\n  {\"name\": \"%s\", \"unit\": \"%s\", \"median\": %.3f, \"p99\": %.3f, ",
                i == 0 ? "" : ",", r.name.c_str(), r.unit.c_str(), r.median, r.p99);
    if (r.target < 0) {
      std::printf("\"target\": null, ");
    } else {
      std::printf("\"target\": %.1f, ", r.target);
    }
    if (r.baseline < 0) {
      std::printf("\"baseline\": null}");
    } else {
      std::printf("\"baseline\": %.3f}", r.baseline);
    }
  }
  std::printf("\n]}\n");
}

template <unsigned Splits>
using BenchPipeline = Pipeline<SymmetricQuoter, BenchGateway, Splits>;

PipelineConfig bench_config() {
  PipelineConfig cfg;
  cfg.instruments = 1;
  // 409.6 USD each side of the touch at tick 0.1: far more than the quoter reads, small enough
  // (32 KiB per side) to stay in L1/L2.
  cfg.book_depth_ticks = 4096;
  cfg.queue_capacity = 4096;
  cfg.cpu = {0, 1, -1, -1};
  cfg.spin_limit = 4096;
  return cfg;
}

struct Run {
  double seconds;
  std::uint64_t orders;
  std::uint64_t checksum;
  hft::LatencyHistogram latency;
};

template <unsigned Splits>
Run replay(const std::vector<MarketMsg>& msgs, const hft::TscClock& clk) {
  auto p = std::make_unique<BenchPipeline<Splits>>(bench_config(), bench_limits(), bench_strategy(),
                                                   BenchGateway{}, clk);
  if (const auto ec = p->bind_ingress()) {
    std::fprintf(stderr, "warning: cannot pin the ingress thread: %s\n", ec.message().c_str());
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (const MarketMsg& m : msgs) p->publish(m);
  p->stop();
  const auto t1 = std::chrono::steady_clock::now();
  if (p->pin_errors() != 0) std::fprintf(stderr, "warning: a worker could not be pinned\n");
  return Run{std::chrono::duration<double>(t1 - t0).count(), p->gateway().sent,
             p->gateway().checksum, p->latency()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("{\"error\": \"usage: bench_tick_to_order DEPTH_BIN [--quick]\"}\n");
    return 2;
  }
  const auto loaded = load(argv[1]);
  if (!loaded) {
    std::printf(
        "{\"error\": \"cannot read depth records from the given file (missing, empty or not a "
        "multiple of 25 bytes); write it with bench/predecode_binance.py\"}\n");
    return 2;
  }
  const std::vector<MarketMsg>& msgs = *loaded;
  const bool quick = argc > 2 && std::string_view(argv[2]) == "--quick";
  const int repeats = quick ? 3 : 7;
  const auto clk = hft::TscClock::calibrate();
  std::fprintf(stderr, "%zu messages, %.3f TSC ticks/ns, invariant TSC: %s\n", msgs.size(),
               clk.ticks_per_ns(), hft::TscClock::invariant() ? "yes" : "no");

  std::vector<double> p50, p99, p999, tp_inline, tp_threaded, thr_p50;
  std::uint64_t orders_inline = 0, orders_threaded = 0, sum_inline = 0, sum_threaded = 0;
  for (int r = 0; r < repeats; ++r) {
    const Run a = replay<kInline>(msgs, clk);
    p50.push_back(static_cast<double>(a.latency.value_at_percentile(50.0)));
    p99.push_back(static_cast<double>(a.latency.value_at_percentile(99.0)));
    p999.push_back(static_cast<double>(a.latency.value_at_percentile(99.9)));
    tp_inline.push_back(static_cast<double>(msgs.size()) / a.seconds);
    orders_inline = a.orders;
    sum_inline = a.checksum;

    const Run b = replay<kSplitBeforeBook>(msgs, clk);
    tp_threaded.push_back(static_cast<double>(msgs.size()) / b.seconds);
    thr_p50.push_back(static_cast<double>(b.latency.value_at_percentile(50.0)));
    orders_threaded = b.orders;
    sum_threaded = b.checksum;
  }
  std::fprintf(
      stderr, "orders per replay: inline %llu, threaded %llu (%s)\n",
      static_cast<unsigned long long>(orders_inline),
      static_cast<unsigned long long>(orders_threaded),
      orders_inline == orders_threaded && sum_inline == sum_threaded ? "identical" : "MISMATCH");
  std::fprintf(stderr, "threaded tick-to-order p50 (cross-core, incl. ring): %.0f ns\n",
               median(thr_p50));
  if (orders_inline != orders_threaded || sum_inline != sum_threaded) return 1;

  const auto worst = [](const std::vector<double>& v) {
    return *std::max_element(v.begin(), v.end());
  };
  const auto slowest = [](const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
  };
  const double inline_tp = median(tp_inline);
  print_json({
      {"tick_to_order_p50", "ns", median(p50), worst(p50), 100.0, -1},
      {"tick_to_order_p99", "ns", median(p99), worst(p99), 300.0, -1},
      {"tick_to_order_p999", "ns", median(p999), worst(p999), -1, -1},
      {"pipeline_throughput_inline", "msgs/s", inline_tp, slowest(tp_inline), -1, -1},
      {"pipeline_throughput_threaded", "msgs/s", median(tp_threaded), slowest(tp_threaded), -1,
       inline_tp},
  });
  return 0;
}
