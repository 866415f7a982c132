// The matching options shared by `<pkg>_venue` and the engine's in-process backtest venue
// (`<pkg>_engine --replay TAPE --backtest`), parsed once so both mean the same by them and start
// from the same defaults as `hftc backtest`: 1 ms latency each way, the risk-averse queue, no fees.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "hft/venue/matcher.hpp"

namespace hft::venue {

/// The defaults of `hftc backtest` (and so of the venue).
inline Config default_matching_config() {
  Config cfg;
  cfg.latency.entry_ns = cfg.latency.response_ns = 1'000'000;
  return cfg;
}

/// The usage lines of the flags parse_matching_flag() takes.
inline constexpr const char* kMatchingUsage =
    "[--latency-ns N | --latency-samples FILE] [--seed N] [--queue risk_averse|probabilistic]\n"
    "         [--queue-power X] [--maker-fee-bps X] [--taker-fee-bps X]";

namespace detail {

inline bool integer(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out <= max;
}

inline bool real(std::string_view text, double& out) {
  const std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0' && std::isfinite(out);
}

// One latency in ns per line (`#` starts a comment); empty with `why` set on failure.
inline std::vector<std::int64_t> read_samples(const std::string& path, std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = "--latency-samples: cannot read " + path;
    return {};
  }
  std::vector<std::int64_t> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    std::uint64_t v = 0;
    if (!integer(std::string_view(line).substr(first, last - first + 1),
                 static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()), v)) {
      why = "--latency-samples: " + path + ":" + std::to_string(n) + ": not a latency in ns";
      return {};
    }
    out.push_back(static_cast<std::int64_t>(v));
  }
  if (out.empty()) why = "--latency-samples: " + path + " holds no latencies";
  return out;
}

}  // namespace detail

/// True when `flag` is one of the matching options (its value `value` applied to `cfg`); `why`
/// then holds the error when the value is bad.
inline bool parse_matching_flag(std::string_view flag, std::string_view value, Config& cfg,
                                std::string& why) {
  why.clear();
  const auto need = [&](const char* what) { why = std::string(flag) + " needs " + what; };
  if (flag == "--latency-ns") {
    std::uint64_t ns = 0;
    if (!detail::integer(value, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 4), ns)) {
      need("an integer number of ns");
    } else {
      cfg.latency.entry_ns = cfg.latency.response_ns = static_cast<std::int64_t>(ns);
    }
  } else if (flag == "--latency-samples") {
    cfg.latency.kind = backtest::LatencyModel::Kind::kEmpirical;
    cfg.latency.samples = detail::read_samples(std::string(value), why);
  } else if (flag == "--seed") {
    if (!detail::integer(value, ~std::uint64_t{0}, cfg.latency.seed)) need("an integer");
  } else if (flag == "--queue") {
    if (value != "risk_averse" && value != "probabilistic") {
      why = "--queue is risk_averse or probabilistic";
    } else {
      cfg.queue = value == "probabilistic" ? backtest::QueueModel::kProbabilistic
                                           : backtest::QueueModel::kRiskAverse;
    }
  } else if (flag == "--queue-power") {
    if (!detail::real(value, cfg.queue_power) || cfg.queue_power < 0) need("a number >= 0");
  } else if (flag == "--maker-fee-bps") {
    if (!detail::real(value, cfg.maker_fee_bps)) need("a number");
  } else if (flag == "--taker-fee-bps") {
    if (!detail::real(value, cfg.taker_fee_bps)) need("a number");
  } else {
    return false;
  }
  return true;
}

}  // namespace hft::venue
