// The engine's operational side, off the hot path: the flags of the deployment contract
// (hftc.ir.engine_contract.FLAGS: the Kubernetes manifests pass exactly these), the kill switch
// (signal, file, HTTP), parameter overlays applied all-or-nothing, and the housekeeping thread that
// watches the kill file and SIGHUP and beats for /livez.
//
// The trading threads see only two atomics: KillSwitch::engaged() (checked before sending) and the
// overlay generation number (a strategy swaps in new parameters when it changes). Everything else
// runs on the housekeeping thread or the health server's thread.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "hft/engine/health.hpp"
#include "hft/engine/overlay.hpp"

namespace hft::engine {

/// The deployment contract's flags (hftc.ir.engine_contract.FLAGS), parsed here so that every
/// generated engine takes the same ones.
struct OpsOptions {
  std::optional<std::uint16_t> health_port;
  std::string params_file;
  std::string journal_prefix;
  std::uint64_t shutdown_deadline_ms = 20000;
  std::uint64_t md_stale_ms = 5000;
  std::string kill_file;
  std::string kill_token_file;
};

/// The flag names, in the contract's order (a test checks them against the Python definition).
inline constexpr std::string_view kOpsFlags[] = {
    "--health-port", "--params",    "--journal",        "--shutdown-deadline-ms",
    "--md-stale-ms", "--kill-file", "--kill-token-file"};

/// Consumes `flag value` when `flag` is one of kOpsFlags: true if it was (`error` set when the
/// value is bad), false when the flag is not an ops flag (the caller's own flags).
inline bool parse_ops_flag(std::string_view flag, const char* value, OpsOptions& o,
                           std::string& error) {
  auto number = [&](std::uint64_t max, std::uint64_t& out) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(value, &end, 10);
    if (value[0] == '\0' || value[0] == '-' || *end != '\0' || errno != 0 || v > max) {
      error = std::string(flag) + " takes a whole number up to " + std::to_string(max) + ", not '" +
              value + "'";
      return false;
    }
    out = v;
    return true;
  };
  auto path = [&](std::string& out) {
    if (value[0] == '\0') {
      error = std::string(flag) + " takes a path";
      return false;
    }
    out = value;
    return true;
  };
  std::uint64_t n = 0;
  if (flag == "--health-port") {
    if (number(65535, n)) o.health_port = static_cast<std::uint16_t>(n);
  } else if (flag == "--params") {
    path(o.params_file);
  } else if (flag == "--journal") {
    path(o.journal_prefix);
  } else if (flag == "--shutdown-deadline-ms") {
    number(3'600'000, o.shutdown_deadline_ms);
  } else if (flag == "--md-stale-ms") {
    if (number(86'400'000, n)) o.md_stale_ms = n;
  } else if (flag == "--kill-file") {
    path(o.kill_file);
  } else if (flag == "--kill-token-file") {
    path(o.kill_token_file);
  } else {
    return false;
  }
  return true;
}

/// Blocks new orders while engaged; who engaged it and why is kept for logs and the journal.
class KillSwitch {
 public:
  enum Source : std::uint8_t { kSignal = 0, kFile = 1, kHttp = 2, kRisk = 3, kOperator = 4 };

  /// Checked by the trading threads before every new order (one relaxed load).
  bool engaged() const noexcept { return engaged_.load(std::memory_order_relaxed); }

  /// Engages (idempotent); calls the listener (cancel everything, journal it) on the first call.
  void engage(Source source, std::string_view reason) {
    std::function<void(bool, Source, std::string_view)> listener;
    {
      std::lock_guard lock(mu_);
      if (engaged_.load(std::memory_order_relaxed)) return;
      engaged_.store(true, std::memory_order_relaxed);
      ++engagements_;
      listener = listener_;
    }
    if (listener) listener(true, source, reason);
  }

  void rearm(Source source, std::string_view reason) {
    std::function<void(bool, Source, std::string_view)> listener;
    {
      std::lock_guard lock(mu_);
      if (!engaged_.load(std::memory_order_relaxed)) return;
      engaged_.store(false, std::memory_order_relaxed);
      listener = listener_;
    }
    if (listener) listener(false, source, reason);
  }

  /// Called with (engaged, source, reason) on every change, from the thread that changed it.
  void on_change(std::function<void(bool, Source, std::string_view)> f) {
    std::lock_guard lock(mu_);
    listener_ = std::move(f);
  }

  std::uint64_t engagements() const {
    std::lock_guard lock(mu_);
    return engagements_;
  }

 private:
  std::atomic<bool> engaged_{false};
  mutable std::mutex mu_;
  std::uint64_t engagements_ = 0;
  std::function<void(bool, Source, std::string_view)> listener_;
};

/// Reads a token or secret file: its first line, without the line end; empty when unreadable.
inline std::string read_first_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

/// Validates every value of `strategy` in an overlay against a copy of `current` with `set`
/// (the generated `set_param`), so the result is all the new values or none: on any refusal the
/// error names the file position and the reason, and `current` stays in force.
template <class Params, class SetParam>
std::optional<Params> overlay_params(const OverlayResult& overlay, std::string_view strategy,
                                     const Params& current, SetParam set, std::string& error) {
  if (!overlay.ok) {
    error = overlay.error;
    return std::nullopt;
  }
  Params next = current;
  std::size_t applied = 0;
  for (const OverlayEntry& e : overlay.entries) {
    if (e.strategy != strategy) continue;
    const char* why = nullptr;
    if (!set(next, e.param.c_str(), e.value, why)) {
      error = "line " + std::to_string(e.line) + ", column " + std::to_string(e.col) + ": " +
              e.param + ": " + (why != nullptr ? why : "refused");
      return std::nullopt;
    }
    ++applied;
  }
  if (applied == 0) {
    error = "no parameters for strategy `" + std::string(strategy) + "` in the overlay";
    return std::nullopt;
  }
  return next;
}

/// SIGHUP (reload), SIGUSR1 (engage the kill switch) and SIGUSR2 (re-arm it) as flags the
/// housekeeping thread polls.
inline volatile std::sig_atomic_t g_reload = 0;
inline volatile std::sig_atomic_t g_kill = 0;
inline volatile std::sig_atomic_t g_rearm = 0;
inline void on_sighup(int) { g_reload = 1; }
inline void on_sigusr1(int) { g_kill = 1; }
inline void on_sigusr2(int) { g_rearm = 1; }

/// The housekeeping thread: every `period` it beats for /livez, engages the kill switch while the
/// kill file exists (and re-arms it when the file is removed, if the file engaged it) or on SIGUSR1
/// (SIGUSR2 re-arms), and runs `reload` after a SIGHUP. Stops on stop() or destruction.
class Housekeeping {
 public:
  Housekeeping(HealthState& health, KillSwitch& kill, std::string kill_file,
               std::function<void()> reload,
               std::chrono::milliseconds period = std::chrono::milliseconds(100), bool start = true)
      : health_(health),
        kill_(kill),
        kill_file_(std::move(kill_file)),
        reload_(std::move(reload)),
        period_(period),
        slot_(health.add_thread("housekeeping")) {
    std::signal(SIGHUP, on_sighup);
    std::signal(SIGUSR1, on_sigusr1);
    std::signal(SIGUSR2, on_sigusr2);
    if (start) thread_ = std::thread([this] { run(); });
  }
  ~Housekeeping() { stop(); }
  Housekeeping(const Housekeeping&) = delete;
  Housekeeping& operator=(const Housekeeping&) = delete;

  void stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }

  /// One round of checks: what the thread runs each period (tests call it with start = false).
  void tick() {
    health_.beat(slot_);
    if (!kill_file_.empty()) {
      struct stat st {};
      const bool present = ::stat(kill_file_.c_str(), &st) == 0;
      if (present && !kill_.engaged()) {
        kill_.engage(KillSwitch::kFile, "kill file " + kill_file_ + " exists");
        by_file_ = true;
      } else if (!present && by_file_ && kill_.engaged()) {
        kill_.rearm(KillSwitch::kFile, "kill file " + kill_file_ + " removed");
        by_file_ = false;
      }
    }
    if (g_kill != 0) {
      g_kill = 0;
      kill_.engage(KillSwitch::kSignal, "SIGUSR1");
    }
    if (g_rearm != 0) {
      g_rearm = 0;
      kill_.rearm(KillSwitch::kSignal, "SIGUSR2");
    }
    if (g_reload != 0) {
      g_reload = 0;
      if (reload_) reload_();
    }
  }

 private:
  void run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      tick();
      std::this_thread::sleep_for(period_);
    }
  }

  HealthState& health_;
  KillSwitch& kill_;
  std::string kill_file_;
  std::function<void()> reload_;
  std::chrono::milliseconds period_;
  std::size_t slot_;
  bool by_file_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hft::engine
