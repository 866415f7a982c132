#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "hft/clock.hpp"
#include "hft/trading/feed_handler.hpp"
#include "hft/trading/order.hpp"
#include "hft/trading/pipeline.hpp"
#include "hft/trading/risk_gate.hpp"
#include "hft/trading/strategy.hpp"

namespace {

using hft::Side;
using namespace hft::trading;

// ---- test doubles -----------------------------------------------------------------------

// Gateway that records into storage preallocated by the test (no allocation in encode()).
struct FakeGateway {
  OrderRequest* out = nullptr;
  std::size_t capacity = 0;
  std::size_t n = 0;
  void encode(const OrderRequest& o) noexcept {
    if (n < capacity) out[n] = o;
    ++n;
  }
};

// Hand-written example strategy: lean on the imbalance. Buys one tick inside the bid when the
// bid queue is larger than the ask queue, sells one tick inside the ask in the opposite case,
// once per change of the touch (price or size), and flattens on fills by quoting the opposite side
// at the touch.
struct ImbalanceQuoter {
  hft::PriceLevel last_bid{0, 0};
  hft::PriceLevel last_ask{0, 0};
  void on_market(const MarketView& m, QuoteSink& out) noexcept {
    if (m.self->stale) return;
    if (m.trigger == MsgKind::kFill && m.position() != 0) {
      const Touch t = m.self->touch();
      if (!t.valid) return;
      const std::int64_t q = m.position() > 0 ? m.position() : -m.position();
      out.push(Quote{m.instrument, m.position() > 0 ? Side::Ask : Side::Bid,
                     m.position() > 0 ? t.ask_px : t.bid_px, q});
      return;
    }
    const auto b = m.book().best_bid();
    const auto a = m.book().best_ask();
    if (!b || !a || (*b == last_bid && *a == last_ask)) return;
    last_bid = *b;
    last_ask = *a;
    if (b->qty > a->qty) out.buy(m.instrument, b->px + 1, 1);
    if (b->qty < a->qty) out.sell(m.instrument, a->px - 1, 1);
  }
};
static_assert(Strategy<ImbalanceQuoter>);

struct NotAStrategy {
  void on_tick(int) {}
};
static_assert(!Strategy<NotAStrategy>);
static_assert(OrderGateway<FakeGateway>);

struct GapLog {
  std::vector<std::uint64_t>* log;
  void operator()(InstrumentId inst, std::uint64_t expected, std::uint64_t got) noexcept {
    log->push_back(inst);
    log->push_back(expected);
    log->push_back(got);
  }
};

RiskLimits test_limits() {
  RiskLimits l;
  l.max_position = 3;
  l.max_order_qty = 5;
  l.max_orders_per_second = 2000;  // one token per 500 us
  l.price_band_bps = 25;
  return l;
}

// Deterministic book-building stream around 100000 ticks: book deltas with multi-level events,
// some trades and fills, a sequence gap and a resnapshot, 100 us apart.
std::vector<MarketMsg> make_stream(std::size_t n) {
  std::vector<MarketMsg> msgs;
  msgs.reserve(n + 8);
  std::uint64_t rng = 0x9E3779B97F4A7C15ull;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  std::uint64_t seq = 0, tseq = 0, ts = 1'000'000'000;
  std::int64_t mid = 100'000;
  std::int64_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ts += 100'000;
    const std::uint64_t r = next();
    if (i == n / 2) {
      seq += 3;  // a gap: three deltas never arrive
    } else if (i == n / 2 + 50) {
      msgs.push_back(book_reset(0, ++seq, ts));
    }
    if (r % 50 == 0) {
      msgs.push_back(
          trade_msg(0, r & 64 ? Side::Bid : Side::Ask, mid, 1 + (r >> 8) % 5, ++tseq, ts));
    } else if (r % 97 == 0) {
      // Fills mean-revert so the position stays around the limit instead of drifting off.
      const bool buy = pos <= -2 || (pos < 2 && (r & 64) != 0);
      pos += buy ? 1 : -1;
      msgs.push_back(fill_msg(0, buy ? Side::Bid : Side::Ask, mid, 1, ts));
    } else {
      if (r % 7 == 0) {
        mid += static_cast<std::int64_t>((r >> 20) % 5) - 2;
        // Delete levels the move would leave crossed: one event, like an exchange would send.
        for (std::int64_t k = 0; k <= 12; ++k) {
          MarketMsg del = book_delta(0, Side::Bid, mid + k, 0, ++seq, ts);
          del.flags |= kMsgMore;
          msgs.push_back(del);
          del = book_delta(0, Side::Ask, mid - k, 0, ++seq, ts);
          del.flags |= kMsgMore;
          msgs.push_back(del);
        }
      }
      const std::int64_t levels = 1 + static_cast<std::int64_t>((r >> 30) % 3);
      for (std::int64_t k = 0; k < levels; ++k) {
        const std::uint64_t s = next();
        const bool bid = (s & 1) != 0;
        const std::int64_t off = 1 + static_cast<std::int64_t>((s >> 1) % 10);
        const std::int64_t px = bid ? mid - off : mid + off;
        const std::int64_t qty =
            (s >> 8) % 4 == 0 ? 0 : 1 + static_cast<std::int64_t>((s >> 12) % 50);
        MarketMsg m = book_delta(0, bid ? Side::Bid : Side::Ask, px, qty, ++seq, ts);
        if (k + 1 < levels) m.flags |= kMsgMore;
        msgs.push_back(m);
      }
    }
  }
  return msgs;
}

template <unsigned Splits>
struct RunResult {
  std::vector<OrderRequest> orders;
  PipelineStats stats;
  FeedStats feed;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::int64_t position = 0;
  std::uint64_t latency_count = 0;
};

template <unsigned Splits>
RunResult<Splits> run(const std::vector<MarketMsg>& msgs) {
  std::vector<OrderRequest> store(msgs.size() * 2);
  PipelineConfig cfg;
  cfg.queue_capacity = 64;  // small, so backpressure is exercised
  cfg.spin_limit = 64;
  const auto clk = hft::TscClock::from_rate(1, 1);
  RunResult<Splits> res;
  {
    Pipeline<ImbalanceQuoter, FakeGateway, Splits> p(
        cfg, test_limits(), ImbalanceQuoter{}, FakeGateway{store.data(), store.size(), 0}, clk);
    for (const MarketMsg& m : msgs) p.publish(m);
    p.stop();
    p.stop();  // idempotent
    res.orders.assign(store.begin(), store.begin() + static_cast<std::ptrdiff_t>(p.gateway().n));
    res.stats = p.stats();
    res.feed = p.feed_stats();
    res.accepted = p.risk().accepted();
    res.rejected = p.risk().rejected();
    res.position = p.risk().position(0);
    res.latency_count = p.latency().count();
    EXPECT_EQ(p.books().instrument(0).position, res.position);
  }  // destructor after an explicit stop(): nothing left to join
  return res;
}

// ---- feed handler -----------------------------------------------------------------------

TEST(TradingFeed, DetectsGapsAndDuplicatesPerStream) {
  std::vector<std::uint64_t> log;
  FeedHandler<GapLog> f(2, 64, GapLog{&log});
  EXPECT_EQ(f.on_message(book_delta(0, Side::Bid, 100, 5, 1)).verdict, FeedVerdict::kOk);
  EXPECT_EQ(f.on_message(book_delta(0, Side::Ask, 102, 5, 2)).verdict, FeedVerdict::kOk);
  // Trades are a separate stream; instrument 1 has its own sequence.
  EXPECT_EQ(f.on_message(trade_msg(0, Side::Bid, 102, 1, 70)).verdict, FeedVerdict::kOk);
  EXPECT_EQ(f.on_message(book_delta(1, Side::Bid, 50, 1, 900)).verdict, FeedVerdict::kOk);
  EXPECT_FALSE(f.books().instrument(0).stale);

  // seq 3 and 4 are lost: the gap is reported, and the message is still applied.
  const auto r = f.on_message(book_delta(0, Side::Bid, 101, 7, 5));
  EXPECT_EQ(r.verdict, FeedVerdict::kGap);
  EXPECT_TRUE(r.notify);
  EXPECT_EQ(f.stats().gaps, 1u);
  EXPECT_EQ(f.stats().missed, 2u);
  EXPECT_EQ(log, (std::vector<std::uint64_t>{0, 3, 5}));
  EXPECT_EQ(f.books().book(0).best_bid()->px, 101);
  EXPECT_TRUE(f.books().instrument(0).stale);
  EXPECT_FALSE(f.books().instrument(1).stale);

  // A replay of an old message is dropped, not applied twice.
  EXPECT_EQ(f.on_message(book_delta(0, Side::Bid, 101, 0, 5)).verdict, FeedVerdict::kDuplicate);
  EXPECT_EQ(f.on_message(book_delta(0, Side::Bid, 101, 0, 2)).verdict, FeedVerdict::kDuplicate);
  EXPECT_EQ(f.stats().duplicates, 2u);
  EXPECT_EQ(f.books().book(0).best_bid()->qty, 7);

  // Trade gap.
  EXPECT_EQ(f.on_message(trade_msg(0, Side::Ask, 101, 1, 72)).verdict, FeedVerdict::kGap);
  EXPECT_EQ(f.stats().gaps, 2u);

  // Unknown instrument: dropped and counted.
  EXPECT_EQ(f.on_message(book_delta(2, Side::Bid, 1, 1, 1)).verdict, FeedVerdict::kBadInstrument);
  EXPECT_EQ(f.stats().bad_instrument, 1u);

  // Resnapshot: clears the book and the stale flag; the sequence restarts at the reset's seq.
  EXPECT_FALSE(f.on_message(book_reset(0, 100)).notify);
  EXPECT_FALSE(f.books().instrument(0).stale);
  EXPECT_FALSE(f.books().book(0).best_bid().has_value());
  EXPECT_EQ(f.on_message(book_delta(0, Side::Bid, 99, 1, 101)).verdict, FeedVerdict::kOk);
  EXPECT_EQ(f.stats().gaps, 2u);
}

TEST(TradingFeed, MultiLevelEventsNotifyOnce) {
  FeedHandler<> f(1, 64);
  MarketMsg a = book_delta(0, Side::Bid, 100, 5, 0);
  a.flags |= kMsgMore;
  EXPECT_FALSE(f.on_message(a).notify);
  EXPECT_TRUE(f.on_message(book_delta(0, Side::Ask, 101, 5, 0)).notify);
  EXPECT_TRUE(f.on_message(fill_msg(0, Side::Bid, 100, 2)).notify);
  EXPECT_TRUE(f.on_message(trade_msg(0, Side::Bid, 101, 3, 0, 77)).notify);
  const InstrumentView& v = f.books().instrument(0);
  EXPECT_EQ(v.position, 2);
  EXPECT_EQ(v.cash, -200);
  EXPECT_EQ(v.pnl(101), 2);
  EXPECT_TRUE(v.has_trade);
  EXPECT_EQ(v.last_trade, (TradeTick{0, Side::Bid, 101, 3, 77}));
}

// ---- pipeline ---------------------------------------------------------------------------

TEST(TradingPipeline, SymmetricQuoterInlineEndToEnd) {
  std::vector<OrderRequest> store(16);
  PipelineConfig cfg;
  SymmetricQuoter q;
  q.offset_ticks = 1;
  q.qty_lots = 2;
  q.max_position = 3;
  Pipeline<SymmetricQuoter, FakeGateway> p(cfg, test_limits(), q,
                                           FakeGateway{store.data(), store.size(), 0},
                                           hft::TscClock::from_rate(1, 1));
  EXPECT_EQ(p.kThreads, 1);
  p.publish(book_delta(0, Side::Bid, 99'990, 5, 1, 1'000'000'000));
  EXPECT_EQ(p.gateway().n, 0u);  // one-sided: no quote
  p.publish(book_delta(0, Side::Ask, 100'010, 5, 2, 1'000'000'000));
  ASSERT_EQ(p.gateway().n, 2u);
  EXPECT_EQ(store[0], (OrderRequest{1, 0, Side::Bid, 99'989, 2, 1'000'000'000}));
  EXPECT_EQ(store[1], (OrderRequest{2, 0, Side::Ask, 100'011, 2, 1'000'000'000}));
  // Unchanged touch: no new orders.
  p.publish(book_delta(0, Side::Bid, 99'980, 5, 3, 1'001'000'000));
  EXPECT_EQ(p.gateway().n, 2u);
  // Long 2 after a fill: a further bid would make 4 > 3, so only the ask moves.
  p.publish(fill_msg(0, Side::Bid, 99'989, 2, 1'002'000'000));
  EXPECT_EQ(p.risk().position(), 2);
  p.publish(book_delta(0, Side::Bid, 99'995, 5, 4, 1'003'000'000));
  p.publish(book_delta(0, Side::Ask, 100'005, 5, 5, 1'003'000'000));
  ASSERT_EQ(p.gateway().n, 3u);
  EXPECT_EQ(store[2].side, Side::Ask);
  EXPECT_EQ(store[2].px_ticks, 100'006);
  // A gap makes the book stale: the quoter goes quiet until a resnapshot.
  p.publish(book_delta(0, Side::Ask, 100'004, 5, 9, 1'004'000'000));
  EXPECT_EQ(p.gateway().n, 3u);
  EXPECT_EQ(p.feed_stats().gaps, 1u);
  p.publish(book_reset(0, 20, 1'005'000'000));
  MarketMsg b = book_delta(0, Side::Bid, 99'990, 5, 21, 1'005'000'000);
  b.flags |= kMsgMore;
  p.publish(b);
  p.publish(book_delta(0, Side::Ask, 100'000, 5, 22, 1'005'000'000));
  // New ask only: the bid price is unchanged and long 2. Each ask superseded the previous one
  // at the gate, so one ask of 2 lots is open: worst-case short -2 + 2 = 0.
  ASSERT_EQ(p.gateway().n, 4u);
  EXPECT_EQ(p.risk().open_qty(0, Side::Ask), 2);
  EXPECT_EQ(p.risk().open_orders(), 1u);
  EXPECT_EQ(store[3].px_ticks, 100'001);
  EXPECT_EQ(p.latency().count(), 4u);
  EXPECT_EQ(p.stats().orders_sent, 4u);
}

// With quotes_supersede off, every quote is a new order that stays open until filled.
TEST(TradingPipeline, QuotesThatNeverCancelStayOpenExposure) {
  std::vector<OrderRequest> store(16);
  PipelineConfig cfg;
  cfg.quotes_supersede = false;
  SymmetricQuoter q;
  q.offset_ticks = 1;
  q.qty_lots = 2;
  q.max_position = 3;
  Pipeline<SymmetricQuoter, FakeGateway> p(cfg, test_limits(), q,
                                           FakeGateway{store.data(), store.size(), 0},
                                           hft::TscClock::from_rate(1, 1));
  EXPECT_EQ(p.kThreads, 1);
  p.publish(book_delta(0, Side::Bid, 99'990, 5, 1, 1'000'000'000));
  EXPECT_EQ(p.gateway().n, 0u);  // one-sided: no quote
  p.publish(book_delta(0, Side::Ask, 100'010, 5, 2, 1'000'000'000));
  ASSERT_EQ(p.gateway().n, 2u);
  EXPECT_EQ(store[0], (OrderRequest{1, 0, Side::Bid, 99'989, 2, 1'000'000'000}));
  EXPECT_EQ(store[1], (OrderRequest{2, 0, Side::Ask, 100'011, 2, 1'000'000'000}));
  // Unchanged touch: no new orders.
  p.publish(book_delta(0, Side::Bid, 99'980, 5, 3, 1'001'000'000));
  EXPECT_EQ(p.gateway().n, 2u);
  // Long 2 after a fill: a further bid would make 4 > 3, so only the ask moves.
  p.publish(fill_msg(0, Side::Bid, 99'989, 2, 1'002'000'000));
  EXPECT_EQ(p.risk().position(), 2);
  p.publish(book_delta(0, Side::Bid, 99'995, 5, 4, 1'003'000'000));
  p.publish(book_delta(0, Side::Ask, 100'005, 5, 5, 1'003'000'000));
  ASSERT_EQ(p.gateway().n, 3u);
  EXPECT_EQ(store[2].side, Side::Ask);
  EXPECT_EQ(store[2].px_ticks, 100'006);
  // A gap makes the book stale: the quoter goes quiet until a resnapshot.
  p.publish(book_delta(0, Side::Ask, 100'004, 5, 9, 1'004'000'000));
  EXPECT_EQ(p.gateway().n, 3u);
  EXPECT_EQ(p.feed_stats().gaps, 1u);
  p.publish(book_reset(0, 20, 1'005'000'000));
  MarketMsg b = book_delta(0, Side::Bid, 99'990, 5, 21, 1'005'000'000);
  b.flags |= kMsgMore;
  p.publish(b);
  p.publish(book_delta(0, Side::Ask, 100'000, 5, 22, 1'005'000'000));
  // The quoter wants a new ask only (the bid price is unchanged and long 2), but the two asks
  // already sent are still open (this pipeline never cancels): worst-case short would be
  // -2 + 4 + 2 = 4 > 3, so the gate refuses it.
  EXPECT_EQ(p.gateway().n, 3u);
  EXPECT_EQ(p.risk().open_qty(0, Side::Ask), 4);
  EXPECT_EQ(p.risk().open_qty(0, Side::Bid), 0);  // the fill took the bid off
  EXPECT_EQ(p.risk().count(hft::trading::RiskDecision::kMaxPosition), 1u);
  EXPECT_EQ(p.latency().count(), 3u);
  EXPECT_EQ(p.stats().orders_sent, 3u);
}

TEST(TradingPipeline, InlineAndThreadedProduceSameOrders) {
  const std::vector<MarketMsg> msgs = make_stream(20'000);
  const auto inline_run = run<kInline>(msgs);
  ASSERT_GT(inline_run.orders.size(), 100u);
  EXPECT_GT(inline_run.rejected, 0u);  // the limits bite, so risk state matters too
  EXPECT_EQ(inline_run.feed.gaps, 1u);
  EXPECT_EQ(inline_run.latency_count, inline_run.orders.size());
  EXPECT_EQ(inline_run.stats.orders_sent, inline_run.orders.size());

  const auto two = run<kSplitBeforeBook>(msgs);
  EXPECT_EQ(two.orders, inline_run.orders);
  EXPECT_EQ(two.accepted, inline_run.accepted);
  EXPECT_EQ(two.rejected, inline_run.rejected);
  EXPECT_EQ(two.position, inline_run.position);
  EXPECT_EQ(two.stats.strategy_calls, inline_run.stats.strategy_calls);
  EXPECT_EQ(two.latency_count, two.orders.size());

  const auto four = run<kSplitBeforeBook | kSplitBeforeRisk | kSplitBeforeGateway>(msgs);
  EXPECT_EQ(four.orders, inline_run.orders);
  EXPECT_EQ(four.position, inline_run.position);

  const auto risk_only = run<kSplitBeforeRisk>(msgs);
  EXPECT_EQ(risk_only.orders, inline_run.orders);
}

TEST(TradingPipeline, ThreadedShutdownIsCleanWithoutTraffic) {
  std::vector<OrderRequest> store(4);
  PipelineConfig cfg;
  cfg.spin_limit = 16;
  using P = Pipeline<ImbalanceQuoter, FakeGateway, kSplitBeforeBook | kSplitBeforeGateway>;
  static_assert(P::kThreads == 3);
  for (int i = 0; i < 20; ++i) {
    auto p = std::make_unique<P>(cfg, test_limits(), ImbalanceQuoter{},
                                 FakeGateway{store.data(), store.size(), 0},
                                 hft::TscClock::from_rate(1, 1));
    if (i % 2 == 0) p->stop();
    p.reset();  // destructor stops (again) and joins
  }
  SUCCEED();
}

TEST(TradingPipeline, KillSwitchFromAnotherThreadStopsOrders) {
  std::vector<OrderRequest> store(64);
  PipelineConfig cfg;
  Pipeline<SymmetricQuoter, FakeGateway, kSplitBeforeBook> p(
      cfg, test_limits(), SymmetricQuoter{0, 0, 1, 100, 0, 0},
      FakeGateway{store.data(), store.size(), 0}, hft::TscClock::from_rate(1, 1));
  std::thread op([&] { p.risk().trip(); });
  op.join();
  std::uint64_t seq = 0;
  for (std::int64_t i = 0; i < 10; ++i) {
    p.publish(book_delta(0, Side::Bid, 99'990 + i, 5, ++seq, 1'000'000'000));
    p.publish(book_delta(0, Side::Ask, 100'010 + i, 5, ++seq, 1'000'000'000));
  }
  p.stop();
  EXPECT_EQ(p.gateway().n, 0u);
  EXPECT_EQ(p.risk().count(RiskDecision::kKillSwitch), p.stats().quotes);
  EXPECT_GT(p.stats().quotes, 0u);
}

TEST(TradingPipeline, SplitForSchemaStageKinds) {
  EXPECT_EQ(split_before("feed_handler"), 0u);
  EXPECT_EQ(split_before("order_book"), kSplitBeforeBook);
  EXPECT_EQ(split_before("strategy"), kSplitBeforeBook);
  EXPECT_EQ(split_before("risk_gate"), kSplitBeforeRisk);
  EXPECT_EQ(split_before("order_gateway"), kSplitBeforeGateway);
}

}  // namespace
