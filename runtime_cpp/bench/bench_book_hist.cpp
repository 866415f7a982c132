// Benchmarks for hft::LatencyHistogram, hft::PriceLevelBook and hft::OrderBook.
//
//   bench_book_hist [DEPTH_BIN]
//
// DEPTH_BIN is a file written by bench/predecode_binance.py (packed 25-byte level updates from a
// real Binance BTCUSDT capture). Without it the L2 replay is skipped with a note on stderr.
//
// Method. Each figure is timed over batches of consecutive operations with steady_clock (the
// clock's own cost is measured and subtracted), so "median" and "p99" are the median and 99th
// percentile of the per-batch cost per operation. That is the distribution a user sees when one
// batch hits cold cache lines or a deep-level scan; single-operation timing would mostly measure
// the clock. For msgs/s the p99 is the throughput of the slow (99th percentile) batch. Every
// figure has a "baseline": the same workload on a straightforward std:: container version
// (std::map books, a libm log2 histogram index), run the same way.
//
// Output: one JSON object {"results": [{"name", "unit", "median", "p99", "target", "baseline"}]}
// on stdout; run details on stderr.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <list>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "hft/book/l2_book.hpp"
#include "hft/book/l3_book.hpp"
#include "hft/histogram.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Keeps a value alive without letting the compiler see how it is used.
template <class T>
inline void do_not_optimize(const T& v) {
  asm volatile("" : : "r,m"(v) : "memory");
}

double clock_overhead_ns() {
  std::vector<double> d;
  for (int i = 0; i < 10001; ++i) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    d.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  std::nth_element(d.begin(), d.begin() + static_cast<long>(d.size() / 2), d.end());
  return d[d.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

struct Stats {
  double median;
  double p99;
};

// Runs `body(begin, end)` over [0, n) in batches of `batch` items, `passes` times (after `setup`
// and outside the timed region), and returns per-item ns statistics over all batches.
template <class Setup, class Body>
Stats time_batches(size_t n, size_t batch, int passes, double overhead, Setup setup, Body body) {
  std::vector<double> per_item;
  per_item.reserve((n / batch + 1) * static_cast<size_t>(passes));
  for (int pass = 0; pass < passes; ++pass) {
    setup();
    for (size_t b = 0; b < n; b += batch) {
      const size_t e = std::min(n, b + batch);
      const auto t0 = Clock::now();
      body(b, e);
      const auto t1 = Clock::now();
      const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() - overhead;
      if (pass > 0)
        per_item.push_back(std::max(ns, 0.0) / static_cast<double>(e - b));  // 0: warm-up
    }
  }
  return {percentile(per_item, 50), percentile(per_item, 99)};
}

struct Result {
  std::string name;
  std::string unit;
  double median;
  double p99;
  double target;
  double baseline;
};

// ---------------------------------------------------------------------------------------------
// Histogram

// What a histogram looks like without the bit tricks: a libm log2 and a branch per region.
struct NaiveHistogram {
  std::vector<uint64_t> counts = std::vector<uint64_t>(hft::LatencyHistogram::kBucketCount);
  uint64_t total = 0, min = UINT64_MAX, max = 0, sum = 0;
  void record(uint64_t v) {
    const uint64_t c = std::min(v, hft::LatencyHistogram::kMaxTrackable);
    size_t idx;
    if (c < 2048) {
      idx = c;
    } else {
      const int shift = static_cast<int>(std::log2(static_cast<double>(c))) - 10;
      idx = static_cast<size_t>(shift) * 1024 + static_cast<size_t>(c >> shift);
    }
    ++counts[idx];
    ++total;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
};

Result bench_histogram(double overhead) {
  // Latency-like values: log-uniform from ~50 ns to ~1 ms, so every region and many buckets are
  // hit rather than one hot counter.
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> e(5.6, 20.0);
  std::vector<uint64_t> values(1 << 16);
  for (auto& v : values) v = static_cast<uint64_t>(std::exp2(e(rng)));
  constexpr size_t kBatch = 4096;
  const size_t n = values.size();

  hft::LatencyHistogram h;
  const Stats s = time_batches(
      n, kBatch, 200, overhead, [] {},
      [&](size_t b, size_t e2) {
        for (size_t i = b; i < e2; ++i) h.record(values[i]);
      });
  NaiveHistogram naive;
  const Stats base = time_batches(
      n, kBatch, 200, overhead, [] {},
      [&](size_t b, size_t e2) {
        for (size_t i = b; i < e2; ++i) naive.record(values[i]);
      });
  do_not_optimize(naive.total);
  std::fprintf(stderr, "histogram: %llu records, p50 %llu ns, p99 %llu ns (sanity)\n",
               static_cast<unsigned long long>(h.count()),
               static_cast<unsigned long long>(h.value_at_percentile(50)),
               static_cast<unsigned long long>(h.value_at_percentile(99)));
  return {"histogram_record", "ns/op", s.median, s.p99, 5.0, base.median};
}

// ---------------------------------------------------------------------------------------------
// L2 replay

struct DepthUpdate {
  int64_t px;
  int64_t qty;
  hft::Side side;
};

// Reads predecode_binance.py records: int64 ts, int8 side, int64 px, int64 qty, packed LE.
bool load_depth(const char* path, std::vector<DepthUpdate>& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  const std::vector<char> raw((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
  constexpr size_t kRec = 25;
  if (raw.size() % kRec != 0) {
    std::fprintf(stderr, "%s: size %zu is not a multiple of %zu\n", path, raw.size(), kRec);
    return false;
  }
  auto le64 = [](const char* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << 8 * i;
    return static_cast<int64_t>(v);
  };
  out.reserve(raw.size() / kRec);
  for (size_t off = 0; off < raw.size(); off += kRec) {
    const char* r = raw.data() + off;
    out.push_back({le64(r + 9), le64(r + 17), r[8] == 0 ? hft::Side::Bid : hft::Side::Ask});
  }
  return true;
}

// Straightforward L2 book: one std::map per side.
struct MapL2Book {
  std::map<int64_t, int64_t, std::greater<>> bids;
  std::map<int64_t, int64_t> asks;
  void set_level(hft::Side s, int64_t px, int64_t qty) {
    if (s == hft::Side::Bid) {
      if (qty == 0) {
        bids.erase(px);
      } else {
        bids[px] = qty;
      }
    } else {
      if (qty == 0) {
        asks.erase(px);
      } else {
        asks[px] = qty;
      }
    }
  }
};

Result bench_l2(const std::vector<DepthUpdate>& ups, double overhead) {
  constexpr size_t kBatch = 64;
  constexpr int kPasses = 21;
  // 2^16 ticks = 6553.6 USDT either side of the BTCUSDT touch; the capture also carries far
  // off-market levels (down to 560 USDT), which the window policy drops.
  hft::PriceLevelBook book(size_t{1} << 16);
  uint64_t sink = 0;
  const Stats s = time_batches(
      ups.size(), kBatch, kPasses, overhead, [&] { book.clear(); },
      [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          sink += static_cast<uint64_t>(book.set_level(ups[i].side, ups[i].px, ups[i].qty));
        }
      });
  do_not_optimize(sink);
  const auto bb = book.best_bid();
  const auto ba = book.best_ask();
  std::fprintf(stderr,
               "l2: %zu updates/pass, final touch %lld x %lld, %zu/%zu levels, %llu dropped "
               "by the window\n",
               ups.size(), static_cast<long long>(bb ? bb->px : 0),
               static_cast<long long>(ba ? ba->px : 0), book.level_count(hft::Side::Bid),
               book.level_count(hft::Side::Ask),
               static_cast<unsigned long long>(book.dropped_levels()));
  MapL2Book map_book;
  const Stats base = time_batches(
      ups.size(), kBatch, kPasses, overhead,
      [&] {
        map_book.bids.clear();
        map_book.asks.clear();
      },
      [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) map_book.set_level(ups[i].side, ups[i].px, ups[i].qty);
      });
  // Both books replayed the same stream: the levels near the touch must agree exactly.
  std::vector<hft::PriceLevel> top(20);
  bool same = true;
  for (hft::Side side : {hft::Side::Bid, hft::Side::Ask}) {
    const size_t n = book.depth(side, top);
    std::vector<hft::PriceLevel> want;
    if (side == hft::Side::Bid) {
      for (auto it = map_book.bids.begin(); it != map_book.bids.end() && want.size() < n; ++it) {
        want.push_back({it->first, it->second});
      }
    } else {
      for (auto it = map_book.asks.begin(); it != map_book.asks.end() && want.size() < n; ++it) {
        want.push_back({it->first, it->second});
      }
    }
    same = same && n == top.size() && std::equal(want.begin(), want.end(), top.begin());
  }
  std::fprintf(stderr, "l2: top 20 levels per side %s the std::map replay\n",
               same ? "match" : "DIFFER FROM");
  return {"l2_update_binance_btcusdt", "ns/update", s.median, s.p99, 20.0, base.median};
}

// ---------------------------------------------------------------------------------------------
// L3 synthetic stream

enum class MsgType : uint8_t { kAdd, kCancel, kExecute, kModify };
struct Msg {
  uint64_t id;
  int64_t px;
  int64_t qty;
  MsgType type;
  hft::Side side;
};

// A feed-like stream: about 10k live orders on ~100 levels a side, 45 % adds, 35 % cancels,
// 15 % executions (a third of them full fills), 5 % size modifications. Prices cluster near the
// touch with a geometric tail, as on a real book.
std::vector<Msg> make_l3_stream(size_t n) {
  std::mt19937_64 rng(3);
  std::geometric_distribution<int64_t> depth(0.08);
  struct Live {
    uint64_t id;
    int64_t qty;
    int64_t px;
    hft::Side side;
  };
  std::vector<Live> live;
  std::vector<Msg> out;
  out.reserve(n);
  uint64_t next_id = 1;
  constexpr int64_t kMid = 1'000'000;
  while (out.size() < n) {
    const unsigned r = static_cast<unsigned>(rng() % 100);
    const bool want_add = live.size() < 2000 || (live.size() < 20000 && r < 45);
    if (want_add) {
      const hft::Side side = (rng() & 1) ? hft::Side::Bid : hft::Side::Ask;
      const int64_t d = 1 + std::min<int64_t>(depth(rng), 500);
      const int64_t px = side == hft::Side::Bid ? kMid - d : kMid + d;
      const int64_t qty = 1 + static_cast<int64_t>(rng() % 1000);
      live.push_back({next_id, qty, px, side});
      out.push_back({next_id++, px, qty, MsgType::kAdd, side});
      continue;
    }
    const size_t k = static_cast<size_t>(rng() % live.size());
    Live& o = live[k];
    if (r < 80) {
      out.push_back({o.id, o.px, 0, MsgType::kCancel, o.side});
    } else if (r < 95) {
      const int64_t q = (rng() % 3 == 0) ? o.qty : 1 + static_cast<int64_t>(rng() % o.qty);
      out.push_back({o.id, o.px, q, MsgType::kExecute, o.side});
      o.qty -= q;
      if (o.qty != 0) continue;
    } else {
      const int64_t q = 1 + static_cast<int64_t>(rng() % 1000);
      out.push_back({o.id, o.px, q, MsgType::kModify, o.side});
      o.qty = q;
      continue;
    }
    live[k] = live.back();
    live.pop_back();
  }
  return out;
}

// Straightforward L3 book: std::map of std::list FIFOs plus an unordered_map index.
struct MapL3Book {
  struct Order {
    uint64_t id;
    int64_t qty;
  };
  struct Level {
    std::list<Order> fifo;
    int64_t qty = 0;
  };
  struct Ref {
    hft::Side side;
    int64_t px;
    std::list<Order>::iterator it;
  };
  std::map<int64_t, Level, std::greater<>> bids;
  std::map<int64_t, Level> asks;
  std::unordered_map<uint64_t, Ref> index;

  Level& level(hft::Side s, int64_t px) { return s == hft::Side::Bid ? bids[px] : asks[px]; }
  void erase_level(hft::Side s, int64_t px) {
    if (s == hft::Side::Bid) {
      bids.erase(px);
    } else {
      asks.erase(px);
    }
  }
  void remove(std::unordered_map<uint64_t, Ref>::iterator r) {
    Level& l = level(r->second.side, r->second.px);
    l.qty -= r->second.it->qty;
    l.fifo.erase(r->second.it);
    if (l.fifo.empty()) erase_level(r->second.side, r->second.px);
    index.erase(r);
  }
  void apply(const Msg& m) {
    if (m.type == MsgType::kAdd) {
      Level& l = level(m.side, m.px);
      l.fifo.push_back({m.id, m.qty});
      l.qty += m.qty;
      index.emplace(m.id, Ref{m.side, m.px, std::prev(l.fifo.end())});
      return;
    }
    auto r = index.find(m.id);
    if (m.type == MsgType::kCancel || (m.type == MsgType::kExecute && m.qty == r->second.it->qty)) {
      remove(r);
      return;
    }
    Level& l = level(r->second.side, r->second.px);
    const int64_t new_qty = m.type == MsgType::kExecute ? r->second.it->qty - m.qty : m.qty;
    l.qty += new_qty - r->second.it->qty;
    const bool up = new_qty > r->second.it->qty;
    r->second.it->qty = new_qty;
    if (up) l.fifo.splice(l.fifo.end(), l.fifo, r->second.it);
  }
};

Result bench_l3(double overhead) {
  const std::vector<Msg> msgs = make_l3_stream(2'000'000);
  // Short batches (a few us) so that scheduler preemption on a busy machine hits well under 1 %
  // of them and the p99 reflects the book rather than the OS.
  constexpr size_t kBatch = 256;
  constexpr int kPasses = 6;
  hft::OrderBook book(size_t{1} << 15);
  uint64_t failures = 0;
  const Stats s = time_batches(
      msgs.size(), kBatch, kPasses, overhead, [&] { book.clear(); },
      [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          const Msg& m = msgs[i];
          hft::OrderResult r;
          switch (m.type) {
            case MsgType::kAdd:
              r = book.add(m.id, m.side, m.px, m.qty);
              break;
            case MsgType::kCancel:
              r = book.cancel(m.id);
              break;
            case MsgType::kExecute:
              r = book.execute(m.id, m.qty);
              break;
            default:
              r = book.modify(m.id, m.qty);
              break;
          }
          failures += r != hft::OrderResult::kOk;
        }
      });
  std::fprintf(stderr, "l3: %zu msgs/pass, %zu live orders at end, %llu failed ops (expect 0)\n",
               msgs.size(), book.order_count(), static_cast<unsigned long long>(failures));
  MapL3Book map_book;
  const Stats base = time_batches(
      msgs.size(), kBatch, 3, overhead,
      [&] {
        map_book.bids.clear();
        map_book.asks.clear();
        map_book.index.clear();
      },
      [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) map_book.apply(msgs[i]);
      });
  // Convert ns/msg to msgs/s; the slow tail (p99 ns) becomes the low-throughput figure.
  return {"l3_synthetic_add_cancel_execute",
          "msgs/s",
          1e9 / s.median,
          1e9 / s.p99,
          15e6,
          1e9 / base.median};
}

}  // namespace

int main(int argc, char** argv) {
  const double overhead = clock_overhead_ns();
  std::fprintf(stderr, "steady_clock::now() pair overhead: %.1f ns (subtracted per batch)\n",
               overhead);
  std::vector<Result> results;
  results.push_back(bench_histogram(overhead));
  if (argc > 1) {
    std::vector<DepthUpdate> ups;
    if (!load_depth(argv[1], ups) || ups.empty()) {
      std::fprintf(stderr, "cannot read depth updates from %s\n", argv[1]);
      return 1;
    }
    results.push_back(bench_l2(ups, overhead));
  } else {
    std::fprintf(stderr,
                 "no DEPTH_BIN given: skipping the L2 replay (make one with "
                 "bench/predecode_binance.py)\n");
  }
  results.push_back(bench_l3(overhead));

  std::printf("{\"results\": [");
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::printf(
        "%s\n  {\"name\": \"%s\", \"unit\": \"%s\", \"median\": %.3f, \"p99\": %.3f, "
        "\"target\": %.3f, \"baseline\": %.3f}",
        i == 0 ? "" : ",", r.name.c_str(), r.unit.c_str(), r.median, r.p99, r.target, r.baseline);
  }
  std::printf("\n]}\n");
  return 0;
}
