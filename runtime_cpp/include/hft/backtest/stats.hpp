// Summary statistics of a sampled equity curve (definitions in README.md, "Summary").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "hft/backtest/types.hpp"

namespace hft::backtest {

struct CurveStats {
  double sharpe = 0.0, sortino = 0.0, max_drawdown = 0.0;
};

/// Max drawdown (peak-to-trough decline in quote currency, >= 0) over the curve; Sharpe and
/// Sortino over its per-sample equity changes, annualised with sqrt(samples per 365-day year) for
/// samples `sample_ns` apart. Sharpe uses the sample standard deviation (n - 1), Sortino the
/// downside deviation sqrt(sum(min(d, 0)^2) / n) with target 0. Each is 0 when undefined: fewer
/// than two changes, or a zero deviation.
inline CurveStats curve_stats(std::span<const EquityPoint> eq, std::int64_t sample_ns) noexcept {
  CurveStats st;
  double peak = eq.empty() ? 0.0 : eq.front().equity;
  for (const EquityPoint& p : eq) {
    peak = std::max(peak, p.equity);
    st.max_drawdown = std::max(st.max_drawdown, peak - p.equity);
  }
  const std::size_t n = eq.size() < 2 ? 0 : eq.size() - 1;
  if (n < 2 || sample_ns <= 0) return st;
  double sum = 0.0;
  for (std::size_t i = 1; i < eq.size(); ++i) sum += eq[i].equity - eq[i - 1].equity;
  const double mean = sum / static_cast<double>(n);
  double var = 0.0, down = 0.0;
  for (std::size_t i = 1; i < eq.size(); ++i) {
    const double d = eq[i].equity - eq[i - 1].equity;
    var += (d - mean) * (d - mean);
    down += d < 0.0 ? d * d : 0.0;
  }
  const double sd = std::sqrt(var / static_cast<double>(n - 1));
  const double dd = std::sqrt(down / static_cast<double>(n));
  const double annual = std::sqrt(365.0 * 86'400.0 * 1e9 / static_cast<double>(sample_ns));
  if (sd > 0.0) st.sharpe = mean / sd * annual;
  if (dd > 0.0) st.sortino = mean / dd * annual;
  return st;
}

}  // namespace hft::backtest
