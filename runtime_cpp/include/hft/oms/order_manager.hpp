// Order state machine, in-flight tracking and quote management.
//
// OrderManager knows what the venue holds of ours from the requests we sent and the execution
// reports that came back, and nothing else: position, cash and PnL move on fills only, never on
// what we asked for. quote() turns the strategy's desired quote per side into the fewest requests
// (new, cancel, replace; or cancel and new where the venue has no replace) against what rests and
// what is in flight, so an unchanged quote sends nothing and a moved one sends one replace.
//
// Reports the state machine does not expect (an id never sent, a fill or an ack for an order
// already closed, a duplicate ack, a cancel reject for an order not being canceled) are counted and
// otherwise ignored, except fills: a fill is money that changed hands, so it always moves the
// position, even for an order we asked to cancel or one we no longer track.
//
// Orders live in an hft::ObjectPool sized at construction; nothing on the report or quote path
// allocates. Live orders are kept in the order they were sent (a small array scanned linearly:
// a quoting strategy has a handful of orders live), which keeps every decision deterministic
// and identical to runtime_rust's oms module; both run the same test vectors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string_view>

#include "hft/book/side.hpp"
#include "hft/pool.hpp"

namespace hft::oms {

/// Life of one order, by client order id. A replace gives the order a new id: the old id ends
/// `kReplaced` when the venue confirms, and the new id carries on with the same cumulative fill.
enum class OrdState : std::uint8_t {
  kPendingNew = 0,       ///< sent, not acknowledged (also the new id of a replace in flight)
  kNew = 1,              ///< resting, nothing filled
  kPartiallyFilled = 2,  ///< resting, part filled
  kFilled = 3,           ///< terminal
  kPendingCancel = 4,    ///< cancel sent, not confirmed; fills still apply
  kCanceled = 5,         ///< terminal
  kPendingReplace = 6,   ///< replace sent, not confirmed (the old id); fills still apply
  kReplaced = 7,         ///< terminal: the new id took over
  kRejected = 8,         ///< terminal: the venue refused the new order (or the replace's new id)
};

constexpr std::string_view to_string(OrdState s) noexcept {
  switch (s) {
    case OrdState::kPendingNew:
      return "pending_new";
    case OrdState::kNew:
      return "new";
    case OrdState::kPartiallyFilled:
      return "partially_filled";
    case OrdState::kFilled:
      return "filled";
    case OrdState::kPendingCancel:
      return "pending_cancel";
    case OrdState::kCanceled:
      return "canceled";
    case OrdState::kPendingReplace:
      return "pending_replace";
    case OrdState::kReplaced:
      return "replaced";
    case OrdState::kRejected:
      return "rejected";
  }
  return "unknown";
}

/// What an execution report says happened.
enum class ExecKind : std::uint8_t {
  kNew = 0,              ///< order acknowledged, resting
  kFill = 1,             ///< `last_qty` traded at `last_px`
  kCanceled = 2,         ///< order gone (our cancel, an IOC remainder, or the venue's own)
  kReplaced = 3,         ///< `cl_ord_id` replaced `orig_cl_ord_id`
  kRejected = 4,         ///< new order (or a replace's new id) refused
  kCancelRejected = 5,   ///< cancel refused; the order stays as it was
  kReplaceRejected = 6,  ///< replace of `orig_cl_ord_id` by `cl_ord_id` refused
};

constexpr std::string_view to_string(ExecKind k) noexcept {
  switch (k) {
    case ExecKind::kNew:
      return "new";
    case ExecKind::kFill:
      return "fill";
    case ExecKind::kCanceled:
      return "canceled";
    case ExecKind::kReplaced:
      return "replaced";
    case ExecKind::kRejected:
      return "rejected";
    case ExecKind::kCancelRejected:
      return "cancel_rejected";
    case ExecKind::kReplaceRejected:
      return "replace_rejected";
  }
  return "unknown";
}

/// One execution report, decoded. `side`, `last_px` (ticks) and `last_qty` (lots) matter for
/// fills only; `orig_cl_ord_id` for replaces.
struct ExecReport {
  std::uint64_t cl_ord_id = 0;
  std::uint64_t orig_cl_ord_id = 0;
  ExecKind kind = ExecKind::kNew;
  Side side = Side::Bid;
  std::int64_t last_px = 0;
  std::int64_t last_qty = 0;
};

enum class ActionKind : std::uint8_t { kNew = 0, kCancel = 1, kReplace = 2 };

constexpr std::string_view to_string(ActionKind k) noexcept {
  switch (k) {
    case ActionKind::kNew:
      return "new";
    case ActionKind::kCancel:
      return "cancel";
    case ActionKind::kReplace:
      return "replace";
  }
  return "unknown";
}

/// A request for the gateway. New: a fresh order `cl_ord_id`. Cancel: cancel `cl_ord_id` (px and
/// qty are its price and leaves, for the message's optional fields). Replace: `orig_cl_ord_id`
/// becomes `cl_ord_id` at `px` for a total of `qty` (filled quantity included, as FIX does).
struct Action {
  ActionKind kind = ActionKind::kNew;
  std::uint64_t cl_ord_id = 0;
  std::uint64_t orig_cl_ord_id = 0;
  Side side = Side::Bid;
  std::int64_t px = 0;
  std::int64_t qty = 0;
  friend bool operator==(const Action&, const Action&) = default;
};

/// One live order.
struct Order {
  std::uint64_t cl_ord_id = 0;
  std::uint64_t replaces = 0;     ///< the id this order replaces, while the replace is in flight
  std::uint64_t replaced_by = 0;  ///< the id replacing this one, while the replace is in flight
  Side side = Side::Bid;
  std::int64_t px = 0;
  std::int64_t qty = 0;  ///< total ordered, filled part included
  std::int64_t cum_qty = 0;
  OrdState state = OrdState::kPendingNew;
  OrdState before = OrdState::kPendingNew;  ///< restored when a cancel or replace is refused
  [[nodiscard]] std::int64_t leaves() const noexcept { return qty - cum_qty; }
};

/// The strategy's wish for one side: rest `qty` lots at `px` ticks, or nothing (qty <= 0).
struct DesiredQuote {
  std::int64_t px = 0;
  std::int64_t qty = 0;
  [[nodiscard]] bool active() const noexcept { return qty > 0; }
};

struct OmsConfig {
  std::size_t capacity = 64;          ///< live orders at most (the pool's size)
  std::uint32_t max_in_flight = 8;    ///< unacknowledged new, cancel and replace requests at most
  bool venue_replace = true;          ///< the venue has cancel/replace; else cancel, then new
  std::uint64_t first_cl_ord_id = 1;  ///< ids count up from here (start above the last session's)
};

struct OmsCounters {
  std::uint64_t reports = 0;
  std::uint64_t fills = 0;
  std::uint64_t unknown_reports = 0;  ///< for an id never sent (or closed too long ago to remember)
  std::uint64_t late_reports = 0;     ///< for an order already closed, or not expecting it
  std::uint64_t rejects = 0;
  std::uint64_t cancel_rejects = 0;
  std::uint64_t replace_rejects = 0;
  std::uint64_t news_sent = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t replaces_sent = 0;
  std::uint64_t capacity_full = 0;  ///< new or replace skipped: every slot holds a live order
};

class OrderManager {
 public:
  /// Ids of closed orders remembered, to tell a late report from an unknown one.
  static constexpr std::size_t kRecentClosed = 256;
  /// quote() writes at most this many actions: on each side, a surplus order's cancel, then a
  /// cancel and a new (or one replace).
  static constexpr std::size_t kMaxActions = 6;

  explicit OrderManager(OmsConfig cfg)
      : cfg_(cfg),
        pool_(cfg.capacity == 0 ? 1 : cfg.capacity, HugePageArena::Options{false, true}),
        live_(std::make_unique<Order*[]>(cfg.capacity == 0 ? 1 : cfg.capacity)),
        next_id_(cfg.first_cl_ord_id == 0 ? 1 : cfg.first_cl_ord_id) {}

  OrderManager(const OrderManager&) = delete;
  OrderManager& operator=(const OrderManager&) = delete;

  ~OrderManager() {
    for (std::size_t i = 0; i < live_count_; ++i) pool_.release(live_[i]);
  }

  /// The requests that move the resting orders toward `bid` and `ask`, written to `out`; returns
  /// how many. Per side: nothing while that side's order is unacknowledged; a cancel when the side
  /// is no longer wanted; a new order when nothing rests; a replace (or cancel, then new) when
  /// the price or the leaves quantity differ. Never more unacknowledged requests than
  /// `max_in_flight`. Bid side first, then ask.
  std::size_t quote(DesiredQuote bid, DesiredQuote ask,
                    std::span<Action, kMaxActions> out) noexcept {
    std::size_t n = 0;
    n += quote_side(Side::Bid, bid, out.subspan(n));
    n += quote_side(Side::Ask, ask, out.subspan(n));
    return n;
  }

  /// Sends a new order directly (outside quote management). False when out of slots or in-flight
  /// budget.
  bool send_new(Side side, std::int64_t px, std::int64_t qty, Action& out) noexcept {
    if (in_flight() >= cfg_.max_in_flight) return false;
    Order* o = open(side, px, qty);
    if (o == nullptr) return false;
    ++counters_.news_sent;
    out = Action{ActionKind::kNew, o->cl_ord_id, 0, side, px, qty};
    return true;
  }

  /// Asks to cancel live order `id`. False when it is unknown, already going, or over budget.
  bool send_cancel(std::uint64_t id, Action& out) noexcept {
    Order* o = find_live(id);
    if (o == nullptr || !resting(o->state) || in_flight() >= cfg_.max_in_flight) return false;
    o->before = o->state;
    o->state = OrdState::kPendingCancel;
    ++counters_.cancels_sent;
    out = Action{ActionKind::kCancel, o->cl_ord_id, 0, o->side, o->px, o->leaves()};
    return true;
  }

  /// Asks to move live order `id` to `px` with `leaves` lots left to fill.
  bool send_replace(std::uint64_t id, std::int64_t px, std::int64_t leaves, Action& out) noexcept {
    Order* o = find_live(id);
    if (o == nullptr || !resting(o->state) || in_flight() >= cfg_.max_in_flight) return false;
    Order* r = open(o->side, px, o->cum_qty + leaves);
    if (r == nullptr) return false;
    link_replace(o, r);
    ++counters_.replaces_sent;
    out = Action{ActionKind::kReplace, r->cl_ord_id, o->cl_ord_id, r->side, px, r->qty};
    return true;
  }

  /// Re-applies a request a previous run sent, as its audit journal recorded it (crash
  /// recovery): the order gets the id it was sent with, and ids count on above it, so nothing is
  /// sent twice under one id. Counts nothing as sent. False when it cannot be placed (a cancel
  /// or replace of an order not live, a full pool); the reconcile at the next logon settles
  /// what the venue really holds.
  bool recover(const Action& a) noexcept {
    if (a.cl_ord_id >= next_id_) next_id_ = a.cl_ord_id + 1;
    switch (a.kind) {
      case ActionKind::kNew: {
        if (find(a.cl_ord_id) != nullptr || recently_closed(a.cl_ord_id)) return false;
        Order* o = open_as(a.cl_ord_id, a.side, a.px, a.qty);
        return o != nullptr;
      }
      case ActionKind::kCancel: {
        Order* o = find_live(a.cl_ord_id);
        if (o == nullptr || !resting(o->state)) return false;
        o->before = o->state;
        o->state = OrdState::kPendingCancel;
        return true;
      }
      case ActionKind::kReplace: {
        Order* o = find_live(a.orig_cl_ord_id);
        if (o == nullptr || !resting(o->state) || find(a.cl_ord_id) != nullptr) return false;
        Order* r = open_as(a.cl_ord_id, o->side, a.px, a.qty);
        if (r == nullptr) return false;
        link_replace(o, r);
        return true;
      }
    }
    return false;
  }

  /// Applies one execution report. Never fails: what it cannot place is counted.
  void on_report(const ExecReport& r) noexcept {
    ++counters_.reports;
    if (r.kind == ExecKind::kFill) {
      ++counters_.fills;
      // Saturating: a garbled report must not overflow (runtime_rust saturates alike).
      const std::int64_t signed_qty = r.side == Side::Bid ? r.last_qty : sat_sub(0, r.last_qty);
      position_ = sat_add(position_, signed_qty);
      cash_ = sat_sub(cash_, sat_mul(signed_qty, r.last_px));
    }
    Order* o = find_live(r.cl_ord_id);
    if (o == nullptr) {
      if (recently_closed(r.cl_ord_id)) {
        ++counters_.late_reports;
      } else {
        ++counters_.unknown_reports;
      }
      return;
    }
    switch (r.kind) {
      case ExecKind::kNew:
      case ExecKind::kReplaced:
        if (o->state != OrdState::kPendingNew) {
          ++counters_.late_reports;
        } else if (o->replaces != 0) {
          static_cast<void>(finish_replace(o));
        } else {
          o->state = OrdState::kNew;
        }
        return;
      case ExecKind::kFill:
        on_fill(o, r.last_qty);
        return;
      case ExecKind::kCanceled:
        close(o, OrdState::kCanceled);
        return;
      case ExecKind::kRejected:
      case ExecKind::kReplaceRejected:
        if (o->state != OrdState::kPendingNew) {
          ++counters_.late_reports;
        } else if (o->replaces != 0) {
          refuse_replace(o);
        } else {
          ++counters_.rejects;
          close(o, OrdState::kRejected);
        }
        return;
      case ExecKind::kCancelRejected:
        if (o->state != OrdState::kPendingCancel) {
          ++counters_.late_reports;
          return;
        }
        ++counters_.cancel_rejects;
        o->state = o->before;
        return;
    }
  }

  /// The live order `id`, or null once it is closed (filled, canceled, replaced, rejected).
  [[nodiscard]] const Order* find(std::uint64_t id) const noexcept {
    for (std::size_t i = 0; i < live_count_; ++i) {
      if (live_[i]->cl_ord_id == id) return live_[i];
    }
    return nullptr;
  }

  /// Live orders, oldest first.
  [[nodiscard]] std::span<Order* const> live() const noexcept { return {live_.get(), live_count_}; }

  /// Requests sent and not yet answered: new orders (and a replace's new id) not acknowledged,
  /// cancels not confirmed.
  [[nodiscard]] std::uint32_t in_flight() const noexcept {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < live_count_; ++i) {
      const OrdState s = live_[i]->state;
      n += (s == OrdState::kPendingNew || s == OrdState::kPendingCancel) ? 1U : 0U;
    }
    return n;
  }

  /// Net position in lots (long positive), from fills only.
  [[nodiscard]] std::int64_t position() const noexcept { return position_; }
  /// Cash in ticks x lots: minus what buys cost, plus what sales brought.
  [[nodiscard]] std::int64_t cash() const noexcept { return cash_; }
  /// Marked to `mark_px` ticks: cash plus the position's value.
  [[nodiscard]] std::int64_t pnl(std::int64_t mark_px) const noexcept {
    return sat_add(cash_, sat_mul(position_, mark_px));
  }
  [[nodiscard]] const OmsCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const OmsConfig& config() const noexcept { return cfg_; }

 private:
  static constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  static constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t sat_add(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? kMax : kMin) : r;
  }
  static constexpr std::int64_t sat_sub(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? kMax : kMin) : r;
  }
  static constexpr std::int64_t sat_mul(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    return __builtin_mul_overflow(a, b, &r) ? ((a < 0) != (b < 0) ? kMin : kMax) : r;
  }

  static constexpr bool resting(OrdState s) noexcept {
    return s == OrdState::kNew || s == OrdState::kPartiallyFilled;
  }

  std::size_t quote_side(Side side, DesiredQuote want, std::span<Action> out) noexcept {
    // The side's working order is its oldest one not being canceled (the old id of a replace is
    // represented by its new id). A second one (left by a refused cancel) is surplus: cancel it.
    Order* working = nullptr;
    Order* surplus = nullptr;
    for (std::size_t i = 0; i < live_count_ && surplus == nullptr; ++i) {
      Order* o = live_[i];
      if (o->side != side || o->state == OrdState::kPendingCancel ||
          o->state == OrdState::kPendingReplace) {
        continue;
      }
      if (working == nullptr) {
        working = o;
      } else if (resting(o->state)) {
        surplus = o;
      }
    }
    std::size_t n = 0;
    if (surplus != nullptr && send_cancel(surplus->cl_ord_id, out[n])) ++n;
    if (working != nullptr && working->state == OrdState::kPendingNew)
      return n;  // wait for the ack
    if (!want.active()) {
      if (working != nullptr && send_cancel(working->cl_ord_id, out[n])) ++n;
      return n;
    }
    if (working == nullptr) {
      if (send_new(side, want.px, want.qty, out[n])) ++n;
      return n;
    }
    if (working->px == want.px && working->leaves() == want.qty) return n;
    if (cfg_.venue_replace) {
      if (send_replace(working->cl_ord_id, want.px, want.qty, out[n])) ++n;
      return n;
    }
    if (!send_cancel(working->cl_ord_id, out[n])) return n;
    ++n;
    if (send_new(side, want.px, want.qty, out[n])) ++n;
    return n;
  }

  Order* open(Side side, std::int64_t px, std::int64_t qty) noexcept {
    if (live_count_ >= cfg_.capacity) {
      ++counters_.capacity_full;
      return nullptr;
    }
    Order* o = pool_.acquire();
    if (o == nullptr) {
      ++counters_.capacity_full;
      return nullptr;
    }
    o->cl_ord_id = next_id_++;
    o->side = side;
    o->px = px;
    o->qty = qty;
    live_[live_count_++] = o;
    return o;
  }

  /// `r` (just opened) replaces `o`: both in flight until the venue answers.
  static void link_replace(Order* o, Order* r) noexcept {
    r->replaces = o->cl_ord_id;
    r->cum_qty = o->cum_qty;
    o->replaced_by = r->cl_ord_id;
    o->before = o->state;
    o->state = OrdState::kPendingReplace;
  }

  /// A live order under a given id (recovery), in its first state.
  Order* open_as(std::uint64_t id, Side side, std::int64_t px, std::int64_t qty) noexcept {
    Order* o = open(side, px, qty);
    if (o == nullptr) return nullptr;
    --next_id_;  // open() took the next id; this order keeps the one it was sent with
    *o = Order{};
    o->cl_ord_id = id;
    o->side = side;
    o->px = px;
    o->qty = qty;
    return o;
  }

  Order* find_live(std::uint64_t id) noexcept { return const_cast<Order*>(find(id)); }

  void on_fill(Order* o, std::int64_t qty) noexcept {
    // A fill on the new id of a replace implies the replace took place.
    if (o->state == OrdState::kPendingNew && o->replaces != 0 && !finish_replace(o)) return;
    o->cum_qty = sat_add(o->cum_qty, qty);
    if (o->cum_qty >= o->qty) {
      close(o, OrdState::kFilled);
      return;
    }
    switch (o->state) {
      case OrdState::kPendingNew:  // a fill before the ack acknowledges it
      case OrdState::kNew:
        o->state = OrdState::kPartiallyFilled;
        break;
      case OrdState::kPendingCancel:
      case OrdState::kPendingReplace:
        o->before = OrdState::kPartiallyFilled;  // what a refused cancel or replace returns to
        break;
      default:
        break;
    }
  }

  /// The replace of `n->replaces` by `n` took place; false when that leaves `n` filled (and
  /// closed).
  bool finish_replace(Order* n) noexcept {
    if (Order* old = find_live(n->replaces)) {
      n->cum_qty = old->cum_qty;  // fills on the old id while the replace was in flight
      close(old, OrdState::kReplaced);
    }
    n->replaces = 0;
    if (n->cum_qty >= n->qty) {
      close(n, OrdState::kFilled);
      return false;
    }
    n->state = n->cum_qty > 0 ? OrdState::kPartiallyFilled : OrdState::kNew;
    return true;
  }

  void refuse_replace(Order* n) noexcept {
    ++counters_.replace_rejects;
    if (Order* old = find_live(n->replaces);
        old != nullptr && old->state == OrdState::kPendingReplace) {
      old->state = old->before;
      old->replaced_by = 0;
    }
    close(n, OrdState::kRejected);
  }

  void close(Order* o, OrdState final_state) noexcept {
    o->state = final_state;
    recent_[recent_head_] = o->cl_ord_id;
    recent_head_ = (recent_head_ + 1) % kRecentClosed;
    std::size_t i = 0;
    while (i < live_count_ && live_[i] != o) ++i;
    for (; i + 1 < live_count_; ++i) live_[i] = live_[i + 1];
    --live_count_;
    pool_.release(o);
  }

  [[nodiscard]] bool recently_closed(std::uint64_t id) const noexcept {
    if (id == 0) return false;
    for (const std::uint64_t c : recent_) {
      if (c == id) return true;
    }
    return false;
  }

  OmsConfig cfg_;
  ObjectPool<Order> pool_;
  std::unique_ptr<Order*[]> live_;
  std::size_t live_count_ = 0;
  std::uint64_t next_id_;
  std::array<std::uint64_t, kRecentClosed> recent_{};
  std::size_t recent_head_ = 0;
  std::int64_t position_ = 0;
  std::int64_t cash_ = 0;
  OmsCounters counters_;
};

}  // namespace hft::oms
