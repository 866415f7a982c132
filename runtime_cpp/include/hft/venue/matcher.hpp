// The venue's exchange: the backtest engine's matching rules (hft/backtest/matching.hpp) applied
// to every resting order of every account, against the book the venue replays from a tape, with
// the backtest's latency model and fees.
//
// It does no I/O and knows no schema. The owner (the generated `<pkg>_venue`) feeds it tape rows
// (on_row, in tape order) and the orders its sessions send (submit, at the venue's tape clock);
// a request takes effect at its exchange arrival time `now + entry latency`, before the first row
// stamped (exch_ts) at or after it, exactly as in a backtest (README.md of hft/backtest, "Clocks
// and latency"), or when the tape clock passes it on a quiet feed. Every outcome becomes a Report
// due at `exchange time + response latency`, which the owner takes with pop_due() and encodes as
// the schema's execution report or order reject.
//
// Orders are keyed by (account, client order id); an account is one credential, so its open
// orders survive a reconnect when the venue keeps them (reconcile). Units are the schema grid's
// integer ticks and lots; money is quote currency (`value` = one tick x lot).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "hft/backtest/engine.hpp"
#include "hft/backtest/matching.hpp"
#include "hft/book/l2_book.hpp"

namespace hft::venue {

namespace bt = hft::backtest;

/// How a new order executes.
enum class OrderKind : std::uint8_t {
  kLimit,     ///< takes what crosses (IOC walk), the rest rests
  kPostOnly,  ///< rejected when it would cross; else rests (the backtest's quotes)
  kIoc,       ///< takes what crosses, the rest is canceled (the backtest's IOC orders)
  kFok,       ///< fills in full at once or is canceled whole
};

/// Why a request was refused (the reject reason code sent to the client).
enum class RejectReason : std::uint16_t {
  kNone = 0,
  kUnknownOrder = 1,   ///< cancel/replace of an order the venue does not hold (or no longer)
  kPostOnlyCross = 2,  ///< a post-only order that would take liquidity
  kBadOrder = 3,       ///< price or quantity off the grid, not positive, or unknown instrument
  kDuplicateId = 4,    ///< a client order id the account already has open
  kReplaceFilled = 5,  ///< a replace to a quantity at or below what has already filled
};

inline constexpr const char* reason_text(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::kNone:
      return "";
    case RejectReason::kUnknownOrder:
      return "unknown order";
    case RejectReason::kPostOnlyCross:
      return "post-only order would cross";
    case RejectReason::kBadOrder:
      return "bad price, quantity or instrument";
    case RejectReason::kDuplicateId:
      return "duplicate client order id";
    case RejectReason::kReplaceFilled:
      return "replace quantity not above the filled quantity";
  }
  return "";
}

struct Config {
  bt::LatencyModel latency;
  bt::QueueModel queue = bt::QueueModel::kRiskAverse;
  double queue_power = 3.0;
  double maker_fee_bps = 0.0, taker_fee_bps = 0.0;
  std::size_t book_capacity_ticks = 1 << 16;
  std::vector<double> value;  ///< per instrument: quote currency of one tick x lot
};

/// A request from a session, as decoded by the owner.
struct Request {
  enum class Type : std::uint8_t { kNew, kCancel, kReplace } type = Type::kNew;
  std::uint32_t account = 0;
  std::uint64_t id = 0;       ///< client order id (of the new order, the cancel, the replacement)
  std::uint64_t orig_id = 0;  ///< cancel/replace: the order acted on
  std::uint32_t inst = 0;
  unsigned side = 0;  ///< 0 buy, 1 sell
  std::int64_t px = 0, qty = 0;
  OrderKind kind = OrderKind::kLimit;  ///< replace: kLimit keeps the replaced order's kind
  bool valid = true;    ///< false: price/qty/instrument could not be read (rejected on arrival)
  std::int64_t at = 0;  ///< exchange arrival time (set by submit)
};

/// What the venue tells a client.
struct Report {
  enum class Type : std::uint8_t {
    kAccepted,
    kTrade,
    kCanceled,
    kReplaced,
    kRejected,      ///< a new order refused: an execution report with exec type rejected
    kCancelReject,  ///< a cancel or replace refused: an order reject message
  } type = Type::kAccepted;
  std::int64_t at = 0;  ///< tape time it is due at the client
  std::uint32_t account = 0;
  std::uint64_t id = 0, orig_id = 0;
  std::uint32_t inst = 0;
  unsigned side = 0;
  std::int64_t px = 0;  ///< the order's price (last price on a trade)
  std::int64_t last_qty = 0, leaves = 0, cum = 0;
  bool maker = false;
  double fee = 0.0;
  RejectReason reason = RejectReason::kNone;
};

/// One account's totals (the JSON summary's "sessions").
struct Account {
  std::string name;
  std::uint64_t connections = 0, orders = 0, cancels = 0, replaces = 0, fills = 0, rejects = 0,
                canceled_on_disconnect = 0;
  std::vector<std::int64_t> position;  ///< lots, per instrument
  std::vector<std::int64_t> cash;      ///< ticks x lots, per instrument (sells add)
  double fees = 0.0, turnover = 0.0;
};

/// An order resting at the venue.
struct Order {
  bt::Resting r;
  std::uint32_t account = 0;
  unsigned side = 0;
  std::int64_t qty = 0, cum = 0;
  OrderKind kind = OrderKind::kLimit;
};

template <class Queue>
class Matcher {
 public:
  Matcher(std::size_t instruments, Config cfg)
      : cfg_(std::move(cfg)),
        latency_(cfg_.latency),
        maker_rate_(cfg_.maker_fee_bps / 1e4),
        taker_rate_(cfg_.taker_fee_bps / 1e4) {
    if (cfg_.value.size() != instruments)
      throw std::invalid_argument("venue: one value per instrument");
    inst_.reserve(instruments);
    for (std::size_t i = 0; i < instruments; ++i) inst_.emplace_back(cfg_.book_capacity_ticks);
    clear_buf_.resize(cfg_.book_capacity_ticks);
  }
  // The latency source refers to cfg_: neither copied nor moved.
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  /// The account of `name` (a credential's identity), created on first use.
  std::uint32_t account(const std::string& name) {
    for (std::size_t i = 0; i < accounts_.size(); ++i) {
      if (accounts_[i].name == name) return static_cast<std::uint32_t>(i);
    }
    Account a;
    a.name = name;
    a.position.assign(inst_.size(), 0);
    a.cash.assign(inst_.size(), 0);
    accounts_.push_back(std::move(a));
    return static_cast<std::uint32_t>(accounts_.size() - 1);
  }

  /// A request received at tape time `now`: it reaches the book at now + entry latency (never
  /// before an earlier request: one session delivers in order).
  void submit(Request q, std::int64_t now) {
    q.at = std::max(now + latency_.entry(), last_request_at_);
    last_request_at_ = q.at;
    requests_.push_back(q);
  }

  /// Applies the requests that have reached the exchange by exchange time `until`.
  void deliver(std::int64_t until) {
    std::size_t n = 0;
    while (n < requests_.size() && requests_[n].at <= until) arrive(requests_[n++]);
    requests_.erase(requests_.begin(), requests_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  /// Applies every request still in flight (end of the tape).
  void deliver_all() { deliver(std::numeric_limits<std::int64_t>::max()); }

  /// One tape row (hft/backtest/tape.hpp kinds), already in the grid's ticks and lots.
  void on_row(std::uint32_t k, std::uint8_t kind, unsigned side, std::int64_t px, std::int64_t qty,
              std::int64_t et) {
    Inst& s = inst_[k];
    if (kind == bt::kDepth) {
      const std::int64_t prev = s.book.level_qty(bt::match::side_of(side), px);
      for (Order& o : s.orders) {
        if (o.side == side && bt::match::depth_touches(o.r, px, et)) {
          Queue::depth(o.r, prev, qty, cfg_.queue_power);
        }
      }
      s.book.set_level(bt::match::side_of(side), px, qty);
      // A new level on this side may now cross resting orders on the other side.
      for (std::size_t i = 0; i < s.orders.size();) {
        Order& o = s.orders[i];
        const std::int64_t x = o.side != side ? bt::match::crossed(s.book, o.side, o.r, et) : 0;
        if (x > 0 && maker_fill(k, i, x, et)) continue;  // removed: same index again
        ++i;
      }
    } else if (kind == bt::kTrade) {
      // A seller aggressor (ask flag) trades against bids, a buyer against asks.
      const unsigned hit = side != 0 ? 0 : 1;
      for (std::size_t i = 0; i < s.orders.size();) {
        Order& o = s.orders[i];
        const std::int64_t x = o.side == hit ? bt::match::trade_fill(o.r, hit, px, qty, et) : 0;
        if (x > 0 && maker_fill(k, i, x, et)) continue;
        ++i;
      }
    } else {
      const Side sd = bt::match::side_of(side);
      const std::size_t n = s.book.depth(sd, std::span<PriceLevel>(clear_buf_));
      for (std::size_t i = 0; i < n; ++i) s.book.set_level(sd, clear_buf_[i].px, 0);
    }
  }

  /// Reports due at the client by tape time `now`, in order, to `fn(const Report&)`.
  template <class Fn>
  void pop_due(std::int64_t now, Fn&& fn) {
    std::size_t n = 0;
    while (n < reports_.size() && reports_[n].at <= now) fn(reports_[n++]);
    reports_.erase(reports_.begin(), reports_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  /// Cancels every open order of `account` at once (its connection dropped); returns how many.
  std::uint64_t cancel_all(std::uint32_t account) {
    std::uint64_t n = 0;
    for (Inst& s : inst_) {
      const auto gone = std::remove_if(s.orders.begin(), s.orders.end(),
                                       [&](const Order& o) { return o.account == account; });
      n += static_cast<std::uint64_t>(s.orders.end() - gone);
      s.orders.erase(gone, s.orders.end());
    }
    // Reports still due to that connection would go to the next one: drop them.
    reports_.erase(std::remove_if(reports_.begin(), reports_.end(),
                                  [&](const Report& r) { return r.account == account; }),
                   reports_.end());
    requests_.erase(std::remove_if(requests_.begin(), requests_.end(),
                                   [&](const Request& q) { return q.account == account; }),
                    requests_.end());
    accounts_[account].canceled_on_disconnect += n;
    return n;
  }

  /// Calls `fn(inst, const Order&)` for each open order of `account` (the reconcile).
  template <class Fn>
  void for_each_open(std::uint32_t account, Fn&& fn) const {
    for (std::size_t k = 0; k < inst_.size(); ++k) {
      for (const Order& o : inst_[k].orders) {
        if (o.account == account) fn(static_cast<std::uint32_t>(k), o);
      }
    }
  }

  /// Quote currency PnL of `account`: cash plus position at the mid, less fees (0 mid: cash only).
  double pnl(std::uint32_t account) const {
    const Account& a = accounts_[account];
    double v = -a.fees;
    for (std::size_t k = 0; k < inst_.size(); ++k) {
      v += cfg_.value[k] *
           (static_cast<double>(a.cash[k]) + static_cast<double>(a.position[k]) * mid(k));
    }
    return v;
  }

  /// Mid of instrument `k` in ticks (0 while one side is empty).
  double mid(std::size_t k) const {
    const auto b = inst_[k].book.best_bid();
    const auto a = inst_[k].book.best_ask();
    return b && a ? (static_cast<double>(b->px) + static_cast<double>(a->px)) * 0.5 : 0.0;
  }

  const std::vector<Account>& accounts() const noexcept { return accounts_; }
  Account& account_at(std::uint32_t a) noexcept { return accounts_[a]; }
  std::size_t open_orders() const noexcept {
    std::size_t n = 0;
    for (const Inst& s : inst_) n += s.orders.size();
    return n;
  }
  std::size_t in_flight() const noexcept { return requests_.size() + reports_.size(); }
  const PriceLevelBook& book(std::size_t k) const noexcept { return inst_[k].book; }

 private:
  struct Inst {
    explicit Inst(std::size_t capacity) : book(capacity) {}
    PriceLevelBook book;
    std::vector<Order> orders;
  };

  Order* find(std::uint32_t account, std::uint64_t id, std::uint32_t* k_out = nullptr,
              std::size_t* i_out = nullptr) {
    for (std::size_t k = 0; k < inst_.size(); ++k) {
      auto& orders = inst_[k].orders;
      for (std::size_t i = 0; i < orders.size(); ++i) {
        if (orders[i].account == account && orders[i].r.id == id) {
          if (k_out != nullptr) *k_out = static_cast<std::uint32_t>(k);
          if (i_out != nullptr) *i_out = i;
          return &orders[i];
        }
      }
    }
    return nullptr;
  }

  void arrive(const Request& q) {
    Account& acct = accounts_[q.account];
    switch (q.type) {
      case Request::Type::kNew:
        ++acct.orders;
        if (!q.valid || q.inst >= inst_.size() || q.qty <= 0) {
          return reject(q, Report::Type::kRejected, RejectReason::kBadOrder);
        }
        if (find(q.account, q.id) != nullptr) {
          return reject(q, Report::Type::kRejected, RejectReason::kDuplicateId);
        }
        return place(q, q.id, q.qty, 0);
      case Request::Type::kCancel: {
        ++acct.cancels;
        std::uint32_t k = 0;
        std::size_t i = 0;
        Order* o = find(q.account, q.orig_id, &k, &i);
        if (o == nullptr)
          return reject(q, Report::Type::kCancelReject, RejectReason::kUnknownOrder);
        Report r = base(*o, k, Report::Type::kCanceled, q.at);
        r.id = q.id != 0 ? q.id : o->r.id;
        r.orig_id = o->r.id;
        r.leaves = 0;
        inst_[k].orders.erase(inst_[k].orders.begin() + static_cast<std::ptrdiff_t>(i));
        return push(r);
      }
      case Request::Type::kReplace: {
        ++acct.replaces;
        std::uint32_t k = 0;
        std::size_t i = 0;
        Order* o = find(q.account, q.orig_id, &k, &i);
        if (o == nullptr)
          return reject(q, Report::Type::kCancelReject, RejectReason::kUnknownOrder);
        if (!q.valid || q.qty <= 0)
          return reject(q, Report::Type::kCancelReject, RejectReason::kBadOrder);
        if (q.qty <= o->cum) {
          return reject(q, Report::Type::kCancelReject, RejectReason::kReplaceFilled);
        }
        if (q.id != q.orig_id && find(q.account, q.id) != nullptr) {
          return reject(q, Report::Type::kCancelReject, RejectReason::kDuplicateId);
        }
        const Order old = *o;
        const OrderKind kind = q.kind != OrderKind::kLimit ? q.kind : old.kind;
        if (kind == OrderKind::kPostOnly &&
            bt::match::post_only_crosses(inst_[k].book, old.side, q.px)) {
          return reject(q, Report::Type::kCancelReject, RejectReason::kPostOnlyCross);
        }
        // Cancel/replace: the old order leaves the book, the new one joins the back of its level
        // (as a cancel followed by a new order does in the backtest); what filled carries over.
        inst_[k].orders.erase(inst_[k].orders.begin() + static_cast<std::ptrdiff_t>(i));
        Request n = q;
        n.inst = k;
        n.side = old.side;
        n.kind = kind;
        Report r = base(old, k, Report::Type::kReplaced, q.at);
        r.id = q.id;
        r.orig_id = old.r.id;
        r.px = q.px;
        r.cum = old.cum;
        r.leaves = q.qty - old.cum;
        push(r);
        return place(n, q.id, q.qty, old.cum, /*ack=*/false);
      }
    }
  }

  // A new (or replacing) order arrives: post-only check, the marketable part, the rest rests.
  void place(const Request& q, std::uint64_t id, std::int64_t qty, std::int64_t cum,
             bool ack = true) {
    Inst& s = inst_[q.inst];
    const unsigned side = q.side;
    if (q.kind == OrderKind::kPostOnly && bt::match::post_only_crosses(s.book, side, q.px)) {
      return reject(q, Report::Type::kRejected, RejectReason::kPostOnlyCross);
    }
    Order o;
    o.account = q.account;
    o.side = side;
    o.qty = qty;
    o.cum = cum;
    o.kind = q.kind;
    o.r = bt::match::rest(s.book, side, id, q.px, qty - cum, q.at);
    if (ack) push(base(o, q.inst, Report::Type::kAccepted, q.at));
    if (q.kind == OrderKind::kFok) {
      const std::int64_t short_by = bt::match::ioc_walk(s.book, side, q.px, o.r.leaves,
                                                        [](std::int64_t, std::int64_t, bool) {});
      if (short_by > 0) {
        Report r = base(o, q.inst, Report::Type::kCanceled, q.at);
        r.leaves = 0;
        return push(r);
      }
    }
    if (q.kind != OrderKind::kPostOnly) {
      bt::match::ioc_walk(
          s.book, side, q.px, o.r.leaves,
          [&](std::int64_t px, std::int64_t x, bool) { execute(q.inst, o, px, x, false, q.at); });
    }
    if (o.r.leaves == 0) return;
    if (q.kind == OrderKind::kIoc || q.kind == OrderKind::kFok) {
      Report r = base(o, q.inst, Report::Type::kCanceled, q.at);
      r.leaves = 0;
      return push(r);
    }
    // Re-take the queue ahead: the walk does not deplete the book (README.md).
    o.r.front = static_cast<double>(s.book.level_qty(bt::match::side_of(side), q.px));
    s.orders.push_back(o);
  }

  // Fills order i of instrument k by `x` lots at its price; true when it was removed (filled).
  bool maker_fill(std::uint32_t k, std::size_t i, std::int64_t x, std::int64_t et) {
    Order& o = inst_[k].orders[i];
    execute(k, o, o.r.px, x, true, et);
    if (o.r.leaves > 0) return false;
    inst_[k].orders.erase(inst_[k].orders.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }

  void execute(std::uint32_t k, Order& o, std::int64_t px, std::int64_t x, bool maker,
               std::int64_t et) {
    o.r.leaves -= x;
    o.r.filled = true;
    o.cum += x;
    Account& a = accounts_[o.account];
    const std::int64_t sg = o.side == 0 ? 1 : -1;
    const double notional = static_cast<double>(px) * static_cast<double>(x) * cfg_.value[k];
    const double fee = notional * (maker ? maker_rate_ : taker_rate_);
    a.position[k] += sg * x;
    a.cash[k] -= sg * px * x;
    a.fees += fee;
    a.turnover += notional;
    ++a.fills;
    Report r = base(o, k, Report::Type::kTrade, et);
    r.px = px;
    r.last_qty = x;
    r.maker = maker;
    r.fee = fee;
    push(r);
  }

  Report base(const Order& o, std::uint32_t k, Report::Type type, std::int64_t et) {
    Report r;
    r.type = type;
    r.at = et;
    r.account = o.account;
    r.id = o.r.id;
    r.inst = k;
    r.side = o.side;
    r.px = o.r.px;
    r.leaves = o.r.leaves;
    r.cum = o.cum;
    return r;
  }

  void reject(const Request& q, Report::Type type, RejectReason why) {
    ++accounts_[q.account].rejects;
    Report r;
    r.type = type;
    r.at = q.at;
    r.account = q.account;
    r.id = q.id;
    r.orig_id = q.orig_id;
    r.inst = q.inst < inst_.size() ? q.inst : 0;
    r.side = q.side;
    r.px = q.px;
    r.leaves = 0;
    r.reason = why;
    push(r);
  }

  // Responses leave the exchange in order: never before the previous one.
  void push(Report r) {
    r.at = std::max(r.at + latency_.response(), last_report_at_);
    last_report_at_ = r.at;
    reports_.push_back(r);
  }

  Config cfg_;
  bt::detail::LatencySource latency_;
  double maker_rate_, taker_rate_;
  std::vector<Inst> inst_;
  std::vector<Account> accounts_;
  std::vector<Request> requests_;
  std::vector<Report> reports_;
  std::int64_t last_request_at_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t last_report_at_ = std::numeric_limits<std::int64_t>::min();
  std::vector<PriceLevel> clear_buf_;
};

}  // namespace hft::venue
