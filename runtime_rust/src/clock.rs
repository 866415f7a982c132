//! Cheap timestamps: the x86-64 time-stamp counter, calibrated against the
//! monotonic clock, with a portable `Instant` fallback.
//!
//! Reading the TSC (`rdtsc`) costs a few nanoseconds and needs no system call,
//! which is why hot paths timestamp in *ticks* and convert to nanoseconds only
//! when reporting. Conversion is a fixed-point multiply and shift,
//! `ns = (ticks * mult) >> SHIFT`, computed in 128 bits so it cannot overflow;
//! `mult` is derived once from a calibration window measured with both the TSC
//! and [`Instant`].
//!
//! The TSC source is used only on x86-64 and, by default, only when the CPU
//! reports an *invariant* TSC (constant rate across P-/C-states and the same on
//! all cores); otherwise [`TscClock::new`] falls back to [`Instant`], whose
//! ticks are nanoseconds since a process-wide epoch (`mult = 1 << SHIFT`).
//!
//! `rdtsc` is not a serialising instruction: the CPU may execute it slightly
//! before or after neighbouring instructions. That is fine for latency
//! histograms at the tens-of-nanoseconds scale this runtime targets.

#![deny(unsafe_code)]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Fixed-point fraction bits of the ticks→ns multiplier.
pub const SHIFT: u32 = 32;

/// Where ticks come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSource {
    /// The x86-64 time-stamp counter.
    Tsc,
    /// `std::time::Instant` (nanoseconds since a process-wide epoch).
    Monotonic,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn monotonic_ticks() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline(always)]
fn tsc_ticks() -> u64 {
    // SAFETY: `rdtsc` is part of the x86-64 baseline, has no memory effects and
    // no preconditions; the intrinsic is `unsafe` only by convention.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn tsc_ticks() -> u64 {
    monotonic_ticks()
}

/// Whether this CPU has an invariant TSC (CPUID leaf 0x8000_0007, EDX bit 8).
pub fn has_invariant_tsc() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::__cpuid;
        let max_ext = __cpuid(0x8000_0000).eax;
        max_ext >= 0x8000_0007 && (__cpuid(0x8000_0007).edx >> 8) & 1 == 1
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Reads `Instant` and the TSC "at the same time": each `Instant` read is
/// bracketed by two TSC reads and the midpoint is used; of several attempts the
/// one with the narrowest bracket wins, so a preemption or interrupt between
/// the reads (common on shared machines) does not skew the pair.
fn paired_sample() -> (Instant, u64) {
    let mut best_width = u64::MAX;
    let mut best = (Instant::now(), 0);
    for _ in 0..8 {
        let a = tsc_ticks();
        let i = Instant::now();
        let b = tsc_ticks();
        let width = b.wrapping_sub(a);
        if width < best_width {
            best_width = width;
            best = (i, a.wrapping_add(width / 2));
        }
    }
    best
}

/// A calibrated tick source with a fixed-point ticks→nanoseconds conversion.
#[derive(Debug, Clone, Copy)]
pub struct TscClock {
    source: ClockSource,
    mult: u64,
    base_ticks: u64,
}

impl TscClock {
    /// Default calibration window.
    pub const DEFAULT_CALIBRATION: Duration = Duration::from_millis(20);

    /// The TSC if it is invariant (calibrated for
    /// [`DEFAULT_CALIBRATION`](Self::DEFAULT_CALIBRATION)), else the monotonic
    /// clock.
    pub fn new() -> Self {
        if cfg!(target_arch = "x86_64") && has_invariant_tsc() {
            Self::with_source(ClockSource::Tsc, Self::DEFAULT_CALIBRATION)
        } else {
            Self::with_source(ClockSource::Monotonic, Duration::ZERO)
        }
    }

    /// A clock on `source`; a TSC clock is calibrated by busy-waiting for
    /// `calibration` (longer is more precise: the error is roughly the
    /// `Instant` read jitter divided by the window). Requesting
    /// [`ClockSource::Tsc`] off x86-64 yields a monotonic clock.
    pub fn with_source(source: ClockSource, calibration: Duration) -> Self {
        if source == ClockSource::Monotonic || !cfg!(target_arch = "x86_64") {
            return TscClock {
                source: ClockSource::Monotonic,
                mult: 1u64 << SHIFT,
                base_ticks: monotonic_ticks(),
            };
        }
        let calibration = calibration.max(Duration::from_millis(1));
        let (i0, t0) = paired_sample();
        let mut i1;
        let mut t1;
        loop {
            (i1, t1) = paired_sample();
            if i1.duration_since(i0) >= calibration {
                break;
            }
            std::hint::spin_loop();
        }
        let ns = i1.duration_since(i0).as_nanos();
        let ticks = u128::from(t1.wrapping_sub(t0).max(1));
        let mult = u64::try_from((ns << SHIFT) / ticks).unwrap_or(u64::MAX);
        TscClock {
            source: ClockSource::Tsc,
            mult,
            base_ticks: t0,
        }
    }

    /// The tick source in use.
    pub fn source(&self) -> ClockSource {
        self.source
    }

    /// The fixed-point multiplier: nanoseconds per tick times `2^SHIFT`.
    pub fn mult(&self) -> u64 {
        self.mult
    }

    /// Ticks per second implied by the calibration.
    pub fn ticks_per_second(&self) -> f64 {
        1e9 * (1u64 << SHIFT) as f64 / self.mult as f64
    }

    /// Current raw tick count (not ordered with respect to surrounding
    /// instructions; see the module docs).
    #[inline(always)]
    pub fn now_ticks(&self) -> u64 {
        match self.source {
            ClockSource::Tsc => tsc_ticks(),
            ClockSource::Monotonic => monotonic_ticks(),
        }
    }

    /// Converts a tick *interval* to nanoseconds: `(ticks * mult) >> SHIFT`.
    #[inline(always)]
    pub fn ticks_to_ns(&self, ticks: u64) -> u64 {
        let ns = (u128::from(ticks) * u128::from(self.mult)) >> SHIFT;
        u64::try_from(ns).unwrap_or(u64::MAX)
    }

    /// Nanoseconds between two readings of [`now_ticks`](Self::now_ticks)
    /// (0 if `end` precedes `start`).
    #[inline(always)]
    pub fn elapsed_ns(&self, start: u64, end: u64) -> u64 {
        if end <= start {
            0
        } else {
            self.ticks_to_ns(end - start)
        }
    }

    /// Nanoseconds since this clock was created.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.elapsed_ns(self.base_ticks, self.now_ticks())
    }
}

impl Default for TscClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_fallback_is_identity() {
        let c = TscClock::with_source(ClockSource::Monotonic, Duration::ZERO);
        assert_eq!(c.source(), ClockSource::Monotonic);
        assert_eq!(c.ticks_to_ns(123_456_789), 123_456_789);
        assert_eq!(c.ticks_to_ns(u64::MAX), u64::MAX);
        let a = c.now_ticks();
        std::thread::sleep(Duration::from_millis(2));
        let b = c.now_ticks();
        assert!(c.elapsed_ns(a, b) >= 2_000_000);
        assert_eq!(c.elapsed_ns(b, a), 0);
    }

    #[test]
    fn fixed_point_conversion() {
        // 0.25 ns per tick (a 4 GHz counter).
        let c = TscClock {
            source: ClockSource::Tsc,
            mult: 1u64 << (SHIFT - 2),
            base_ticks: 0,
        };
        assert_eq!(c.ticks_to_ns(4_000_000_000), 1_000_000_000);
        assert!((c.ticks_per_second() - 4e9).abs() < 1.0);
        // No overflow for huge intervals.
        assert_eq!(c.ticks_to_ns(u64::MAX), u64::MAX >> 2);
    }

    #[test]
    fn calibrated_clock_tracks_instant() {
        let c = TscClock::with_source(ClockSource::Tsc, Duration::from_millis(20));
        if cfg!(target_arch = "x86_64") {
            assert_eq!(c.source(), ClockSource::Tsc);
        }
        // Measure a 100 ms spin with both clocks, using paired samples so that a
        // preemption between reads does not count against the TSC.
        let (i0, t0) = paired_sample();
        while i0.elapsed() < Duration::from_millis(100) {
            std::hint::spin_loop();
        }
        let (i1, t1) = paired_sample();
        let wall = i1.duration_since(i0).as_nanos() as f64;
        let measured = c.elapsed_ns(t0, t1) as f64;
        // Generous bound: this runs on shared, noisy machines.
        let rel = (measured - wall).abs() / wall;
        assert!(rel < 0.05, "clock off by {:.2}%", rel * 100.0);
        assert!(c.now_ns() > 0);
    }

    #[test]
    fn default_clock_works() {
        let c = TscClock::default();
        let a = c.now_ns();
        let b = c.now_ns();
        assert!(b >= a);
    }
}
