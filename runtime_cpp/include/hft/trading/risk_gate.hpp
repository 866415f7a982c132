// Pre-trade risk gate: the last check every order passes before it reaches the gateway.
//
// Exposure is measured worst case: an order the gate accepted counts as if it will fill, from
// the moment it is accepted until a fill, cancel, reject or expiry takes it off. For each
// instrument, worst-case long = position + open buys (+ the new buy) and worst-case short =
// -position + open sells (+ the new sell); both must stay within max_position. Without this a
// stream of small orders, each within the limit on its own, would add up to any exposure.
//
// check() evaluates every limit unconditionally, packs the failures into a bitmask and reports
// the highest-precedence one, so the cost is the same for accepted and rejected orders and the
// only data-dependent branch is accept/reject. No allocation after construction, no exceptions,
// no floating point, no signed overflow: limits are compared in exact 128-bit arithmetic, and an
// order whose acceptance would push a stored 64-bit total out of range is rejected (kOverflow).
//
// Order lifecycle: check() registers the order it accepts (the caller must not report it again);
// the caller then reports what happens to it by client order id: on_fill(id, qty), on_cancel(id),
// on_reject(id), on_expire(id). A cancel/replace is a check() of the new id and, once the venue
// confirms it, on_cancel() of the old one (both count while the replace is in flight, the worst
// case). on_order_accepted() registers an order that did not pass check() here, e.g. one found
// open at the venue after a restart. Client order ids must increase: an id not above the last
// one registered is a duplicate (kDuplicateOrderId), an exact check in constant memory.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "hft/trading/order.hpp"

namespace hft::trading {

/// Why an order was accepted or rejected. The values are stable (metrics labels, backtest
/// summaries); new reasons are appended. kCount is not a decision. Precedence, when several
/// limits fail, is kRiskPrecedence's order, not the numbering.
enum class RiskDecision : std::uint8_t {
  kAccept = 0,
  kKillSwitch,    ///< the kill switch is tripped: nothing leaves until rearm()
  kInvalidOrder,  ///< qty <= 0, instrument out of range, or a side that is neither bid nor ask
  kMaxOrderQty,   ///< qty > max_order_qty
  kMaxNotional,   ///< |px| * qty > max_notional (only when max_notional > 0)
  kMaxPosition,   ///< worst-case long or short (position + open orders + this one) > max_position
  kNoMarket,      ///< no two-sided touch to measure the price collar against
  kPriceBand,     ///< price further than price_band_bps from the current touch's mid
  kOrderRate,     ///< token bucket empty (max_orders_per_second)
  kDuplicateOrderId,  ///< client order id not above the last one registered
  kMaxOpenOrders,     ///< max_open_orders orders already open
  kMaxOpenNotional,   ///< open orders' gross notional + this one's > max_open_notional (if > 0)
  kOverflow,          ///< accepting would overflow a 64-bit total (notional, open quantity)
  kCount
};

inline constexpr std::size_t kRiskDecisionCount = static_cast<std::size_t>(RiskDecision::kCount);

/// Rejection reasons from highest to lowest precedence (bit i of check()'s mask is entry i).
inline constexpr std::array<RiskDecision, kRiskDecisionCount - 1> kRiskPrecedence = {
    RiskDecision::kKillSwitch,  RiskDecision::kInvalidOrder,    RiskDecision::kDuplicateOrderId,
    RiskDecision::kOverflow,    RiskDecision::kMaxOrderQty,     RiskDecision::kMaxNotional,
    RiskDecision::kMaxPosition, RiskDecision::kMaxOpenNotional, RiskDecision::kMaxOpenOrders,
    RiskDecision::kNoMarket,    RiskDecision::kPriceBand,       RiskDecision::kOrderRate};

/// Stable lower-case name, for logs and metrics labels.
constexpr const char* to_string(RiskDecision d) noexcept {
  constexpr std::array<const char*, kRiskDecisionCount> names = {
      "accept",       "kill_switch",        "invalid_order",   "max_order_qty",
      "max_notional", "max_position",       "no_market",       "price_band",
      "order_rate",   "duplicate_order_id", "max_open_orders", "max_open_notional",
      "overflow"};
  const auto i = static_cast<std::size_t>(d);
  return i < names.size() ? names[i] : "unknown";
}

/// Limits from the schema's risk_gate component. Units: lots, ticks, and tick*lot for notional
/// (the generated code converts currency limits with the instrument's tick and lot sizes).
struct RiskLimits {
  /// Default and ceiling of max_open_orders (the open-order table is sized from it).
  static constexpr std::uint32_t kDefaultMaxOpenOrders = 1024;
  static constexpr std::uint32_t kMaxOpenOrdersCeiling = 1u << 20;

  std::int64_t max_position = 0;  ///< per instrument, worst case including open orders, lots
  std::int64_t max_order_qty = 0;
  /// Sustained rate and burst size of the token bucket. 0 rejects every order: a missing rate
  /// limit must be spelled out as a large number, never defaulted to "unlimited".
  std::uint64_t max_orders_per_second = 0;
  std::int64_t price_band_bps = 0;  ///< max |px - mid| / mid of the current touch, in bps
  std::int64_t max_notional = 0;    ///< per order; 0 = no notional limit (schema `null`)
  /// Whether operators get a kill switch endpoint (generated code wires trip()/rearm() to its
  /// control plane only when true). The gate itself always honours a tripped switch: a safety
  /// stop that configuration can silently disable would be a trap.
  bool kill_switch = true;
  /// Gross notional of all open orders (sum of |px| * open qty), tick*lot; 0 = no limit.
  std::int64_t max_open_notional = 0;
  /// Orders open at once, all instruments (clamped to [1, kMaxOpenOrdersCeiling]).
  std::uint32_t max_open_orders = kDefaultMaxOpenOrders;
};

/// Per-pipeline risk gate. Call check() and the order events from one thread; trip()/rearm()/
/// tripped() may be called from any thread.
class RiskGate {
 public:
  /// Nanoseconds per token in the bucket's fixed-point unit: one order costs kUnit, and the
  /// bucket refills `rate` units per elapsed ns, so integer arithmetic stays exact.
  static constexpr std::uint64_t kUnit = 1'000'000'000;
  /// Rates above this are clamped so that capacity (rate * kUnit) cannot overflow 64 bits.
  static constexpr std::uint64_t kMaxRate = 1'000'000'000;

  explicit RiskGate(const RiskLimits& limits, std::size_t instruments = 1)
      : limits_(limits),
        rate_(std::min(limits.max_orders_per_second, kMaxRate)),
        capacity_(rate_ * kUnit),
        tokens_(capacity_),
        max_open_(std::clamp<std::uint32_t>(limits.max_open_orders, 1,
                                            RiskLimits::kMaxOpenOrdersCeiling)),
        position_(std::max<std::size_t>(instruments, 1), 0),
        open_qty_(position_.size(), {0, 0}) {
    open_.reserve(max_open_);
  }

  RiskGate(const RiskGate&) = delete;
  RiskGate& operator=(const RiskGate&) = delete;

  /// Decides on one order at time `now_ns` (any monotonic ns clock; the pipeline passes the
  /// triggering message's timestamp so replays are deterministic) given the market touch the
  /// strategy saw. Accepting consumes one token and registers the order as open; a rejection
  /// changes nothing but its counter.
  RiskDecision check(const OrderRequest& o, const Touch& t, std::uint64_t now_ns) noexcept {
    refill(now_ns);
    const auto side_raw = static_cast<std::uint8_t>(o.side);
    const bool side_ok = side_raw <= 1;
    const bool inst_ok = o.instrument < position_.size();
    const bool bad = (o.qty_lots <= 0) | !inst_ok | !side_ok;
    const std::size_t idx = inst_ok ? o.instrument : 0;
    const std::size_t s = side_ok ? side_raw : 0;
    const i128 qty = o.qty_lots;
    const i128 px = o.px_ticks;
    const i128 notional = (px < 0 ? -px : px) * qty;  // |px| <= 2^63, |qty| <= 2^63: fits
    const i128 open_side = static_cast<i128>(open_qty_[idx][s]) + qty;
    const i128 open_notional = static_cast<i128>(open_notional_) + notional;
    constexpr i128 kI64Max = std::numeric_limits<std::int64_t>::max();
    const bool overflow = (notional > kI64Max) | (open_side > kI64Max) | (open_notional > kI64Max);
    const bool dup = registered_ & (o.client_order_id <= last_id_);
    const bool notional_fail = (limits_.max_notional > 0) & (notional > limits_.max_notional);
    // Worst case on the order's own side: a buy can only add to the long exposure, a sell to
    // the short one, so an order that reduces risk is never refused for the other side's excess.
    const i128 pos = position_[idx];
    const i128 worst = (s == 0 ? pos : -pos) + open_side;
    const bool pos_fail = worst > limits_.max_position;
    const bool open_notional_fail =
        (limits_.max_open_notional > 0) & (open_notional > limits_.max_open_notional);
    const bool open_orders_fail = open_.size() >= max_open_;
    // |px - mid| <= bps/10000 * |mid|, doubled to stay in integers: mid2 = bid + ask = 2 * mid.
    // |dev2| * 10'000 < 2^79 and |bps| * |mid2| < 2^127: both fit.
    const i128 mid2 = static_cast<i128>(t.bid_px) + t.ask_px;
    const i128 dev2 = 2 * px - mid2;
    const i128 abs_dev2 = dev2 < 0 ? -dev2 : dev2;
    const bool band = t.valid & (abs_dev2 * 10'000 > static_cast<i128>(limits_.price_band_bps) *
                                                         (mid2 < 0 ? -mid2 : mid2));
    // Bit i is kRiskPrecedence[i].
    const std::uint32_t fail =
        static_cast<std::uint32_t>(tripped_.load(std::memory_order_relaxed)) |
        static_cast<std::uint32_t>(bad) << 1 | static_cast<std::uint32_t>(dup) << 2 |
        static_cast<std::uint32_t>(overflow) << 3 |
        static_cast<std::uint32_t>(o.qty_lots > limits_.max_order_qty) << 4 |
        static_cast<std::uint32_t>(notional_fail) << 5 | static_cast<std::uint32_t>(pos_fail) << 6 |
        static_cast<std::uint32_t>(open_notional_fail) << 7 |
        static_cast<std::uint32_t>(open_orders_fail) << 8 |
        static_cast<std::uint32_t>(!t.valid) << 9 | static_cast<std::uint32_t>(band) << 10 |
        static_cast<std::uint32_t>(tokens_ < kUnit) << 11;
    if (fail == 0) [[likely]] {
      tokens_ -= kUnit;
      bump(counts_[0]);
      add_open(o, idx, s, static_cast<std::int64_t>(notional));
      return RiskDecision::kAccept;
    }
    const RiskDecision reason = kRiskPrecedence[static_cast<std::size_t>(std::countr_zero(fail))];
    bump(counts_[static_cast<std::size_t>(reason)]);
    return reason;
  }

  // ---- order lifecycle ----------------------------------------------------------------------

  /// Registers an order as open without checking any limit: one accepted elsewhere, e.g. found
  /// resting at the venue after a restart. False (and nothing registered) when it is invalid, a
  /// duplicate id, the table is full, or its totals would overflow.
  bool on_order_accepted(const OrderRequest& o) noexcept {
    const auto side_raw = static_cast<std::uint8_t>(o.side);
    if (o.qty_lots <= 0 || o.instrument >= position_.size() || side_raw > 1) return false;
    if ((registered_ && o.client_order_id <= last_id_) || open_.size() >= max_open_) return false;
    const i128 px = o.px_ticks;
    const i128 notional = (px < 0 ? -px : px) * o.qty_lots;
    constexpr i128 kI64Max = std::numeric_limits<std::int64_t>::max();
    if (notional > kI64Max || open_notional_ + notional > kI64Max ||
        static_cast<i128>(open_qty_[o.instrument][side_raw]) + o.qty_lots > kI64Max) {
      return false;
    }
    add_open(o, o.instrument, side_raw, static_cast<std::int64_t>(notional));
    return true;
  }

  /// An execution of open order `client_order_id`: the position moves by `qty_lots` and the
  /// order's open quantity shrinks by as much (it closes when nothing is left). False when the
  /// id is not open or qty_lots <= 0 (nothing changes; report the fill with the instrument and
  /// side overload instead, since money did change hands).
  bool on_fill(std::uint64_t client_order_id, std::int64_t qty_lots) noexcept {
    const std::size_t i = find(client_order_id);
    if (i == open_.size() || qty_lots <= 0) return false;
    OpenOrder& o = open_[i];
    move_position(o.instrument, o.side, qty_lots);
    reduce(i, std::min(qty_lots, o.leaves));
    return true;
  }

  /// Same as on_fill(client_order_id, qty_lots), under the Rust runtime's name.
  bool on_order_fill(std::uint64_t client_order_id, std::int64_t qty_lots) noexcept {
    return on_fill(client_order_id, qty_lots);
  }

  /// The order left the book without (further) fills: canceled, rejected by the venue, expired
  /// (an IOC's remainder, end of day). Its open quantity stops counting. False when not open.
  bool on_cancel(std::uint64_t client_order_id) noexcept { return close(client_order_id); }
  bool on_reject(std::uint64_t client_order_id) noexcept { return close(client_order_id); }
  bool on_expire(std::uint64_t client_order_id) noexcept { return close(client_order_id); }

  /// An execution that cannot be tied to an order id (a feed's own-fill message): moves the
  /// position and takes the quantity off the oldest open orders of that instrument and side.
  /// Fills are never refused; a position beyond the 64-bit range saturates.
  void on_fill(InstrumentId inst, Side side, std::int64_t qty_lots) noexcept {
    const auto side_raw = static_cast<std::uint8_t>(side);
    if (inst >= position_.size() || side_raw > 1 || qty_lots <= 0) return;
    move_position(inst, side_raw, qty_lots);
    std::int64_t left = qty_lots;
    for (std::size_t i = 0; i < open_.size() && left > 0;) {
      const OpenOrder& o = open_[i];
      if (o.instrument != inst || o.side != side_raw) {
        ++i;
        continue;
      }
      const std::int64_t x = std::min(left, o.leaves);
      left -= x;
      if (!reduce(i, x)) ++i;  // a closed order's slot now holds the next one
    }
  }

  /// Overwrites the position of `inst` (reconciliation with the venue after a restart).
  void set_position(InstrumentId inst, std::int64_t lots) noexcept {
    if (inst < position_.size()) position_[inst] = lots;
  }

  // ---- kill switch ----------------------------------------------------------------------------

  /// Latches the kill switch: every later check() returns kKillSwitch until rearm(). Open
  /// orders are the caller's to cancel (their cancels and fills are still accounted).
  void trip() noexcept { tripped_.store(true, std::memory_order_relaxed); }
  /// Re-arms the gate after a trip.
  void rearm() noexcept { tripped_.store(false, std::memory_order_relaxed); }
  void reset() noexcept { rearm(); }
  bool tripped() const noexcept { return tripped_.load(std::memory_order_relaxed); }

  // ---- inspection -----------------------------------------------------------------------------

  std::int64_t position(InstrumentId inst = 0) const noexcept {
    return inst < position_.size() ? position_[inst] : 0;
  }
  /// Open quantity of `inst` on `side` (lots), accepted and not yet filled or closed.
  std::int64_t open_qty(InstrumentId inst, Side side) const noexcept {
    const auto s = static_cast<std::uint8_t>(side);
    return inst < position_.size() && s <= 1 ? open_qty_[inst][s] : 0;
  }
  /// Worst-case long (side Bid) or short (side Ask) exposure of `inst`: what max_position bounds.
  /// Saturates at the 64-bit range (only reachable through fills beyond it).
  std::int64_t worst_case(InstrumentId inst, Side side) const noexcept {
    const auto s = static_cast<std::uint8_t>(side);
    if (inst >= position_.size() || s > 1) return 0;
    const i128 p = position_[inst];
    const i128 w = (s == 0 ? p : -p) + open_qty_[inst][s];
    constexpr i128 kMax = std::numeric_limits<std::int64_t>::max();
    constexpr i128 kMin = std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(std::clamp(w, kMin, kMax));
  }
  std::int64_t open_notional() const noexcept { return open_notional_; }
  std::size_t open_orders() const noexcept { return open_.size(); }
  /// Open quantity of one order, 0 when it is not open.
  std::int64_t leaves(std::uint64_t client_order_id) const noexcept {
    const std::size_t i = find(client_order_id);
    return i < open_.size() ? open_[i].leaves : 0;
  }
  /// The smallest client order id the gate would not call a duplicate.
  std::uint64_t next_client_order_id() const noexcept { return registered_ ? last_id_ + 1 : 0; }
  /// Orders that got decision `d` so far.
  std::uint64_t count(RiskDecision d) const noexcept {
    const auto i = static_cast<std::size_t>(d);
    return i < kRiskDecisionCount ? counts_[i] : 0;
  }
  std::uint64_t accepted() const noexcept { return counts_[0]; }
  std::uint64_t rejected() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 1; i < kRiskDecisionCount; ++i) {
      n = counts_[i] > std::numeric_limits<std::uint64_t>::max() - n
              ? std::numeric_limits<std::uint64_t>::max()
              : n + counts_[i];
    }
    return n;
  }
  /// Whole orders currently available in the bucket (for tests and monitoring).
  std::uint64_t tokens() const noexcept { return tokens_ / kUnit; }
  const RiskLimits& limits() const noexcept { return limits_; }

 private:
  __extension__ typedef __int128 i128;  // __extension__: no -Wpedantic noise

  /// One open order. Kept in acceptance order in a vector reserved at construction; a quoting
  /// strategy has a handful open, so a linear scan beats hashing and keeps FIFO order.
  struct OpenOrder {
    std::uint64_t id;
    std::int64_t px;
    std::int64_t leaves;
    InstrumentId instrument;
    std::uint8_t side;  // 0 bid, 1 ask
  };

  static void bump(std::uint64_t& c) noexcept {
    c += static_cast<std::uint64_t>(c != std::numeric_limits<std::uint64_t>::max());
  }

  static std::int64_t abs_notional(std::int64_t px, std::int64_t qty) noexcept {
    const i128 p = px;
    return static_cast<std::int64_t>((p < 0 ? -p : p) * qty);  // callers checked the range
  }

  // The caller checked that no total overflows and that there is room.
  void add_open(const OrderRequest& o, std::size_t idx, std::size_t s,
                std::int64_t notional) noexcept {
    open_.push_back(OpenOrder{o.client_order_id, o.px_ticks, o.qty_lots,
                              static_cast<InstrumentId>(idx), static_cast<std::uint8_t>(s)});
    open_qty_[idx][s] += o.qty_lots;
    open_notional_ += notional;
    last_id_ = o.client_order_id;
    registered_ = true;
  }

  std::size_t find(std::uint64_t id) const noexcept {
    std::size_t i = 0;
    while (i < open_.size() && open_[i].id != id) ++i;
    return i;
  }

  // Takes `x` (0 <= x <= leaves) off open order i; erases it when nothing is left (true).
  bool reduce(std::size_t i, std::int64_t x) noexcept {
    OpenOrder& o = open_[i];
    open_qty_[o.instrument][o.side] -= x;
    // |px| * leaves was added whole; subtract the part for x and, at close, the rounding-free
    // remainder, so the total returns exactly to what it was.
    const std::int64_t before = abs_notional(o.px, o.leaves);
    o.leaves -= x;
    open_notional_ -= before - abs_notional(o.px, o.leaves);
    if (o.leaves != 0) return false;
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }

  bool close(std::uint64_t id) noexcept {
    const std::size_t i = find(id);
    if (i == open_.size()) return false;
    reduce(i, open_[i].leaves);
    return true;
  }

  void move_position(std::size_t inst, std::size_t side, std::int64_t qty) noexcept {
    std::int64_t& p = position_[inst];
    std::int64_t r = 0;
    const bool over =
        side == 0 ? __builtin_add_overflow(p, qty, &r) : __builtin_sub_overflow(p, qty, &r);
    if (!over) {
      p = r;
    } else {
      p = side == 0 ? std::numeric_limits<std::int64_t>::max()
                    : std::numeric_limits<std::int64_t>::min();
    }
  }

  // Continuous refill: `rate` units per elapsed ns, capped at one second's worth (a full bucket),
  // which also bounds the product. A clock that steps back refills nothing.
  void refill(std::uint64_t now_ns) noexcept {
    const std::uint64_t elapsed = std::min(now_ns > last_ns_ ? now_ns - last_ns_ : 0, kUnit);
    tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
    last_ns_ = std::max(last_ns_, now_ns);
  }

  RiskLimits limits_;
  std::uint64_t rate_;
  std::uint64_t capacity_;
  std::uint64_t tokens_;
  std::uint64_t last_ns_ = 0;
  std::uint32_t max_open_;
  std::vector<std::int64_t> position_;
  std::vector<std::array<std::int64_t, 2>> open_qty_;  // per instrument: bid, ask
  std::vector<OpenOrder> open_;                        // capacity max_open_, acceptance order
  std::int64_t open_notional_ = 0;                     // sum of |px| * leaves over open_
  std::uint64_t last_id_ = 0;                          // highest registered client order id
  bool registered_ = false;                            // any order registered yet
  std::array<std::uint64_t, kRiskDecisionCount> counts_{};
  std::atomic<bool> tripped_{false};
};

}  // namespace hft::trading
