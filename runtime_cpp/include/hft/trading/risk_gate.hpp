// Pre-trade risk gate: the last check every order passes before it reaches the gateway.
//
// check() evaluates every limit unconditionally, packs the failures into a bitmask and reports
// the highest-precedence one (lowest bit), so the cost is the same for accepted and rejected
// orders and the only data-dependent branch is accept/reject. No allocation after construction,
// no exceptions, no floating point: bands and notionals use exact 128-bit integer products.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hft/trading/order.hpp"

namespace hft::trading {

/// Why an order was accepted or rejected. Rejection reasons are listed in precedence order: when
/// several limits fail, check() reports the first one listed. kCount is not a decision.
enum class RiskDecision : std::uint8_t {
  kAccept = 0,
  kKillSwitch,    ///< the kill switch is tripped: nothing leaves until reset()
  kInvalidOrder,  ///< qty <= 0 or instrument out of range
  kMaxOrderQty,   ///< qty > max_order_qty
  kMaxNotional,   ///< |px| * qty > max_notional (only when max_notional > 0)
  kMaxPosition,   ///< |position + signed qty| > max_position
  kNoMarket,      ///< no two-sided touch to measure the price band against
  kPriceBand,     ///< price further than price_band_bps from mid
  kOrderRate,     ///< token bucket empty (max_orders_per_second)
  kCount
};

inline constexpr std::size_t kRiskDecisionCount = static_cast<std::size_t>(RiskDecision::kCount);

/// Stable lower-case name, for logs and metrics labels.
constexpr const char* to_string(RiskDecision d) noexcept {
  constexpr std::array<const char*, kRiskDecisionCount> names = {
      "accept",       "kill_switch", "invalid_order", "max_order_qty", "max_notional",
      "max_position", "no_market",   "price_band",    "order_rate"};
  const auto i = static_cast<std::size_t>(d);
  return i < names.size() ? names[i] : "unknown";
}

/// Limits from the schema's risk_gate component. Units: lots, ticks, and tick*lot for notional
/// (the generated code converts currency limits with the instrument's tick and lot sizes).
struct RiskLimits {
  std::int64_t max_position = 0;  ///< per instrument, absolute, lots
  std::int64_t max_order_qty = 0;
  /// Sustained rate and burst size of the token bucket. 0 rejects every order: a missing rate
  /// limit must be spelled out as a large number, never defaulted to "unlimited".
  std::uint64_t max_orders_per_second = 0;
  std::int64_t price_band_bps = 0;  ///< max |px - mid| / mid, in basis points
  std::int64_t max_notional = 0;    ///< 0 = no notional limit (schema `null`)
  /// Whether operators get a kill switch endpoint (generated code wires trip()/reset() to its
  /// control plane only when true). The gate itself always honours a tripped switch: a safety
  /// stop that configuration can silently disable would be a trap.
  bool kill_switch = true;
};

/// Per-pipeline risk gate. Call check() for every order (from one thread); trip()/reset()/
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
        position_(std::max<std::size_t>(instruments, 1), 0) {}

  RiskGate(const RiskGate&) = delete;
  RiskGate& operator=(const RiskGate&) = delete;

  /// Decides on one order at time `now_ns` (any monotonic ns clock; the pipeline passes the
  /// triggering message's timestamp so replays are deterministic) given the market touch the
  /// strategy saw. Accepting consumes one token; a rejection changes nothing but its counter.
  RiskDecision check(const OrderRequest& o, const Touch& t, std::uint64_t now_ns) noexcept {
    refill(now_ns);
    const bool bad = (o.qty_lots <= 0) | (o.instrument >= position_.size());
    const std::size_t idx = o.instrument < position_.size() ? o.instrument : 0;
    const i128 qty = o.qty_lots;
    const i128 px = o.px_ticks;
    const i128 abs_px = px < 0 ? -px : px;
    const bool notional = (limits_.max_notional > 0) & (abs_px * qty > limits_.max_notional);
    const i128 new_pos = position_[idx] + side_sign(o.side) * qty;
    const bool pos = (new_pos > limits_.max_position) | (-new_pos > limits_.max_position);
    // |px - mid| <= bps/10000 * |mid|, doubled to stay in integers: mid2 = bid + ask = 2 * mid.
    const i128 mid2 = static_cast<i128>(t.bid_px) + t.ask_px;
    const i128 dev2 = 2 * px - mid2;
    const i128 abs_dev2 = dev2 < 0 ? -dev2 : dev2;
    const bool band = t.valid & (abs_dev2 * 10'000 > static_cast<i128>(limits_.price_band_bps) *
                                                         (mid2 < 0 ? -mid2 : mid2));
    const std::uint32_t fail =
        static_cast<std::uint32_t>(tripped_.load(std::memory_order_relaxed)) |
        static_cast<std::uint32_t>(bad) << 1 |
        static_cast<std::uint32_t>(o.qty_lots > limits_.max_order_qty) << 2 |
        static_cast<std::uint32_t>(notional) << 3 | static_cast<std::uint32_t>(pos) << 4 |
        static_cast<std::uint32_t>(!t.valid) << 5 | static_cast<std::uint32_t>(band) << 6 |
        static_cast<std::uint32_t>(tokens_ < kUnit) << 7;
    if (fail == 0) [[likely]] {
      tokens_ -= kUnit;
      ++counts_[0];
      return RiskDecision::kAccept;
    }
    const auto reason = static_cast<std::size_t>(std::countr_zero(fail)) + 1;
    ++counts_[reason];
    return static_cast<RiskDecision>(reason);
  }

  /// Applies an execution to the position the limit is measured against.
  void on_fill(InstrumentId inst, Side side, std::int64_t qty_lots) noexcept {
    if (inst < position_.size()) position_[inst] += side_sign(side) * qty_lots;
  }

  /// Latches the kill switch: every later check() returns kKillSwitch until reset().
  void trip() noexcept { tripped_.store(true, std::memory_order_relaxed); }
  void reset() noexcept { tripped_.store(false, std::memory_order_relaxed); }
  bool tripped() const noexcept { return tripped_.load(std::memory_order_relaxed); }

  std::int64_t position(InstrumentId inst = 0) const noexcept {
    return inst < position_.size() ? position_[inst] : 0;
  }
  /// Orders that got decision `d` so far.
  std::uint64_t count(RiskDecision d) const noexcept {
    const auto i = static_cast<std::size_t>(d);
    return i < kRiskDecisionCount ? counts_[i] : 0;
  }
  std::uint64_t accepted() const noexcept { return counts_[0]; }
  std::uint64_t rejected() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 1; i < kRiskDecisionCount; ++i) n += counts_[i];
    return n;
  }
  /// Whole orders currently available in the bucket (for tests and monitoring).
  std::uint64_t tokens() const noexcept { return tokens_ / kUnit; }
  const RiskLimits& limits() const noexcept { return limits_; }

 private:
  __extension__ typedef __int128 i128;  // __extension__: no -Wpedantic noise

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
  std::vector<std::int64_t> position_;
  std::array<std::uint64_t, kRiskDecisionCount> counts_{};
  std::atomic<bool> tripped_{false};
};

}  // namespace hft::trading
