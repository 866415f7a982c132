// The venue's matcher against the backtest engine: the same orders on the same tape with the same
// latency give the same fills (one set of matching rules, hft/backtest/matching.hpp), and what only
// a venue has: several accounts, cancel/replace, IOC/FOK, rejects, cancel on disconnect.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "hft/backtest/backtest.hpp"
#include "hft/backtest/tape_writer.hpp"
#include "hft/venue/matcher.hpp"

namespace {

namespace bt = hft::backtest;
namespace venue = hft::venue;

bt::Tape open_tape(const bt::TapeWriter& w) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path = ::testing::TempDir() + "hft_venue_" + info->name() + "_" +
                           std::to_string(::getpid()) + ".hftt";
  w.write(path);
  bt::Tape t = bt::Tape::open(path);
  std::remove(path.c_str());
  return t;
}

// A busy random market around bid 100 / ask 102: level changes on both sides, trades at, inside
// and through the touch, by both aggressors. Feed latency 100 ns.
bt::TapeWriter random_tape(std::uint64_t seed, int events) {
  bt::TapeWriter w({{"TEST", 0.25, 0.5, 2.0}});
  std::mt19937_64 rng(seed);
  std::int64_t t = 1000;
  for (int k = 0; k < 4; ++k) {
    w.depth(0, t, t - 100, false, 100 - k, 5 + k, false);
    w.depth(0, t, t - 100, true, 102 + k, 5 + k, k == 3);
  }
  for (int i = 0; i < events; ++i) {
    t += 1000;
    const auto r = rng() % 10;
    if (r < 3) {
      const bool seller = rng() % 2 == 0;
      const std::int64_t px = seller ? 98 + static_cast<std::int64_t>(rng() % 3)
                                     : 102 + static_cast<std::int64_t>(rng() % 3);
      w.trade(0, t, t - 100, seller, px, 1 + static_cast<std::int64_t>(rng() % 4), true);
    } else {
      const bool ask = rng() % 2 == 0;
      const std::int64_t px = ask ? 102 + static_cast<std::int64_t>(rng() % 3)
                                  : 98 + static_cast<std::int64_t>(rng() % 3);
      w.depth(0, t, t - 100, ask, px, 1 + static_cast<std::int64_t>(rng() % 12), true);
    }
  }
  return w;
}

// Quotes the same bid and ask at every call, at the edges of where the tape trades (never traded
// through) and too large to fill in full: the engine sends each once and keeps it all run.
struct StandingQuotes {
  void on_market(const bt::MarketView&, bt::Intent& o) {
    o.inst[0].quote = true;
    o.inst[0].bid_px = 98;
    o.inst[0].bid_qty = 1000;
    o.inst[0].ask_px = 104;
    o.inst[0].ask_qty = 1000;
  }
};

using FillKey = std::tuple<std::int64_t, std::uint64_t, std::int64_t, std::int64_t, bool>;

// The venue replays the tape as a venue does: requests that have reached the exchange before each
// row, then the row.
template <class Queue>
std::vector<FillKey> venue_fills(const bt::Tape& tape, const bt::Config& cfg,
                                 std::int64_t send_at) {
  venue::Config vc;
  vc.latency = cfg.latency;
  vc.queue_power = cfg.queue_power;
  vc.maker_fee_bps = cfg.maker_fee_bps;
  vc.book_capacity_ticks = cfg.book_capacity_ticks;
  vc.value = {0.25};
  venue::Matcher<Queue> m(1, vc);
  const std::uint32_t a = m.account("a");
  const auto lt = tape.local_ts();
  const auto et = tape.exch_ts();
  bool sent = false;
  for (std::size_t r = 0; r < tape.size(); ++r) {
    if (!sent && lt[r] > send_at) {  // the engine decided at send_at, the first END row
      m.submit({venue::Request::Type::kNew, a, 1, 0, 0, 0, 98, 1000, venue::OrderKind::kPostOnly},
               send_at);
      m.submit({venue::Request::Type::kNew, a, 2, 0, 0, 1, 104, 1000, venue::OrderKind::kPostOnly},
               send_at);
      sent = true;
    }
    m.deliver(et[r]);
    m.on_row(0, tape.kinds()[r], tape.flags()[r] & bt::kFlagAsk, tape.px()[r], tape.qty()[r],
             et[r]);
  }
  m.deliver_all();
  std::vector<FillKey> out;
  m.pop_due(std::numeric_limits<std::int64_t>::max(), [&](const venue::Report& r) {
    if (r.type == venue::Report::Type::kTrade)
      out.emplace_back(r.at, r.id, r.px, r.last_qty, r.maker);
  });
  return out;
}

template <class Queue>
void expect_same_fills(bt::QueueModel model) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const bt::Tape tape = open_tape(random_tape(seed, 3000));
    bt::Config cfg;
    cfg.queue = model;
    cfg.latency.entry_ns = 2500;
    cfg.latency.response_ns = 700;
    cfg.book_capacity_ticks = 1024;
    StandingQuotes s;
    const bt::Result res = bt::run(tape, cfg, s);
    ASSERT_EQ(res.summary.orders, 2u) << "the quotes must stand all run (seed " << seed << ")";
    std::vector<FillKey> engine;
    for (const bt::Fill& f : res.fills)
      engine.emplace_back(f.local_ts, f.order_id, f.px, f.qty, f.maker);
    // The first END row is at local time 1000 (the initial book).
    const std::vector<FillKey> v = venue_fills<Queue>(tape, cfg, 1000);
    ASSERT_GT(engine.size(), 20u) << "seed " << seed;
    EXPECT_EQ(v, engine) << "seed " << seed;
  }
}

TEST(VenueMatcher, SameFillsAsTheBacktestEngineRiskAverse) {
  expect_same_fills<bt::RiskAverseQueue>(bt::QueueModel::kRiskAverse);
}

TEST(VenueMatcher, SameFillsAsTheBacktestEngineProbabilistic) {
  expect_same_fills<bt::ProbabilisticQueue>(bt::QueueModel::kProbabilistic);
}

venue::Config zero_latency() {
  venue::Config c;
  c.book_capacity_ticks = 1024;
  c.value = {0.25};
  c.maker_fee_bps = -1.0;
  c.taker_fee_bps = 4.0;
  return c;
}

struct Collected {
  std::vector<venue::Report> all;
  template <class M>
  void take(M& m) {
    m.pop_due(std::numeric_limits<std::int64_t>::max(),
              [&](const venue::Report& r) { all.push_back(r); });
  }
};

using T = venue::Report::Type;
using Q = venue::Request::Type;

TEST(VenueMatcher, AccountsQueueIndependentlyAndCancelOnDisconnectTakesOnlyOne) {
  venue::Matcher<bt::RiskAverseQueue> m(1, zero_latency());
  const std::uint32_t a = m.account("a"), b = m.account("b");
  EXPECT_EQ(m.account("a"), a);
  m.on_row(0, bt::kDepth, 0, 100, 5, 0);
  m.on_row(0, bt::kDepth, 1, 102, 5, 0);
  m.submit({Q::kNew, a, 7, 0, 0, 0, 100, 2, venue::OrderKind::kPostOnly}, 10);
  m.submit({Q::kNew, b, 7, 0, 0, 0, 100, 3, venue::OrderKind::kLimit}, 10);
  m.deliver(10);
  // A seller trades 6 at 100: each order has 5 ahead, so each gets 1.
  m.on_row(0, bt::kTrade, 1, 100, 6, 20);
  Collected c;
  c.take(m);
  ASSERT_EQ(c.all.size(), 4u);
  EXPECT_EQ(c.all[2].type, T::kTrade);
  EXPECT_EQ(c.all[2].account, a);
  EXPECT_EQ(c.all[2].last_qty, 1);
  EXPECT_EQ(c.all[2].leaves, 1);
  EXPECT_EQ(c.all[3].account, b);
  EXPECT_EQ(c.all[3].cum, 1);
  EXPECT_TRUE(c.all[3].maker);
  EXPECT_DOUBLE_EQ(m.accounts()[a].fees, 100 * 1 * 0.25 * -1e-4);
  EXPECT_EQ(m.cancel_all(a), 1u);
  EXPECT_EQ(m.open_orders(), 1u);
  std::size_t open = 0;
  m.for_each_open(b, [&](std::uint32_t, const venue::Order& o) {
    ++open;
    EXPECT_EQ(o.r.leaves, 2);
  });
  EXPECT_EQ(open, 1u);
}

TEST(VenueMatcher, CancelReplaceIocFokAndRejects) {
  venue::Matcher<bt::RiskAverseQueue> m(1, zero_latency());
  const std::uint32_t a = m.account("a");
  m.on_row(0, bt::kDepth, 0, 100, 5, 0);
  m.on_row(0, bt::kDepth, 1, 102, 4, 0);
  m.on_row(0, bt::kDepth, 1, 103, 4, 0);
  // Post-only at the ask: rejected. A replace of an unknown order: a cancel reject.
  m.submit({Q::kNew, a, 1, 0, 0, 0, 102, 1, venue::OrderKind::kPostOnly}, 0);
  m.submit({Q::kReplace, a, 3, 99, 0, 0, 101, 1, venue::OrderKind::kLimit}, 0);
  // FOK for 9 with 8 up to 103: canceled whole. IOC for 6 up to 103: 4 at 102, 2 at 103.
  m.submit({Q::kNew, a, 4, 0, 0, 0, 103, 9, venue::OrderKind::kFok}, 0);
  m.submit({Q::kNew, a, 5, 0, 0, 0, 103, 6, venue::OrderKind::kIoc}, 0);
  // A limit buy at 102 for 6: takes 4, rests 2 at 102 behind nobody; replaced to 3 at 101.
  m.submit({Q::kNew, a, 6, 0, 0, 0, 102, 6, venue::OrderKind::kLimit}, 0);
  m.submit({Q::kReplace, a, 8, 6, 0, 0, 101, 5, venue::OrderKind::kLimit}, 0);
  m.submit({Q::kReplace, a, 9, 8, 0, 0, 101, 4, venue::OrderKind::kLimit}, 0);  // 4 <= cum 4
  m.submit({Q::kCancel, a, 10, 8, 0, 0, 0, 0, venue::OrderKind::kLimit}, 0);
  m.deliver(0);
  Collected c;
  c.take(m);
  std::vector<std::tuple<T, std::uint64_t, std::int64_t, std::int64_t, std::int64_t>> got;
  for (const auto& r : c.all) got.emplace_back(r.type, r.id, r.last_qty, r.cum, r.leaves);
  const decltype(got) want = {
      {T::kRejected, 1, 0, 0, 0}, {T::kCancelReject, 3, 0, 0, 0}, {T::kAccepted, 4, 0, 0, 9},
      {T::kCanceled, 4, 0, 0, 0}, {T::kAccepted, 5, 0, 0, 6},     {T::kTrade, 5, 4, 4, 2},
      {T::kTrade, 5, 2, 6, 0},    {T::kAccepted, 6, 0, 0, 6},     {T::kTrade, 6, 4, 4, 2},
      {T::kReplaced, 8, 0, 4, 1}, {T::kCancelReject, 9, 0, 0, 0}, {T::kCanceled, 10, 0, 4, 0},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(c.all[0].reason, venue::RejectReason::kPostOnlyCross);
  EXPECT_EQ(c.all[1].reason, venue::RejectReason::kUnknownOrder);
  EXPECT_EQ(c.all[10].reason, venue::RejectReason::kReplaceFilled);
  EXPECT_EQ(c.all[11].orig_id, 8u);
  EXPECT_EQ(m.open_orders(), 0u);
  const venue::Account& acct = m.accounts()[a];
  EXPECT_EQ(acct.position[0], 10);
  EXPECT_EQ(acct.cash[0], -(4 * 102 + 2 * 103 + 4 * 102));
  EXPECT_EQ(acct.orders, 4u);
  EXPECT_EQ(acct.replaces, 3u);
  EXPECT_EQ(acct.rejects, 3u);
  // Taker fees: 4 bps of the notional, 0.25 per tick*lot.
  EXPECT_DOUBLE_EQ(acct.fees, (4 * 102 + 2 * 103 + 4 * 102) * 0.25 * 4e-4);
}

TEST(VenueMatcher, LatencyDelaysArrivalAndReports) {
  venue::Config cfg = zero_latency();
  cfg.latency.entry_ns = 50;
  cfg.latency.response_ns = 30;
  venue::Matcher<bt::RiskAverseQueue> m(1, cfg);
  const std::uint32_t a = m.account("a");
  m.on_row(0, bt::kDepth, 1, 102, 4, 0);
  m.submit({Q::kNew, a, 1, 0, 0, 0, 102, 1, venue::OrderKind::kIoc}, 100);
  m.deliver(149);
  EXPECT_EQ(m.in_flight(), 1u);  // still on its way
  m.deliver(150);
  std::vector<std::int64_t> at;
  m.pop_due(179, [&](const venue::Report& r) { at.push_back(r.at); });
  EXPECT_TRUE(at.empty());
  m.pop_due(180, [&](const venue::Report& r) { at.push_back(r.at); });
  EXPECT_EQ(at, (std::vector<std::int64_t>{180, 180}));  // accepted, trade
}

}  // namespace
