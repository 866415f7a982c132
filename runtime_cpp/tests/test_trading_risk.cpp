#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
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

// Each order gets the next client order id (the gate refuses an id that does not increase).
std::uint64_t g_next_id = 1;
OrderRequest order(Side side, std::int64_t px, std::int64_t qty, std::uint32_t inst = 0) {
  return OrderRequest{g_next_id++, inst, side, px, qty, 0};
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

TEST(TradingRisk, PositionCountsOpenOrdersWorstCase) {
  RiskLimits l = loose();
  l.max_position = 10;
  RiskGate g(l, 2);
  // 10 open buys use the whole long limit: an 11th lot cannot pass, however it is split.
  const OrderRequest first = order(Side::Bid, 100'000, 4);
  EXPECT_EQ(g.check(first, kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 6), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kMaxPosition);
  EXPECT_EQ(g.open_qty(0, Side::Bid), 10);
  EXPECT_EQ(g.worst_case(0, Side::Bid), 10);
  // Sells count against the short side only: 10 lots of sells fit beside 10 lots of buys.
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 10), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 1), kTouch, kSec), RiskDecision::kMaxPosition);
  // A fill moves quantity from open to position: worst-case long is unchanged.
  EXPECT_TRUE(g.on_fill(first.client_order_id, 3));
  EXPECT_EQ(g.position(0), 3);
  EXPECT_EQ(g.leaves(first.client_order_id), 1);
  EXPECT_EQ(g.worst_case(0, Side::Bid), 10);
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kMaxPosition);
  // ...but it frees short room: worst-case short = -3 + 10 = 7.
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 3), kTouch, kSec), RiskDecision::kAccept);
  // Canceling the rest of the first order frees one lot of long room.
  EXPECT_TRUE(g.on_cancel(first.client_order_id));
  EXPECT_FALSE(g.on_cancel(first.client_order_id));  // no longer open
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kAccept);
  // Positions are per instrument.
  EXPECT_EQ(g.check(order(Side::Bid, 100'000, 10, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.count(RiskDecision::kMaxPosition), 3u);
}

TEST(TradingRisk, ThousandSmallBuysCannotPassOneLimit) {
  RiskLimits l = loose();
  l.max_position = 10;
  l.max_order_qty = 10;
  RiskGate g(l);
  int accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    accepted += g.check(order(Side::Bid, 100'000, 10), kTouch, kSec) == RiskDecision::kAccept;
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(g.count(RiskDecision::kMaxPosition), 999u);
}

TEST(TradingRisk, OrderEventsReleaseOpenQuantity) {
  RiskLimits l = loose();
  l.max_position = 5;
  RiskGate g(l);
  const OrderRequest a = order(Side::Ask, 100'000, 5);
  EXPECT_EQ(g.check(a, kTouch, kSec), RiskDecision::kAccept);
  EXPECT_TRUE(g.on_reject(a.client_order_id));
  const OrderRequest b = order(Side::Ask, 100'000, 5);
  EXPECT_EQ(g.check(b, kTouch, kSec), RiskDecision::kAccept);
  EXPECT_TRUE(g.on_expire(b.client_order_id));
  EXPECT_EQ(g.open_orders(), 0u);
  EXPECT_EQ(g.open_notional(), 0);
  // A fill larger than the order's open quantity still moves the whole position.
  const OrderRequest c = order(Side::Ask, 100'000, 2);
  EXPECT_EQ(g.check(c, kTouch, kSec), RiskDecision::kAccept);
  EXPECT_TRUE(g.on_fill(c.client_order_id, 3));
  EXPECT_EQ(g.position(), -3);
  EXPECT_EQ(g.open_orders(), 0u);
  EXPECT_FALSE(g.on_fill(c.client_order_id, 1));  // closed
  EXPECT_FALSE(g.on_fill(999'999, 1));            // never seen
  // A fill with no order id takes quantity off the oldest open orders of its side.
  const OrderRequest d = order(Side::Bid, 100'000, 2);
  const OrderRequest e = order(Side::Bid, 100'000, 2);
  EXPECT_EQ(g.check(d, kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(e, kTouch, kSec), RiskDecision::kAccept);
  g.on_fill(0, Side::Bid, 3);
  EXPECT_EQ(g.leaves(d.client_order_id), 0);
  EXPECT_EQ(g.leaves(e.client_order_id), 1);
  EXPECT_EQ(g.position(), 0);
  EXPECT_EQ(g.open_notional(), 100'000);
}

TEST(TradingRisk, DuplicateClientOrderIds) {
  RiskGate g(loose());
  const OrderRequest a{10, 0, Side::Bid, 100'000, 1, 0};
  EXPECT_EQ(g.check(a, kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(a, kTouch, kSec), RiskDecision::kDuplicateOrderId);
  EXPECT_TRUE(g.on_cancel(10));
  // Closed ids stay used.
  EXPECT_EQ(g.check(a, kTouch, kSec), RiskDecision::kDuplicateOrderId);
  EXPECT_EQ(g.check(OrderRequest{9, 0, Side::Bid, 100'000, 1, 0}, kTouch, kSec),
            RiskDecision::kDuplicateOrderId);
  // A rejected id was never used: it may be sent again.
  EXPECT_EQ(g.check(OrderRequest{11, 0, Side::Bid, 100'000, 0, 0}, kTouch, kSec),
            RiskDecision::kInvalidOrder);
  EXPECT_EQ(g.check(OrderRequest{11, 0, Side::Bid, 100'000, 1, 0}, kTouch, kSec),
            RiskDecision::kAccept);
  EXPECT_FALSE(g.on_order_accepted(OrderRequest{11, 0, Side::Bid, 100'000, 1, 0}));
  EXPECT_TRUE(g.on_order_accepted(OrderRequest{20, 0, Side::Ask, 100'000, 3, 0}));
  EXPECT_EQ(g.open_qty(0, Side::Ask), 3);
  EXPECT_EQ(g.count(RiskDecision::kDuplicateOrderId), 3u);
}

TEST(TradingRisk, MaxOpenOrdersAndOpenNotional) {
  RiskLimits l = loose();
  l.max_open_orders = 2;
  l.max_open_notional = 300'000;  // three lots at 100000 ticks
  RiskGate g(l);
  const OrderRequest a = order(Side::Bid, 100'000, 2);
  EXPECT_EQ(g.check(a, kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 2), kTouch, kSec), RiskDecision::kMaxOpenNotional);
  EXPECT_EQ(g.check(order(Side::Ask, 100'000, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(g.open_notional(), 300'000);
  EXPECT_EQ(g.check(order(Side::Ask, 1, 1), kTouch, kSec), RiskDecision::kMaxOpenNotional);
  l.max_open_notional = 0;
  RiskGate h(l);
  EXPECT_EQ(h.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(h.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kAccept);
  EXPECT_EQ(h.check(order(Side::Bid, 100'000, 1), kTouch, kSec), RiskDecision::kMaxOpenOrders);
  // A partial fill keeps the notional exact: 2 lots left at 100000 -> 1 lot.
  EXPECT_TRUE(g.on_fill(a.client_order_id, 1));
  EXPECT_EQ(g.open_notional(), 200'000);
}

TEST(TradingRisk, InvalidSideIsRejected) {
  RiskGate g(loose());
  OrderRequest o = order(Side::Bid, 100'000, 1);
  std::uint8_t raw = 7;
  static_assert(sizeof(o.side) == 1);
  std::memcpy(&o.side, &raw, 1);  // what a decoder bug or a corrupt ring slot could hand over
  EXPECT_EQ(g.check(o, kTouch, kSec), RiskDecision::kInvalidOrder);
  EXPECT_FALSE(g.on_order_accepted(o));
  g.on_fill(0, o.side, 5);  // ignored, not applied to either side
  EXPECT_EQ(g.position(), 0);
}

TEST(TradingRisk, OverflowIsRejectedNotUndefined) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  RiskLimits l;
  l.max_position = kMax;
  l.max_order_qty = kMax;
  l.max_orders_per_second = RiskGate::kMaxRate;
  l.price_band_bps = kMax;
  RiskGate g(l);
  const Touch far{kMax, kMax, true};
  // |px| * qty beyond 64 bits.
  EXPECT_EQ(g.check(order(Side::Bid, kMin, kMax), far, kSec), RiskDecision::kOverflow);
  EXPECT_EQ(g.check(order(Side::Bid, 1, kMax), far, kSec), RiskDecision::kAccept);
  // Open buys at the 64-bit maximum: one more lot would overflow the open quantity.
  EXPECT_EQ(g.check(order(Side::Bid, 0, 1), far, kSec), RiskDecision::kOverflow);
  // Fills saturate instead of wrapping (UBSan checks this test).
  g.on_fill(0, Side::Bid, kMax);
  g.on_fill(0, Side::Bid, kMax);
  EXPECT_EQ(g.position(), kMax);
  g.on_fill(0, Side::Ask, kMax);
  g.on_fill(0, Side::Ask, kMax);
  g.on_fill(0, Side::Ask, kMax);
  EXPECT_EQ(g.position(), kMin);
  EXPECT_EQ(g.worst_case(0, Side::Ask), kMax);
  EXPECT_EQ(g.worst_case(0, Side::Bid), kMin);
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
  // Fails duplicate id and qty: the duplicate is reported.
  EXPECT_EQ(g.check(OrderRequest{0, 0, Side::Bid, 100'000, 1, 0}, kTouch, kSec),
            RiskDecision::kAccept);
  EXPECT_EQ(g.check(OrderRequest{0, 0, Side::Bid, 90'000, 11, 0}, kTouch, kSec),
            RiskDecision::kDuplicateOrderId);
  // Fails position and band: position is reported.
  EXPECT_EQ(g.check(order(Side::Bid, 90'000, 6), kTouch, kSec), RiskDecision::kMaxPosition);
  // Fails market only (band cannot be judged without one).
  EXPECT_EQ(g.check(order(Side::Bid, 90'000, 1), Touch{0, 0, false}, kSec),
            RiskDecision::kNoMarket);
  EXPECT_EQ(g.rejected(), 4u);
}

TEST(TradingRisk, DecisionNames) {
  EXPECT_EQ(std::string_view(hft::trading::to_string(RiskDecision::kAccept)), "accept");
  EXPECT_EQ(std::string_view(hft::trading::to_string(RiskDecision::kOrderRate)), "order_rate");
  EXPECT_EQ(std::string_view(hft::trading::to_string(RiskDecision::kOverflow)), "overflow");
  EXPECT_EQ(std::string_view(hft::trading::to_string(RiskDecision::kCount)), "unknown");
  // Every rejection reason appears exactly once in the precedence list.
  std::array<int, hft::trading::kRiskDecisionCount> seen{};
  for (const RiskDecision d : hft::trading::kRiskPrecedence) ++seen[static_cast<std::size_t>(d)];
  EXPECT_EQ(seen[0], 0);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << i;
}

}  // namespace
