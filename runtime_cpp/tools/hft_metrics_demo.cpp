// hft_metrics_demo: plays a trading engine for monitoring tests and demos.
//
//   hft_metrics_demo [--port P] [--bind ADDR] [--shm NAME] [--duration-s S] [--latency-ns N]
//                    [--spike-after-s T --spike-latency-ns M] [--pipeline NAME] [--rate-hz R]
//
// Records tick-to-order latencies around N ns (uniform within +-20%), switching to around
// M ns after T seconds; counts messages, orders and rejects; moves position and PnL
// gauges for two instruments. Every series carries `pipeline`. Metrics are served over
// HTTP on P (0 = a free port; the bound port is printed as `port=P` on stdout) and/or
// published in the shared-memory object NAME. Runs for S seconds (0 = until SIGINT or
// SIGTERM), then exits 0. Without --port and --shm it only runs and prints a summary.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "hft/metrics/exporter.hpp"
#include "hft/metrics/registry.hpp"
#include "hft/metrics/shm_metrics.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

struct Options {
  std::optional<std::uint16_t> port;
  std::string bind = "0.0.0.0";
  std::string shm;
  double duration_s = 10.0;
  std::uint64_t latency_ns = 200;
  double spike_after_s = -1.0;
  std::uint64_t spike_latency_ns = 0;
  std::string pipeline = "demo";
  double rate_hz = 20000.0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(
      stderr,
      "error: %s\nusage: hft_metrics_demo [--port P] [--bind ADDR] [--shm NAME] [--duration-s S] "
      "[--latency-ns N] [--spike-after-s T --spike-latency-ns M] [--pipeline NAME] [--rate-hz R]\n",
      why);
  std::exit(2);
}

double number(std::string_view flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v >= 0))
    usage((std::string(flag) + " needs a non-negative number").c_str());
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("see the comment at the top of hft_metrics_demo.cpp\n");
      std::exit(0);
    }
    if (i + 1 >= argc) usage(("missing value for " + std::string(a)).c_str());
    const char* v = argv[++i];
    if (a == "--port") {
      const double p = number(a, v);
      if (p > 65535) usage("--port out of range");
      o.port = static_cast<std::uint16_t>(p);
    } else if (a == "--bind") {
      o.bind = v;
    } else if (a == "--shm") {
      o.shm = v;
    } else if (a == "--duration-s") {
      o.duration_s = number(a, v);
    } else if (a == "--latency-ns") {
      o.latency_ns = static_cast<std::uint64_t>(number(a, v));
    } else if (a == "--spike-after-s") {
      o.spike_after_s = number(a, v);
    } else if (a == "--spike-latency-ns") {
      o.spike_latency_ns = static_cast<std::uint64_t>(number(a, v));
    } else if (a == "--pipeline") {
      o.pipeline = v;
    } else if (a == "--rate-hz") {
      o.rate_hz = number(a, v);
      if (o.rate_hz < 1) usage("--rate-hz must be at least 1");
    } else {
      usage(("unknown option " + std::string(a)).c_str());
    }
  }
  if ((o.spike_after_s >= 0) != (o.spike_latency_ns > 0)) {
    usage("--spike-after-s and --spike-latency-ns go together");
  }
  return o;
}

/// xorshift64*: deterministic jitter without <random>'s allocation-free-but-heavy engines.
struct Rng {
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  std::uint64_t next() noexcept {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

int run(const Options& o) {
  std::unique_ptr<hft::metrics::ShmMetrics> shm;
  std::unique_ptr<hft::metrics::Registry> heap;
  if (!o.shm.empty()) {
    shm = std::make_unique<hft::metrics::ShmMetrics>(o.shm, 32);
  } else {
    heap = std::make_unique<hft::metrics::Registry>(32);
  }
  hft::metrics::Registry& reg = shm ? shm->registry() : *heap;
  const std::string_view p = o.pipeline;
  auto latency = reg.histogram("hftc_tick_to_order_latency_ns", "Tick-to-order latency, ns.",
                               {{"pipeline", p}});
  auto messages =
      reg.counter("hftc_messages_total", "Market-data messages decoded.", {{"pipeline", p}});
  auto orders = reg.counter("hftc_orders_total", "Orders sent.", {{"pipeline", p}});
  auto rejects = reg.counter("hftc_orders_rejected_total",
                             "Orders rejected by the risk gate or the venue.", {{"pipeline", p}});
  const char* instruments[2] = {"EURUSD", "USDJPY"};
  hft::metrics::Gauge position[2];
  hft::metrics::Gauge pnl[2];
  for (int k = 0; k < 2; ++k) {
    position[k] = reg.gauge("hftc_position", "Signed position per instrument, lots.",
                            {{"pipeline", p}, {"instrument", instruments[k]}});
    pnl[k] = reg.gauge("hftc_pnl", "Realised plus unrealised PnL per instrument.",
                       {{"pipeline", p}, {"instrument", instruments[k]}});
  }

  std::unique_ptr<hft::metrics::HttpExporter> http;
  if (o.port) {
    http = std::make_unique<hft::metrics::HttpExporter>(reg, *o.port, o.bind);
    std::printf("port=%u\n", static_cast<unsigned>(http->port()));
  }
  if (shm) std::printf("shm=%s\n", shm->path().c_str() + 1);
  std::fflush(stdout);

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto tick = std::chrono::milliseconds(1);
  const auto per_tick = static_cast<std::uint64_t>(o.rate_hz / 1000.0 + 0.5);
  Rng rng;
  auto next = start;
  std::uint64_t ticks = 0;
  while (g_stop == 0) {
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (o.duration_s > 0 && elapsed >= o.duration_s) break;
    const bool spiking = o.spike_after_s >= 0 && elapsed >= o.spike_after_s;
    const double centre = static_cast<double>(spiking ? o.spike_latency_ns : o.latency_ns);
    const std::uint64_t n = per_tick > 0 ? per_tick : (ticks % 1000 == 0 ? 1 : 0);
    for (std::uint64_t i = 0; i < n; ++i) {
      messages.inc(3);
      latency.record(static_cast<std::uint64_t>(centre * (0.8 + 0.4 * rng.unit())));
      orders.inc();
      if (rng.next() % 200 == 0) rejects.inc();
      const int k = static_cast<int>(rng.next() & 1u);
      position[k].add(rng.unit() < 0.5 ? -1.0 : 1.0);
      pnl[k].add((rng.unit() - 0.45) * 2.0);
    }
    ++ticks;
    next += tick;
    std::this_thread::sleep_until(next);
  }
  if (http) http->stop();
  std::fprintf(stderr, "hft_metrics_demo: %llu orders, %llu latencies recorded\n",
               static_cast<unsigned long long>(orders.value()),
               static_cast<unsigned long long>(latency.count()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hft_metrics_demo: %s\n", e.what());
    return 1;
  }
}
