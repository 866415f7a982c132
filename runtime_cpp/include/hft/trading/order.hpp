// Value types that flow between the trading stages: market messages in, orders out.
//
// Everything here is a trivially copyable aggregate of integers so it can cross a thread boundary
// through hft::SpscRing by memcpy, and so inline and threaded pipelines see bit-identical data.
// Prices are integer ticks and quantities integer lots throughout; conversion from decimal
// happens once, in the decoder.
#pragma once

#include <cstdint>
#include <type_traits>

#include "hft/book/l2_book.hpp"
#include "hft/book/side.hpp"

namespace hft::trading {

/// Index of an instrument within one pipeline (0 .. instruments - 1), not an exchange symbol id:
/// a dense index lets every per-instrument table be a plain array.
using InstrumentId = std::uint32_t;

/// +1 for Bid (buy), -1 for Ask (sell): the sign of the position change when filled.
constexpr std::int64_t side_sign(Side s) noexcept { return s == Side::Bid ? 1 : -1; }

/// A new order as handed to the gateway. `ts_ns` is the timestamp of the market message that
/// caused it (not a wall-clock read), which keeps replays deterministic.
struct OrderRequest {
  std::uint64_t client_order_id;
  InstrumentId instrument;
  Side side;
  std::int64_t px_ticks;
  std::int64_t qty_lots;
  std::uint64_t ts_ns;
  friend bool operator==(const OrderRequest&, const OrderRequest&) = default;
};

/// What a strategy asks for: one limit order on one side. The pipeline turns it into an
/// OrderRequest (assigning the client order id and timestamp) and sends it through risk.
struct Quote {
  InstrumentId instrument;
  Side side;
  std::int64_t px_ticks;
  std::int64_t qty_lots;
  friend bool operator==(const Quote&, const Quote&) = default;
};

/// A public trade print. `aggressor` is the side of the taker (Bid = buyer lifted the offer).
struct TradeTick {
  InstrumentId instrument;
  Side aggressor;
  std::int64_t px_ticks;
  std::int64_t qty_lots;
  std::uint64_t ts_ns;
  friend bool operator==(const TradeTick&, const TradeTick&) = default;
};

/// Best bid and ask prices at one instant. `valid` is false when either side is empty; the risk
/// gate then has no reference price and rejects (it never guesses a mid).
struct Touch {
  std::int64_t bid_px;
  std::int64_t ask_px;
  bool valid;
};

/// Touch of an L2 book.
inline Touch touch_of(const PriceLevelBook& book) noexcept {
  const auto b = book.best_bid();
  const auto a = book.best_ask();
  if (!b || !a) return Touch{0, 0, false};
  return Touch{b->px, a->px, true};
}

/// Kind of a normalised market message.
enum class MsgKind : std::uint8_t {
  kBookDelta = 0,  ///< absolute level update: side, px, qty (0 deletes)
  kTrade = 1,      ///< public trade: side = aggressor, px, qty
  kFill = 2,       ///< own execution: side, px, qty; updates position (unsequenced)
  kBookReset = 3,  ///< clear the book before a snapshot; `seq` restarts the delta sequence
};

/// Flags set by the sequence checker and carried with the message to the book stage, so that the
/// gap state travels with the data instead of being shared between threads.
enum MsgFlags : std::uint8_t {
  kMsgNone = 0,
  kMsgGapBefore = 1,  ///< at least one message of this stream was missed before this one
  /// Set by the decoder on every level of a multi-level exchange event except the last: the book
  /// applies it but the strategy runs once, on the last level, never on a half-applied event.
  kMsgMore = 2,
  /// Not market data: the instrument's updates were lost (a packet gap on its channel). The book
  /// is left as it is and marked stale, so the strategy stops quoting until the next kBookReset.
  kMsgStale = 4,
};

/// One decoded feed message, the unit that crosses the feed -> book ring (48 bytes).
///
/// `seq` is per instrument and per stream (book deltas and trades are separate streams): each
/// message must carry the previous one's seq + 1. seq == 0 means unsequenced (no check), e.g. the
/// levels of a REST snapshot. `ts_ns` should be the local receive time: it stamps the orders the
/// message triggers and is the risk gate's rate-limit clock, which keeps replays deterministic.
/// `rx_tsc` is stamped by the pipeline at ingress for latency.
struct MarketMsg {
  std::uint64_t seq;
  std::uint64_t ts_ns;
  std::int64_t px_ticks;
  std::int64_t qty_lots;
  std::uint64_t rx_tsc;
  InstrumentId instrument;
  MsgKind kind;
  Side side;
  std::uint8_t flags;
};

static_assert(std::is_trivially_copyable_v<OrderRequest>);
static_assert(std::is_trivially_copyable_v<MarketMsg>);
static_assert(sizeof(MarketMsg) == 48);

/// Convenience constructors used by decoders and tests.
constexpr MarketMsg book_delta(InstrumentId inst, Side side, std::int64_t px, std::int64_t qty,
                               std::uint64_t seq, std::uint64_t ts_ns = 0) noexcept {
  return MarketMsg{seq, ts_ns, px, qty, 0, inst, MsgKind::kBookDelta, side, kMsgNone};
}
constexpr MarketMsg trade_msg(InstrumentId inst, Side aggressor, std::int64_t px, std::int64_t qty,
                              std::uint64_t seq, std::uint64_t ts_ns = 0) noexcept {
  return MarketMsg{seq, ts_ns, px, qty, 0, inst, MsgKind::kTrade, aggressor, kMsgNone};
}
constexpr MarketMsg fill_msg(InstrumentId inst, Side side, std::int64_t px, std::int64_t qty,
                             std::uint64_t ts_ns = 0) noexcept {
  return MarketMsg{0, ts_ns, px, qty, 0, inst, MsgKind::kFill, side, kMsgNone};
}
constexpr MarketMsg stale_msg(InstrumentId inst, std::uint64_t ts_ns = 0) noexcept {
  return MarketMsg{0, ts_ns, 0, 0, 0, inst, MsgKind::kBookDelta, Side::Bid, kMsgStale};
}
constexpr MarketMsg book_reset(InstrumentId inst, std::uint64_t seq,
                               std::uint64_t ts_ns = 0) noexcept {
  return MarketMsg{seq, ts_ns, 0, 0, 0, inst, MsgKind::kBookReset, Side::Bid, kMsgNone};
}

}  // namespace hft::trading
