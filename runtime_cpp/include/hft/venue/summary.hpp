// The venue's JSON summary, written when it ends (end of tape, SIGINT or SIGTERM): what each
// session (one credential) sent and got, its final positions and PnL, and the run's counters.
// Positions are in lots of the book's grid and in quantity units (lots x lot size); money in
// quote currency. Written to a temporary file and renamed, so a reader never sees half of it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "hft/venue/matcher.hpp"

namespace hft::venue {

/// Counters of the run that are not the matcher's.
struct RunInfo {
  std::string tape, md_url, orders_url, ended, queue;
  double speed = 1.0;  ///< 0: as fast as possible
  std::uint64_t rows = 0, rows_replayed = 0, packets = 0, messages = 0;
  std::uint64_t snapshots = 0;  ///< of the messages, snapshots of the venue's own book
  std::uint64_t connections = 0, bad_credentials = 0, protocol_errors = 0, sequence_gaps = 0,
                dead_peers = 0;
  double maker_fee_bps = 0.0, taker_fee_bps = 0.0;
  std::int64_t entry_latency_ns = 0, response_latency_ns = 0;  ///< constant model
  std::size_t latency_samples = 0;                             ///< empirical model: how many
  double lot = 1.0;                                            ///< quantity of one lot
};

/// The matching settings of `cfg` into `run` (queue model, fees, latency), as the summary reports them.
inline void describe_matching(RunInfo& run, const Config& cfg) {
  run.queue = cfg.queue == backtest::QueueModel::kProbabilistic ? "probabilistic" : "risk_averse";
  run.maker_fee_bps = cfg.maker_fee_bps;
  run.taker_fee_bps = cfg.taker_fee_bps;
  run.entry_latency_ns = cfg.latency.entry_ns;
  run.response_latency_ns = cfg.latency.response_ns;
  run.latency_samples = cfg.latency.samples.size();
}

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

template <class Queue, class Names>
std::string summary_json(const Matcher<Queue>& m, const RunInfo& run, const Names& names) {
  std::string j = "{";
  const auto num = [&j](std::string_view key, double v, bool comma = true) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    j += json_string(key) + ": " + buf + (comma ? ", " : "");
  };
  const auto uint = [&j](std::string_view key, std::uint64_t v, bool comma = true) {
    j += json_string(key) + ": " + std::to_string(v) + (comma ? ", " : "");
  };
  const auto str = [&j](std::string_view key, std::string_view v) {
    j += json_string(key) + ": " + json_string(v) + ", ";
  };
  str("tape", run.tape);
  str("md_url", run.md_url);
  str("orders_url", run.orders_url);
  str("ended", run.ended);
  str("queue", run.queue);
  num("speed", run.speed);
  uint("rows", run.rows);
  uint("rows_replayed", run.rows_replayed);
  uint("packets", run.packets);
  uint("messages", run.messages);
  uint("snapshots", run.snapshots);
  j += "\"latency\": {";
  if (run.latency_samples > 0) {
    uint("samples", run.latency_samples, false);
  } else {
    uint("entry_ns", static_cast<std::uint64_t>(run.entry_latency_ns));
    uint("response_ns", static_cast<std::uint64_t>(run.response_latency_ns), false);
  }
  j += "}, \"fees\": {";
  num("maker_bps", run.maker_fee_bps);
  num("taker_bps", run.taker_fee_bps, false);
  j += "}, \"connections\": {";
  uint("accepted", run.connections);
  uint("bad_credentials", run.bad_credentials);
  uint("protocol_errors", run.protocol_errors);
  uint("sequence_gaps", run.sequence_gaps);
  uint("dead_peers", run.dead_peers, false);
  j += "}, ";
  Account total;
  for (const Account& a : m.accounts()) {
    total.orders += a.orders;
    total.cancels += a.cancels;
    total.replaces += a.replaces;
    total.fills += a.fills;
    total.rejects += a.rejects;
    total.canceled_on_disconnect += a.canceled_on_disconnect;
  }
  uint("orders", total.orders);
  uint("cancels", total.cancels);
  uint("replaces", total.replaces);
  uint("fills", total.fills);
  uint("rejects", total.rejects);
  uint("canceled_on_disconnect", total.canceled_on_disconnect);
  uint("open_orders", m.open_orders());
  j += "\"sessions\": [";
  const auto& accounts = m.accounts();
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    const Account& a = accounts[i];
    j += i ? ", {" : "{";
    uint("session", i + 1);
    uint("connections", a.connections);
    uint("orders", a.orders);
    uint("cancels", a.cancels);
    uint("replaces", a.replaces);
    uint("fills", a.fills);
    uint("rejects", a.rejects);
    uint("canceled_on_disconnect", a.canceled_on_disconnect);
    j += "\"position_lots\": {";
    for (std::size_t k = 0; k < a.position.size(); ++k) {
      j += (k ? ", " : "") + json_string(names[k]) + ": " + std::to_string(a.position[k]);
    }
    j += "}, \"position\": {";
    for (std::size_t k = 0; k < a.position.size(); ++k) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(a.position[k]) * run.lot);
      j += (k ? ", " : "") + json_string(names[k]) + ": " + buf;
    }
    j += "}, ";
    num("fees", a.fees);
    num("turnover", a.turnover);
    num("pnl", m.pnl(static_cast<std::uint32_t>(i)), false);
    j += "}";
  }
  j += "]}\n";
  return j;
}

/// Writes `text` to `path` through a temporary file; false (errno set) on failure.
inline bool write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace hft::venue
