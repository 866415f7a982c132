// The engine's one order path: the strategy's desired quotes, per instrument, through
// hft::oms::OrderManager::quote() into the fewest new/cancel/replace requests, and execution
// reports back into the same OrderManager. Whatever carries the requests (the TCP venue session
// in venue_session.hpp, or the in-process SimulatedVenue below) sees only oms::Action values and
// answers only with oms::ExecReport values, so position, cash and PnL come from execution
// reports in both cases.
//
// One OrderManager per instrument; client order ids carry the instrument in their top bits, so a
// report (whose message may name no instrument) finds its order manager by id alone. A cancel is
// a request of its own with a fresh id (above kCancelIdBase), remembered so that a refusal of it
// (an order_reject naming that id) is applied to the order it tried to cancel.
//
// Connection loss: suspend() stops quoting and counts the live orders as unknown; the venue's
// reconcile (reconcile_report() for each order it still holds, then end_reconcile()) restores
// them; orders it does not report are closed as canceled. Single-threaded: everything runs on
// the thread that owns the router (the engine's ingress thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "hft/oms/order_manager.hpp"
#include "hft/trading/order.hpp"

namespace hft::session {

inline constexpr std::size_t kExecKinds = 7;
inline constexpr std::array<std::string_view, kExecKinds> kExecKindNames = {
    "new", "fill", "canceled", "replaced", "rejected", "cancel_rejected", "replace_rejected"};
inline constexpr std::size_t kActionKinds = 3;
inline constexpr std::array<std::string_view, kActionKinds> kActionKindNames = {"new", "cancel",
                                                                                "replace"};

struct RouterCounters {
  std::array<std::uint64_t, kActionKinds> sent{};   ///< requests by oms::ActionKind
  std::array<std::uint64_t, kExecKinds> reports{};  ///< reports by oms::ExecKind
  std::uint64_t desired = 0;                        ///< desired quotes taken (want())
  std::uint64_t unroutable = 0;                     ///< reports for an id of no instrument
  std::uint64_t suspended = 0;                      ///< times quoting stopped (connection loss)
  std::uint64_t marked_unknown = 0;                 ///< live orders at those times
  std::uint64_t reconcile_open = 0;                 ///< orders the venue reported open
  std::uint64_t reconcile_closed = 0;               ///< orders closed as canceled by reconcile
  std::uint64_t reconcile_foreign = 0;              ///< reconcile reports for no order we know
  std::uint64_t foreign_canceled = 0;               ///< of those, cancels sent (our id space)
};

/// Requests for `instruments` instruments, one OrderManager each. `FillSink` is called as
/// sink(instrument, side, px_ticks, qty_lots) for every fill reported.
template <class FillSink>
class OrderRouter {
 public:
  /// Bits of a client order id below the instrument index.
  static constexpr unsigned kInstrumentShift = 48;
  /// Cancel request ids start here (above every order id).
  static constexpr std::uint64_t kCancelIdBase = std::uint64_t{1} << 62;
  static constexpr std::size_t kCancelMemory = 256;

  /// `first_id` (below 2^48, > 0): where each instrument's order ids start counting, e.g. a
  /// time-derived value so a restarted engine does not reuse the last run's ids.
  OrderRouter(std::size_t instruments, oms::OmsConfig cfg, std::uint64_t first_id, FillSink sink)
      : sink_(static_cast<FillSink&&>(sink)),
        desired_(instruments),
        dirty_(instruments, false),
        seen_() {
    first_id &= (std::uint64_t{1} << kInstrumentShift) - 1;
    if (first_id == 0) first_id = 1;
    for (std::size_t i = 0; i < instruments; ++i) {
      oms::OmsConfig c = cfg;
      c.first_cl_ord_id = (static_cast<std::uint64_t>(i) << kInstrumentShift) | first_id;
      oms_.push_back(std::make_unique<oms::OrderManager>(c));
    }
    seen_.reserve(instruments * (cfg.capacity == 0 ? 1 : cfg.capacity));
  }

  /// The strategy's latest quote for one side of one instrument (replacing the previous one).
  void want(const trading::OrderRequest& o) noexcept {
    if (closing_ || o.instrument >= desired_.size()) return;
    ++counters_.desired;
    auto& side = desired_[o.instrument][o.side == Side::Bid ? 0 : 1];
    side = oms::DesiredQuote{o.px_ticks, o.qty_lots};
    dirty_[o.instrument] = true;
    any_dirty_ = true;
  }

  /// Stops quoting everything for good (desired quotes become empty and want() is ignored from
  /// now on): pump() then sends the cancels.
  void cancel_all() noexcept {
    closing_ = true;
    for (std::size_t i = 0; i < desired_.size(); ++i) {
      desired_[i] = {};
      dirty_[i] = true;
    }
    any_dirty_ = true;
  }

  /// Moves the resting orders toward the desired quotes: send(action, instrument, request_id)
  /// for each request (request_id is the message's client order id: the order's own id, or a
  /// fresh one for a cancel). Nothing while suspended.
  /// Writes one line per request sent to `f` (null: none): `kind instrument side px qty`, in the
  /// order sent and without ids, so two runs of the same strategy compare line by line.
  void log_requests(std::FILE* f) noexcept { log_ = f; }

  template <class Send>
  void pump(Send&& send) {
    if (!quoting_ || !any_dirty_) return;
    any_dirty_ = false;
    for (const Foreign& f : foreign_) {
      const oms::Action a{oms::ActionKind::kCancel, f.id, 0, f.side, 0, 0};
      ++counters_.sent[static_cast<std::size_t>(a.kind)];
      ++counters_.foreign_canceled;
      send(a, static_cast<trading::InstrumentId>(instrument_of(f.id)), remember_cancel(f.id));
      if (log_ != nullptr) log(a, instrument_of(f.id));
    }
    foreign_.clear();
    std::array<oms::Action, oms::OrderManager::kMaxActions> out{};
    for (std::size_t i = 0; i < desired_.size(); ++i) {
      if (!dirty_[i]) continue;
      dirty_[i] = false;
      const std::size_t n = oms_[i]->quote(desired_[i][0], desired_[i][1], out);
      for (std::size_t k = 0; k < n; ++k) {
        const oms::Action& a = out[k];
        ++counters_.sent[static_cast<std::size_t>(a.kind)];
        std::uint64_t request = a.cl_ord_id;
        if (a.kind == oms::ActionKind::kCancel) request = remember_cancel(a.cl_ord_id);
        send(a, static_cast<trading::InstrumentId>(i), request);
        if (log_ != nullptr) log(a, i);
      }
    }
  }

  /// One execution report (ids as sent). Fills go to the sink whatever the order's state. A
  /// report naming one of our cancel requests (FIX style: the request's id, the order's as the
  /// original id) is applied to the order.
  void on_report(const oms::ExecReport& report) noexcept {
    oms::ExecReport r = report;
    if (r.cl_ord_id >= kCancelIdBase) {
      r.cl_ord_id = r.orig_cl_ord_id != 0 ? r.orig_cl_ord_id : cancelled_order(r.cl_ord_id);
    }
    ++counters_.reports[static_cast<std::size_t>(r.kind)];
    const std::size_t i = instrument_of(r.cl_ord_id);
    if (r.kind == oms::ExecKind::kFill && i < oms_.size()) {
      sink_(static_cast<trading::InstrumentId>(i), r.side, r.last_px, r.last_qty);
    }
    if (i >= oms_.size()) {
      ++counters_.unroutable;
      return;
    }
    oms_[i]->on_report(r);
    dirty_[i] = true;
    any_dirty_ = true;
  }

  /// The venue refused request `request_id` before it reached the book (an order_reject): a
  /// cancel's refusal restores the order; a new order's or a replace's closes it as rejected.
  void on_reject(std::uint64_t request_id) noexcept {
    oms::ExecReport r;
    r.kind = oms::ExecKind::kRejected;
    r.cl_ord_id = request_id;
    if (request_id >= kCancelIdBase) {
      r.kind = oms::ExecKind::kCancelRejected;
      r.cl_ord_id = cancelled_order(request_id);
    }
    on_report(r);
  }

  // ---- crash recovery: a previous run's journal replayed before the first logon ----------

  /// A request the previous run sent (`request_id` as on the wire: the order's id, or a
  /// cancel's own id). Cancel ids count on above it, so this run never reuses one.
  void recover_request(const oms::Action& a, std::uint64_t request_id) noexcept {
    ++recovery_.requests;
    const std::size_t i = instrument_of(a.cl_ord_id);
    if (a.kind == oms::ActionKind::kCancel && request_id >= kCancelIdBase) {
      const std::uint64_t n = request_id - kCancelIdBase;
      if (n >= next_cancel_) next_cancel_ = n + 1;
      cancels_[request_id % kCancelMemory] = a.cl_ord_id;
    }
    if (i >= oms_.size() || !oms_[i]->recover(a)) ++recovery_.unplaced;
  }

  /// A report or an order reject the previous run received: applied as it was then (fills move
  /// the position through the sink, as they did).
  void recover_report(const oms::ExecReport& r) noexcept {
    ++recovery_.reports;
    if (r.kind == oms::ExecKind::kFill) ++recovery_.fills;
    on_report(r);
  }
  void recover_reject(std::uint64_t request_id) noexcept {
    ++recovery_.reports;
    on_reject(request_id);
  }

  /// The replay is over: what it did is not this run's traffic (the counters restart), and the
  /// orders it left live are unknown until the venue's reconcile (`venue`), or gone for good
  /// with the in-process simulated venue, which died with the previous run.
  void end_recovery(bool venue) noexcept {
    recovery_.open_orders = live();
    counters_ = RouterCounters{};
    if (!venue) {
      std::vector<std::uint64_t> ids;
      for (std::size_t i = 0; i < oms_.size(); ++i) {
        collect(i, ids);
        for (const std::uint64_t id : ids) apply(i, id, oms::ExecKind::kCanceled);
      }
      return;
    }
    if (recovery_.open_orders > 0) suspend();
  }

  struct Recovery {
    std::uint64_t requests = 0;     ///< requests replayed
    std::uint64_t reports = 0;      ///< reports and rejects replayed
    std::uint64_t fills = 0;        ///< of which fills
    std::uint64_t unplaced = 0;     ///< requests the order managers could not place
    std::uint64_t open_orders = 0;  ///< live after the replay (awaiting the reconcile)
  };
  [[nodiscard]] const Recovery& recovery() const noexcept { return recovery_; }

  /// The connection is gone: stop quoting; what rests is unknown until the reconcile.
  void suspend() noexcept {
    if (!quoting_) return;
    quoting_ = false;
    ++counters_.suspended;
    counters_.marked_unknown += live();
  }

  /// Logged on again: the venue's reconcile reports follow.
  void begin_reconcile() noexcept {
    seen_.clear();
    foreign_.clear();
  }

  /// The venue still holds order `id` (open or partially filled). One of our ids that no order
  /// manager knows (sent by a run that crashed before its journal had it) is canceled once the
  /// reconcile is over: nothing rests that this run does not manage.
  void reconcile_report(std::uint64_t id, Side side = Side::Bid) noexcept {
    ++counters_.reconcile_open;
    const std::size_t i = instrument_of(id);
    const oms::Order* o = i < oms_.size() ? oms_[i]->find(id) : nullptr;
    if (o == nullptr) {
      ++counters_.reconcile_foreign;
      if (i < oms_.size() && foreign_.size() < kCancelMemory) foreign_.push_back({id, side});
      return;
    }
    seen_.push_back(id);
    if (o->state == oms::OrdState::kPendingNew) {
      // Sent before the loss and acknowledged since: a new order, or the new id of a replace.
      apply(i, id, o->replaces != 0 ? oms::ExecKind::kReplaced : oms::ExecKind::kNew);
    }
  }

  /// The reconcile is over: requests it shows were not carried out are undone, orders the
  /// venue did not report are closed as canceled, and quoting resumes.
  void end_reconcile() noexcept {
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < oms_.size(); ++i) {
      // A replace the venue did not carry out (the old id still open): refuse it.
      collect(i, ids);
      for (const std::uint64_t id : ids) {
        const oms::Order* o = oms_[i]->find(id);
        if (o == nullptr || !seen(id)) continue;
        if (o->state == oms::OrdState::kPendingReplace && o->replaced_by != 0 &&
            !seen(o->replaced_by)) {
          apply(i, o->replaced_by, oms::ExecKind::kReplaceRejected);
        } else if (o->state == oms::OrdState::kPendingCancel) {
          apply(i, id, oms::ExecKind::kCancelRejected);
        }
      }
      collect(i, ids);
      for (const std::uint64_t id : ids) {
        if (seen(id)) continue;
        ++counters_.reconcile_closed;
        apply(i, id, oms::ExecKind::kCanceled);
      }
      dirty_[i] = true;
    }
    any_dirty_ = true;
    quoting_ = true;
  }

  /// Live orders over all instruments (resting or in flight).
  [[nodiscard]] std::size_t live() const noexcept {
    std::size_t n = 0;
    for (const auto& m : oms_) n += m->live().size();
    return n;
  }
  [[nodiscard]] bool quoting() const noexcept { return quoting_; }
  [[nodiscard]] std::size_t instruments() const noexcept { return oms_.size(); }
  [[nodiscard]] const oms::OrderManager& oms(std::size_t i) const noexcept { return *oms_[i]; }
  [[nodiscard]] const RouterCounters& counters() const noexcept { return counters_; }
  /// Reports the order managers could not place: for ids never sent, or for closed orders.
  [[nodiscard]] std::uint64_t unexpected_reports() const noexcept {
    std::uint64_t n = counters_.unroutable;
    for (const auto& m : oms_) n += m->counters().unknown_reports + m->counters().late_reports;
    return n;
  }
  [[nodiscard]] std::size_t instrument_of(std::uint64_t id) const noexcept {
    if (id == 0 || id >= kCancelIdBase) return oms_.size();
    const std::uint64_t i = id >> kInstrumentShift;
    return i < oms_.size() ? static_cast<std::size_t>(i) : oms_.size();
  }

 private:
  void log(const oms::Action& a, std::size_t instrument) const noexcept {
    const std::string_view kind = oms::to_string(a.kind);
    std::fprintf(log_, "%.*s %zu %s %lld %lld\n", static_cast<int>(kind.size()), kind.data(), instrument,
                 a.side == Side::Bid ? "buy" : "sell", static_cast<long long>(a.px),
                 static_cast<long long>(a.qty));
  }

  void apply(std::size_t i, std::uint64_t id, oms::ExecKind kind) noexcept {
    oms::ExecReport r;
    r.cl_ord_id = id;
    r.kind = kind;
    oms_[i]->on_report(r);
  }

  void collect(std::size_t i, std::vector<std::uint64_t>& ids) const {
    ids.clear();
    for (const oms::Order* o : oms_[i]->live()) ids.push_back(o->cl_ord_id);
  }

  [[nodiscard]] bool seen(std::uint64_t id) const noexcept {
    for (const std::uint64_t s : seen_) {
      if (s == id) return true;
    }
    return false;
  }

  std::uint64_t remember_cancel(std::uint64_t order_id) noexcept {
    const std::uint64_t request = kCancelIdBase + next_cancel_++;
    cancels_[request % kCancelMemory] = order_id;
    return request;
  }

  [[nodiscard]] std::uint64_t cancelled_order(std::uint64_t request) const noexcept {
    if (request >= kCancelIdBase + next_cancel_ ||
        request + kCancelMemory < kCancelIdBase + next_cancel_) {
      return 0;  // never sent, or too old to remember: an unknown report
    }
    return cancels_[request % kCancelMemory];
  }

  FillSink sink_;
  std::vector<std::unique_ptr<oms::OrderManager>> oms_;
  std::vector<std::array<oms::DesiredQuote, 2>> desired_;
  std::vector<bool> dirty_;
  bool any_dirty_ = false;
  bool quoting_ = true;
  bool closing_ = false;
  std::vector<std::uint64_t> seen_;
  struct Foreign {
    std::uint64_t id;
    Side side;
  };
  std::vector<Foreign> foreign_;
  std::array<std::uint64_t, kCancelMemory> cancels_{};
  std::uint64_t next_cancel_ = 0;
  RouterCounters counters_;
  Recovery recovery_;
  std::FILE* log_ = nullptr;
};

/// The venue of the engine's synthetic market: acknowledges every request on the next poll(), as a
/// venue answers after a round trip, and fills a share of the orders completely at their limit
/// price one poll() later. Deterministic for a given seed.
class SimulatedVenue {
 public:
  /// `fill_ratio` in [0, 1]: the share of new and replaced orders filled.
  SimulatedVenue(double fill_ratio, std::uint64_t seed) noexcept
      : cut_(fill_ratio >= 1 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(fill_ratio * 0x1p64)),
        all_(fill_ratio >= 1),
        state_(seed == 0 ? 0x9E3779B97F4A7C15ULL : seed) {}

  /// One request from the router.
  void send(const oms::Action& a, std::uint64_t request_id) {
    switch (a.kind) {
      case oms::ActionKind::kNew:
      case oms::ActionKind::kReplace: {
        oms::ExecReport ack;
        ack.cl_ord_id = a.cl_ord_id;
        ack.orig_cl_ord_id = a.orig_cl_ord_id;
        ack.kind = a.kind == oms::ActionKind::kNew ? oms::ExecKind::kNew : oms::ExecKind::kReplaced;
        ack.side = a.side;
        queue_.push_back(ack);
        if (all_ || next() < cut_) {
          oms::ExecReport fill = ack;
          fill.kind = oms::ExecKind::kFill;
          fill.last_px = a.px;
          fill.last_qty = a.qty;  // the whole order (a replace's qty includes what filled before)
          fill_pending_.push_back(fill);
        }
        break;
      }
      case oms::ActionKind::kCancel: {
        static_cast<void>(request_id);
        oms::ExecReport done;
        done.cl_ord_id = a.cl_ord_id;
        done.kind = oms::ExecKind::kCanceled;
        done.side = a.side;
        queue_.push_back(done);
        break;
      }
    }
  }

  /// Delivers the acknowledgements of the requests sent since the last poll(), then the fills
  /// of the orders acknowledged by the poll() before (a resting order trades later): report(r)
  /// each.
  template <class Report>
  void poll(Report&& report) {
    ready_.swap(queue_);
    queue_.clear();
    for (const oms::ExecReport& r : ready_) report(r);
    ready_.clear();
    ready_.swap(fills_due_);
    fills_due_.clear();
    for (const oms::ExecReport& r : ready_) report(r);
    ready_.clear();
    fills_due_.swap(fill_pending_);
    fill_pending_.clear();
  }

 private:
  std::uint64_t next() noexcept {  // splitmix64
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::uint64_t cut_;
  bool all_;
  std::uint64_t state_;
  std::vector<oms::ExecReport> queue_;
  std::vector<oms::ExecReport> fill_pending_;
  std::vector<oms::ExecReport> fills_due_;
  std::vector<oms::ExecReport> ready_;
};

}  // namespace hft::session
