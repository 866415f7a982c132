#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <thread>

#include "hft/trading/risk_gate.hpp"

namespace {

using hft::Side;
using hft::trading::OrderRequest;
using hft::trading::RiskDecision;
using hft::trading::RiskGate;
using hft::trading::RiskLimits;
using hft::trading::Touch;

constexpr std::uint64_t kSec = 1'000'000'000;

// Limits loose enough that only the limit under test can fail.
RiskLimits loose() {
  RiskLimits l;
  l.max_position = 1'000'000;
  l.max_order_qty = 1'000'000;
  l.max_orders_per_second = 1'000'000;
  l.price_band_bps = 10'000;
  l.max_notional = 0;
  l.kill_switch = true;
  return l;
}

// Touch with mid 100000 ticks.
constexpr Touch kTouch{99'990, 100'010, true};

OrderRequest order(Side side, std::int64_t px, std::int64_t qty, std::uint32_t inst = 0) {
  return OrderRequest{1, inst, side, px, qty, 0};
}

TEST(TradingRisk, AcceptsWithinLimitsAndCounts) {
  RiskGate g(loose());
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 5), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 5), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.accepted(), 2u);
  EXPECT_EQ(g.rejected(), 0u);
  // Accepting does not move the position: only fills do.
  EXPECT_EQ(g.position(), 0);
}

TEST(TradingRisk, KillSwitchRejectsEverythingUntilReset) {
  RiskGate g(loose());
  g.trip();
  EXPECT_TRUE(g.tripped());
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kKillSwitch);
  // Takes precedence over every other reason.
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 0), Touch{0, 0, false}, kSec),
            RiskDecision::kKillSwitch);
  g.trip();  // latching twice is harmless
  EXPECT_EQ(g.count(RiskDecision::kKillSwitch), 2u);
  g.reset();
  EXPECT_FALSE(g.tripped());
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kAccept);
}

TEST(TradingRisk, KillSwitchCanBeTrippedFromAnotherThread) {
  RiskGate g(loose());
  std::thread operator_thread([&] { g.trip(); });
  operator_thread.join();
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kKillSwitch);
}

TEST(TradingRisk, InvalidOrders) {
  RiskGate g(loose(), 2);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 0), kTouch, kSec), RiskDecision::kInvalidOrder);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, -3), kTouch, kSec), RiskDecision::kInvalidOrder);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1, 2), kTouch, kSec), RiskDecision::kInvalidOrder);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.count(RiskDecision::kInvalidOrder), 3u);
}

TEST(TradingRisk, MaxOrderQty) {
  RiskLimits l = loose();
  l.max_order_qty = 10;
  RiskGate g(l);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 10), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 11), kTouch, kSec), RiskDecision::kMaxOrderQty);
  EXPECT_EQ(g.count(RiskDecision::kMaxOrderQty), 1u);
}

TEST(TradingRisk, MaxNotionalZeroIsOff) {
  RiskGate off(loose());
  EXPECT_EQ(off.check(order(Side::Bid, 100'000, 1'000'000), kTouch, kSec), RiskDecision::kAccept);

  RiskLimits l = loose();
  l.max_notional = 1'000'000;  // tick*lot: 10 lots at 100000 ticks
  RiskGate g(l);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 10), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 11), kTouch, kSec), RiskDecision::kMaxNotional);
  EXPECT_EQ(g.count(RiskDecision::kMaxNotional), 1u);
}

TEST(TradingRisk, PositionCountsTheOrdersSide) {
  RiskLimits l = loose();
  l.max_position = 10;
  RiskGate g(l, 2);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 10), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 11), kTouch, kSec), RiskDecision::kMaxPosition);
  g.on_fill(0, Side::Bid, 8);  // long 8
  EXPECT_EQ(g.position(0), 8);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 3), kTouch, kSec), RiskDecision::kMaxPosition);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 2), kTouch, kSec), RiskDecision::kAccept);
  // Selling reduces first: 8 - 18 = -10 is fine, 8 - 19 = -11 is not.
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 18), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 19), kTouch, kSec), RiskDecision::kMaxPosition);
  // Positions are per instrument.
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 10, 1), kTouch, kSec), RiskDecision::kAccept);
  g.on_fill(0, Side::Ask, 20);  // 8 - 20 = short 12 (fills are never refused)
  EXPECT_EQ(g.position(0), -12);
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 1), kTouch, kSec), RiskDecision::kMaxPosition);
  // Reducing an over-limit position is allowed once it lands inside: -12 + 2 = -10.
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kMaxPosition);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 2), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.count(RiskDecision::kMaxPosition), 5u);
}

TEST(TradingRisk, NoMarketRejects) {
  RiskGate g(loose());
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), Touch{0, 0, false}, kSec),
            RiskDecision::kNoMarket);
  EXPECT_EQ(g.count(RiskDecision::kNoMarket), 1u);
}

TEST(TradingRisk, PriceBandAroundMid) {
  RiskLimits l = loose();
  l.price_band_bps = 25;  // mid 100000 -> +-250 ticks
  RiskGate g(l);
  EXPECT_EQ(g.check(order(Side::Ask, 100'250, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Ask, 100'251, 1), kTouch, kSec), RiskDecision::kPriceBand);
  EXPECT_EQ(g.check(order(Side::Bid, 99'750, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Bid, 99'749, 1), kTouch, kSec), RiskDecision::kPriceBand);

  // Half-tick mid: bid 100, ask 101 -> mid 100.5, 100 bps -> 1.005 ticks.
  l.price_band_bps = 100;
  RiskGate h(l);
  const Touch odd{100, 101, true};
  EXPECT_EQ(h.check(order(Side::Bid, 100, 1), odd, kSec), RiskDecision::kAccept);  // 0.5 away
  EXPECT_EQ(h.check(order(Side::Ask, 101, 1), odd, kSec), RiskDecision::kAccept);
  EXPECT_EQ(h.check(order(Side::Ask, 102, 1), odd, kSec), RiskDecision::kPriceBand);  // 1.5 away
  EXPECT_EQ(h.check(order(Side::Bid, 99, 1), odd, kSec), RiskDecision::kPriceBand);
  EXPECT_EQ(h.count(RiskDecision::kPriceBand), 2u);
}

TEST(TradingRisk, TokenBucketRefillsContinuously) {
  RiskLimits l = loose();
  l.max_orders_per_second = 4;  // one token per 250 ms, burst 4
  RiskGate g(l);
  const std::uint64_t t0 = 5 * kSec;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0), RiskDecision::kAccept) << i;
  }
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0), RiskDecision::kOrderRate);
  // 249'999'999 ns * 4 = 999'999'996 units < one token (1e9 units).
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0 + 249'999'999),
            RiskDecision::kOrderRate);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0 + 250'000'000), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0 + 250'000'000),
            RiskDecision::kOrderRate);
  // A clock that steps back refills nothing.
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0), RiskDecision::kOrderRate);
  // Half a token + half a token = one token.
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0 + 375'000'000),
            RiskDecision::kOrderRate);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t0 + 500'000'000), RiskDecision::kAccept);
  // A long idle period refills to the burst size, not beyond.
  const std::uint64_t t1 = t0 + 60 * kSec;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t1), RiskDecision::kAccept) << i;
  }
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, t1), RiskDecision::kOrderRate);
  EXPECT_EQ(g.tokens(), 0u);
  EXPECT_EQ(g.count(RiskDecision::kOrderRate), 6u);
  EXPECT_EQ(g.accepted(), 10u);
}

TEST(TradingRisk, RejectedOrdersDoNotConsumeTokens) {
  RiskLimits l = loose();
  l.max_orders_per_second = 1;
  l.price_band_bps = 25;
  RiskGate g(l);
  EXPECT_EQ(g.check(order(Side::Bid, 90'000, 1), kTouch, kSec), RiskDecision::kPriceBand);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kOrderRate);
}

TEST(TradingRisk, ZeroRateRejectsEverything) {
  RiskLimits l = loose();
  l.max_orders_per_second = 0;
  RiskGate g(l);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, 100 * kSec), RiskDecision::kOrderRate);
}

TEST(TradingRisk, PrecedenceIsEnumOrder) {
  RiskLimits l = loose();
  l.max_order_qty = 10;
  l.max_position = 5;
  l.price_band_bps = 25;
  l.max_orders_per_second = 1;
  RiskGate g(l);
  // Fails qty, position, band: qty is reported.
  EXPECT_EQ(g.check(order(Side::Bid, 90'000, 11), kTouch, kSec), RiskDecision::kMaxOrderQty);
  // Fails position and band: position is reported.
  EXPECT_EQ(g.check(order(Side::Bid, 90'000, 6), kTouch, kSec), RiskDecision::kMaxPosition);
  // Fails market only (band cannot be judged without one).
  EXPECT_EQ(g.check(order(Side::Bid, 90'000, 1), Touch{0, 0, false}, kSec),
            RiskDecision::kNoMarket);
  EXPECT_EQ(g.rejected(), 3u);
}

TEST(TradingRisk, DecisionNames) {
  EXPECT_EQ(std::string_view(hft::trading::to_string(RiskDecision::kAccept)), "accept");
  EXPECT_EQ(std::string_view(hft::trading::to_string(RiskDecision::kOrderRate)), "order_rate");
  EXPECT_EQ(std::string_view(hft::trading::to_string(RiskDecision::kCount)), "unknown");
}

}  // namespace
