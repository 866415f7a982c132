// The generated engine's order entry: the strategy's accepted quotes in (want()), requests out to
// the venue, execution reports back, counted in the metrics registry and in the run's summary.
//
// One path whatever the venue: desired quotes -> OrderRouter (hft::oms::OrderManager::quote) ->
// requests -> either the order-entry session over TCP (VenueSession with the schema's generated
// `Codec`) or the in-process SimulatedVenue -> execution reports -> OrderRouter -> fills into the
// pipeline through `FillSink`. `Codec` is NoSessionCodec when the schema declares no order-entry
// session: then only the simulated venue exists.
//
// Runs on the engine's ingress thread (poll() between market-data events); the metrics it writes
// are relaxed atomics, read by the exporter thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hft/audit/journal_format.hpp"
#include "hft/audit/journal_reader.hpp"
#include "hft/metrics/registry.hpp"
#include "hft/oms/order_manager.hpp"
#include "hft/session/order_router.hpp"
#include "hft/session/venue_session.hpp"
#include "hft/trading/order.hpp"

namespace hft::session {

/// The Codec of a schema without an order-entry session (simulated venue only).
struct NoSessionCodec {
  static constexpr bool kHasReplace = true;
};

/// A venue in the same process (the engine's backtest): it takes the gateway's encoded requests
/// and hands back its encoded reports, so both go through the schema's codecs as on the wire.
class LocalVenue {
 public:
  virtual ~LocalVenue() = default;
  /// One request, as the gateway encoded it.
  virtual void request(std::span<const char> frame) = 0;
  /// The next report due to us (valid until the next call), or false.
  virtual bool report(std::span<const char>& frame) = 0;
};

struct OrderEntryConfig {
  std::string_view pipeline;
  std::span<const std::string_view> instruments;  ///< names, for metric labels and the summary
  oms::OmsConfig oms;
  std::uint64_t first_id = 1;        ///< where client order ids start (see OrderRouter)
  double fill_ratio = 0;             ///< simulated venue: share of orders filled
  std::uint64_t seed = 1;            ///< simulated venue
  std::optional<VenueConfig> venue;  ///< the TCP venue; the simulated one when absent
  LocalVenue* local = nullptr;       ///< else an in-process venue (not owned); needs a Codec
  std::FILE* request_log = nullptr;  ///< one line per request sent (OrderRouter::log_requests)
};

template <class Codec, class FillSink>
class OrderEntry {
  static constexpr bool kSession = !std::is_same_v<Codec, NoSessionCodec>;

 public:
  using Router = OrderRouter<FillSink>;

  OrderEntry(const OrderEntryConfig& cfg, metrics::Registry& reg, FillSink sink)
      : cfg_(cfg),
        router_(cfg.instruments.size(), with_replace(cfg.oms), cfg.first_id, std::move(sink)) {
    const metrics::Label pl{"pipeline", cfg.pipeline};
    for (std::size_t k = 0; k < kActionKinds; ++k) {
      m_.sent[k] = reg.counter("hftc_orders_sent_total", "Requests sent to the venue, by kind.",
                               {pl, {"kind", kActionKindNames[k]}});
    }
    for (std::size_t k = 0; k < kExecKinds; ++k) {
      m_.reports[k] = reg.counter("hftc_exec_reports_total",
                                  "Execution reports (and order rejects) received, by kind.",
                                  {pl, {"kind", kExecKindNames[k]}});
    }
    m_.unexpected = reg.counter("hftc_oms_unexpected_reports_total",
                                "Reports for orders never sent or already closed.", {pl});
    m_.disconnects =
        reg.counter("hftc_venue_disconnects_total", "Order-entry connections lost.", {pl});
    m_.reconnects =
        reg.counter("hftc_venue_reconnects_total", "Order-entry logons after the first.", {pl});
    m_.connect_failures = reg.counter("hftc_venue_connect_failures_total",
                                      "Order-entry connection attempts that failed.", {pl});
    m_.reconcile_closed = reg.counter("hftc_oms_reconcile_closed_total",
                                      "Orders closed as canceled by a reconcile.", {pl});
    m_.logged_on =
        reg.gauge("hftc_venue_logged_on", "1 while the order-entry session is up.", {pl});
    m_.live = reg.gauge("hftc_oms_live_orders", "Orders resting or in flight.", {pl});
    m_.unknown = reg.gauge("hftc_oms_orders_unknown",
                           "Live orders whose state is unknown (venue disconnected).", {pl});
    if constexpr (kSession) {
      if (cfg.venue) venue_ = std::make_unique<VenueSession<Codec, Router>>(*cfg.venue, router_);
    }
    if constexpr (kSession) {
      if (!venue_ && cfg.local != nullptr) local_buf_.resize(Codec::kMaxMessageBytes);
    }
    if (!venue_ && !local()) sim_.emplace(cfg.fill_ratio, cfg.seed);
    router_.log_requests(cfg.request_log);
  }

  /// Crash recovery, before the first poll(): replays the order-entry messages of the audit
  /// journal at `journal_prefix` (a previous run's, killed or not) through the router, so
  /// position and cash are what that run's execution reports made them, its live orders are
  /// known again (their state settled by the venue's reconcile at logon), and no id is reused.
  /// Returns the journal's read result (damage is the caller's to report).
  audit::ReadResult recover(const std::string& journal_prefix) {
    audit::ReadResult res;
    if constexpr (kSession) {
      res = audit::read_journal(journal_prefix, [this](const audit::RecordView& r) {
        if (r.type != audit::RecordType::kMessage) return;
        const std::span<const char> msg(reinterpret_cast<const char*>(r.payload.data()),
                                        r.payload.size());
        if ((r.flags & audit::kInbound) != 0) {
          Inbound in;
          if (!Codec::decode(msg, in)) return;
          if (in.type == Inbound::Type::kExecReport) router_.recover_report(in.report);
          if (in.type == Inbound::Type::kOrderReject) router_.recover_reject(in.report.cl_ord_id);
          return;
        }
        oms::Action a;
        std::uint64_t request_id = 0;
        if (Codec::decode_request(msg, a, request_id)) router_.recover_request(a, request_id);
      });
    }
    router_.end_recovery(static_cast<bool>(venue_));
    recovered_ = true;
    return res;
  }

  /// The strategy's quote for one side of one instrument, as the risk gate accepted it.
  void want(const trading::OrderRequest& o) noexcept { router_.want(o); }

  /// Everything due at `now_ns`: reports in, requests out, heartbeats, reconnects; then metrics.
  void poll(std::uint64_t now_ns) {
    if constexpr (kSession) {
      if (venue_) {
        venue_->poll(now_ns);
        publish();
        return;
      }
    }
    if constexpr (kSession) {
      if (local()) {
        poll_local(now_ns);
        publish();
        return;
      }
    }
    sim_->poll([this](const oms::ExecReport& r) { router_.on_report(r); });
    router_.pump([this](const oms::Action& a, trading::InstrumentId, std::uint64_t request) {
      sim_->send(a, request);
    });
    publish();
  }

  /// Lockstep: one heartbeat per market-data packet and report handled (VenueSession::ack).
  void ack(std::uint64_t n, std::uint64_t now_ns) {
    if constexpr (kSession) {
      if (venue_) venue_->ack(n, now_ns);
    }
  }

  /// In-process venue: its reports the schema's decoder refused (a backtest with any is wrong).
  [[nodiscard]] std::uint64_t local_undecodable() const noexcept { return local_undecodable_; }

  /// Reports and order rejects received so far (lockstep counts what it must answer).
  [[nodiscard]] std::uint64_t reports_received() const noexcept {
    const RouterCounters& c = router_.counters();
    std::uint64_t n = 0;
    for (const std::uint64_t k : c.reports) n += k;
    return n;
  }

  /// The kill switch: cancel everything resting or in flight; the caller stops calling want().
  void cancel_all() noexcept { router_.cancel_all(); }

  /// True while the order-entry session is logged on (always, with the simulated venue).
  [[nodiscard]] bool logged_on() const noexcept {
    if constexpr (kSession) {
      if (venue_) return venue_->logged_on();
    }
    return true;
  }

  /// True while requests can go out: logged on and not suspended for a reconcile.
  [[nodiscard]] bool active() const noexcept { return logged_on() && router_.quoting(); }

  /// Whether the engine trades through a venue session (readiness then needs a logon).
  [[nodiscard]] bool has_venue() const noexcept { return static_cast<bool>(venue_); }

  /// Orders resting or in flight.
  [[nodiscard]] std::size_t live() const noexcept { return router_.live(); }

  /// Begins a clean stop: cancel what rests, then log out.
  void stop(std::uint64_t now_ns) {
    if constexpr (kSession) {
      if (venue_) {
        venue_->stop(now_ns);
        return;
      }
    }
    router_.cancel_all();
  }

  /// After stop(): true once the venue is done with us or `grace_ns` passed.
  bool done(std::uint64_t now_ns, std::uint64_t grace_ns) {
    if constexpr (kSession) {
      if (venue_) return venue_->done(now_ns, grace_ns);
    }
    return router_.live() == 0;
  }

  /// The venue refused the logon (bad credentials): the engine stops.
  [[nodiscard]] bool refused() const noexcept {
    if constexpr (kSession) {
      if (venue_) return venue_->refused();
    }
    return false;
  }

  [[nodiscard]] const Router& router() const noexcept { return router_; }
  [[nodiscard]] std::uint64_t rejects() const noexcept {
    const RouterCounters& c = router_.counters();
    return c.reports[static_cast<std::size_t>(oms::ExecKind::kRejected)];
  }

  /// One line for the engine's exit message.
  [[nodiscard]] std::string describe() const {
    const RouterCounters& c = router_.counters();
    char line[256];
    std::snprintf(
        line, sizeof line,
        "venue %s: %llu new, %llu cancel, %llu replace sent, %llu fills, position %lld",
        venue_kind(), ull(c.sent[0]), ull(c.sent[1]), ull(c.sent[2]),
        ull(c.reports[static_cast<std::size_t>(oms::ExecKind::kFill)]),
        static_cast<long long>(router_.instruments() > 0 ? router_.oms(0).position() : 0));
    return line;
  }

  /// The summary's "order_entry" object (no trailing newline).
  void write_json(std::FILE* f) const {
    const RouterCounters& c = router_.counters();
    std::fprintf(f, "{\"venue\": \"%s\", \"sent\": {", venue_kind());
    for (std::size_t k = 0; k < kActionKinds; ++k) {
      std::fprintf(f, "%s\"%s\": %llu", k ? ", " : "", std::string(kActionKindNames[k]).c_str(),
                   ull(c.sent[k]));
    }
    std::fprintf(f, "}, \"exec_reports\": {");
    for (std::size_t k = 0; k < kExecKinds; ++k) {
      std::fprintf(f, "%s\"%s\": %llu", k ? ", " : "", std::string(kExecKindNames[k]).c_str(),
                   ull(c.reports[k]));
    }
    std::fprintf(
        f,
        "}, \"desired_quotes\": %llu, \"unexpected_reports\": %llu, \"live_orders\": %llu, "
        "\"suspended\": %llu, \"marked_unknown\": %llu, \"reconcile_open\": %llu, "
        "\"reconcile_closed\": %llu, \"reconcile_foreign\": %llu, \"foreign_canceled\": %llu",
        ull(c.desired), ull(router_.unexpected_reports()), ull(router_.live()), ull(c.suspended),
        ull(c.marked_unknown), ull(c.reconcile_open), ull(c.reconcile_closed),
        ull(c.reconcile_foreign), ull(c.foreign_canceled));
    if (recovered_) {
      const auto& r = router_.recovery();
      std::fprintf(f,
                   ", \"recovered\": {\"requests\": %llu, \"reports\": %llu, \"fills\": %llu, "
                   "\"unplaced\": %llu, \"open_orders\": %llu}",
                   ull(r.requests), ull(r.reports), ull(r.fills), ull(r.unplaced),
                   ull(r.open_orders));
    }
    std::fprintf(f, ", \"position\": {");
    for (std::size_t i = 0; i < router_.instruments(); ++i) {
      std::fprintf(f, "%s\"%s\": %lld", i ? ", " : "", std::string(cfg_.instruments[i]).c_str(),
                   static_cast<long long>(router_.oms(i).position()));
    }
    std::fprintf(f, "}, \"cash\": {");
    for (std::size_t i = 0; i < router_.instruments(); ++i) {
      std::fprintf(f, "%s\"%s\": %lld", i ? ", " : "", std::string(cfg_.instruments[i]).c_str(),
                   static_cast<long long>(router_.oms(i).cash()));
    }
    std::fprintf(f, "}");
    if constexpr (kSession) {
      if (venue_) {
        const VenueCounters& v = venue_->counters();
        const SessionCounters& s = venue_->session_counters();
        std::fprintf(
            f,
            ", \"session\": {\"connects\": %llu, \"connect_failures\": %llu, "
            "\"disconnects\": %llu, \"reconnects\": %llu, \"logons\": %llu, "
            "\"logon_refused\": %s, \"messages_sent\": %llu, \"messages_received\": %llu, "
            "\"heartbeats_sent\": %llu, \"heartbeats_received\": %llu, "
            "\"sequence_gaps\": %llu, \"protocol_errors\": %llu, \"dead_peers\": %llu, "
            "\"logouts_received\": %llu, \"secret_read_failures\": %llu, \"frame_errors\": {",
            ull(v.connects), ull(v.connect_failures), ull(v.disconnects), ull(v.reconnects),
            ull(s.logons), venue_->refused() ? "true" : "false", ull(s.sent), ull(s.received),
            ull(s.heartbeats_sent), ull(s.heartbeats_received), ull(s.sequence_gaps),
            ull(s.protocol_errors), ull(s.dead_peers), ull(v.logouts_received),
            ull(v.secret_read_failures));
        for (std::size_t k = 1; k < kFrameErrors; ++k) {
          std::fprintf(f, "%s\"%s\": %llu", k > 1 ? ", " : "",
                       std::string(kFrameErrorNames[k]).c_str(), ull(v.frame_errors[k]));
        }
        std::fprintf(f, "}}");
      }
    }
    std::fprintf(f, "}");
  }

 private:
  [[nodiscard]] bool local() const noexcept { return cfg_.local != nullptr && !venue_; }

  [[nodiscard]] const char* venue_kind() const noexcept {
    return venue_ ? "tcp" : (local() ? "backtest" : "simulated");
  }

  // The in-process venue: its reports through the schema's decoder, then our requests through
  // the gateway's encoder, in the order a session's poll() takes them.
  void poll_local(std::uint64_t now_ns) {
    if constexpr (kSession) {
      std::span<const char> frame;
      while (cfg_.local->report(frame)) {
        Inbound in;
        if (!Codec::decode(frame, in)) {
          ++local_undecodable_;
          continue;
        }
        if (in.type == Inbound::Type::kOrderReject) {
          router_.on_reject(in.report.cl_ord_id);
        } else if (in.type == Inbound::Type::kExecReport) {
          router_.on_report(in.report);
        }
      }
      router_.pump([&](const oms::Action& a, trading::InstrumentId inst, std::uint64_t request) {
        const std::size_t n = codec_.encode_action(local_buf_, ++local_seq_, a, request, inst, now_ns);
        if (n > 0) cfg_.local->request(std::span<const char>(local_buf_.data(), n));
      });
    } else {
      static_cast<void>(now_ns);
    }
  }

  static unsigned long long ull(std::uint64_t v) noexcept {
    return static_cast<unsigned long long>(v);
  }

  static oms::OmsConfig with_replace(oms::OmsConfig c) noexcept {
    c.venue_replace = Codec::kHasReplace;
    return c;
  }

  // Counters move by the difference since the last publish: each is written by this thread only.
  struct Handles {
    std::array<metrics::Counter, kActionKinds> sent;
    std::array<metrics::Counter, kExecKinds> reports;
    metrics::Counter unexpected, disconnects, reconnects, connect_failures, reconcile_closed;
    metrics::Gauge logged_on, live, unknown;
  };
  struct Seen {
    std::array<std::uint64_t, kActionKinds> sent{};
    std::array<std::uint64_t, kExecKinds> reports{};
    std::uint64_t unexpected = 0, disconnects = 0, reconnects = 0, connect_failures = 0,
                  reconcile_closed = 0;
  };

  static void move(metrics::Counter& c, std::uint64_t now, std::uint64_t& seen) noexcept {
    if (now > seen) {
      c.inc(now - seen);
      seen = now;
    }
  }

  void publish() noexcept {
    const RouterCounters& c = router_.counters();
    for (std::size_t k = 0; k < kActionKinds; ++k) move(m_.sent[k], c.sent[k], seen_.sent[k]);
    for (std::size_t k = 0; k < kExecKinds; ++k)
      move(m_.reports[k], c.reports[k], seen_.reports[k]);
    move(m_.unexpected, router_.unexpected_reports(), seen_.unexpected);
    move(m_.reconcile_closed, c.reconcile_closed, seen_.reconcile_closed);
    bool up = true;
    if constexpr (kSession) {
      if (venue_) {
        const VenueCounters& v = venue_->counters();
        move(m_.disconnects, v.disconnects, seen_.disconnects);
        move(m_.reconnects, v.reconnects, seen_.reconnects);
        move(m_.connect_failures, v.connect_failures, seen_.connect_failures);
        up = venue_->logged_on();
      }
    }
    const auto live = static_cast<double>(router_.live());
    m_.logged_on.set(up ? 1.0 : 0.0);
    m_.live.set(live);
    m_.unknown.set(router_.quoting() ? 0.0 : live);
  }

  OrderEntryConfig cfg_;
  Router router_;
  std::unique_ptr<VenueSession<Codec, Router>> venue_;
  std::optional<SimulatedVenue> sim_;
  [[no_unique_address]] Codec codec_{};
  std::vector<char> local_buf_;
  std::uint64_t local_seq_ = 0;
  std::uint64_t local_undecodable_ = 0;
  Handles m_;
  Seen seen_;
  bool recovered_ = false;
};

}  // namespace hft::session
