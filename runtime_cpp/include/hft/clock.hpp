// Cycle-counter clock: raw TSC reads for timestamps on the hot path, converted to
// nanoseconds off the hot path with a calibrated fixed-point multiplier.
//
//   const auto clk = hft::TscClock::calibrate();       // once, at start-up (~20 ms)
//   const auto t0 = hft::TscClock::start();
//   work();
//   const auto ns = clk.to_ns(hft::TscClock::stop() - t0);
//
// On targets without an invariant TSC the same API is backed by CLOCK_MONOTONIC in
// nanoseconds (one tick = 1 ns), so code stays portable.
#pragma once

#include <time.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define HFT_CLOCK_TSC 1
#else
#define HFT_CLOCK_TSC 0
#endif

namespace hft {

/// Nanoseconds from CLOCK_MONOTONIC.
inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

namespace clock_detail {
// __extension__ keeps -Wpedantic quiet about the (GCC/Clang) 128-bit integer.
__extension__ typedef unsigned __int128 u128;
}  // namespace clock_detail

class TscClock {
 public:
  /// A fixed-point factor: value = mult / 2^shift. The shift is chosen per factor so that
  /// mult uses all 64 bits (relative precision ~2^-64); with the 128-bit product the
  /// conversion cannot overflow for any 64-bit input.
  struct Fixed {
    std::uint64_t mult;
    unsigned shift;
  };

  /// True when ticks come from the CPU's time-stamp counter (x86).
  static constexpr bool uses_tsc() noexcept { return HFT_CLOCK_TSC != 0; }

  /// True when the CPU advertises an invariant TSC (constant rate in all P/C-states,
  /// CPUID 0x80000007 EDX bit 8). Always true for the monotonic fallback.
  static bool invariant() noexcept {
#if HFT_CLOCK_TSC
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0x80000007u, &a, &b, &c, &d) == 0) return false;
    return (d & (1u << 8)) != 0;
#else
    return true;
#endif
  }

  /// Raw, unordered read: cheapest, but the CPU may execute it before earlier or after
  /// later instructions. Good for coarse timestamps (e.g. stamping a message).
  static std::uint64_t now() noexcept {
#if HFT_CLOCK_TSC
    return __rdtsc();
#else
    return monotonic_ns();
#endif
  }

  /// Start of a measured interval: the first lfence waits until all earlier instructions
  /// have completed locally, the second keeps the timed code from starting before rdtsc.
  static std::uint64_t start() noexcept {
#if HFT_CLOCK_TSC
    _mm_lfence();
    const std::uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return monotonic_ns();
#endif
  }

  /// End of a measured interval: rdtscp waits for all earlier instructions to execute
  /// before reading; the trailing lfence keeps later instructions from starting early.
  static std::uint64_t stop() noexcept {
#if HFT_CLOCK_TSC
    unsigned aux = 0;
    const std::uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
#else
    return monotonic_ns();
#endif
  }

  /// Measures the tick rate against CLOCK_MONOTONIC over `window`. Each endpoint is the
  /// tightest of several (monotonic, tsc, monotonic) brackets, so a preemption in the
  /// middle of a sample does not skew the result.
  static TscClock calibrate(std::chrono::nanoseconds window = std::chrono::milliseconds(20)) {
#if HFT_CLOCK_TSC
    const Sample a = sample();
    std::this_thread::sleep_for(window);
    Sample b = sample();
    while (b.ns <= a.ns) b = sample();  // window of 0: still need a non-empty interval
    return TscClock(b.ticks - a.ticks, b.ns - a.ns, a.ticks, a.ns);
#else
    (void)window;
    const std::uint64_t t = monotonic_ns();
    return TscClock(1, 1, t, t);
#endif
  }

  /// Builds a clock from a known rate: `ticks` ticks take `ns` nanoseconds.
  static TscClock from_rate(std::uint64_t ticks, std::uint64_t ns) noexcept {
    return TscClock(ticks, ns, now(), monotonic_ns());
  }

  /// Tick interval to nanoseconds (rounded down): one 64x64->128 multiply and a shift.
  std::uint64_t to_ns(std::uint64_t ticks) const noexcept { return apply(ns_per_tick_, ticks); }
  /// Nanoseconds to a tick interval (e.g. for a deadline compared against now()).
  std::uint64_t to_ticks(std::uint64_t ns) const noexcept { return apply(ticks_per_ns_, ns); }
  /// Current CLOCK_MONOTONIC-compatible time, from a TSC read plus the calibration anchor.
  std::uint64_t now_ns() const noexcept {
    const std::uint64_t t = now();
    return t >= anchor_ticks_ ? anchor_ns_ + to_ns(t - anchor_ticks_)
                              : anchor_ns_ - to_ns(anchor_ticks_ - t);
  }

  double ticks_per_ns() const noexcept {
    return static_cast<double>(ticks_per_ns_.mult) /
           std::ldexp(1.0, static_cast<int>(ticks_per_ns_.shift));
  }
  /// The fixed-point factors, for code that wants to inline the conversion.
  Fixed ns_per_tick_fixed() const noexcept { return ns_per_tick_; }
  Fixed ticks_per_ns_fixed() const noexcept { return ticks_per_ns_; }

 private:
  struct Sample {
    std::uint64_t ticks;
    std::uint64_t ns;
  };

  TscClock(std::uint64_t ticks, std::uint64_t ns, std::uint64_t anchor_ticks,
           std::uint64_t anchor_ns) noexcept
      : ns_per_tick_(ratio(ns, ticks)),
        ticks_per_ns_(ratio(ticks, ns)),
        anchor_ticks_(anchor_ticks),
        anchor_ns_(anchor_ns) {}

  static std::uint64_t apply(Fixed f, std::uint64_t v) noexcept {
    return static_cast<std::uint64_t>((static_cast<clock_detail::u128>(v) * f.mult) >> f.shift);
  }

  // num / den as mult / 2^shift, rounded to nearest, with mult in [2^63, 2^64) whenever
  // the ratio allows (i.e. unless num / den >= 2^63).
  static Fixed ratio(std::uint64_t num, std::uint64_t den) noexcept {
    if (den == 0) den = 1;
    if (num == 0) return Fixed{0, 0};
    const int max_shift = 128 - std::bit_width(num);  // keeps num << shift within 128 bits
    int shift = 64 + std::bit_width(den) - std::bit_width(num);  // q lands in [2^63, 2^65)
    shift = std::clamp(shift, 0, max_shift);
    for (;; --shift) {
      const clock_detail::u128 q =
          ((static_cast<clock_detail::u128>(num) << shift) + den / 2) / den;
      if ((q >> 64) == 0 || shift == 0) {
        return Fixed{static_cast<std::uint64_t>(q), static_cast<unsigned>(shift)};
      }
    }
  }

#if HFT_CLOCK_TSC
  static Sample sample() noexcept {
    Sample best{0, 0};
    std::uint64_t best_gap = UINT64_MAX;
    for (int i = 0; i < 16; ++i) {
      const std::uint64_t n0 = monotonic_ns();
      const std::uint64_t t = start();
      const std::uint64_t n1 = monotonic_ns();
      if (n1 - n0 < best_gap) {
        best_gap = n1 - n0;
        best = Sample{t, n0 + (n1 - n0) / 2};
      }
    }
    return best;
  }
#endif

  Fixed ns_per_tick_;
  Fixed ticks_per_ns_;
  std::uint64_t anchor_ticks_;
  std::uint64_t anchor_ns_;
};

}  // namespace hft
