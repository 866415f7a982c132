// The simulated exchange's matching rules, one order at a time: queue position, fills of a
// resting order by trades and by a book that moves through it, the post-only check and the IOC
// walk. The backtest engine (engine.hpp) applies them to its one quote per side; the venue
// (hft/venue/matcher.hpp) applies the same functions to every resting order of its sessions, so
// `hftc backtest` and `hftc venue` fill an order alike. The rules are specified in README.md
// ("The exchange").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hft/book/l2_book.hpp"

namespace hft::backtest {

/// An order resting in the simulated exchange book. Sides are 0 (bid/buy) and 1 (ask/sell).
struct Resting {
  std::uint64_t id = 0;
  std::int64_t px = 0, leaves = 0;
  std::int64_t since = 0;  // exchange time it arrived: earlier-stamped events never touch it
  double front = 0.0;      // queue ahead of us, lots
  double cum_trade = 0.0;  // trades at our price since the last depth update (probabilistic)
  bool filled = false;     // has had at least one fill
};

/// Queue models: how our queue-ahead (`front`) reacts to a depth change at our price.
struct RiskAverseQueue {
  static void depth(Resting& r, std::int64_t /*prev*/, std::int64_t now,
                    double /*power*/) noexcept {
    r.front = std::min(r.front, static_cast<double>(now));
  }
};

/// hftbacktest's ProbQueueModel with PowerProbQueueFunc: a decrease not explained by trades
/// since the last update is split between the queue ahead and behind us; the share behind is
/// p = f(back) / (f(back) + f(front)) with f(x) = x^power. Any excess of the behind share over
/// what is behind comes out of the front too; front never exceeds the level.
struct ProbabilisticQueue {
  static void depth(Resting& r, std::int64_t prev, std::int64_t now, double power) noexcept {
    const double chg = static_cast<double>(prev - now) - r.cum_trade;
    r.cum_trade = 0.0;
    const double level = static_cast<double>(now);
    if (chg <= 0.0) {
      r.front = std::min(r.front, level);
      return;
    }
    const double front = r.front;
    const double back = std::max(static_cast<double>(prev) - front, 0.0);
    const double fb = std::pow(back, power), ff = std::pow(front, power);
    double p = fb / (fb + ff);
    if (!std::isfinite(p)) p = 1.0;  // front = back = 0, or an overflowing power
    const double est = front - (1.0 - p) * chg + std::min(back - p * chg, 0.0);
    r.front = std::max(std::min(est, level), 0.0);
  }
};

namespace match {

constexpr Side side_of(unsigned s) noexcept { return s == 0 ? Side::Bid : Side::Ask; }

/// Post-only: a bid at or above the best ask (an ask at or below the best bid) would take
/// liquidity and is rejected instead.
inline bool post_only_crosses(const PriceLevelBook& book, unsigned side, std::int64_t px) noexcept {
  const auto opp = side == 0 ? book.best_ask() : book.best_bid();
  return opp && (side == 0 ? px >= opp->px : px <= opp->px);
}

/// An order arriving at exchange time `at` starts resting with the book's quantity at its price
/// ahead of it.
inline Resting rest(const PriceLevelBook& book, unsigned side, std::uint64_t id, std::int64_t px,
                    std::int64_t qty, std::int64_t at) noexcept {
  Resting r;
  r.id = id;
  r.px = px;
  r.leaves = qty;
  r.since = at;
  r.front = static_cast<double>(book.level_qty(side_of(side), px));
  return r;
}

/// Whether a depth row at (`side`, `px`) stamped `et` moves resting order `r` of that side; then
/// the queue model runs with the level's quantity before (`prev`) and after (`now`) the row.
inline bool depth_touches(const Resting& r, std::int64_t px, std::int64_t et) noexcept {
  return r.px == px && et >= r.since;
}

/// Lots of resting order `r` (side `side`) that the opposite book fills now: all of it when the
/// other side's best reaches its price (the market went through it), else 0.
inline std::int64_t crossed(const PriceLevelBook& book, unsigned side, const Resting& r,
                            std::int64_t et) noexcept {
  if (et < r.since) return 0;  // stamped before our order reached the exchange
  if (side == 0) {
    const auto a = book.best_ask();
    return a && a->px <= r.px ? r.leaves : 0;
  }
  const auto b = book.best_bid();
  return b && b->px >= r.px ? r.leaves : 0;
}

/// Lots of resting order `r` on side `side` that a trade at `px` of `qty` lots, whose aggressor
/// is on the other side, fills; moves its queue position. A trade stamped before the order
/// arrived cannot touch it; one through its price fills all of it; one at its price eats the
/// queue ahead first, and the excess fills it in whole lots.
inline std::int64_t trade_fill(Resting& r, unsigned side, std::int64_t px, std::int64_t qty,
                               std::int64_t et) noexcept {
  if (et < r.since) return 0;
  const bool through = side == 0 ? px < r.px : px > r.px;
  if (through) return r.leaves;
  if (px != r.px) return 0;
  r.front -= static_cast<double>(qty);
  r.cum_trade += static_cast<double>(qty);
  if (r.front >= 0.0) return 0;
  // The part of the trade beyond the queue ahead executes against us, whole lots only.
  const auto excess = static_cast<std::int64_t>(std::floor(-r.front + 1e-9));
  r.front = 0.0;
  return excess > 0 ? std::min(excess, r.leaves) : 0;
}

/// An IOC (or the marketable part of a limit order) on `side` up to `limit`: walks the opposite
/// side from its best, tick by tick, calling `exec(px, lots, last)` for `min(level, remaining)`
/// at each level (`last`: nothing remains after it). The book is not depleted by our executions
/// (the data knows nothing of them; README.md). Returns the lots left unfilled.
template <class Exec>
std::int64_t ioc_walk(const PriceLevelBook& book, unsigned side, std::int64_t limit,
                      std::int64_t qty, Exec&& exec) {
  const Side opp = side_of(side ^ 1);
  const auto best = side == 0 ? book.best_ask() : book.best_bid();
  std::int64_t left = qty;
  if (!best) return left;
  const std::int64_t step = side == 0 ? 1 : -1;
  const auto cap = static_cast<std::int64_t>(book.capacity_ticks());
  std::int64_t px = best->px;
  for (std::int64_t n = 0; left > 0 && n < cap && (side == 0 ? px <= limit : px >= limit);
       ++n, px += step) {
    const std::int64_t lvl = book.level_qty(opp, px);
    if (lvl == 0) continue;
    const std::int64_t x = std::min(lvl, left);
    left -= x;
    exec(px, x, left == 0);
  }
  return left;
}

}  // namespace match

}  // namespace hft::backtest
