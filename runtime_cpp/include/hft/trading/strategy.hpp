// The strategy stage: what a strategy sees (MarketView), where it writes (QuoteSink) and the
// concept any strategy type must satisfy to be plugged into hft::trading::Pipeline.
//
// Strategies are template parameters, not virtual objects: the pipeline calls
// `s.on_market(view, sink)` directly so the compiler can inline the strategy into the feed and
// risk code around it. Generated strategies and hand-written ones satisfy the same concept.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "hft/book/l2_book.hpp"
#include "hft/trading/order.hpp"

namespace hft::trading {

/// State of one instrument as the strategy thread sees it. Owned and updated by the book stage;
/// the strategy only reads it.
struct InstrumentView {
  InstrumentId id = 0;
  const PriceLevelBook* book = nullptr;
  std::int64_t position = 0;  ///< lots, from kFill messages
  std::int64_t cash = 0;      ///< sum of -signed_qty * px over fills, in tick*lot units
  TradeTick last_trade{};
  bool has_trade = false;
  /// A sequence gap was seen and no kBookReset has arrived since: the book may be wrong.
  bool stale = false;

  Touch touch() const noexcept { return touch_of(*book); }
  /// Mark-to-market P&L at `mark_px` ticks, in tick*lot units.
  std::int64_t pnl(std::int64_t mark_px) const noexcept { return cash + position * mark_px; }
};

/// Everything a strategy gets per event: the instrument that changed and, for multi-leg
/// strategies, every instrument of the pipeline (indexed by InstrumentId).
struct MarketView {
  std::uint64_t ts_ns = 0;  ///< timestamp of the triggering message
  InstrumentId instrument = 0;
  MsgKind trigger = MsgKind::kBookDelta;
  const InstrumentView* self = nullptr;
  std::span<const InstrumentView> legs;

  const PriceLevelBook& book() const noexcept { return *self->book; }
  std::int64_t position() const noexcept { return self->position; }
  const InstrumentView& leg(InstrumentId id) const noexcept { return legs[id]; }
};

/// Fixed-capacity output buffer of one strategy invocation. A concrete struct (no virtual
/// calls); the pipeline clears it before each call and drains it after. Quotes beyond capacity
/// are refused and counted, never silently lost.
class QuoteSink {
 public:
  static constexpr std::size_t kCapacity = 16;

  bool push(const Quote& q) noexcept {
    if (n_ == kCapacity) [[unlikely]] {
      ++overflow_;
      return false;
    }
    quotes_[n_++] = q;
    return true;
  }
  bool buy(InstrumentId inst, std::int64_t px, std::int64_t qty) noexcept {
    return push(Quote{inst, Side::Bid, px, qty});
  }
  bool sell(InstrumentId inst, std::int64_t px, std::int64_t qty) noexcept {
    return push(Quote{inst, Side::Ask, px, qty});
  }

  std::span<const Quote> quotes() const noexcept { return {quotes_, n_}; }
  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  void clear() noexcept { n_ = 0; }
  /// Quotes refused because the sink was full, over the sink's lifetime.
  std::uint64_t overflow() const noexcept { return overflow_; }

 private:
  Quote quotes_[kCapacity];
  std::size_t n_ = 0;
  std::uint64_t overflow_ = 0;
};

/// A strategy reacts to market events by writing desired orders into the sink. on_market runs
/// inside the pipeline's noexcept hot path: it must not throw (an exception terminates) and
/// should not allocate or block.
template <class S>
concept Strategy = requires(S s, const MarketView& m, QuoteSink& out) {
  { s.on_market(m, out) } -> std::same_as<void>;
};

/// Reference market maker ("mm"): joins the touch `offset_ticks` behind it on both sides with a
/// fixed size and sends a new order only when its desired price changes, so a quiet book produces
/// no traffic. It stops adding to a side once |position| would exceed `max_position`, and stays
/// silent while the book is stale or one-sided.
struct SymmetricQuoter {
  InstrumentId instrument = 0;
  std::int64_t offset_ticks = 0;
  std::int64_t qty_lots = 1;
  std::int64_t max_position = 0;
  std::int64_t last_bid = 0;  ///< last price sent per side; 0 = none yet
  std::int64_t last_ask = 0;

  void on_market(const MarketView& m, QuoteSink& out) noexcept {
    const InstrumentView& v = m.leg(instrument);
    if (v.stale) return;
    const Touch t = v.touch();
    if (!t.valid) return;
    const std::int64_t bid = t.bid_px - offset_ticks;
    const std::int64_t ask = t.ask_px + offset_ticks;
    if (bid != last_bid && v.position + qty_lots <= max_position) {
      out.buy(instrument, bid, qty_lots);
      last_bid = bid;
    }
    if (ask != last_ask && v.position - qty_lots >= -max_position) {
      out.sell(instrument, ask, qty_lots);
      last_ask = ask;
    }
  }
};

static_assert(Strategy<SymmetricQuoter>);

}  // namespace hft::trading
