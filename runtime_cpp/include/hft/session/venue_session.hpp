// The engine's side of the order-entry session: a TCP connection to the venue (tcp.hpp), the
// session rules (session.hpp) and an OrderRouter (order_router.hpp), driven by poll() from the
// engine's ingress thread. Schema-agnostic: `Codec` (generated from the schema's order-entry
// roles) encodes the session messages and the router's requests and decodes what the venue sends
// into an Inbound.
//
// Life of a connection: connect (non-blocking) -> Logon with the secret -> the venue's Logon ->
// its reconcile reports -> the Heartbeat that ends the reconcile -> quoting. Any loss (closed
// socket, dead peer, framing or decode error, sequence gap, the venue's Logout) suspends quoting
// and reconnects after an exponential back-off; a Logout for bad credentials ends the session
// for good (the engine exits). stop() cancels what rests, then logs out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hft/oms/credentials.hpp"
#include "hft/oms/order_manager.hpp"
#include "hft/session/framing.hpp"
#include "hft/session/session.hpp"
#include "hft/session/tcp.hpp"
#include "hft/trading/order.hpp"

namespace hft::session {

/// One message from the venue, as the generated codec decodes it.
struct Inbound {
  enum class Type : std::uint8_t { kLogon, kLogout, kHeartbeat, kExecReport, kOrderReject, kOther };
  Type type = Type::kOther;
  bool has_seq = false;  ///< the message has a `seq` field (else it is counted unchecked)
  std::uint64_t seq = 0;
  oms::ExecReport report;    ///< kExecReport; kOrderReject: cl_ord_id = the refused request
  bool open = false;         ///< kExecReport: the order is open or partially filled
  std::uint16_t reason = 0;  ///< kLogout
};

struct VenueCounters {
  std::uint64_t connects = 0;  ///< connections established
  std::uint64_t connect_failures = 0;
  std::uint64_t disconnects = 0;  ///< established connections lost (not by our logout)
  std::uint64_t reconnects = 0;   ///< logons after the first
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::array<std::uint64_t, kFrameErrors> frame_errors{};  ///< by FrameError (decode included)
  std::uint64_t logouts_received = 0;
  std::uint64_t last_logout_reason = 0;
  std::uint64_t secret_read_failures = 0;  ///< re-reads of the secret's reference that failed
};

struct VenueConfig {
  TcpEndpoint endpoint;
  std::string secret;  ///< the logon credential (never logged)
  /// Where `secret` came from, read again before each logon (a rotated key is picked up); empty:
  /// `secret` as given. A failed read (or a secret longer than the logon carries) keeps the
  /// previous secret.
  std::string secret_ref;
  oms::CredentialSource secret_source = oms::CredentialSource::kEnv;
  std::uint32_t heartbeat_ms = 1000;
  /// Called with every message sent (inbound false) and received (true), as encoded without the
  /// frame header, for the audit journal; never with our own Logon, which carries the secret.
  std::function<void(std::span<const char>, bool)> journal;
  std::uint64_t backoff_initial_ns = 100'000'000;
  std::uint64_t backoff_max_ns = 5'000'000'000;
};

template <class Codec, class Router>
class VenueSession {
 public:
  VenueSession(VenueConfig cfg, Router& router)
      : cfg_(std::move(cfg)),
        router_(&router),
        conn_(Codec::kHeaderBytes),
        session_(Role::kClient,
                 SessionConfig{static_cast<std::uint64_t>(cfg_.heartbeat_ms) * 1'000'000ULL, 3}),
        backoff_(cfg_.backoff_initial_ns, cfg_.backoff_max_ns),
        buf_(Codec::kMaxMessageBytes) {}

  /// Does whatever is due at `now_ns` (monotonic): connect, read and handle frames, send the
  /// router's requests, heartbeats, detect a dead peer. Never blocks.
  void poll(std::uint64_t now_ns) {
    if (refused_) return;
    if (!conn_.open()) {
      if (!stopping_ && backoff_.due(now_ns)) start_connect(now_ns);
      return;
    }
    if (!conn_.connected()) {
      const ConnectStatus st = conn_.poll_connect(0);
      if (st == ConnectStatus::kFailed) {
        ++counters_.connect_failures;
        backoff_.fail(now_ns);
      } else if (st == ConnectStatus::kConnected) {
        on_connected(now_ns);
      }
      return;
    }
    const ReadResult r = conn_.read();
    std::span<const char> msg;
    while (conn_.open() && conn_.next(msg)) {
      ++counters_.frames_in;
      handle(msg, now_ns);
    }
    if (!conn_.open()) return;
    if (conn_.reader().failed()) {
      ++counters_.frame_errors[static_cast<std::size_t>(conn_.reader().error())];
      session_.on_protocol_error();
      drop(now_ns, LogoutReason::kProtocolError);
      return;
    }
    if (r.status != ReadStatus::kOk) {
      drop(now_ns, std::nullopt);
      return;
    }
    if (session_.state() == State::kActive) {
      router_->pump([&](const oms::Action& a, trading::InstrumentId inst, std::uint64_t request) {
        const std::size_t n =
            codec_.encode_action(buf_, session_.next_seq(now_ns), a, request, inst, now_ns);
        send(n);
      });
    }
    if (session_.heartbeat_due(now_ns)) {
      send(codec_.encode_heartbeat(buf_, session_.next_heartbeat_seq(now_ns), now_ns));
    }
    if (session_.check_dead(now_ns)) {
      drop(now_ns, std::nullopt);
      return;
    }
    if (!conn_.flush()) drop(now_ns, std::nullopt);
  }

  /// Lockstep (the venue waits for an answer to each packet and report): `n` heartbeats now, one
  /// per message handled, after the requests they caused. Only while the session is active.
  void ack(std::uint64_t n, std::uint64_t now_ns) {
    if (!conn_.connected() || session_.state() != State::kActive) return;
    for (std::uint64_t i = 0; i < n; ++i) {
      send(codec_.encode_heartbeat(buf_, session_.next_heartbeat_seq(now_ns), now_ns));
    }
    if (!conn_.flush()) drop(now_ns, std::nullopt);
  }

  /// Begins a clean stop: the router cancels what rests; once nothing is live (or at once when not
  /// logged on) we log out. Keep calling poll() until done().
  void stop(std::uint64_t now_ns) {
    if (stopping_) return;
    stopping_ = true;
    stop_started_ns_ = now_ns;
    router_->cancel_all();
  }

  /// After stop(): cancels answered and the Logout exchanged, or the connection gone, or
  /// `grace_ns` passed since stop().
  bool done(std::uint64_t now_ns, std::uint64_t grace_ns) {
    if (refused_ || !conn_.open()) return true;
    if (!stopping_) return false;
    if (!session_.logged_on() && session_.state() != State::kLoggingOut) {
      conn_.close();  // not logged on (connecting, or waiting for the Logon answer): just close
      session_.on_disconnected();
      return true;
    }
    const std::uint64_t elapsed = now_ns - stop_started_ns_;
    if (session_.state() == State::kActive && (router_->live() == 0 || elapsed >= grace_ns / 2)) {
      send(codec_.encode_logout(buf_, session_.next_logout_seq(now_ns),
                                static_cast<std::uint16_t>(LogoutReason::kNormal), now_ns));
      conn_.flush();
    }
    if (elapsed >= grace_ns) {
      conn_.close();
      session_.on_disconnected();
      return true;
    }
    return false;
  }

  /// The venue refused our credentials: the session is over for good.
  [[nodiscard]] bool refused() const noexcept { return refused_; }
  [[nodiscard]] bool logged_on() const noexcept { return session_.logged_on(); }
  [[nodiscard]] State state() const noexcept { return session_.state(); }
  [[nodiscard]] const VenueCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const SessionCounters& session_counters() const noexcept {
    return session_.counters();
  }

 private:
  void start_connect(std::uint64_t now_ns) {
    if (!conn_.connect(cfg_.endpoint)) {
      ++counters_.connect_failures;
      backoff_.fail(now_ns);
    }
  }

  void on_connected(std::uint64_t now_ns) {
    ++counters_.connects;
    if (!cfg_.secret_ref.empty()) {
      oms::SecretResult r = oms::read_secret(cfg_.secret_source, cfg_.secret_ref);
      const bool fits =
          Codec::kCredentialsBytes == 0 || r.secret.size() <= Codec::kCredentialsBytes;
      if (r.ok && fits) {
        cfg_.secret = std::move(r.secret);
      } else {
        ++counters_.secret_read_failures;
      }
    }
    session_.on_connected(now_ns);
    send(codec_.encode_logon(buf_, session_.next_seq(now_ns), cfg_.heartbeat_ms, cfg_.secret,
                             now_ns),
         /*journal=*/false);  // the logon carries the secret
    conn_.flush();
  }

  void handle(std::span<const char> msg, std::uint64_t now_ns) {
    Inbound in;
    if (!Codec::decode(msg, in)) {
      conn_.reader().fail(FrameError::kDecode);
      return;
    }
    if (cfg_.journal) cfg_.journal(msg, true);
    const Kind kind = in.type == Inbound::Type::kLogon       ? Kind::kLogon
                      : in.type == Inbound::Type::kLogout    ? Kind::kLogout
                      : in.type == Inbound::Type::kHeartbeat ? Kind::kHeartbeat
                                                             : Kind::kApplication;
    const bool reconciling = session_.state() == State::kReconciling;
    const Verdict v = in.has_seq ? session_.on_receive(kind, in.seq, now_ns)
                                 : session_.on_receive_unsequenced(kind, now_ns);
    switch (v) {
      case Verdict::kLoggedOn:
        if (session_.counters().logons > 1) ++counters_.reconnects;
        backoff_.reset();
        router_->begin_reconcile();
        return;
      case Verdict::kReconcileDone:
        router_->end_reconcile();
        if (stopping_) router_->cancel_all();
        return;
      case Verdict::kDeliver:
        deliver(in, reconciling);
        return;
      case Verdict::kConsumed:
        return;
      case Verdict::kAnswerLogout:
        ++counters_.logouts_received;
        counters_.last_logout_reason = in.reason;
        if (in.reason == static_cast<std::uint16_t>(LogoutReason::kBadCredentials)) {
          refused_ = true;
          conn_.close();
          session_.on_disconnected();
          router_->suspend();
          return;
        }
        send(codec_.encode_logout(buf_, session_.next_seq(now_ns),
                                  static_cast<std::uint16_t>(LogoutReason::kNormal), now_ns));
        drop(now_ns, std::nullopt);
        return;
      case Verdict::kLogoutDone:
        ++counters_.logouts_received;
        conn_.close();
        session_.on_disconnected();
        return;
      case Verdict::kSequenceGap:
        drop(now_ns, LogoutReason::kSequenceGap);
        return;
      case Verdict::kProtocolError:
        drop(now_ns, LogoutReason::kProtocolError);
        return;
    }
  }

  void deliver(const Inbound& in, bool reconciling) {
    if (in.type == Inbound::Type::kOrderReject) {
      router_->on_reject(in.report.cl_ord_id);
    } else if (in.type == Inbound::Type::kExecReport) {
      if (reconciling && in.open && in.report.kind == oms::ExecKind::kNew) {
        router_->reconcile_report(in.report.cl_ord_id, in.report.side);
      } else {
        router_->on_report(in.report);
      }
    }
  }

  void send(std::size_t n, bool journal = true) {
    if (n == 0) return;  // not encodable: nothing goes out (the codec counts it)
    ++counters_.frames_out;
    const std::span<const char> msg(buf_.data(), n);
    if (journal && cfg_.journal) cfg_.journal(msg, false);
    conn_.send_frame(msg);
  }

  /// Ends the connection (sending Logout(reason) first when given) and schedules a reconnect.
  void drop(std::uint64_t now_ns, std::optional<LogoutReason> reason) {
    if (reason && conn_.connected()) {
      send(codec_.encode_logout(buf_, session_.next_seq(now_ns),
                                static_cast<std::uint16_t>(*reason), now_ns));
      conn_.flush();
    }
    conn_.close();
    session_.on_disconnected();
    ++counters_.disconnects;
    router_->suspend();
    backoff_.fail(now_ns);
  }

  VenueConfig cfg_;
  Router* router_;
  Codec codec_;
  TcpConnection conn_;
  Session session_;
  Backoff backoff_;
  std::vector<char> buf_;
  VenueCounters counters_;
  bool refused_ = false;
  bool stopping_ = false;
  std::uint64_t stop_started_ns_ = 0;
};

}  // namespace hft::session
