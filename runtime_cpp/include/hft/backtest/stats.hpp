// Summary statistics of a sampled equity curve (definitions in README.md, "Summary").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "hft/backtest/types.hpp"

namespace hft::backtest {

/// A run must span at least this much local time before its Sharpe and Sortino are annualised;
/// shorter runs report the per-bar figures (a 6-minute run annualised to -560 says nothing).
inline constexpr std::int64_t kAnnualiseMinSpanNs = 86'400'000'000'000;
inline constexpr double kYearNs = 365.0 * 86'400.0 * 1e9;

struct CurveStats {
  double sharpe = 0.0, sortino = 0.0, max_drawdown = 0.0;
  std::uint64_t bars = 0;   ///< whole bars whose returns entered Sharpe and Sortino
  bool annualised = false;  ///< false: Sharpe and Sortino are per bar
};

/// Sharpe and Sortino of the equity changes over whole bars of `bar_ns` local time from the first
/// point (the equity at a bar's close is the last sample at or before it; a trailing partial bar
/// is left out), annualised with sqrt(bars per 365-day year) when the bars span at least
/// kAnnualiseMinSpanNs and per bar otherwise. Sharpe uses the sample standard deviation (n - 1),
/// Sortino the downside deviation sqrt(sum(min(d, 0)^2) / n) with target 0. Each is 0 when
/// undefined: fewer than two bars, or a zero deviation. `max_drawdown` is the peak-to-trough
/// decline over the samples (the engine also tracks it on every equity change).
inline CurveStats curve_stats(std::span<const EquityPoint> eq, std::int64_t bar_ns) noexcept {
  CurveStats st;
  if (eq.empty()) return st;
  double peak = eq.front().equity;
  for (const EquityPoint& p : eq) {
    peak = std::max(peak, p.equity);
    st.max_drawdown = std::max(st.max_drawdown, peak - p.equity);
  }
  if (bar_ns <= 0) return st;
  // Welford's running mean and variance of the bar returns: no allocation, one pass.
  double mean = 0.0, m2 = 0.0, down = 0.0, prev_close = eq.front().equity, last = prev_close;
  std::int64_t next_close = eq.front().ts + bar_ns;
  const auto close_bar = [&](double close) {
    const double d = close - prev_close;
    prev_close = close;
    ++st.bars;
    const double delta = d - mean;
    mean += delta / static_cast<double>(st.bars);
    m2 += delta * (d - mean);
    down += d < 0.0 ? d * d : 0.0;
    next_close += bar_ns;
  };
  for (std::size_t i = 1; i < eq.size(); ++i) {
    while (eq[i].ts > next_close) close_bar(last);
    last = eq[i].equity;
    if (eq[i].ts == next_close) close_bar(last);
  }
  if (st.bars < 2) return st;
  const double sd = std::sqrt(m2 / static_cast<double>(st.bars - 1));
  const double dd = std::sqrt(down / static_cast<double>(st.bars));
  const double span = static_cast<double>(st.bars) * static_cast<double>(bar_ns);
  st.annualised = span >= static_cast<double>(kAnnualiseMinSpanNs);
  const double scale = st.annualised ? std::sqrt(kYearNs / static_cast<double>(bar_ns)) : 1.0;
  if (sd > 0.0) st.sharpe = mean / sd * scale;
  if (dd > 0.0) st.sortino = mean / dd * scale;
  return st;
}

}  // namespace hft::backtest
