// Cross-language histogram test tool (FORMATS.md §2, "Cross-language test tools").
//
//   hft_hist_tool gen SEED N OUT   record N splitmix64-derived values, write the serialised form
//   hft_hist_tool dump FILE        read a serialised histogram, print one JSON line of statistics
//
// The Rust runtime ships the same tool; each must read the other's files and print identical
// lines.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "hft/histogram.hpp"

namespace {

int usage() {
  std::cerr << "usage: hft_hist_tool gen SEED N OUT\n"
               "       hft_hist_tool dump FILE\n";
  return 2;
}

// Parses a full decimal u64; rejects signs, junk and overflow.
bool parse_u64(const char* s, uint64_t& out) {
  if (*s < '0' || *s > '9') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

uint64_t splitmix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

int gen(const char* seed_s, const char* n_s, const char* out_path) {
  uint64_t seed = 0, n = 0;
  if (!parse_u64(seed_s, seed) || !parse_u64(n_s, n)) {
    std::cerr << "hft_hist_tool: SEED and N must be unsigned decimal integers\n";
    return 2;
  }
  hft::LatencyHistogram h;
  uint64_t state = seed;
  for (uint64_t i = 0; i < n; ++i) h.record((splitmix64(state) >> 20) % 5'000'000 + 1);
  const std::vector<std::byte> bytes = h.serialize();
  std::ofstream f(out_path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) {
    std::cerr << "hft_hist_tool: cannot write " << out_path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  return 0;
}

int dump(const char* path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::cerr << "hft_hist_tool: cannot open " << path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  const std::vector<char> raw((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(raw.size());
  std::memcpy(bytes.data(), raw.data(), raw.size());
  try {
    const hft::LatencyHistogram h = hft::LatencyHistogram::deserialize(bytes);
    std::printf(
        "{\"count\":%llu,\"min\":%llu,\"max\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,"
        "\"p999\":%llu}\n",
        static_cast<unsigned long long>(h.count()), static_cast<unsigned long long>(h.min()),
        static_cast<unsigned long long>(h.max()),
        static_cast<unsigned long long>(h.value_at_percentile(50.0)),
        static_cast<unsigned long long>(h.value_at_percentile(90.0)),
        static_cast<unsigned long long>(h.value_at_percentile(99.0)),
        static_cast<unsigned long long>(h.value_at_percentile(99.9)));
  } catch (const hft::HistogramFormatError& e) {
    std::cerr << "hft_hist_tool: " << path << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "gen") == 0) return gen(argv[2], argv[3], argv[4]);
  if (argc == 3 && std::strcmp(argv[1], "dump") == 0) return dump(argv[2]);
  return usage();
}
