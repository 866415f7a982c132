// Property test of the risk gate: random streams of orders, fills, cancels, book moves, clock
// steps and kill-switch flips, checked against a plain reference model written independently
// of the gate (ordered map of open orders, 128-bit sums, no bit tricks).
//
// Properties, for every event of every stream:
//  - the gate's decision is the model's: accepted exactly when no limit fails, and otherwise the
//    first failing limit in precedence order (so every rejection carries the right reason);
//  - right after an accept, worst-case exposure on the order's side, the open orders' gross
//    notional and the number of open orders are within their limits;
//  - position, open quantity and open notional always agree with the model.
// Seeded (a fixed list of seeds), so a failure reproduces; run under ASan/UBSan by the suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "hft/trading/risk_gate.hpp"

namespace {

using hft::Side;
using hft::trading::OrderRequest;
using hft::trading::RiskDecision;
using hft::trading::RiskGate;
using hft::trading::RiskLimits;
using hft::trading::Touch;
__extension__ typedef __int128 i128;

constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::size_t kInstruments = 3;

struct ModelOrder {
  std::uint32_t inst;
  int side;  // 0 bid, 1 ask
  std::int64_t px;
  std::int64_t leaves;
};

i128 abs128(i128 v) { return v < 0 ? -v : v; }

/// The reference: what the gate's documentation promises, computed the obvious way.
struct Model {
  RiskLimits lim;
  std::map<std::uint64_t, ModelOrder> open;  // ids increase, so map order = acceptance order
  std::array<std::int64_t, kInstruments> pos{};
  bool any = false;
  std::uint64_t last_id = 0;
  bool tripped = false;
  std::uint64_t tokens;  // in RiskGate::kUnit units
  std::uint64_t last_ns = 0;

  explicit Model(const RiskLimits& l)
      : lim(l), tokens(std::min(l.max_orders_per_second, RiskGate::kMaxRate) * RiskGate::kUnit) {}

  i128 open_qty(std::uint32_t inst, int side) const {
    i128 q = 0;
    for (const auto& [id, o] : open) q += (o.inst == inst && o.side == side) ? o.leaves : 0;
    return q;
  }
  i128 open_notional() const {
    i128 n = 0;
    for (const auto& [id, o] : open) n += abs128(o.px) * o.leaves;
    return n;
  }
  i128 worst(std::uint32_t inst, int side) const {
    return (side == 0 ? i128{pos[inst]} : -i128{pos[inst]}) + open_qty(inst, side);
  }

  RiskDecision decide(const OrderRequest& o, int side_raw, const Touch& t, std::uint64_t now) {
    const std::uint64_t rate = std::min(lim.max_orders_per_second, RiskGate::kMaxRate);
    const std::uint64_t elapsed = now > last_ns ? std::min(now - last_ns, RiskGate::kUnit) : 0;
    tokens = std::min(rate * RiskGate::kUnit, tokens + elapsed * rate);
    last_ns = std::max(last_ns, now);

    const bool valid = o.qty_lots > 0 && o.instrument < kInstruments && side_raw <= 1;
    const std::uint32_t inst = o.instrument < kInstruments ? o.instrument : 0;
    const int side = side_raw <= 1 ? side_raw : 0;
    const i128 notional = abs128(o.px_ticks) * o.qty_lots;
    const i128 open_side = open_qty(inst, side) + o.qty_lots;
    const i128 open_n = open_notional() + notional;
    const i128 mid2 = i128{t.bid_px} + t.ask_px;
    std::vector<RiskDecision> fails;
    if (tripped) fails.push_back(RiskDecision::kKillSwitch);
    if (!valid) fails.push_back(RiskDecision::kInvalidOrder);
    if (any && o.client_order_id <= last_id) fails.push_back(RiskDecision::kDuplicateOrderId);
    if (notional > kI64Max || open_side > kI64Max || open_n > kI64Max) {
      fails.push_back(RiskDecision::kOverflow);
    }
    if (o.qty_lots > lim.max_order_qty) fails.push_back(RiskDecision::kMaxOrderQty);
    if (lim.max_notional > 0 && notional > lim.max_notional) {
      fails.push_back(RiskDecision::kMaxNotional);
    }
    if ((side == 0 ? i128{pos[inst]} : -i128{pos[inst]}) + open_side > lim.max_position) {
      fails.push_back(RiskDecision::kMaxPosition);
    }
    if (lim.max_open_notional > 0 && open_n > lim.max_open_notional) {
      fails.push_back(RiskDecision::kMaxOpenNotional);
    }
    if (open.size() >= lim.max_open_orders) fails.push_back(RiskDecision::kMaxOpenOrders);
    if (!t.valid) fails.push_back(RiskDecision::kNoMarket);
    if (t.valid &&
        abs128(2 * i128{o.px_ticks} - mid2) * 10'000 > i128{lim.price_band_bps} * abs128(mid2)) {
      fails.push_back(RiskDecision::kPriceBand);
    }
    if (tokens < RiskGate::kUnit) fails.push_back(RiskDecision::kOrderRate);
    if (!fails.empty()) return fails.front();
    tokens -= RiskGate::kUnit;
    open[o.client_order_id] = ModelOrder{inst, side, o.px_ticks, o.qty_lots};
    any = true;
    last_id = o.client_order_id;
    return RiskDecision::kAccept;
  }

  void move(std::uint32_t inst, int side, std::int64_t qty) {
    const i128 p = i128{pos[inst]} + (side == 0 ? i128{qty} : -i128{qty});
    pos[inst] = static_cast<std::int64_t>(std::clamp<i128>(p, kI64Min, kI64Max));
  }
  void fill(std::uint64_t id, std::int64_t qty) {
    ModelOrder& o = open.at(id);
    move(o.inst, o.side, qty);
    o.leaves -= std::min(qty, o.leaves);
    if (o.leaves == 0) open.erase(id);
  }
  void anonymous_fill(std::uint32_t inst, int side, std::int64_t qty) {
    move(inst, side, qty);
    for (auto it = open.begin(); it != open.end() && qty > 0;) {
      if (it->second.inst != inst || it->second.side != side) {
        ++it;
        continue;
      }
      const std::int64_t x = std::min(qty, it->second.leaves);
      qty -= x;
      it->second.leaves -= x;
      it = it->second.leaves == 0 ? open.erase(it) : std::next(it);
    }
  }
};

struct Stream {
  std::mt19937_64 rng;
  explicit Stream(std::uint64_t seed) : rng(seed) {}
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  }
  bool chance(int percent) { return range(0, 99) < percent; }
};

RiskLimits random_limits(Stream& r) {
  RiskLimits l;
  l.max_position = r.chance(5) ? kI64Max : r.range(0, 60);
  l.max_order_qty = r.chance(5) ? kI64Max : r.range(1, 30);
  l.max_orders_per_second = static_cast<std::uint64_t>(r.range(1, 50));
  l.price_band_bps = r.range(1, 500);
  l.max_notional = r.chance(30) ? 0 : r.range(1, 3'000'000);
  l.max_open_notional = r.chance(30) ? 0 : r.range(1, 10'000'000);
  l.max_open_orders = static_cast<std::uint32_t>(r.range(1, 12));
  return l;
}

using Seen = std::array<std::uint64_t, hft::trading::kRiskDecisionCount>;

// Runs one stream; counts it in `accepting` when the gate accepted at least one order in it.
void run_stream(std::uint64_t seed, Seen& seen, int& accepting) {
  Stream r(seed);
  const RiskLimits lim = random_limits(r);
  RiskGate gate(lim, kInstruments);
  Model model(lim);
  std::int64_t mid = 100'000;
  std::int64_t spread = 10;
  bool book_valid = true;
  std::uint64_t now = 1'000'000'000;
  std::uint64_t next_id = 1;
  const std::uint64_t accepted_before = seen[0];
  for (int step = 0; step < 4000; ++step) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " step " << step);
    const std::int64_t roll = r.range(0, 99);
    if (roll < 50) {
      // A new order: mostly sensible, sometimes malformed or extreme.
      OrderRequest o{};
      o.client_order_id = r.chance(5) && next_id > 2
                              ? next_id - static_cast<std::uint64_t>(r.range(1, 2))
                              : next_id++;
      constexpr auto kLast = static_cast<std::int64_t>(kInstruments) - 1;
      o.instrument = static_cast<std::uint32_t>(r.chance(3) ? kLast + 1 : r.range(0, kLast));
      int side_raw = static_cast<int>(r.range(0, 1));
      if (r.chance(2)) side_raw = static_cast<int>(r.range(2, 255));
      const auto side_byte = static_cast<std::uint8_t>(side_raw);
      std::memcpy(&o.side, &side_byte, 1);
      o.px_ticks = mid + r.range(-80, 80);
      o.qty_lots = r.range(1, 25);
      if (r.chance(3)) o.qty_lots = r.range(-5, 0);
      if (r.chance(1)) o.qty_lots = kI64Max - r.range(0, 3);
      if (r.chance(1)) o.px_ticks = r.chance(50) ? kI64Min : kI64Max;
      o.ts_ns = now;
      const Touch t{mid - spread / 2, mid + (spread + 1) / 2, book_valid};
      const RiskDecision want = model.decide(o, side_raw, t, now);
      const RiskDecision got = gate.check(o, t, now);
      ASSERT_EQ(got, want) << hft::trading::to_string(got) << " vs "
                           << hft::trading::to_string(want);
      ++seen[static_cast<std::size_t>(got)];
      if (got == RiskDecision::kAccept) {
        EXPECT_LE(gate.worst_case(o.instrument, o.side), lim.max_position);
        if (lim.max_open_notional > 0) {
          EXPECT_LE(gate.open_notional(), lim.max_open_notional);
        }
        EXPECT_LE(gate.open_orders(), lim.max_open_orders);
      }
    } else if (roll < 65 && !model.open.empty()) {
      // A fill of an open order: partial, whole, or (rarely) more than is left.
      auto it = model.open.begin();
      std::advance(it, r.range(0, static_cast<std::int64_t>(model.open.size()) - 1));
      const std::uint64_t id = it->first;
      const std::int64_t qty =
          r.chance(5) ? it->second.leaves + r.range(1, 5) : r.range(1, it->second.leaves);
      model.fill(id, qty);
      ASSERT_TRUE(gate.on_fill(id, qty));
    } else if (roll < 75 && !model.open.empty()) {
      // Cancel, venue reject or expiry: all take the order off.
      auto it = model.open.begin();
      std::advance(it, r.range(0, static_cast<std::int64_t>(model.open.size()) - 1));
      const std::uint64_t id = it->first;
      model.open.erase(it);
      const std::int64_t how = r.range(0, 2);
      ASSERT_TRUE(how == 0   ? gate.on_cancel(id)
                  : how == 1 ? gate.on_reject(id)
                             : gate.on_expire(id));
      ASSERT_FALSE(gate.on_cancel(id));
    } else if (roll < 78) {
      // An execution the feed reports without an order id.
      const auto inst =
          static_cast<std::uint32_t>(r.range(0, static_cast<std::int64_t>(kInstruments) - 1));
      const int side = static_cast<int>(r.range(0, 1));
      const std::int64_t qty = r.range(1, 10);
      model.anonymous_fill(inst, side, qty);
      gate.on_fill(inst, side == 0 ? Side::Bid : Side::Ask, qty);
    } else if (roll < 92) {
      // The book moves (sometimes one-sided) and time passes (sometimes backwards).
      mid += r.range(-30, 30);
      spread = r.range(1, 20);
      book_valid = !r.chance(5);
      now = r.chance(3) ? now - static_cast<std::uint64_t>(r.range(0, 1'000'000))
                        : now + static_cast<std::uint64_t>(r.range(0, 200'000'000));
    } else if (roll < 94) {
      model.tripped = !model.tripped;
      if (model.tripped) {
        gate.trip();
      } else {
        gate.rearm();
      }
    } else {
      now += 1'000'000'000;  // a quiet second: the bucket refills
    }
    // The gate's books agree with the model after every event.
    for (std::uint32_t i = 0; i < kInstruments; ++i) {
      ASSERT_EQ(gate.position(i), model.pos[i]);
      ASSERT_EQ(gate.open_qty(i, Side::Bid), model.open_qty(i, 0));
      ASSERT_EQ(gate.open_qty(i, Side::Ask), model.open_qty(i, 1));
    }
    ASSERT_EQ(gate.open_notional(), model.open_notional());
    ASSERT_EQ(gate.open_orders(), model.open.size());
  }
  accepting += seen[0] > accepted_before ? 1 : 0;
}

TEST(TradingRiskProperty, RandomStreamsMatchTheModelAndNeverPassALimit) {
  Seen seen{};
  int accepting = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    run_stream(seed, seen, accepting);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // Some random limits admit nothing (a zero position limit); most streams must trade.
  EXPECT_GE(accepting, 45);
  // The streams reach every decision, so each reason's check was exercised.
  for (std::size_t d = 0; d < seen.size(); ++d) {
    EXPECT_GT(seen[d], 0u) << hft::trading::to_string(static_cast<RiskDecision>(d));
  }
}

}  // namespace
