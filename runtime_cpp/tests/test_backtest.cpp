// Backtest engine: hand-computed expectations on tiny synthetic tapes.
//
// Every tape uses one instrument with tick 0.25, lot 0.5 and multiplier 2, so one tick*lot is
// worth exactly 0.25 in quote currency and every expected number below is exact in binary.
// Unless a test says otherwise the feed latency is 100 ns (exch_ts = local_ts - 100) and order
// latency is 0: an order sent at local time t reaches the exchange before the first event whose
// exch_ts >= t, i.e. before the next event in these tapes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "hft/backtest/backtest.hpp"
#include "hft/backtest/tape_writer.hpp"

namespace {

namespace bt = hft::backtest;
using hft::trading::RiskDecision;

constexpr double kCapital = 10'000.0;
constexpr double kValue = 0.25;  // quote currency per tick*lot

bt::InstrumentInfo instrument(const char* symbol = "TEST") { return {symbol, 0.25, 0.5, 2.0}; }

std::string temp_path(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return ::testing::TempDir() + "hft_bt_" + info->test_suite_name() + "_" + info->name() + "_" +
         tag + "_" + std::to_string(::getpid()) + ".hftt";
}

// Writes the tape to a temporary file and maps it; the file is unlinked at once (the mapping
// stays valid), so nothing is left behind even when a test fails.
bt::Tape open_tape(const bt::TapeWriter& w, const std::string& tag = "tape") {
  const std::string path = temp_path(tag);
  w.write(path);
  bt::Tape t = bt::Tape::open(path);
  std::remove(path.c_str());
  return t;
}

// A strategy from a lambda, recording what it saw.
struct Scripted {
  using Fn = std::function<void(const bt::MarketView&, bt::Intent&)>;
  explicit Scripted(Fn f) : fn(std::move(f)) {}
  Fn fn;
  std::vector<bt::MarketView> seen;
  void on_market(const bt::MarketView& v, bt::Intent& out) {
    seen.push_back(v);
    fn(v, out);
  }
};
static_assert(bt::Strategy<Scripted>);

bt::Config base_config() {
  bt::Config c;
  c.capital = kCapital;
  c.book_capacity_ticks = 1024;
  return c;
}

void quote_bid(bt::Intent& o, std::int64_t px, std::int64_t qty) {
  o.inst[0].quote = true;
  o.inst[0].bid_px = px;
  o.inst[0].bid_qty = qty;
}

// Two-sided book at local time lt, one END for the message.
void book(bt::TapeWriter& w, std::int64_t lt, std::int64_t bid, std::int64_t bq, std::int64_t ask,
          std::int64_t aq) {
  w.depth(0, lt, lt - 100, false, bid, bq, false);
  w.depth(0, lt, lt - 100, true, ask, aq, true);
}

// ---- tape
// ----------------------------------------------------------------------------------------

TEST(BacktestTape, RoundTripsColumnsInstrumentsAndMeta) {
  bt::TapeWriter w({instrument("BTCUSDT"), {"ETHUSDT", 0.01, 0.001, 1.0}}, R"({"source":"test"})");
  w.depth(0, 10, 5, false, 400, 7, false);
  w.trade(1, 11, 6, true, -3, 2);
  w.clear(0, 12, 7, true);
  const bt::Tape t = open_tape(w);
  ASSERT_EQ(t.size(), 3u);
  ASSERT_EQ(t.instruments(), 2u);
  EXPECT_EQ(t.instrument(0).symbol, "BTCUSDT");
  EXPECT_EQ(t.instrument(1).symbol, "ETHUSDT");
  EXPECT_EQ(t.instrument(1).tick_size, 0.01);
  EXPECT_EQ(t.instrument(1).lot_size, 0.001);
  EXPECT_EQ(t.instrument(0).multiplier, 2.0);
  EXPECT_EQ(t.meta(), R"({"source":"test"})");
  EXPECT_EQ(t.local_ts()[1], 11);
  EXPECT_EQ(t.exch_ts()[2], 7);
  EXPECT_EQ(t.px()[1], -3);
  EXPECT_EQ(t.qty()[0], 7);
  EXPECT_EQ(t.instrument_ids()[1], 1);
  EXPECT_EQ(t.kinds()[0], bt::kDepth);
  EXPECT_EQ(t.kinds()[1], bt::kTrade);
  EXPECT_EQ(t.kinds()[2], bt::kClear);
  EXPECT_EQ(t.flags()[0], 0);
  EXPECT_EQ(t.flags()[1], bt::kFlagAsk | bt::kFlagEnd);
  EXPECT_EQ(t.flags()[2], bt::kFlagAsk);
  // Columns start on 64-byte boundaries.
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.px().data()) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.flags().data()) % 64, 0u);
}

// Writes a valid one-event tape, lets `corrupt` patch its bytes, and returns Tape::open's error.
std::string open_error(const std::function<void(std::vector<char>&)>& corrupt) {
  bt::TapeWriter w({instrument()});
  w.depth(0, 10, 5, false, 400, 7);
  w.depth(0, 20, 15, false, 400, 8);
  const std::string path = temp_path("corrupt");
  w.write(path);
  std::vector<char> bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  corrupt(bytes);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  std::string what;
  try {
    bt::Tape::open(path);
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  std::remove(path.c_str());
  EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << "error should start with the path: " << what;
  return what;
}

// Offset of column c (0 = local_ts ... 6 = flags) in a tape with `n` events.
std::size_t column_offset(const std::vector<char>& bytes, std::size_t c, std::size_t n) {
  std::uint64_t off;
  std::memcpy(&off, bytes.data() + 48, 8);
  for (std::size_t i = 0; i < c; ++i)
    off = bt::tape_format::align_up(off + n * bt::tape_format::kColumnWidths[i]);
  return off;
}

TEST(BacktestTape, RejectsBadFilesWithClearErrors) {
  EXPECT_NE(open_error([](auto& b) { b[0] = 'X'; }).find("bad magic"), std::string::npos);
  EXPECT_NE(open_error([](auto& b) { b[8] = 2; }).find("unsupported tape version 2"),
            std::string::npos);
  EXPECT_NE(open_error([](auto& b) { b[12] = 0; }).find("instrument count 0"), std::string::npos);
  EXPECT_NE(open_error([](auto& b) { b.resize(b.size() - 70); }).find("runs past the end"),
            std::string::npos);
  EXPECT_NE(open_error([](auto& b) { b.resize(40); }).find("shorter than the 64-byte header"),
            std::string::npos);
  EXPECT_NE(open_error([](auto& b) { b[column_offset(b, 4, 2)] = 3; }).find("row 0: instrument 3"),
            std::string::npos);
  EXPECT_NE(open_error([](auto& b) {
              b[column_offset(b, 5, 2) + 1] = 9;
            }).find("row 1: unknown event kind 9"),
            std::string::npos);
  EXPECT_NE(open_error([](auto& b) {
              b[column_offset(b, 0, 2) + 8] = 1;
            }).find("row 1: local_ts goes backwards"),
            std::string::npos);
  EXPECT_NE(open_error([](auto& b) {
              const double zero = 0.0;
              std::memcpy(b.data() + 64 + 40, &zero, 8);
            }).find("tick_size, lot_size and contract_multiplier must be finite and > 0"),
            std::string::npos);
  try {
    bt::Tape::open("/nonexistent/dir/x.hftt");
    FAIL() << "opening a missing file should throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.hftt: cannot open"),
              std::string::npos);
  }
}

// ---- maker fills and queue position
// --------------------------------------------------------------

// Bid 100x2 joins a level of 5 lots: 3 + 2 lots trade ahead of it (queue exactly used up, no
// fill), then a 2-lot trade fills it completely.
bt::TapeWriter queue_tape() {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 5, 102, 5);
  w.trade(0, 2000, 1900, true, 100, 3);  // seller hits the bid: queue ahead 5 -> 2
  w.trade(0, 3000, 2900, true, 100, 2);  // queue ahead 2 -> 0: trade == queue, no fill
  w.trade(0, 4000, 3900, true, 100, 2);  // exceeds the queue by 2: fills our 2 lots
  w.depth(0, 5000, 4900, false, 100, 1);
  return w;
}

Scripted bid_until_filled() {
  return Scripted{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.inst[0].position == 0) quote_bid(o, 100, 2);
  }};
}

TEST(BacktestEngine, RiskAverseFillsOnlyAfterTheQueueAheadIsTradedThrough) {
  const bt::Tape tape = open_tape(queue_tape());
  bt::Config cfg = base_config();
  cfg.maker_fee_bps = -2.0;  // rebate
  Scripted s = bid_until_filled();
  const bt::Result r = bt::run(tape, cfg, s);

  ASSERT_EQ(r.fills.size(), 1u);
  const bt::Fill& f = r.fills[0];
  EXPECT_EQ(f.exch_ts, 3900);
  EXPECT_EQ(f.local_ts, 3900);
  EXPECT_EQ(f.side, 1);
  EXPECT_TRUE(f.maker);
  EXPECT_EQ(f.px, 100);
  EXPECT_EQ(f.qty, 2);
  EXPECT_DOUBLE_EQ(f.fee, -0.01);  // 100 * 2 * 0.25 * -2e-4
  EXPECT_EQ(r.summary.orders, 1u);
  EXPECT_EQ(r.summary.orders_filled, 1u);
  EXPECT_DOUBLE_EQ(r.summary.fill_ratio, 1.0);
  EXPECT_DOUBLE_EQ(r.summary.turnover, 50.0);
  EXPECT_EQ(r.summary.events, 6u);
  EXPECT_EQ(r.summary.strategy_calls, 6u);
  // Marked at mid 101: 0.25 * (-200 + 2 * 101) + 0.01 rebate.
  EXPECT_NEAR(r.summary.pnl, 0.51, 1e-12);
  EXPECT_NEAR(r.summary.fees, -0.01, 1e-15);
  // The exchange applies the trade at its exchange time 3900, and with no response latency the
  // strategy hears of the fill then, in a call of its own before the 4000 row shows the trade.
  std::vector<std::int64_t> positions, times;
  for (const auto& v : s.seen) positions.push_back(v.inst[0].position), times.push_back(v.local_ts);
  EXPECT_EQ(positions, (std::vector<std::int64_t>{0, 0, 0, 2, 2, 2}));
  EXPECT_EQ(times, (std::vector<std::int64_t>{1000, 2000, 3000, 3900, 4000, 5000}));
  EXPECT_NEAR(s.seen.back().pnl, 0.51, 1e-12);
  EXPECT_NEAR(s.seen.back().cash, kCapital - 50.0 + 0.01, 1e-9);
}

TEST(BacktestEngine, ResponseLatencyDelaysWhatTheStrategySees) {
  const bt::Tape tape = open_tape(queue_tape());
  bt::Config cfg = base_config();
  cfg.latency.response_ns = 1000;
  Scripted s = bid_until_filled();
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].exch_ts, 3900);
  EXPECT_EQ(r.fills[0].local_ts, 4900);
  // The fill's news is an event of its own at 4900 (not held back to the 5000 row): the
  // strategy is called then, and again at the row.
  std::vector<std::int64_t> positions, times;
  for (const auto& v : s.seen) positions.push_back(v.inst[0].position), times.push_back(v.local_ts);
  EXPECT_EQ(positions, (std::vector<std::int64_t>{0, 0, 0, 0, 2, 2}));
  EXPECT_EQ(times[4], 4900);
  EXPECT_EQ(times[5], 5000);
}

TEST(BacktestEngine, ResponsesReachTheStrategyAtTheirOwnTimeAcrossFeedGaps) {
  // A fill at exchange time 2000 with a 1 ms response latency, then the feed is silent for a
  // second: the strategy hears of the fill at 1'002'000, not at the next row.
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  w.trade(0, 2000, 1900, true, 100, 3);  // fills our 2-lot bid at exchange time 1900
  w.depth(0, 1'002'000'000, 1'001'999'900, true, 105, 1);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.latency.response_ns = 1'000'000;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    o.inst[0].quote = v.inst[0].position == 0;
    o.inst[0].bid_px = 100, o.inst[0].bid_qty = 2;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].local_ts, 1900 + 1'000'000);
  const auto heard = std::find_if(s.seen.begin(), s.seen.end(),
                                  [](const bt::MarketView& v) { return v.inst[0].position == 2; });
  ASSERT_NE(heard, s.seen.end());
  EXPECT_EQ(heard->local_ts, 1900 + 1'000'000);
}

// The feed lags the exchange by 5 us, five times the order latency (1 us each way): the
// exchange runs ahead of the local replay, so outcomes follow the configured latency, not the
// feed's lag.
constexpr std::int64_t kLag = 5000;

TEST(BacktestEngine, FillIsHeardAtExchangeTimePlusLatencyWhenTheFeedLags) {
  bt::TapeWriter w({instrument()});
  w.depth(0, 10'000, 10'000 - kLag, false, 100, 1, false);
  w.depth(0, 10'000, 10'000 - kLag, true, 104, 1, true);
  // Our 2-lot bid (sent at 10'000) reaches the exchange at 11'000 behind 1 lot; a seller trades
  // 3 lots at 100 at exchange time 12'000, which the feed delivers at 17'000.
  w.trade(0, 17'000, 12'000, true, 100, 3);
  w.depth(0, 30'000, 30'000 - kLag, true, 105, 1, true);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.latency.entry_ns = cfg.latency.response_ns = 1000;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.inst[0].position == 0) quote_bid(o, 100, 2);
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].exch_ts, 12'000);
  EXPECT_EQ(r.fills[0].local_ts, 13'000);
  EXPECT_EQ(r.fills[0].qty, 2);
  // Heard at 13'000, before the feed shows the trade (17'000): no public trade seen yet.
  const auto heard = std::find_if(s.seen.begin(), s.seen.end(),
                                  [](const bt::MarketView& v) { return v.inst[0].position == 2; });
  ASSERT_NE(heard, s.seen.end());
  EXPECT_EQ(heard->local_ts, 13'000);
  EXPECT_EQ(heard->inst[0].last_trade_side, 0);
  std::vector<std::int64_t> times;
  for (const auto& v : s.seen) times.push_back(v.local_ts);
  EXPECT_EQ(times, (std::vector<std::int64_t>{10'000, 13'000, 17'000, 30'000}));
}

TEST(BacktestEngine, OrderMeetsTheExchangeBookAtItsArrivalNotTheLocalOne) {
  bt::TapeWriter w({instrument()});
  w.depth(0, 10'000, 10'000 - kLag, false, 100, 1, false);
  w.depth(0, 10'000, 10'000 - kLag, true, 104, 1, true);
  // At exchange time 10'500 the ask drops to 101 (the feed shows it at 15'500): a bid at 101
  // sent at 10'000 arrives at 11'000 into that book and is rejected as post-only.
  w.depth(0, 15'500, 10'500, true, 101, 1, true);
  w.depth(0, 30'000, 30'000 - kLag, true, 102, 1, true);  // a level behind the ask
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.latency.entry_ns = cfg.latency.response_ns = 1000;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.local_ts < 13'000) quote_bid(o, 101, 1);
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  // Rejected at 11'000, heard at 12'000 (a call of its own), quoted again, rejected at 13'000
  // and heard at 14'000; the local book still shows the ask at 104 all along.
  EXPECT_EQ(r.summary.orders, 2u);
  EXPECT_EQ(r.summary.post_only_rejects, 2u);
  EXPECT_EQ(r.fills.size(), 0u);
  std::vector<std::int64_t> times, asks;
  for (const auto& v : s.seen) times.push_back(v.local_ts), asks.push_back(v.inst[0].ask_px);
  EXPECT_EQ(times, (std::vector<std::int64_t>{10'000, 12'000, 14'000, 15'500, 30'000}));
  EXPECT_EQ(asks, (std::vector<std::int64_t>{104, 104, 104, 101, 101}));
}

TEST(BacktestEngine, ZeroLatencyRejectLoopStopsAtOneInstant) {
  // A strategy resending a crossing quote with no latency either way: each reject arrives at
  // the time of the call that caused it and waits for the next call, so the run ends.
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  book(w, 2000, 100, 1, 104, 1);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  Scripted s{[](const bt::MarketView&, bt::Intent& o) { quote_bid(o, 104, 1); }};
  const bt::Result r = bt::run(tape, cfg, s);
  EXPECT_EQ(r.summary.strategy_calls, 2u);
  EXPECT_EQ(r.summary.orders, 2u);
  EXPECT_EQ(r.summary.post_only_rejects, 2u);
}

TEST(BacktestEngine, UnstampedRowsReachTheExchangeAtTheirLocalTime) {
  // No exchange timestamps (exch_ts 0): the exchange takes each row when it was received rather
  // than reading ahead, so a bid at 101 sent at 1000 and arriving at 1500 rests; the ask drop to
  // 101 received at 2000 comes after it (and, unstamped, never fills it).
  bt::TapeWriter w({instrument()});
  w.depth(0, 1000, 0, false, 100, 1, false);
  w.depth(0, 1000, 0, true, 104, 1, true);
  w.depth(0, 2000, 0, true, 101, 1, true);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.latency.entry_ns = cfg.latency.response_ns = 500;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.local_ts == 1000) quote_bid(o, 101, 1);
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  EXPECT_EQ(r.summary.orders, 1u);
  EXPECT_EQ(r.summary.post_only_rejects, 0u);
  EXPECT_EQ(r.fills.size(), 0u);
}

TEST(BacktestEngine, EventsStampedBeforeAnOrderArrivedNeverFillIt) {
  // The order reaches the exchange at 2000; a trade through its price stamped 1950 but received
  // after the order was sent (local 2100) happened before it existed.
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  w.depth(0, 2050, 2010, true, 104, 1);  // exch 2010 >= 2000: the order is applied here
  w.trade(0, 2100, 1950, true, 99, 5);   // stamped before arrival, received after: no fill
  w.depth(0, 2300, 2200, true, 104, 2);  // exch 2200 >= 2000: the order is resting now
  w.trade(0, 2400, 2300, true, 99, 5);   // after arrival, through our price: fills
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.latency.entry_ns = 1000;  // sent at 1000, arrives at exchange time 2000
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    o.inst[0].quote = v.local_ts == 1000;
    o.inst[0].bid_px = 100, o.inst[0].bid_qty = 2;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].exch_ts, 2300);
}

TEST(BacktestEngine, PartialFillsThenTradeThroughFillsTheRest) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 5, 102, 5);
  w.trade(0, 2000, 1900, true, 100, 6);  // queue 5, trade 6: fills 1 of 3
  w.trade(0, 3000, 2900, true, 100, 1);  // at the front now: fills 1 more
  w.trade(0, 4000, 3900, true, 99, 1);   // a trade below our bid: the last lot fills in full
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.local_ts < 3500) quote_bid(o, 100, 3);
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 3u);
  for (const bt::Fill& f : r.fills) {
    EXPECT_EQ(f.qty, 1);
    EXPECT_EQ(f.px, 100);
    EXPECT_EQ(f.order_id, r.fills[0].order_id);
  }
  EXPECT_EQ(r.fills[0].exch_ts, 1900);
  EXPECT_EQ(r.fills[1].exch_ts, 2900);
  EXPECT_EQ(r.fills[2].exch_ts, 3900);
  EXPECT_EQ(r.summary.orders, 1u);
  EXPECT_EQ(r.summary.orders_filled, 1u);
  EXPECT_EQ(r.summary.cancels, 0u);  // a partially filled order with an unchanged intent stays
  EXPECT_EQ(s.seen.back().inst[0].position, 3);
}

// Bid 100x5 joins a level of 12 lots; 8 lots join behind (20), then 10 lots leave (10) without a
// trade, then a 7-lot trade prints at 100.
//  - risk-averse: queue ahead min(12, 10) = 10; 7 < 10, no fill.
//  - probabilistic, f(x) = x: share behind p = 8 / (8 + 12) = 0.4, front = 12 - 0.6 * 10 = 6;
//    the trade exceeds it by 1: fills 1.
//  - probabilistic, f(x) = x^3: p = 512 / (512 + 1728), front = 12 - (1 - p) * 10 = 4.2857;
//    the trade exceeds it by 2.71: fills 2 (whole lots).
std::int64_t filled_after_decrease(bt::QueueModel model, double power) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 12, 102, 5);
  w.depth(0, 2000, 1900, false, 100, 20);
  w.depth(0, 3000, 2900, false, 100, 10);
  w.trade(0, 4000, 3900, true, 100, 7);
  w.depth(0, 5000, 4900, false, 100, 3);  // the trade's own decrease: not counted twice
  const bt::Tape tape =
      open_tape(w, std::to_string(static_cast<int>(model)) + "_" + std::to_string(power));
  bt::Config cfg = base_config();
  cfg.queue = model;
  cfg.queue_power = power;
  Scripted s{[](const bt::MarketView&, bt::Intent& o) { quote_bid(o, 100, 5); }};
  const bt::Result r = bt::run(tape, cfg, s);
  std::int64_t q = 0;
  for (const bt::Fill& f : r.fills) q += f.qty;
  return q;
}

TEST(BacktestEngine, ProbabilisticQueueAdvancesOnUnexplainedDecreases) {
  EXPECT_EQ(filled_after_decrease(bt::QueueModel::kRiskAverse, 3.0), 0);
  EXPECT_EQ(filled_after_decrease(bt::QueueModel::kProbabilistic, 1.0), 1);
  EXPECT_EQ(filled_after_decrease(bt::QueueModel::kProbabilistic, 3.0), 2);
}

TEST(BacktestEngine, ProbabilisticQueueDoesNotCountTradesTwice) {
  // Queue 10; a 4-lot trade at our price (front 6), then the level shows the same 4-lot decrease
  // (10 -> 6). The decrease is explained by the trade, so front stays 6: a 5-lot trade leaves 1
  // ahead and only the next 2-lot trade fills us, by 1. (Counting the decrease again with
  // f(x) = x would have moved front to 3.6 and filled 1 lot on the 5-lot trade.)
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 10, 102, 5);
  w.trade(0, 2000, 1900, true, 100, 4);
  w.depth(0, 3000, 2900, false, 100, 6);
  w.trade(0, 4000, 3900, true, 100, 5);
  w.trade(0, 5000, 4900, true, 100, 2);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.queue = bt::QueueModel::kProbabilistic;
  cfg.queue_power = 1.0;
  Scripted s{[](const bt::MarketView&, bt::Intent& o) { quote_bid(o, 100, 3); }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].exch_ts, 4900);
  EXPECT_EQ(r.fills[0].qty, 1);
}

TEST(BacktestEngine, PostOnlyQuoteThatWouldCrossIsRejected) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 5, 102, 5);
  w.depth(0, 2000, 1900, false, 100, 6);
  w.depth(0, 3000, 2900, false, 100, 7);
  const bt::Tape tape = open_tape(w);
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.local_ts == 1000) quote_bid(o, 102, 1);  // at the best ask: would take liquidity
  }};
  const bt::Result r = bt::run(tape, base_config(), s);
  EXPECT_EQ(r.summary.orders, 1u);
  EXPECT_EQ(r.summary.post_only_rejects, 1u);
  EXPECT_EQ(r.summary.cancels, 0u);  // the reject freed the slot before the next call
  EXPECT_TRUE(r.fills.empty());
  EXPECT_DOUBLE_EQ(r.summary.fill_ratio, 0.0);
}

// ---- targets (IOC)
// -------------------------------------------------------------------------------

// The strategy sees asks 103x4 / 105x10 and targets +N lots: an IOC buy at 103. Entry latency
// 1500 ns: before it arrives a 102x3 ask appears, so it walks 102 then 103.
bt::TapeWriter ioc_tape() {
  bt::TapeWriter w({instrument()});
  w.depth(0, 1000, 900, false, 100, 5, false);
  w.depth(0, 1000, 900, true, 103, 4, false);
  w.depth(0, 1000, 900, true, 105, 10, true);
  w.depth(0, 2000, 1900, true, 102, 3);
  w.depth(0, 3000, 2900, false, 100, 6);
  w.depth(0, 4000, 3900, false, 100, 7);
  return w;
}

TEST(BacktestEngine, IocTargetWalksTwoLevelsAndPaysTheTakerFee) {
  const bt::Tape tape = open_tape(ioc_tape());
  bt::Config cfg = base_config();
  cfg.latency.entry_ns = 1500;
  cfg.taker_fee_bps = 5.0;
  cfg.maker_fee_bps = -1.0;
  Scripted s{[](const bt::MarketView&, bt::Intent& o) {
    o.inst[0].has_target = true;
    o.inst[0].target = 5;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].px, 102);
  EXPECT_EQ(r.fills[0].qty, 3);
  EXPECT_EQ(r.fills[1].px, 103);
  EXPECT_EQ(r.fills[1].qty, 2);
  for (const bt::Fill& f : r.fills) {
    EXPECT_FALSE(f.maker);
    EXPECT_EQ(f.exch_ts, 2500);  // arrival: sent at 1000 + 1500
    EXPECT_EQ(f.side, 1);
  }
  EXPECT_DOUBLE_EQ(r.fills[0].fee, 102 * 3 * kValue * 5e-4);
  EXPECT_DOUBLE_EQ(r.fills[1].fee, 103 * 2 * kValue * 5e-4);
  EXPECT_NEAR(r.summary.fees, 0.064, 1e-12);  // 128 quote of notional at 5 bps
  EXPECT_DOUBLE_EQ(r.summary.turnover, 128.0);
  EXPECT_EQ(r.summary.orders, 1u);  // the in-flight order counts towards the target
  EXPECT_EQ(s.seen.back().inst[0].position, 5);
  // Mid (100 + 102) / 2 = 101: 0.25 * (-512 + 5 * 101) - 0.064.
  EXPECT_NEAR(r.summary.pnl, -1.814, 1e-12);
}

TEST(BacktestEngine, IocRemainderBeyondTheLimitIsCancelledAndRetried) {
  const bt::Tape tape = open_tape(ioc_tape());
  bt::Config cfg = base_config();
  cfg.latency.entry_ns = 1500;
  Scripted s{[](const bt::MarketView&, bt::Intent& o) {
    o.inst[0].has_target = true;
    o.inst[0].target = 10;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  // First IOC (limit 103, 10 lots, arriving at 2500): 3 @ 102 + 4 @ 103, 3 cancelled. The
  // news arrives at 2500 (no response latency) with a call of its own: the strategy sees 7 and
  // sends 3 more at the ask it sees (102), arriving at 4000, filled against the 102x3 still
  // there.
  ASSERT_EQ(r.fills.size(), 3u);
  EXPECT_EQ(r.fills[2].px, 102);
  EXPECT_EQ(r.fills[2].qty, 3);
  EXPECT_EQ(r.fills[2].exch_ts, 4000);
  EXPECT_EQ(r.summary.orders, 2u);
  EXPECT_EQ(s.seen[2].local_ts, 2500);
  EXPECT_EQ(s.seen[2].inst[0].position, 7);
}

// ---- latency ---------------------------------------------------------------------------------

// Bid 99 / ask 101; the strategy improves the bid to 100 at t=1000; at t=2000 an ask appears at
// 100. With no entry latency the bid rests before the ask moves and is filled by the crossing
// ask; with 1500 ns it arrives after the move and is rejected as post-only.
bt::Result latency_race(const bt::LatencyModel& latency) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 99, 5, 101, 5);
  w.depth(0, 2000, 1900, true, 100, 2);
  w.depth(0, 3000, 2900, false, 99, 6);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.latency = latency;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.inst[0].position == 0 && v.local_ts < 2500) quote_bid(o, 100, 1);
  }};
  return bt::run(tape, cfg, s);
}

TEST(BacktestEngine, EntryLatencyDecidesWhetherAnOrderBeatsAPriceMove) {
  bt::LatencyModel fast;
  const bt::Result a = latency_race(fast);
  ASSERT_EQ(a.fills.size(), 1u);
  EXPECT_EQ(a.fills[0].px, 100);
  EXPECT_TRUE(a.fills[0].maker);
  EXPECT_EQ(a.fills[0].exch_ts, 1900);
  EXPECT_EQ(a.summary.post_only_rejects, 0u);

  bt::LatencyModel slow;
  slow.entry_ns = 1500;
  const bt::Result b = latency_race(slow);
  EXPECT_TRUE(b.fills.empty());
  EXPECT_EQ(b.summary.post_only_rejects, 1u);
  EXPECT_EQ(b.summary.orders, 1u);
  EXPECT_EQ(b.summary.entry_latency_ns_median, 1500);
}

TEST(BacktestEngine, EmpiricalLatencyIsDrawnFromTheSamplesReproducibly) {
  bt::LatencyModel one;
  one.kind = bt::LatencyModel::Kind::kEmpirical;
  one.samples = {1500};
  const bt::Result r = latency_race(one);  // every draw is 1500: same as the slow constant
  EXPECT_TRUE(r.fills.empty());
  EXPECT_EQ(r.summary.post_only_rejects, 1u);
  EXPECT_EQ(r.summary.entry_latency_ns_median, 1500);
  EXPECT_EQ(r.summary.response_latency_ns_median, 1500);

  bt::LatencyModel mixed;
  mixed.kind = bt::LatencyModel::Kind::kEmpirical;
  mixed.samples = {0, 0, 1500, 0};
  std::vector<int> outcome;  // 1 = filled, 0 = rejected, per seed
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    mixed.seed = seed;
    const bt::Result x = latency_race(mixed);
    const bt::Result y = latency_race(mixed);
    EXPECT_EQ(x.fills.size(), y.fills.size()) << "same seed, same result";
    EXPECT_EQ(x.fills.size() + x.summary.post_only_rejects, 1u);
    outcome.push_back(static_cast<int>(x.fills.size()));
  }
  // 3 of 4 samples are 0: over 16 seeds both outcomes occur.
  EXPECT_NE(std::count(outcome.begin(), outcome.end(), 1), 0);
  EXPECT_NE(std::count(outcome.begin(), outcome.end(), 0), 0);
  bt::LatencyModel even = mixed;
  even.samples = {0, 100, 300, 1000};
  bt::Config cfg = base_config();
  cfg.latency = even;
  bt::TapeWriter w({instrument()});
  book(w, 1000, 99, 5, 101, 5);
  const bt::Tape tape = open_tape(w);
  Scripted idle{[](const bt::MarketView&, bt::Intent&) {}};
  EXPECT_EQ(bt::run(tape, cfg, idle).summary.entry_latency_ns_median, 200);
}

// ---- risk gate -------------------------------------------------------------------------------

bt::Config with_risk() {
  bt::Config cfg = base_config();
  cfg.risk_enabled = true;
  cfg.risk.max_position = 1000;
  cfg.risk.max_order_qty = 1000;
  cfg.risk.max_orders_per_second = 1000;
  cfg.risk.price_band_bps = 10'000;
  return cfg;
}

bt::TapeWriter five_calls() {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 5, 102, 5);
  for (std::int64_t t = 2000; t <= 5000; t += 1000)
    w.depth(0, t, t - 100, false, 100, 5 + t / 1000);
  return w;
}

TEST(BacktestEngine, RiskGateRejectsOversizedOrders) {
  const bt::Tape tape = open_tape(five_calls());
  bt::Config cfg = with_risk();
  cfg.risk.max_order_qty = 5;
  Scripted s{[](const bt::MarketView&, bt::Intent& o) { quote_bid(o, 99, 6); }};
  const bt::Result r = bt::run(tape, cfg, s);
  EXPECT_EQ(r.summary.orders, 0u);
  EXPECT_EQ(r.summary.risk_rejects, 5u);  // retried at every call, rejected every time
  EXPECT_EQ(r.risk_decisions[static_cast<std::size_t>(RiskDecision::kMaxOrderQty)], 5u);
  EXPECT_EQ(r.risk_decisions[static_cast<std::size_t>(RiskDecision::kAccept)], 0u);
}

TEST(BacktestEngine, RiskGateLimitsTheOrderRate) {
  const bt::Tape tape = open_tape(five_calls());
  bt::Config cfg = with_risk();
  cfg.risk.max_orders_per_second = 2;  // a bucket of 2 orders, refilled 2/s: 5 calls in 4 us
  Scripted s{
      [](const bt::MarketView& v, bt::Intent& o) { quote_bid(o, 100 - v.local_ts / 1000, 1); }};
  const bt::Result r = bt::run(tape, cfg, s);
  EXPECT_EQ(r.summary.orders, 2u);
  EXPECT_EQ(r.summary.risk_rejects, 3u);
  EXPECT_EQ(r.risk_decisions[static_cast<std::size_t>(RiskDecision::kAccept)], 2u);
  EXPECT_EQ(r.risk_decisions[static_cast<std::size_t>(RiskDecision::kOrderRate)], 3u);
  EXPECT_EQ(r.summary.cancels, 2u);  // every changed price cancels the working order first
}

TEST(BacktestEngine, RiskGatePositionFollowsFills) {
  // After the 2-lot fill of queue_tape(), another 2-lot bid would take the position to 4 > 3.
  const bt::Tape tape = open_tape(queue_tape());
  bt::Config cfg = with_risk();
  cfg.risk.max_position = 3;
  Scripted s{[](const bt::MarketView&, bt::Intent& o) { quote_bid(o, 100, 2); }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.summary.orders, 1u);
  EXPECT_EQ(r.risk_decisions[static_cast<std::size_t>(RiskDecision::kMaxPosition)],
            3u);  // calls at 3900 (the fill's news), 4000, 5000
}

// ---- accounting, equity and the window -------------------------------------------------------

TEST(BacktestEngine, RoundTripFeesPnlAndEquityCurve) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  w.trade(0, 2000, 1900, true, 100, 3);   // bid queue 1: fills our 2
  w.trade(0, 3000, 2900, false, 104, 3);  // ask queue 1: fills our 2
  w.depth(0, 4000, 3900, false, 101, 1);  // mid 102.5
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.maker_fee_bps = 1.0;
  cfg.sample_ns = 1000;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    o.inst[0].quote = true;
    if (v.local_ts < 1500) o.inst[0].bid_px = 100, o.inst[0].bid_qty = 2;
    if (v.local_ts < 2500) o.inst[0].ask_px = 104, o.inst[0].ask_qty = 2;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].side, 1);
  EXPECT_EQ(r.fills[1].side, -1);
  EXPECT_DOUBLE_EQ(r.fills[0].fee, 0.005);   // 50 * 1e-4
  EXPECT_DOUBLE_EQ(r.fills[1].fee, 0.0052);  // 52 * 1e-4
  EXPECT_NEAR(r.summary.fees, 0.0102, 1e-15);
  EXPECT_DOUBLE_EQ(r.summary.turnover, 102.0);
  EXPECT_NEAR(r.summary.pnl, 2.0 - 0.0102, 1e-12);
  EXPECT_NEAR(s.seen.back().pnl, 2.0 - 0.0102, 1e-12);
  EXPECT_EQ(s.seen.back().inst[0].position, 0);
  // Samples every 1000 ns from the first event, each taken before the event at that time.
  ASSERT_EQ(r.equity.size(), 4u);
  const double pnl[] = {0.0, 0.0, 0.25 * (-200 + 2 * 102) - 0.005, 2.0 - 0.0102};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.equity[i].ts, 1000 + 1000 * static_cast<std::int64_t>(i));
    EXPECT_NEAR(r.equity[i].pnl, pnl[i], 1e-12) << i;
    EXPECT_NEAR(r.equity[i].equity, kCapital + pnl[i], 1e-9) << i;
  }
  EXPECT_EQ(r.equity[2].position0, 2);
  EXPECT_DOUBLE_EQ(r.equity[2].mid0, 102 * 0.25);
  EXPECT_DOUBLE_EQ(r.equity[2].gross_notional, 2 * 102 * kValue);
  EXPECT_DOUBLE_EQ(r.summary.max_leverage, 2 * 102 * kValue / kCapital);
  EXPECT_DOUBLE_EQ(r.summary.max_drawdown, 0.0);
}

TEST(BacktestEngine, DrawdownSeesEveryEquityChangeNotOnlySamples) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  w.trade(0, 2000, 1900, true, 100, 3);   // fills our 2-lot bid: long 2 at 100, mid 102
  w.depth(0, 3000, 2900, false, 100, 0);  // the bid at 100 goes...
  w.depth(0, 3100, 3000, false, 80, 1);   // ...and 80 is best: mid 92
  w.depth(0, 3200, 3100, false, 100, 1);  // back to mid 102 before the next sample
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.sample_ns = 1'000'000;  // one sample at the start, one at the end
  cfg.bar_ns = 60'000'000;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    o.inst[0].quote = true;
    if (v.local_ts < 1500) o.inst[0].bid_px = 100, o.inst[0].bid_qty = 2;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  ASSERT_EQ(r.equity.size(), 2u);
  EXPECT_NEAR(r.equity.back().pnl, 2 * 2 * kValue, 1e-12);
  // Peak at the fill (mid 102) to the trough at mid 92 with 2 lots: 2 * 10 ticks.
  EXPECT_NEAR(r.summary.max_drawdown, 2 * 10 * kValue, 1e-9);
}

TEST(BacktestEngine, BarMustBeAtLeastOneSample) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.sample_ns = 2000;
  cfg.bar_ns = 1000;
  Scripted s{[](const bt::MarketView&, bt::Intent&) {}};
  EXPECT_THROW(bt::run(tape, cfg, s), std::invalid_argument);
}

TEST(BacktestEngine, InverseContractsAccountInTheBaseCoin) {
  // A COIN-M style contract: tick 100 USD, 1 contract per lot, 100 USD per contract.
  bt::TapeWriter w({bt::InstrumentInfo{"BTCUSD_PERP", 100.0, 1.0, 100.0}});
  book(w, 1000, 500, 1, 501, 1);         // 50,000 / 50,100 USD
  w.trade(0, 2000, 1900, true, 500, 3);  // fills our 2-contract bid at 50,000
  w.depth(0, 3000, 2900, true, 501, 0);  // the ask moves up...
  w.depth(0, 3000, 2900, true, 521, 1);
  w.depth(0, 3000, 2900, false, 500, 0);  // ...and the bid: mid 520.5 ticks = 52,050 USD
  w.depth(0, 3000, 2900, false, 520, 1);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.capital = 1.0;  // one coin
  cfg.maker_fee_bps = 1.0;
  cfg.inverse[0] = true;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    o.inst[0].quote = v.inst[0].position == 0 && v.local_ts < 1500;
    o.inst[0].bid_px = 500, o.inst[0].bid_qty = 2;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(r.fills.size(), 1u);
  const double entry_coins = 2 * 100.0 / 50'000.0;  // what 2 contracts are worth at the entry
  const double fee = entry_coins * 1e-4;
  EXPECT_NEAR(r.fills[0].fee, fee, 1e-18);
  EXPECT_NEAR(r.summary.fees, fee, 1e-18);
  EXPECT_NEAR(r.summary.turnover, entry_coins, 1e-15);
  // Long 2 x 100 USD from 50,000 to 52,050: 200 * (1/50,000 - 1/52,050) BTC, less the fee.
  EXPECT_NEAR(r.summary.pnl, 200.0 * (1.0 / 50'000.0 - 1.0 / 52'050.0) - fee, 1e-15);
  EXPECT_NEAR(s.seen.back().pnl, r.summary.pnl, 1e-15);
  // Leverage: the position's coin value over the coin capital.
  EXPECT_NEAR(r.summary.max_leverage, 200.0 / 50'050.0, 1e-12);  // at the fill, mid 50,050
}

TEST(BacktestEngine, CancelPolicyDecidesWhenTheReplacementGoes) {
  // Rows every 1000 ns; entry and response latency 1000. The bid moves from 100 to 99 at 3000:
  // the cancel of the first order reaches the venue at 4000 and its confirmation the strategy at
  // 5000. Replacing at once sends the new order with the cancel; waiting sends it at 5000.
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  for (std::int64_t t = 2000; t <= 8000; t += 1000) w.depth(0, t, t - 100, true, 104, t / 1000);
  const bt::Tape tape = open_tape(w);
  const auto run = [&](bt::CancelPolicy policy, std::int64_t end) {
    bt::Config cfg = base_config();
    cfg.latency.entry_ns = cfg.latency.response_ns = 1000;
    cfg.cancel = policy;
    cfg.end_ns = end;
    Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
      quote_bid(o, v.local_ts < 2500 ? 100 : 99, 1);
    }};
    return bt::run(tape, cfg, s).summary;
  };
  EXPECT_EQ(run(bt::CancelPolicy::kReplaceAtOnce, 4500).orders, 2u);
  EXPECT_EQ(run(bt::CancelPolicy::kWaitForConfirm, 4500).orders, 1u);  // still waiting at 4500
  const bt::Summary waited = run(bt::CancelPolicy::kWaitForConfirm, 8000);
  EXPECT_EQ(waited.orders, 2u);  // sent once the confirmation arrived
  EXPECT_EQ(waited.cancels, 1u);
}

TEST(BacktestEngine, QuoteChangesAreRecordedForTheReport) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 1, 104, 1);
  for (std::int64_t t = 2000; t <= 5000; t += 1000) w.depth(0, t, t - 100, true, 104, t / 1000);
  const bt::Tape tape = open_tape(w);
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.local_ts < 3500) quote_bid(o, v.local_ts < 2500 ? 100 : 99, 1);  // then nothing
  }};
  const bt::Result r = bt::run(tape, base_config(), s);
  ASSERT_EQ(r.quotes.size(), 3u);  // 100 at 1000, 99 at 3000, withdrawn at 4000
  EXPECT_EQ(r.quotes[0].local_ts, 1000);
  EXPECT_EQ(r.quotes[0].px, 100);
  EXPECT_EQ(r.quotes[0].side, 1);
  EXPECT_EQ(r.quotes[1].local_ts, 3000);
  EXPECT_EQ(r.quotes[1].px, 99);
  EXPECT_EQ(r.quotes[2].local_ts, 4000);
  EXPECT_EQ(r.quotes[2].qty, 0);
  EXPECT_EQ(r.summary.quotes_dropped, 0u);
}

TEST(BacktestEngine, WindowWarmsUpBooksThenReplaysOnlyInside) {
  bt::TapeWriter w({instrument()});
  w.depth(0, 1000, 900, true, 110, 1);
  for (std::int64_t t = 2000; t <= 10'000; t += 1000) w.depth(0, t, t - 100, false, 100, t / 1000);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.start_ns = 3000;
  cfg.end_ns = 6000;
  cfg.sample_ns = 2000;
  Scripted s{[](const bt::MarketView&, bt::Intent&) {}};
  const bt::Result r = bt::run(tape, cfg, s);
  EXPECT_EQ(r.summary.events, 6u);  // rows with local_ts <= 6000
  EXPECT_EQ(r.summary.strategy_calls, 4u);
  ASSERT_EQ(s.seen.size(), 4u);
  EXPECT_EQ(s.seen.front().local_ts, 3000);
  EXPECT_EQ(s.seen.front().inst[0].bid_qty, 3);  // the book was built before the window
  EXPECT_EQ(s.seen.front().inst[0].ask_px, 110);
  EXPECT_TRUE(s.seen.front().inst[0].valid);
  EXPECT_EQ(s.seen.back().local_ts, 6000);
  ASSERT_EQ(r.equity.size(), 3u);  // 3000, 5000, and the end at 6000
  EXPECT_EQ(r.equity.front().ts, 3000);
  EXPECT_EQ(r.equity.back().ts, 6000);
}

TEST(BacktestEngine, MultiInstrumentViewAndTrigger) {
  bt::TapeWriter w({instrument("A"), instrument("B")});
  w.depth(0, 1000, 900, false, 100, 1, false);
  w.depth(0, 1000, 900, true, 101, 1, true);
  w.depth(1, 2000, 1900, false, 50, 2, false);
  w.depth(1, 2000, 1900, true, 52, 3, true);
  w.depth(0, 3000, 2900, false, 100, 4, true);
  w.depth(1, 4000, 3900, false, 50, 5, true);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  // Instrument 0's events move instrument 1 to a target: a pair strategy's second leg.
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    if (v.inst[1].valid) o.inst[1].has_target = true, o.inst[1].target = -2;
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  ASSERT_EQ(s.seen.size(), 4u);
  EXPECT_EQ(s.seen[0].n, 2u);
  EXPECT_EQ(s.seen[0].trigger, 0u);
  EXPECT_FALSE(s.seen[0].inst[1].valid);
  EXPECT_EQ(s.seen[1].trigger, 1u);
  EXPECT_EQ(s.seen[2].inst[0].bid_qty, 4);
  EXPECT_EQ(s.seen[2].inst[1].ask_qty, 3);
  ASSERT_EQ(r.fills.size(), 1u);  // sell 2 @ 50 (the bid seen at 2000), arriving at the 3000 event
  EXPECT_EQ(r.fills[0].instrument, 1);
  EXPECT_EQ(r.fills[0].side, -1);
  EXPECT_EQ(r.fills[0].px, 50);
  EXPECT_EQ(s.seen[3].inst[1].position, -2);
}

TEST(BacktestEngine, ThousandsOfRequestsInFlightStayInOrder) {
  // 3000 calls 10 ns apart, each moving the bid between 99 and 98 (a cancel and a new order),
  // with 100 us of entry latency: 5999 requests are in flight at once. They must reach the
  // exchange in order, leaving exactly the last bid (98) resting for the final trade-through.
  bt::TapeWriter w({instrument()});
  book(w, 1000, 90, 5, 105, 5);
  for (std::int64_t i = 1; i < 3000; ++i) w.depth(0, 1000 + 10 * i, 900 + 10 * i, true, 106, i);
  w.trade(0, 200'000, 199'900, true, 97, 1);
  const bt::Tape tape = open_tape(w);
  bt::Config cfg = base_config();
  cfg.latency.entry_ns = 100'000;
  Scripted s{[](const bt::MarketView& v, bt::Intent& o) {
    const std::int64_t i = std::min<std::int64_t>((v.local_ts - 1000) / 10, 2999);
    quote_bid(o, 99 - i % 2, 1);
  }};
  const bt::Result r = bt::run(tape, cfg, s);
  // 3000 orders, plus the replacement sent after the fill at the last call.
  EXPECT_EQ(r.summary.orders, 3001u);
  EXPECT_EQ(r.summary.cancels, 2999u);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].px, 98);
  EXPECT_EQ(r.fills[0].order_id, 3000u);
}

TEST(BacktestEngine, ConcurrentRunsOnOneTapeAgree) {
  // The driver runs trials in threads over one mapped tape: runs share nothing else.
  const bt::Tape tape = open_tape(queue_tape());
  bt::Config cfg = base_config();
  cfg.maker_fee_bps = -2.0;
  std::vector<bt::Result> results(4);
  std::vector<std::thread> threads;
  for (bt::Result& r : results) {
    threads.emplace_back([&tape, &cfg, &r] {
      Scripted s = bid_until_filled();
      r = bt::run(tape, cfg, s);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const bt::Result& r : results) {
    ASSERT_EQ(r.fills.size(), 1u);
    EXPECT_EQ(r.fills[0].qty, 2);
    EXPECT_NEAR(r.summary.pnl, 0.51, 1e-12);
  }
}

TEST(BacktestEngine, EmptyTapeGivesAnEmptyResult) {
  const bt::Tape tape = open_tape(bt::TapeWriter({instrument()}));
  EXPECT_EQ(tape.size(), 0u);
  Scripted s{[](const bt::MarketView&, bt::Intent&) {}};
  const bt::Result r = bt::run(tape, base_config(), s);
  EXPECT_EQ(r.summary.events, 0u);
  EXPECT_EQ(r.summary.strategy_calls, 0u);
  EXPECT_TRUE(r.equity.empty());
  EXPECT_EQ(r.summary.pnl, 0.0);
}

TEST(BacktestEngine, RejectsConfigurationsItCannotHonour) {
  bt::TapeWriter w({instrument()});
  book(w, 1000, 100, 5, 102, 5);
  const bt::Tape tape = open_tape(w);
  Scripted s{[](const bt::MarketView&, bt::Intent&) {}};
  bt::Config cfg = base_config();
  cfg.latency.kind = bt::LatencyModel::Kind::kEmpirical;
  EXPECT_THROW(bt::run(tape, cfg, s), std::invalid_argument);
  cfg = base_config();
  cfg.sample_ns = 0;
  EXPECT_THROW(bt::run(tape, cfg, s), std::invalid_argument);
  cfg = base_config();
  cfg.latency.entry_ns = -1;
  EXPECT_THROW(bt::run(tape, cfg, s), std::invalid_argument);
  std::vector<bt::InstrumentInfo> many(bt::kMaxInstruments + 1, instrument());
  bt::TapeWriter wide(many);
  wide.depth(0, 1, 0, false, 1, 1);
  const bt::Tape wide_tape = open_tape(wide, "wide");
  EXPECT_THROW(bt::run(wide_tape, base_config(), s), std::invalid_argument);
}

// ---- statistics ------------------------------------------------------------------------------

TEST(BacktestStats, SharpeSortinoAndDrawdownOfAKnownCurve) {
  const std::int64_t day = 86'400'000'000'000;
  std::vector<bt::EquityPoint> eq;
  std::int64_t ts = 0;
  for (const double e : {100.0, 101.0, 99.0, 102.0, 101.0}) {
    eq.push_back({ts, e, e - 100.0, 0.0, 0, 0.0});
    ts += day;
  }
  const bt::CurveStats st = bt::curve_stats(eq, day);
  // Daily bars over four days: annualised. Changes 1, -2, 3, -1: mean 0.25, sample variance
  // 14.75 / 3, downside sqrt((4 + 1) / 4).
  EXPECT_EQ(st.bars, 4u);
  EXPECT_TRUE(st.annualised);
  EXPECT_NEAR(st.sharpe, 0.25 / std::sqrt(14.75 / 3.0) * std::sqrt(365.0), 1e-12);
  EXPECT_NEAR(st.sortino, 0.25 / std::sqrt(5.0 / 4.0) * std::sqrt(365.0), 1e-12);
  EXPECT_DOUBLE_EQ(st.max_drawdown, 2.0);  // 101 -> 99

  std::vector<bt::EquityPoint> flat_curve = eq;
  for (bt::EquityPoint& p : flat_curve) p.equity = 100.0;
  const bt::CurveStats flat = bt::curve_stats(flat_curve, day);
  EXPECT_EQ(flat.sharpe, 0.0);
  EXPECT_EQ(flat.sortino, 0.0);
  EXPECT_EQ(flat.max_drawdown, 0.0);
  const bt::CurveStats two = bt::curve_stats(std::span(eq).first(2), day);
  EXPECT_EQ(two.bars, 1u);
  EXPECT_EQ(two.sharpe, 0.0);  // one change: no deviation
  std::vector<bt::EquityPoint> up = eq;
  up[2].equity = 102.0;  // changes 1, 1, 0, -1
  EXPECT_GT(bt::curve_stats(up, day).sortino, 0.0);
}

TEST(BacktestStats, ShortRunsReportPerBarFiguresOnWholeBars) {
  // Samples every second for 6.5 minutes; one-minute bars close on the samples at 60 s, 120 s...
  const std::int64_t s = 1'000'000'000, minute = 60 * s;
  std::vector<bt::EquityPoint> eq;
  const double closes[] = {100.0, 103.0, 101.0, 104.0, 104.0, 102.0, 105.0};
  for (std::int64_t t = 0; t <= 390; ++t) {
    // Between closes the equity wanders; only the value at each close matters.
    const double e = t % 60 == 0 ? closes[t / 60] : 90.0 + static_cast<double>(t % 7);
    eq.push_back({t * s, e, e - 100.0, 0.0, 0, 0.0});
  }
  const bt::CurveStats st = bt::curve_stats(eq, minute);
  EXPECT_EQ(st.bars, 6u);  // the half minute after 360 s is not a whole bar
  EXPECT_FALSE(st.annualised);
  // Changes 3, -2, 3, 0, -2, 3: mean 5/6.
  const double mean = 5.0 / 6.0;
  double var = 0.0;
  for (const double d : {3.0, -2.0, 3.0, 0.0, -2.0, 3.0}) var += (d - mean) * (d - mean);
  EXPECT_NEAR(st.sharpe, mean / std::sqrt(var / 5.0), 1e-12);
  EXPECT_NEAR(st.sortino, mean / std::sqrt(8.0 / 6.0), 1e-12);
  EXPECT_DOUBLE_EQ(st.max_drawdown, 105.0 - 90.0);  // the close at 360 s, then a wander to 90

  // A gap in the samples: a bar's close is the last sample before it.
  std::vector<bt::EquityPoint> gappy = {{0, 100.0, 0.0, 0.0, 0, 0.0},
                                        {30 * s, 110.0, 10.0, 0.0, 0, 0.0},
                                        {200 * s, 90.0, -10.0, 0.0, 0, 0.0},
                                        {240 * s, 95.0, -5.0, 0.0, 0, 0.0}};
  const bt::CurveStats g = bt::curve_stats(gappy, minute);
  // Closes at 60, 120, 180 s hold 110; 240 s holds 95: changes 10, 0, 0, -15.
  EXPECT_EQ(g.bars, 4u);
  EXPECT_LT(g.sharpe, 0.0);
}

}  // namespace
