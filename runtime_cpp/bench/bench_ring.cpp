// Ring benchmarks. Prints {"results": [...]} JSON on stdout, a readable table on stderr.
//
//  - throughput (items/s) for 8-byte and 64-byte items: hft::SpscRing (single and batch
//    operations), a cached-index SPSC ring (the design alternative, bench-only), and
//    boost::lockfree::spsc_queue when available. Median over repeated runs; "p99" for a
//    throughput is the 1st percentile over runs, i.e. the slow tail.
//  - round-trip latency (ns): ping-pong through two rings, against a bare ping-pong on two
//    cache lines, the floor set by the cache-coherence round trip itself. Median and p99
//    over all round trips (TSC-timed; note some CPUs advance the TSC in coarse steps).
//
// "baseline" is the figure to compare with: boost for the hft ring, the single-item hft
// ring for its batch and cached-index variants, the bare ping-pong for round trips.
// Producer / ping thread on CPU 0, consumer / pong thread on CPU 1.
//
// runtime_rust's `ring_bench` mirrors this method (item types and counts, capacity, start
// gate, warm-up run, run count and time budget, spin limit, checksum, percentiles) under the
// same result names, so `hftc bench --lang all` compares the two rings line by line.
//
//   bench_ring [--quick]     (--quick: tiny counts, one run; a smoke test)
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hft/clock.hpp"
#include "hft/cpu.hpp"
#include "hft/spsc_ring.hpp"
#include "hft/thread.hpp"

#if __has_include(<boost/lockfree/spsc_queue.hpp>)
#include <boost/lockfree/spsc_queue.hpp>
#define HFT_BENCH_BOOST 1
#else
#define HFT_BENCH_BOOST 0
#endif

namespace {

constexpr int kProducerCpu = 0;
constexpr int kConsumerCpu = 1;
constexpr std::size_t kCapacity = 4096;
constexpr std::size_t kBatch = 32;

// Waiting: spin with `pause`, yielding only after ~16k polls (a few hundred microseconds,
// far longer than any wait on an idle machine, so measurements are pure spinning). On an
// oversubscribed machine a descheduled peer then gets to run instead of each side burning
// whole time slices. --quick (a smoke test) yields much sooner.
std::uint32_t g_spin_limit = 1u << 14;

template <class Cond>
inline void spin_while(Cond cond) {
  hft::SpinWait w(g_spin_limit);
  while (cond()) w.wait();
}

// Each measurement repeats until it has `runs` results or has used this much time (but
// always at least kMinRuns), so a loaded machine cannot stretch the bench indefinitely.
constexpr auto kTimeBudget = std::chrono::seconds(3);
constexpr int kMinRuns = 3;

struct Item8 {
  std::uint64_t v;
};
struct Item64 {
  std::uint64_t v;
  std::uint64_t pad[7];
};
static_assert(sizeof(Item8) == 8 && sizeof(Item64) == 64);

template <class T>
T make(std::uint64_t s) {
  T t{};
  t.v = s;
  return t;
}

// ---- the alternative design: shared indices with cached opposite copies -------------
// The ring hft::SpscRing replaced: producer and consumer each publish an index on their
// own line and keep a private copy of the other's, re-read only when the copy says full
// (producer) or empty (consumer). An item's hop between cores moves two lines (the index,
// then the slot) where the sequence-per-slot ring moves one.
template <class T>
class CachedIndexRing {
 public:
  explicit CachedIndexRing(std::size_t capacity)
      : slots_(std::make_unique<T[]>(capacity)), mask_(capacity - 1) {}
  bool try_push(const T& v) noexcept {
    const std::uint64_t head = prod_.head.load(std::memory_order_relaxed);
    if (head - prod_.cached_tail > mask_) {
      prod_.cached_tail = cons_.tail.load(std::memory_order_acquire);
      if (head - prod_.cached_tail > mask_) return false;
    }
    slots_[head & mask_] = v;
    prod_.head.store(head + 1, std::memory_order_release);
    return true;
  }
  bool try_pop(T& v) noexcept {
    const std::uint64_t tail = cons_.tail.load(std::memory_order_relaxed);
    if (tail == cons_.cached_head) {
      cons_.cached_head = prod_.head.load(std::memory_order_acquire);
      if (tail == cons_.cached_head) return false;
    }
    v = slots_[tail & mask_];
    cons_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

 private:
  std::unique_ptr<T[]> slots_;
  std::size_t mask_;
  struct alignas(hft::kCacheLineSize) {
    std::atomic<std::uint64_t> head{0};
    std::uint64_t cached_tail = 0;
  } prod_;
  struct alignas(hft::kCacheLineSize) {
    std::atomic<std::uint64_t> tail{0};
    std::uint64_t cached_head = 0;
  } cons_;
};

// ---- adapters: one push/pop interface for every contender --------------------------
template <class T>
struct HftRing {
  hft::SpscRing<T> r{kCapacity};
  bool push(const T& v) noexcept { return r.try_push(v); }
  bool pop(T& v) noexcept { return r.try_pop(v); }
};
template <class T>
struct CachedRing {
  CachedIndexRing<T> r{kCapacity};
  bool push(const T& v) noexcept { return r.try_push(v); }
  bool pop(T& v) noexcept { return r.try_pop(v); }
};
#if HFT_BENCH_BOOST
template <class T>
struct BoostRing {
  // boost keeps one slot empty to tell full from empty: ask for one more.
  boost::lockfree::spsc_queue<T> r{kCapacity + 1};
  bool push(const T& v) noexcept { return r.push(v); }
  bool pop(T& v) noexcept { return r.pop(v); }
};
#endif

struct Result {
  std::string name;
  std::string unit;
  double median;
  double p99;
  std::optional<double> target;
  std::optional<double> baseline;
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = static_cast<std::size_t>(std::ceil(rank));
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

void pin_or_warn(int cpu) {
  if (const auto ec = hft::pin_current_thread(cpu)) {
    std::fprintf(stderr, "warning: cannot pin to CPU %d: %s\n", cpu, ec.message().c_str());
  }
}

// Runs producer and consumer threads until `count` items went through; returns items/s.
template <class T, class Push, class Pop>
double run_throughput(std::uint64_t count, Push push_all, Pop pop_all) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  auto gate = [&](int cpu) {
    pin_or_warn(cpu);
    ready.fetch_add(1);
    spin_while([&] { return !go.load(std::memory_order_acquire); });
  };
  std::uint64_t checksum = 0;
  std::thread producer([&] {
    gate(kProducerCpu);
    push_all(count);
  });
  double seconds = 0;
  std::thread consumer([&] {
    gate(kConsumerCpu);
    const auto t0 = std::chrono::steady_clock::now();
    checksum = pop_all(count);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  });
  while (ready.load() != 2) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  producer.join();
  consumer.join();
  if (checksum != count * (count - 1) / 2) {
    std::fprintf(stderr, "error: checksum mismatch\n");
    std::exit(1);
  }
  return static_cast<double>(count) / seconds;
}

template <class T, class Ring>
double throughput_single(std::uint64_t count) {
  auto ring = std::make_unique<Ring>();
  return run_throughput<T>(
      count,
      [&](std::uint64_t n) {
        for (std::uint64_t s = 0; s < n; ++s) {
          const T v = make<T>(s);
          spin_while([&] { return !ring->push(v); });
        }
      },
      [&](std::uint64_t n) {
        std::uint64_t sum = 0;
        T v{};
        for (std::uint64_t s = 0; s < n; ++s) {
          spin_while([&] { return !ring->pop(v); });
          sum += v.v;
        }
        return sum;
      });
}

template <class T>
double throughput_batch(std::uint64_t count) {
  auto ring = std::make_unique<hft::SpscRing<T>>(kCapacity);
  return run_throughput<T>(
      count,
      [&](std::uint64_t n) {
        std::array<T, kBatch> buf{};
        hft::SpinWait w(g_spin_limit);
        for (std::uint64_t s = 0; s < n;) {
          const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, n - s));
          for (std::size_t i = 0; i < k; ++i) buf[i] = make<T>(s + i);
          std::size_t done = 0;
          while (done < k) {
            const std::size_t m = ring->try_push_n(std::span<const T>(buf.data() + done, k - done));
            if (m == 0)
              w.wait();
            else
              w.reset();
            done += m;
          }
          s += k;
        }
      },
      [&](std::uint64_t n) {
        std::uint64_t sum = 0;
        std::array<T, kBatch> buf{};
        hft::SpinWait w(g_spin_limit);
        for (std::uint64_t s = 0; s < n;) {
          const std::size_t m = ring->try_pop_n(buf);
          if (m == 0)
            w.wait();
          else
            w.reset();
          for (std::size_t i = 0; i < m; ++i) sum += buf[i].v;
          s += m;
        }
        return sum;
      });
}

// Median and slow tail (1st percentile) over `runs` runs, after one warm-up run.
template <class F>
std::pair<double, double> repeat(int runs, F f) {
  (void)f();
  std::vector<double> v;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    v.push_back(f());
    if (i + 1 >= kMinRuns && std::chrono::steady_clock::now() - t0 > kTimeBudget) break;
  }
  return {percentile(v, 50), percentile(v, 1)};
}

// Round trip: ping sends i through `a`, pong echoes it back through `b`. Samples in ns.
template <class Ring>
std::vector<double> ping_pong_rings(std::uint64_t iters, const hft::TscClock& clk) {
  auto a = std::make_unique<Ring>();
  auto b = std::make_unique<Ring>();
  std::vector<double> samples;
  samples.reserve(iters);
  std::thread pong([&] {
    pin_or_warn(kConsumerCpu);
    Item8 v{};
    for (std::uint64_t i = 0; i < iters; ++i) {
      spin_while([&] { return !a->pop(v); });
      spin_while([&] { return !b->push(v); });
    }
  });
  pin_or_warn(kProducerCpu);
  Item8 v{};
  for (std::uint64_t i = 0; i < iters; ++i) {
    const std::uint64_t t0 = hft::TscClock::start();
    spin_while([&] { return !a->push(make<Item8>(i)); });
    spin_while([&] { return !b->pop(v); });
    const std::uint64_t t1 = hft::TscClock::stop();
    if (v.v != i) std::exit(1);
    samples.push_back(static_cast<double>(clk.to_ns(t1 - t0)));
  }
  pong.join();
  return samples;
}

// The floor: one counter per cache line, each written by one side, nothing else.
std::vector<double> ping_pong_bare(std::uint64_t iters, const hft::TscClock& clk) {
  struct alignas(hft::kCacheLineSize) Line {
    std::atomic<std::uint64_t> v{0};
  };
  auto lines = std::make_unique<std::array<Line, 2>>();
  auto& ping = (*lines)[0].v;
  auto& pong_line = (*lines)[1].v;
  std::vector<double> samples;
  samples.reserve(iters);
  std::thread pong([&] {
    pin_or_warn(kConsumerCpu);
    for (std::uint64_t i = 1; i <= iters; ++i) {
      spin_while([&] { return ping.load(std::memory_order_acquire) != i; });
      pong_line.store(i, std::memory_order_release);
    }
  });
  pin_or_warn(kProducerCpu);
  for (std::uint64_t i = 1; i <= iters; ++i) {
    const std::uint64_t t0 = hft::TscClock::start();
    ping.store(i, std::memory_order_release);
    spin_while([&] { return pong_line.load(std::memory_order_acquire) != i; });
    const std::uint64_t t1 = hft::TscClock::stop();
    samples.push_back(static_cast<double>(clk.to_ns(t1 - t0)));
  }
  pong.join();
  return samples;
}

template <class F>
std::pair<double, double> latency(int runs, F f) {
  (void)f();  // warm-up
  std::vector<double> all;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    const auto s = f();
    all.insert(all.end(), s.begin(), s.end());
    if (std::chrono::steady_clock::now() - t0 > kTimeBudget) break;
  }
  return {percentile(all, 50), percentile(all, 99)};
}

void print_json(const std::vector<Result>& results) {
  auto num = [](std::optional<double> v) {
    if (!v) return std::string("null");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", *v);
    return std::string(buf);
  };
  std::printf("{\"results\": [\n");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::printf(
        "  {\"name\": \"%s\", \"unit\": \"%s\", \"median\": %s, \"p99\": %s, \"target\": %s, "
        "\"baseline\": %s}%s\n",
        r.name.c_str(), r.unit.c_str(), num(r.median).c_str(), num(r.p99).c_str(),
        num(r.target).c_str(), num(r.baseline).c_str(), i + 1 < results.size() ? "," : "");
  }
  std::printf("]}\n");
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const int runs = quick ? 1 : 9;
  const std::uint64_t n8 = quick ? 200'000 : 10'000'000;
  const std::uint64_t n64 = quick ? 100'000 : 4'000'000;
  const std::uint64_t rtt_iters = quick ? 2'000 : 100'000;
  if (quick) g_spin_limit = 256;

  std::vector<Result> out;
  auto add_tp = [&](const char* name, std::pair<double, double> mp,
                    std::optional<double> baseline = std::nullopt) {
    out.push_back({name, "items/s", mp.first, mp.second, std::nullopt, baseline});
    std::fprintf(stderr, "%-28s %12.3e items/s (slow tail %.3e)\n", name, mp.first, mp.second);
    return mp.first;
  };

  std::optional<double> boost8, boost64;
#if HFT_BENCH_BOOST
  boost8 = add_tp("boost_spsc_8B",
                  repeat(runs, [&] { return throughput_single<Item8, BoostRing<Item8>>(n8); }));
  boost64 = add_tp("boost_spsc_64B",
                   repeat(runs, [&] { return throughput_single<Item64, BoostRing<Item64>>(n64); }));
#endif
  const double hft8 =
      add_tp("ring_8B", repeat(runs, [&] { return throughput_single<Item8, HftRing<Item8>>(n8); }),
             boost8);
  const double hft64 = add_tp(
      "ring_64B", repeat(runs, [&] { return throughput_single<Item64, HftRing<Item64>>(n64); }),
      boost64);
  add_tp("ring_8B_batch32", repeat(runs, [&] { return throughput_batch<Item8>(n8); }), hft8);
  add_tp("ring_64B_batch32", repeat(runs, [&] { return throughput_batch<Item64>(n64); }), hft64);
  add_tp("cached_index_ring_8B",
         repeat(runs, [&] { return throughput_single<Item8, CachedRing<Item8>>(n8); }), hft8);
  add_tp("cached_index_ring_64B",
         repeat(runs, [&] { return throughput_single<Item64, CachedRing<Item64>>(n64); }), hft64);

  const auto clk = hft::TscClock::calibrate(std::chrono::milliseconds(50));
  auto add_lat = [&](const char* name, std::pair<double, double> mp,
                     std::optional<double> baseline = std::nullopt) {
    out.push_back({name, "ns", mp.first, mp.second, std::nullopt, baseline});
    std::fprintf(stderr, "%-28s %8.1f ns median, %8.1f ns p99\n", name, mp.first, mp.second);
    return mp.first;
  };
  const int lat_runs = quick ? 1 : 5;
  const double bare = add_lat("rtt_bare_pingpong",
                              latency(lat_runs, [&] { return ping_pong_bare(rtt_iters, clk); }));
  add_lat("rtt_ring_8B",
          latency(lat_runs, [&] { return ping_pong_rings<HftRing<Item8>>(rtt_iters, clk); }), bare);
  add_lat("rtt_cached_index_ring_8B",
          latency(lat_runs, [&] { return ping_pong_rings<CachedRing<Item8>>(rtt_iters, clk); }),
          bare);
#if HFT_BENCH_BOOST
  add_lat("rtt_boost_spsc_8B",
          latency(lat_runs, [&] { return ping_pong_rings<BoostRing<Item8>>(rtt_iters, clk); }),
          bare);
#endif
  print_json(out);
  return 0;
}
