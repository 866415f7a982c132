// Value types of the backtest engine: configuration, what the strategy sees, what it asks for,
// and what a run returns. Prices are integer ticks and quantities integer lots throughout; the
// engine converts to quote currency only for cash, fees and equity (README.md, "Units").
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "hft/trading/risk_gate.hpp"

namespace hft::backtest {

/// Instruments one run can replay at once (the tape format allows more; the engine keeps its
/// per-instrument state in fixed arrays so the hot loop never indexes a heap vector).
inline constexpr std::size_t kMaxInstruments = 8;
/// Quote changes kept per run for the report (a market maker requotes on most events).
inline constexpr std::size_t kMaxQuoteChanges = 1 << 20;

/// Order entry (local -> exchange) and response (exchange -> local) latency.
struct LatencyModel {
  enum class Kind : std::uint8_t { kConstant, kEmpirical } kind = Kind::kConstant;
  std::int64_t entry_ns = 0, response_ns = 0;  ///< constant model
  /// Empirical model: one-way latencies in ns. Each order/cancel draws its entry and its
  /// response latency independently and uniformly from these samples (splitmix64 seeded by
  /// `seed`), so a run is reproducible.
  std::vector<std::int64_t> samples;
  std::uint64_t seed = 1;
};

/// How a resting order's place in the queue advances (README.md, "Queue position").
enum class QueueModel : std::uint8_t {
  kRiskAverse,     ///< only trades at our price and shrinking below our queue-ahead move us up
  kProbabilistic,  ///< unexplained decreases are split by f(x) = x^queue_power (hftbacktest's
                   ///< ProbQueueModel with PowerProbQueueFunc)
};

/// What the strategy may do after cancelling a quote, before the venue confirms the cancel.
/// Venues accept a cancel for any order they hold, and one order-entry session delivers it after
/// the order it cancels, so the cancel itself always takes effect at its arrival; the policy only
/// decides when the replacement is sent (README.md, "Cancels").
enum class CancelPolicy : std::uint8_t {
  kReplaceAtOnce,   ///< send the replacement with the cancel (cancel/new in one go), the default
  kWaitForConfirm,  ///< send nothing on that side until the cancel (or a final fill) is heard
};

struct Config {
  LatencyModel latency;
  QueueModel queue = QueueModel::kRiskAverse;
  double queue_power = 3.0;
  CancelPolicy cancel = CancelPolicy::kReplaceAtOnce;
  double maker_fee_bps = 0.0, taker_fee_bps = 0.0;  ///< fee = notional * bps / 1e4 (< 0 = rebate)
  /// When enabled every new order passes hft::trading::RiskGate::check with the touch the
  /// strategy saw and the local timestamp, exactly as the production pipeline does.
  hft::trading::RiskLimits risk{};
  bool risk_enabled = false;
  /// Local-ts window: earlier events only build the books, later ones are not replayed.
  std::int64_t start_ns = 0, end_ns = std::numeric_limits<std::int64_t>::max();
  std::int64_t sample_ns = 1'000'000'000;  ///< equity-curve sampling period
  /// Return interval of Sharpe and Sortino (>= sample_ns; see stats.hpp).
  std::int64_t bar_ns = 60'000'000'000;
  double capital = 100'000.0;  ///< quote currency, for leverage and returns
  std::size_t book_capacity_ticks = 1 << 16;
  /// Per tape instrument: an inverse (coin-margined) contract, whose `multiplier` is the quote
  /// value of one contract and whose PnL, fees, notional and leverage are in the base coin
  /// (then `capital` is in that coin too).
  std::array<bool, kMaxInstruments> inverse{};
};

/// One instrument as the strategy sees it: the local book after the event plus its own state.
struct InstrumentView {
  std::int64_t bid_px, ask_px, bid_qty, ask_qty;  ///< ticks / lots
  bool valid;                                     ///< both sides non-empty
  std::int64_t position;  ///< lots, as acknowledged (after response latency)
  std::int64_t last_trade_px, last_trade_qty;
  int last_trade_side;  ///< +1 buyer aggressor, -1 seller, 0 no trade yet
  double tick_size, lot_size, multiplier;
};

struct MarketView {
  std::int64_t local_ts;
  std::size_t n;        ///< instruments in use
  std::size_t trigger;  ///< instrument whose END event triggered this call
  InstrumentView inst[kMaxInstruments];
  /// Quote currency. equity = cash + sum(position * lot * mid * tick * multiplier);
  /// pnl = equity - initial equity (the initial equity is `capital`).
  double cash, fees, equity, pnl;
};

struct InstrumentIntent {
  /// Resting post-only quotes; qty 0 = no order on that side. quote = false cancels both.
  bool quote = false;
  std::int64_t bid_px = 0, bid_qty = 0, ask_px = 0, ask_qty = 0;
  /// Target position in lots, reached with IOC orders at the opposite touch (taker).
  bool has_target = false;
  std::int64_t target = 0;
};

struct Intent {
  InstrumentIntent inst[kMaxInstruments];
};

/// A strategy is called at every END event inside the window and fills in its intent.
template <class S>
concept Strategy = requires(S& s, const MarketView& v, Intent& out) {
  s.on_market(v, out);
};

/// A change of the strategy's working quote on one side, when it was decided (local time): a new
/// price (and size) or, with qty 0, no quote on that side any more. For plots of what was quoted.
struct QuoteChange {
  std::int64_t local_ts;
  std::uint16_t instrument;
  std::int8_t side;      ///< +1 bid, -1 ask
  std::int64_t px, qty;  ///< ticks, lots; qty 0: withdrawn
};

struct Fill {
  std::int64_t local_ts;  ///< when the strategy learns of it (exch_ts + response latency)
  std::int64_t exch_ts;   ///< when it happened at the exchange
  std::uint64_t order_id;
  std::uint16_t instrument;
  std::int8_t side;  ///< +1 buy, -1 sell
  bool maker;
  std::int64_t px, qty;  ///< ticks, lots
  double fee;            ///< quote currency, negative for a rebate
};

struct EquityPoint {
  std::int64_t ts;
  double equity, pnl, gross_notional;
  std::int64_t position0;
  double mid0;  ///< instrument 0's mid in price units (ticks * tick_size), 0 when one-sided
};

struct Summary {
  std::uint64_t events, strategy_calls, orders, cancels, fills, orders_filled, risk_rejects,
      post_only_rejects;
  double pnl, fees, turnover, sharpe, sortino, max_drawdown, fill_ratio, max_leverage, seconds,
      events_per_s;
  std::int64_t entry_latency_ns_median, response_latency_ns_median;
  std::uint64_t return_bars;     ///< whole bars behind sharpe and sortino
  std::uint64_t quotes_dropped;  ///< quote changes beyond kMaxQuoteChanges, not recorded
  bool annualised;               ///< false: sharpe and sortino are per bar of Config::bar_ns
};

struct Result {
  Summary summary;
  std::vector<Fill> fills;
  std::vector<QuoteChange>
      quotes;  ///< capped at kMaxQuoteChanges (summary.quotes_dropped counts the rest)
  std::vector<EquityPoint> equity;
  std::array<std::uint64_t, hft::trading::kRiskDecisionCount> risk_decisions;
};

}  // namespace hft::backtest
