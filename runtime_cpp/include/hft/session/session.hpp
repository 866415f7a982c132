// Order-entry session state machine: logon, sequence numbers, heartbeats, logout, dead-peer
// detection, and the reconnect back-off; the same rules for the client (the engine) and the
// server (the venue).
//
// It does no I/O and knows no schema: the owner decodes a frame, tells the session what it was
// (on_receive with the message's kind and `seq` field) and acts on the answer; before sending it
// takes the message's `seq` from next_seq(). Time is passed in (any monotonic ns clock), so the
// rules are testable without sleeping. The rules (the order-entry wire protocol):
//   - each side numbers what it sends 1, 2, 3, ... per connection; any other inbound seq than
//     the expected one is a sequence gap: Logout(reason 3), close;
//   - the client's first message is Logon; the server answers Logon (accepted) or Logout(reason 1);
//   - after its Logon reply the server sends the reconcile (one execution report per open order)
//     and then a Heartbeat that ends it; the client is kReconciling until that Heartbeat;
//   - either side sends a Heartbeat after heartbeat_ms without sending anything, and treats the
//     connection as dead after `dead_intervals` intervals without hearing anything;
//   - Logout from the peer is answered with Logout, then the connection closes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hft::session {

/// Logout reasons (the logout message's reason field).
enum class LogoutReason : std::uint16_t {
  kNormal = 0,
  kBadCredentials = 1,
  kProtocolError = 2,  ///< bad framing, an undecodable or unexpected message
  kSequenceGap = 3,
};

constexpr std::string_view name(LogoutReason r) noexcept {
  switch (r) {
    case LogoutReason::kNormal:
      return "normal";
    case LogoutReason::kBadCredentials:
      return "bad_credentials";
    case LogoutReason::kProtocolError:
      return "protocol_error";
    case LogoutReason::kSequenceGap:
      return "sequence_gap";
  }
  return "unknown";
}

enum class Role : std::uint8_t { kClient, kServer };

enum class State : std::uint8_t {
  kDisconnected = 0,  ///< no connection (client: waiting for the back-off, then connecting)
  kAwaitingLogon,     ///< connected; client: Logon sent, no answer yet; server: nothing heard yet
  kReconciling,       ///< client only: logged on, the venue's reconcile not yet ended
  kActive,            ///< logged on: application messages flow
  kLoggingOut,        ///< our Logout sent; waiting for the peer's, then close
  kClosed,            ///< the connection is over; the owner closes the socket
};

constexpr std::string_view name(State s) noexcept {
  constexpr std::array<std::string_view, 6> names = {
      "disconnected", "awaiting_logon", "reconciling", "active", "logging_out", "closed"};
  return names[static_cast<std::size_t>(s)];
}

/// The session-level kind of an inbound message (by its schema role).
enum class Kind : std::uint8_t { kLogon, kLogout, kHeartbeat, kApplication };

/// What the owner does with an inbound message.
enum class Verdict : std::uint8_t {
  kDeliver,        ///< an application message: hand it on (execution report, order...)
  kConsumed,       ///< a session message fully handled (heartbeat, a Logon answer...)
  kLoggedOn,       ///< client: the server accepted our Logon; server: a Logon to check
  kReconcileDone,  ///< client: the Heartbeat ending the reconcile
  kAnswerLogout,   ///< the peer logged out: send Logout(normal), then close
  kLogoutDone,     ///< the peer answered our Logout: close
  kSequenceGap,    ///< send Logout(sequence gap), close
  kProtocolError,  ///< a message not allowed now: send Logout(protocol error), close
};

struct SessionConfig {
  std::uint64_t heartbeat_ns = 1'000'000'000;
  std::uint32_t dead_intervals = 3;
};

struct SessionCounters {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t heartbeats_received = 0;
  std::uint64_t sequence_gaps = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t dead_peers = 0;
  std::uint64_t logons = 0;
};

class Session {
 public:
  Session(Role role, SessionConfig cfg) noexcept : role_(role), cfg_(cfg) {}

  /// A new connection is up at `now_ns`: sequence numbers restart at 1. The client must send
  /// its Logon next.
  void on_connected(std::uint64_t now_ns) noexcept {
    state_ = State::kAwaitingLogon;
    next_out_ = 1;
    expected_in_ = 1;
    last_sent_ns_ = now_ns;
    last_heard_ns_ = now_ns;
  }

  /// The connection is gone (closed by either side or dead).
  void on_disconnected() noexcept { state_ = State::kDisconnected; }

  /// The `seq` for the next message sent at `now_ns` (counts it as sent).
  std::uint64_t next_seq(std::uint64_t now_ns) noexcept {
    last_sent_ns_ = now_ns;
    ++counters_.sent;
    return next_out_++;
  }

  /// Like next_seq(), for a Heartbeat (counted apart).
  std::uint64_t next_heartbeat_seq(std::uint64_t now_ns) noexcept {
    ++counters_.heartbeats_sent;
    return next_seq(now_ns);
  }

  /// Like next_seq(), for our Logout: afterwards only the peer's Logout is awaited.
  std::uint64_t next_logout_seq(std::uint64_t now_ns) noexcept {
    state_ = State::kLoggingOut;
    return next_seq(now_ns);
  }

  /// The server accepted the client's Logon (its answer is sent with next_seq()).
  void accept_logon() noexcept {
    state_ = State::kActive;
    ++counters_.logons;
  }

  /// One inbound message of `kind` carrying `seq`, received at `now_ns`.
  Verdict on_receive(Kind kind, std::uint64_t seq, std::uint64_t now_ns) noexcept {
    if (seq != expected_in_) {
      last_heard_ns_ = now_ns;
      ++counters_.received;
      ++counters_.sequence_gaps;
      state_ = State::kClosed;
      return Verdict::kSequenceGap;
    }
    return on_receive_unsequenced(kind, now_ns);
  }

  /// One inbound message of a schema message without a `seq` field: it takes the next number
  /// (both sides count it) but carries nothing to check.
  Verdict on_receive_unsequenced(Kind kind, std::uint64_t now_ns) noexcept {
    last_heard_ns_ = now_ns;
    ++counters_.received;
    ++expected_in_;
    if (kind == Kind::kLogout) {
      const bool ours = state_ == State::kLoggingOut;
      state_ = State::kClosed;
      return ours ? Verdict::kLogoutDone : Verdict::kAnswerLogout;
    }
    switch (state_) {
      case State::kAwaitingLogon:
        if (kind != Kind::kLogon) return protocol_error();
        if (role_ == Role::kClient) {
          state_ = State::kReconciling;
          ++counters_.logons;
        }
        return Verdict::kLoggedOn;  // the server checks the credentials, then accept_logon()
      case State::kReconciling:
        if (kind == Kind::kHeartbeat) {
          ++counters_.heartbeats_received;
          state_ = State::kActive;
          return Verdict::kReconcileDone;
        }
        return kind == Kind::kApplication ? Verdict::kDeliver : protocol_error();
      case State::kActive:
      case State::kLoggingOut:  // what crossed our Logout still counts
        if (kind == Kind::kHeartbeat) {
          ++counters_.heartbeats_received;
          return Verdict::kConsumed;
        }
        return kind == Kind::kApplication ? Verdict::kDeliver : protocol_error();
      case State::kDisconnected:
      case State::kClosed:
        break;
    }
    return protocol_error();
  }

  /// A Heartbeat is due: nothing sent for an interval while logged on (or logging on).
  [[nodiscard]] bool heartbeat_due(std::uint64_t now_ns) const noexcept {
    const bool live = state_ == State::kActive || state_ == State::kReconciling;
    return live && now_ns - last_sent_ns_ >= cfg_.heartbeat_ns;
  }

  /// Nothing heard for dead_intervals heartbeat intervals; counts it once and closes.
  bool check_dead(std::uint64_t now_ns) noexcept {
    if (state_ == State::kDisconnected || state_ == State::kClosed) return false;
    if (now_ns - last_heard_ns_ < cfg_.heartbeat_ns * cfg_.dead_intervals) return false;
    ++counters_.dead_peers;
    state_ = State::kClosed;
    return true;
  }

  /// A framing or decode error seen by the owner: counted; the owner sends Logout and closes.
  void on_protocol_error() noexcept {
    ++counters_.protocol_errors;
    state_ = State::kClosed;
  }

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] bool logged_on() const noexcept {
    return state_ == State::kActive || state_ == State::kReconciling;
  }
  [[nodiscard]] Role role() const noexcept { return role_; }
  [[nodiscard]] const SessionConfig& config() const noexcept { return cfg_; }
  [[nodiscard]] const SessionCounters& counters() const noexcept { return counters_; }
  /// The seq the next inbound message must carry.
  [[nodiscard]] std::uint64_t expected_in() const noexcept { return expected_in_; }

 private:
  Verdict protocol_error() noexcept {
    ++counters_.protocol_errors;
    state_ = State::kClosed;
    return Verdict::kProtocolError;
  }

  Role role_;
  SessionConfig cfg_;
  State state_ = State::kDisconnected;
  std::uint64_t next_out_ = 1;
  std::uint64_t expected_in_ = 1;
  std::uint64_t last_sent_ns_ = 0;
  std::uint64_t last_heard_ns_ = 0;
  SessionCounters counters_;
};

/// Exponential reconnect back-off: initial, doubled after each failure up to max; reset() after
/// a successful logon.
class Backoff {
 public:
  Backoff(std::uint64_t initial_ns, std::uint64_t max_ns) noexcept
      : initial_(initial_ns), max_(max_ns < initial_ns ? initial_ns : max_ns), next_(initial_ns) {}

  /// Schedules the next attempt after a failure at `now_ns`; returns the delay chosen.
  std::uint64_t fail(std::uint64_t now_ns) noexcept {
    const std::uint64_t d = next_;
    due_ns_ = now_ns + d;
    next_ = next_ > max_ / 2 ? max_ : next_ * 2;
    return d;
  }

  [[nodiscard]] bool due(std::uint64_t now_ns) const noexcept { return now_ns >= due_ns_; }
  void reset() noexcept {
    next_ = initial_;
    due_ns_ = 0;
  }
  [[nodiscard]] std::uint64_t next_delay() const noexcept { return next_; }

 private:
  std::uint64_t initial_;
  std::uint64_t max_;
  std::uint64_t next_;
  std::uint64_t due_ns_ = 0;
};

}  // namespace hft::session
