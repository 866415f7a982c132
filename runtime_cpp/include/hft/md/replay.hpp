// Pieces shared by everything that turns a tape (.hftt) into market-data messages: the exact
// conversion of the tape's integer ticks/lots to a schema grid's, the mapping of the tape's
// instruments onto an engine's by symbol, replay pacing, and a rate-limited log.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hft/backtest/tape.hpp"

namespace hft::md {

/// Converts whole steps of a tape (a double step size such as 0.01 or 1e-8, written from a decimal
/// string) into whole steps of Num/Den, exactly: steps * kMul / kDiv, refused when not whole.
class StepScale {
 public:
  StepScale() = default;

  /// Throws std::invalid_argument when `tape_step` is not a decimal with at most 15 places.
  StepScale(double tape_step, std::int64_t num, std::int64_t den) {
    i128 mant = 0;
    int places = -1;
    // Up to 15 places, where a double still holds every integer of the scaled value exactly.
    for (int k = 0; k <= 15; ++k) {
      const double scaled = tape_step * std::pow(10.0, k);
      const double rounded = std::round(scaled);
      if (rounded >= 1.0 && std::fabs(scaled - rounded) <= 1e-6) {
        mant = static_cast<i128>(rounded);
        places = k;
        break;
      }
    }
    if (places < 0 || num <= 0 || den <= 0) {
      throw std::invalid_argument("step " + std::to_string(tape_step) +
                                  " is not a decimal with at most 15 places");
    }
    i128 p10 = 1;
    for (int k = 0; k < places; ++k) p10 *= 10;
    // tape value = steps * mant / 10^places; schema steps = value * den / num.
    i128 mul = mant * den;
    i128 div = p10 * num;
    const i128 g = gcd(mul, div);
    mul_ = mul / g;
    div_ = div / g;
  }

  /// False when the value is not a whole number of target steps or does not fit 64 bits.
  bool convert(std::int64_t tape_steps, std::int64_t& out) const noexcept {
    const i128 x = static_cast<i128>(tape_steps) * mul_;
    if (div_ != 1 && x % div_ != 0) return false;
    const i128 r = div_ == 1 ? x : x / div_;
    if (r > std::numeric_limits<std::int64_t>::max() ||
        r < std::numeric_limits<std::int64_t>::min()) {
      return false;
    }
    out = static_cast<std::int64_t>(r);
    return true;
  }

  /// True when one tape step is a whole number of target steps (every value converts).
  bool exact() const noexcept { return div_ == 1; }

 private:
  __extension__ typedef __int128 i128;  // __extension__: no -Wpedantic noise

  static i128 gcd(i128 a, i128 b) noexcept {
    while (b != 0) {
      const i128 t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  i128 mul_ = 1;
  i128 div_ = 1;
};

/// Which engine instrument each tape instrument feeds, and its price/quantity scales.
struct InstrumentMap {
  static constexpr std::uint32_t kUnmapped = 0xFFFFFFFFu;
  std::vector<std::uint32_t> engine;  ///< per tape instrument: engine index or kUnmapped
  std::vector<StepScale> px, qty;     ///< per tape instrument
  std::vector<std::string> notes;     ///< how the mapping was made, for the log

  /// Tape instruments are matched to `names` by symbol (case-sensitive). When no symbol matches,
  /// tape instrument i feeds engine instrument i (for the first min(n, names) of them) and a note
  /// says so. Throws std::runtime_error when nothing can be mapped or a step is unusable.
  template <class Names>
  static InstrumentMap build(const hft::backtest::Tape& tape, const Names& names,
                             std::int64_t tick_num, std::int64_t tick_den, std::int64_t lot_num,
                             std::int64_t lot_den) {
    InstrumentMap m;
    const std::size_t n = tape.instruments();
    m.engine.assign(n, kUnmapped);
    bool any = false;
    for (std::size_t t = 0; t < n; ++t) {
      for (std::size_t e = 0; e < names.size(); ++e) {
        if (std::string_view(names[e]) == tape.instrument(t).symbol) {
          m.engine[t] = static_cast<std::uint32_t>(e);
          any = true;
        }
      }
    }
    if (!any) {
      for (std::size_t t = 0; t < n && t < names.size(); ++t) {
        m.engine[t] = static_cast<std::uint32_t>(t);
        m.notes.push_back("no tape symbol matches the engine's instruments: tape instrument '" +
                          tape.instrument(t).symbol + "' feeds '" + std::string(names[t]) + "'");
      }
    }
    for (std::size_t t = 0; t < n; ++t) {
      if (m.engine[t] == kUnmapped) {
        m.notes.push_back("tape instrument '" + tape.instrument(t).symbol +
                          "' is not an engine instrument: its events are skipped");
      }
      const auto& info = tape.instrument(t);
      try {
        m.px.emplace_back(info.tick_size, tick_num, tick_den);
        m.qty.emplace_back(info.lot_size, lot_num, lot_den);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(tape.path() + ": instrument '" + info.symbol + "': " + e.what());
      }
      if (m.engine[t] != kUnmapped && !m.px.back().exact()) {
        m.notes.push_back(
            "tape instrument '" + info.symbol +
            "' has a finer tick than the engine's book: prices off its grid are skipped");
      }
    }
    return m;
  }
};

/// Replay speed: the tape's local timestamps, compressed by `speed`; speed 0 = as fast as possible.
class Pacer {
 public:
  Pacer(double speed, std::int64_t first_local_ts) noexcept
      : speed_(speed), first_(first_local_ts), start_(std::chrono::steady_clock::now()) {}

  /// As wait(), calling idle() while it waits and sleeping at most 200 us at a time in between,
  /// so other work on the thread (an order-entry session) keeps being served.
  template <class StopFlag, class Idle>
  bool wait(std::int64_t local_ts, const StopFlag& stop, Idle&& idle) const {
    if (speed_ <= 0) return true;
    const double offset_ns = static_cast<double>(local_ts - first_) / speed_;
    const auto due = start_ + std::chrono::nanoseconds(static_cast<std::int64_t>(offset_ns));
    for (;;) {
      if (stop != 0) return false;
      if (std::chrono::steady_clock::now() >= due) return true;
      idle();
      const auto left = due - std::chrono::steady_clock::now();
      if (left > std::chrono::microseconds(300)) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
  }

  /// Waits until the event stamped `local_ts` is due. Sleeps while the wait is long and spins the
  /// last 100 us. Returns early (false) when `stop` becomes non-zero.
  template <class StopFlag>
  bool wait(std::int64_t local_ts, const StopFlag& stop) const {
    if (speed_ <= 0) return true;
    const double offset_ns = static_cast<double>(local_ts - first_) / speed_;
    const auto due = start_ + std::chrono::nanoseconds(static_cast<std::int64_t>(offset_ns));
    for (;;) {
      if (stop != 0) return false;
      const auto now = std::chrono::steady_clock::now();
      if (now >= due) return true;
      const auto left = due - now;
      if (left > std::chrono::microseconds(200)) {
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            left - std::chrono::microseconds(100), std::chrono::milliseconds(50)));
      }
    }
  }

 private:
  double speed_;
  std::int64_t first_;
  std::chrono::steady_clock::time_point start_;
};

/// Parses a --speed value: a positive number, or `max` (returned as 0).
inline std::optional<double> parse_speed(std::string_view s) noexcept {
  if (s == "max") return 0.0;
  std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(v > 0) || !std::isfinite(v)) return std::nullopt;
  return v;
}

/// At most one line per `period` per key; lines suppressed in between are counted and reported
/// with the next line of that key. Not thread-safe: one per thread.
template <std::size_t Keys>
class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::FILE* out = stderr,
                          std::chrono::steady_clock::duration period = std::chrono::seconds(1))
      : out_(out), period_(period) {}

  __attribute__((format(printf, 3, 4))) void log(std::size_t key, const char* fmt, ...) {
    const auto now = std::chrono::steady_clock::now();
    Slot& s = slots_[key < Keys ? key : Keys - 1];
    if (s.printed && now - s.last < period_) {
      ++s.suppressed;
      return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s.suppressed > 0) {
      std::fprintf(out_, "%s (and %llu more like it)\n", line,
                   static_cast<unsigned long long>(s.suppressed));
    } else {
      std::fprintf(out_, "%s\n", line);
    }
    s.printed = true;
    s.last = now;
    s.suppressed = 0;
  }

 private:
  struct Slot {
    bool printed = false;
    std::chrono::steady_clock::time_point last{};
    std::uint64_t suppressed = 0;
  };
  std::FILE* out_;
  std::chrono::steady_clock::duration period_;
  Slot slots_[Keys];
};

}  // namespace hft::md
