// The engine's health contract, as the Kubernetes probes ask it (hftc's k8s backend renders the
// probes from the same contract): three questions on the health port.
//
//   GET /livez     200 while the process and its registered threads are alive: every thread has
//                  beaten within `thread_stall_ms` and nothing declared the engine broken.
//                  A failure makes the kubelet restart the container.
//   GET /readyz    200 while the engine can trade: started, market data seen within
//                  `md_stale_ms`, the venue session logged on (when the engine has a venue) and
//                  the risk gate armed (kill switch not engaged). A failure takes the pod out
//                  of service without restarting it.
//   GET /startupz  200 once the initial book snapshot (or first market data) and the first logon
//                  are done; until then the other probes are not asked.
//   POST /kill, POST /rearm   the kill switch over HTTP (optional): `Authorization: Bearer TOKEN`,
//                  TOKEN read from the credentials file at start; anything else is 401/403.
//
// Bodies are plain text, one line per check ("ok md: 12 ms ago" / "fail session: not logged on"),
// so `curl` shows why a probe fails. Every state is an atomic the engine's threads store into with
// relaxed writes; the probes read them on the server thread: nothing here touches the hot path
// beyond one store per beat.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "hft/clock.hpp"
#include "hft/net/http_server.hpp"

namespace hft::engine {

struct HealthConfig {
  std::uint64_t md_stale_ms = 5000;  ///< /readyz fails when no market data for this long
  std::uint64_t thread_stall_ms =
      5000;                     ///< /livez fails when a thread has not beaten for this long
  bool venue_required = false;  ///< the engine trades through a venue session
};

/// Monotonic nanoseconds (hft::monotonic_ns), the clock of every timestamp here.
using hft::monotonic_ns;

/// One probe's answer.
struct ProbeResult {
  bool ok = true;
  std::string text;  ///< one line per check
};

class HealthState {
 public:
  static constexpr std::size_t kMaxThreads = 8;

  explicit HealthState(HealthConfig cfg = {}) : cfg_(cfg) {}

  const HealthConfig& config() const noexcept { return cfg_; }

  /// Registers a thread for the liveness check (before it starts); returns its beat slot.
  std::size_t add_thread(std::string_view name) {
    if (threads_ == kMaxThreads)
      throw std::length_error("hft::engine::HealthState: too many threads");
    names_[threads_] = std::string(name);
    beats_[threads_].store(monotonic_ns(), std::memory_order_relaxed);
    return threads_++;
  }

  /// A thread's sign of life; call from its loop (cheap: one relaxed store).
  void beat(std::size_t slot, std::uint64_t now_ns = monotonic_ns()) noexcept {
    beats_[slot].store(now_ns, std::memory_order_relaxed);
  }
  void market_data(std::uint64_t now_ns = monotonic_ns()) noexcept {
    md_ns_.store(now_ns, std::memory_order_relaxed);
  }
  void snapshot_done() noexcept { snapshot_.store(true, std::memory_order_relaxed); }
  void logged_on(bool on) noexcept {
    logged_on_.store(on, std::memory_order_relaxed);
    if (on) ever_logged_on_.store(true, std::memory_order_relaxed);
  }
  void risk_armed(bool armed) noexcept { armed_.store(armed, std::memory_order_relaxed); }
  /// The engine cannot go on (a thread died, an unrecoverable error): /livez fails from now on.
  void broken() noexcept { broken_.store(true, std::memory_order_relaxed); }
  /// Shutting down (SIGTERM): not ready any more, still alive while it cancels.
  void draining() noexcept { draining_.store(true, std::memory_order_relaxed); }

  ProbeResult livez(std::uint64_t now_ns = monotonic_ns()) const {
    ProbeResult r;
    if (broken_.load(std::memory_order_relaxed)) add(r, false, "engine: broken");
    for (std::size_t i = 0; i < threads_; ++i) {
      const std::uint64_t ago = ms_since(beats_[i].load(std::memory_order_relaxed), now_ns);
      add(r, ago <= cfg_.thread_stall_ms,
          "thread " + names_[i] + ": beat " + std::to_string(ago) + " ms ago");
    }
    if (r.text.empty()) add(r, true, "engine: alive");
    return r;
  }

  ProbeResult startupz() const {
    ProbeResult r;
    add(r, snapshot_.load(std::memory_order_relaxed), "market data: initial book");
    if (cfg_.venue_required)
      add(r, ever_logged_on_.load(std::memory_order_relaxed), "session: first logon");
    return r;
  }

  ProbeResult readyz(std::uint64_t now_ns = monotonic_ns()) const {
    ProbeResult r;
    add(r, !draining_.load(std::memory_order_relaxed), "engine: not shutting down");
    add(r, snapshot_.load(std::memory_order_relaxed), "market data: initial book");
    const std::uint64_t md = md_ns_.load(std::memory_order_relaxed);
    if (md == 0) {
      add(r, false, "market data: none yet");
    } else {
      const std::uint64_t ago = ms_since(md, now_ns);
      add(r, ago <= cfg_.md_stale_ms, "market data: " + std::to_string(ago) + " ms ago");
    }
    if (cfg_.venue_required) {
      add(r, logged_on_.load(std::memory_order_relaxed), "session: logged on");
    }
    add(r, armed_.load(std::memory_order_relaxed), "risk gate: armed");
    return r;
  }

 private:
  static std::uint64_t ms_since(std::uint64_t then, std::uint64_t now) noexcept {
    return now > then ? (now - then) / 1'000'000 : 0;
  }
  static void add(ProbeResult& r, bool ok, const std::string& what) {
    r.ok = r.ok && ok;
    r.text += ok ? "ok " : "fail ";
    r.text += what;
    r.text += '\n';
  }

  HealthConfig cfg_;
  std::size_t threads_ = 0;
  std::array<std::string, kMaxThreads> names_{};
  std::array<std::atomic<std::uint64_t>, kMaxThreads> beats_{};
  std::atomic<std::uint64_t> md_ns_{0};
  std::atomic<bool> snapshot_{false};
  std::atomic<bool> logged_on_{false};
  std::atomic<bool> ever_logged_on_{false};
  std::atomic<bool> armed_{true};
  std::atomic<bool> broken_{false};
  std::atomic<bool> draining_{false};
};

/// What POST /kill and POST /rearm do; `reason` is the request body (trimmed to 200 bytes).
struct KillControl {
  std::string token;  ///< required bearer token; empty disables the endpoints (404)
  std::function<void(std::string_view reason)> kill;
  std::function<void(std::string_view reason)> rearm;
};

/// The health port: serves HealthState's probes (and the kill switch when configured).
class HealthServer {
 public:
  HealthServer(const HealthState& state, std::uint16_t port,
               const std::string& bind_address = "0.0.0.0",
               std::optional<KillControl> control = std::nullopt)
      : state_(state),
        control_(std::move(control)),
        server_(
            port, bind_address, [this](const net::HttpRequest& r) { return handle(r); },
            "hft::engine health") {}

  std::uint16_t port() const noexcept { return server_.port(); }
  void stop() { server_.stop(); }

  /// Constant-time comparison: the time to refuse a token does not tell how much of it matched.
  static bool same_secret(std::string_view a, std::string_view b) noexcept {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const char x = i < a.size() ? a[i] : '\0';
      diff = static_cast<unsigned char>(diff | static_cast<unsigned char>(x ^ b[i]));
    }
    return diff == 0;
  }

 private:
  net::HttpResponse handle(const net::HttpRequest& r) const {
    const bool get = r.method == "GET" || r.method == "HEAD";
    if (r.path == "/livez" || r.path == "/readyz" || r.path == "/startupz") {
      if (!get) return {405, kText, "method not allowed\n"};
      const ProbeResult p = r.path == "/livez"    ? state_.livez()
                            : r.path == "/readyz" ? state_.readyz()
                                                  : state_.startupz();
      return {p.ok ? 200 : 503, kText, p.text};
    }
    if ((r.path == "/kill" || r.path == "/rearm") && control_ && !control_->token.empty()) {
      if (r.method != "POST") return {405, kText, "method not allowed\n"};
      constexpr std::string_view kBearer = "Bearer ";
      if (r.authorization.substr(0, kBearer.size()) != kBearer) {
        return {401, kText, "an Authorization: Bearer token is required\n"};
      }
      if (!same_secret(r.authorization.substr(kBearer.size()), control_->token)) {
        return {403, kText, "wrong token\n"};
      }
      const std::string_view reason = r.body.substr(0, 200);
      if (r.path == "/kill") {
        control_->kill(reason);
        return {200, kText, "kill switch engaged\n"};
      }
      control_->rearm(reason);
      return {200, kText, "kill switch re-armed\n"};
    }
    return {404, kText, "not found\n"};
  }

  static constexpr const char* kText = "text/plain; charset=utf-8";

  const HealthState& state_;
  std::optional<KillControl> control_;
  net::HttpServer server_;  // last: its thread reads the members above
};

}  // namespace hft::engine
