// What journaling costs the hot path: Channel::append of one 64-byte risk-decision record (the
// record an order decision adds) while the writer thread drains and writes the file, against the
// floor of pushing the same 256-byte slot into a bare hft::SpscRing with nobody writing files.
// Median and p99 per call over repeated runs; prints {"results": [...]} like the other benches
// (`hftc bench --only bench_journal`).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hft/audit/journal.hpp"
#include "hft/clock.hpp"

namespace {

struct Result {
  std::string name;
  std::string unit;
  double median;
  double p99;
  std::optional<double> baseline;
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1))];
}

/// Per-call ns of `n` appends into a journal whose writer runs meanwhile.
std::vector<double> journal_run(std::size_t n, const hft::TscClock& clk,
                                const std::filesystem::path& dir, int run, std::uint64_t& lost) {
  hft::audit::JournalConfig cfg;
  cfg.path_prefix = (dir / ("run" + std::to_string(run))).string();
  cfg.fsync = hft::audit::FsyncPolicy::kInterval;
  cfg.ring_capacity = 1 << 16;
  hft::audit::Journal journal(cfg);
  hft::audit::Channel& ch = journal.channel();
  hft::audit::RiskDecision d{};
  std::vector<double> ns(n);
  for (std::size_t i = 0; i < n; ++i) {
    d.client_order_id = i;
    const std::uint64_t t0 = hft::TscClock::now();
    ch.append_struct(hft::audit::RecordType::kRiskDecision, d, i);
    ns[i] = static_cast<double>(hft::TscClock::now() - t0) / clk.ticks_per_ns();
  }
  journal.close();
  lost += journal.stats().lost;
  return ns;
}

/// Per-call ns of pushing the same slot into a bare ring, drained when full (not timed).
std::vector<double> ring_run(std::size_t n, const hft::TscClock& clk) {
  struct Slot {
    std::byte b[256];
  };
  hft::SpscRing<Slot> ring(1 << 16);
  Slot slot{};
  Slot out{};
  std::vector<double> ns(n);
  for (std::size_t i = 0; i < n; ++i) {
    slot.b[0] = static_cast<std::byte>(i);
    const std::uint64_t t0 = hft::TscClock::now();
    const bool ok = ring.try_push(slot);
    ns[i] = static_cast<double>(hft::TscClock::now() - t0) / clk.ticks_per_ns();
    if (!ok) {
      while (ring.try_pop(out)) {
      }
      ring.try_push(slot);
    }
  }
  return ns;
}

/// The mean is finer than the timer's resolution (TSC reads can be coarse under virtualisation).
double mean(const std::vector<double>& v) {
  double sum = 0;
  for (const double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const int runs = quick ? 1 : 9;
  const std::size_t n = quick ? 20'000 : 50'000;  // below the ring size: the writer keeps up
  const auto clk = hft::TscClock::calibrate(std::chrono::milliseconds(50));
  const auto dir =
      std::filesystem::temp_directory_path() / ("hft_bench_journal_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<double> j50, j99, r50, r99, jmean, rmean;
  std::uint64_t lost = 0;
  for (int run = 0; run < runs; ++run) {  // interleaved: journal, then floor, each run
    const auto j = journal_run(n, clk, dir, run, lost);
    j50.push_back(percentile(j, 50));
    jmean.push_back(mean(j));
    j99.push_back(percentile(j, 99));
    const auto r = ring_run(n, clk);
    r50.push_back(percentile(r, 50));
    rmean.push_back(mean(r));
    r99.push_back(percentile(r, 99));
  }
  std::filesystem::remove_all(dir);
  const Result floor{"journal_floor_ring_push_256B", "ns", percentile(r50, 50), percentile(r99, 50),
                     std::nullopt};
  const Result append{"journal_append_risk_record", "ns", percentile(j50, 50), percentile(j99, 50),
                      floor.median};
  std::fprintf(stderr, "%-32s %8.2f ns mean per call; floor %.2f ns (medians of %d runs)\n",
               "journal_append_mean", percentile(jmean, 50), percentile(rmean, 50), runs);
  std::fprintf(stderr, "%-32s %8.1f ns median, %8.1f ns p99 (%llu records lost)\n",
               append.name.c_str(), append.median, append.p99,
               static_cast<unsigned long long>(lost));
  std::fprintf(stderr, "%-32s %8.1f ns median, %8.1f ns p99\n", floor.name.c_str(), floor.median,
               floor.p99);
  std::printf("{\"results\": [\n");
  const Result floor_mean{"journal_floor_ring_push_mean", "ns", percentile(rmean, 50),
                          percentile(rmean, 50), std::nullopt};
  const Result append_mean{"journal_append_mean", "ns", percentile(jmean, 50),
                           percentile(jmean, 50), floor_mean.median};
  const Result* all[] = {&append, &floor, &append_mean, &floor_mean};
  for (std::size_t i = 0; i < 4; ++i) {
    const Result& r = *all[i];
    char base[32] = "null";
    if (r.baseline) std::snprintf(base, sizeof base, "%.1f", *r.baseline);
    std::printf(
        "  {\"name\": \"%s\", \"unit\": \"%s\", \"median\": %.1f, \"p99\": %.1f, \"target\": null, "
        "\"baseline\": %s}%s\n",
        r.name.c_str(), r.unit.c_str(), r.median, r.p99, base, i + 1 < 4 ? "," : "");
  }
  std::printf("]}\n");
  return lost == 0 ? 0 : 1;
}
