//! CPU pinning and a spin-then-yield wait helper.
//!
//! Pinning uses the Linux `sched_setaffinity` / `sched_getaffinity` system call
//! wrappers from the C library, declared here directly (no `libc` crate). The
//! kernel's `cpu_set_t` is a 1024-bit mask; [`CpuSet`] mirrors it as
//! `[u64; 16]`. On other platforms the pinning functions return
//! [`io::ErrorKind::Unsupported`].
//!
//! [`SpinWait`] is the back-off used by the rings' blocking helpers: it spins
//! with `spin_loop` hints (cheap, keeps the core hot, lowest wake-up latency)
//! for a bounded number of rounds and then falls back to `yield_now`, so that a
//! waiter on an oversubscribed machine still lets the other side run.

#![deny(unsafe_code)]

use std::fmt;
use std::io;
use std::time::{Duration, Instant};

/// Number of CPUs representable in a [`CpuSet`] (the glibc `CPU_SETSIZE`).
pub const MAX_CPUS: usize = 1024;

/// A set of CPU indices with the same layout as the C library's `cpu_set_t`.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct CpuSet {
    bits: [u64; MAX_CPUS / 64],
}

impl CpuSet {
    /// The empty set.
    pub const fn new() -> Self {
        CpuSet {
            bits: [0; MAX_CPUS / 64],
        }
    }

    /// A set holding exactly `cpu`.
    ///
    /// # Panics
    /// If `cpu >= MAX_CPUS`.
    pub fn single(cpu: usize) -> Self {
        let mut s = Self::new();
        s.insert(cpu);
        s
    }

    /// Adds `cpu`.
    ///
    /// # Panics
    /// If `cpu >= MAX_CPUS`.
    pub fn insert(&mut self, cpu: usize) {
        assert!(cpu < MAX_CPUS, "cpu index {cpu} >= {MAX_CPUS}");
        self.bits[cpu / 64] |= 1u64 << (cpu % 64);
    }

    /// Removes `cpu` (no-op when out of range or absent).
    pub fn remove(&mut self, cpu: usize) {
        if cpu < MAX_CPUS {
            self.bits[cpu / 64] &= !(1u64 << (cpu % 64));
        }
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: usize) -> bool {
        cpu < MAX_CPUS && self.bits[cpu / 64] & (1u64 << (cpu % 64)) != 0
    }

    /// Number of CPUs in the set.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// `true` when no CPU is in the set.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// The CPU indices in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_CPUS).filter(move |&c| self.contains(c))
    }
}

impl fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    use super::CpuSet;
    use std::io;

    // glibc / musl: `int sched_setaffinity(pid_t, size_t, const cpu_set_t *)`.
    unsafe extern "C" {
        fn sched_setaffinity(pid: i32, cpusetsize: usize, mask: *const CpuSet) -> i32;
        fn sched_getaffinity(pid: i32, cpusetsize: usize, mask: *mut CpuSet) -> i32;
    }

    pub fn set(set: &CpuSet) -> io::Result<()> {
        // SAFETY: `set` points to a live, properly aligned `CpuSet` whose size we
        // pass, matching the C `cpu_set_t` layout; pid 0 means the calling thread.
        // The kernel only reads the mask.
        let rc = unsafe { sched_setaffinity(0, std::mem::size_of::<CpuSet>(), set) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    pub fn get() -> io::Result<CpuSet> {
        let mut set = CpuSet::new();
        // SAFETY: `&mut set` is a valid, exclusive, writable buffer of exactly the
        // size passed; pid 0 means the calling thread.
        let rc = unsafe { sched_getaffinity(0, std::mem::size_of::<CpuSet>(), &mut set) };
        if rc == 0 {
            Ok(set)
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::CpuSet;
    use std::io;

    pub fn set(_set: &CpuSet) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "CPU affinity is only implemented on Linux",
        ))
    }

    pub fn get() -> io::Result<CpuSet> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "CPU affinity is only implemented on Linux",
        ))
    }
}

/// Restricts the calling thread to the CPUs in `set`.
pub fn set_current_thread_affinity(set: &CpuSet) -> io::Result<()> {
    if set.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty CPU set"));
    }
    sys::set(set)
}

/// The CPUs the calling thread may run on.
pub fn current_thread_affinity() -> io::Result<CpuSet> {
    sys::get()
}

/// Pins the calling thread to a single CPU.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= MAX_CPUS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cpu index {cpu} >= {MAX_CPUS}"),
        ));
    }
    set_current_thread_affinity(&CpuSet::single(cpu))
}

/// Spin-then-yield back-off for busy-wait loops.
///
/// Each call to [`spin`](SpinWait::spin) first issues an exponentially growing
/// burst of `spin_loop` hints (1, 2, 4, … up to `2^SPIN_LIMIT`), then, once the
/// spin budget is used up, yields the time slice instead. Call
/// [`reset`](SpinWait::reset) after making progress.
#[derive(Debug, Clone, Default)]
pub struct SpinWait {
    step: u32,
}

impl SpinWait {
    /// Spin rounds before switching to `yield_now`.
    pub const SPIN_LIMIT: u32 = 6;

    /// A fresh back-off.
    pub const fn new() -> Self {
        SpinWait { step: 0 }
    }

    /// Waits a little; longer (and eventually by yielding) on repeated calls.
    #[inline]
    pub fn spin(&mut self) {
        if self.step <= Self::SPIN_LIMIT {
            for _ in 0..(1u32 << self.step) {
                std::hint::spin_loop();
            }
            self.step += 1;
        } else {
            std::thread::yield_now();
        }
    }

    /// `true` once the back-off has moved on to yielding.
    pub fn is_yielding(&self) -> bool {
        self.step > Self::SPIN_LIMIT
    }

    /// Starts over with short spins (call after the awaited event happened).
    pub fn reset(&mut self) {
        self.step = 0;
    }
}

/// Busy-waits (spin, then yield) until `cond` returns `true` or `timeout`
/// elapses; returns whether the condition was met.
pub fn wait_until<F: FnMut() -> bool>(mut cond: F, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut wait = SpinWait::new();
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        wait.spin();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn cpuset_layout_matches_cpu_set_t() {
        assert_eq!(std::mem::size_of::<CpuSet>(), 128);
    }

    #[test]
    fn cpuset_ops() {
        let mut s = CpuSet::new();
        assert!(s.is_empty());
        s.insert(0);
        s.insert(65);
        s.insert(1023);
        assert!(s.contains(65) && s.contains(0) && s.contains(1023));
        assert!(!s.contains(1) && !s.contains(5000));
        assert_eq!(s.len(), 3);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 65, 1023]);
        s.remove(65);
        s.remove(5000);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 1023]);
        assert_eq!(format!("{s:?}"), "{0, 1023}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn pin_and_restore_in_a_thread() {
        std::thread::spawn(|| {
            let original = current_thread_affinity().unwrap();
            assert!(!original.is_empty());
            let cpu = original.iter().next().unwrap();
            pin_current_thread(cpu).unwrap();
            let now = current_thread_affinity().unwrap();
            assert_eq!(now, CpuSet::single(cpu));
            set_current_thread_affinity(&original).unwrap();
            assert_eq!(current_thread_affinity().unwrap(), original);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn rejects_bad_sets() {
        assert_eq!(
            set_current_thread_affinity(&CpuSet::new())
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            pin_current_thread(MAX_CPUS).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn spin_wait_escalates_and_resets() {
        let mut w = SpinWait::new();
        for _ in 0..=SpinWait::SPIN_LIMIT {
            assert!(!w.is_yielding());
            w.spin();
        }
        assert!(w.is_yielding());
        w.spin();
        w.reset();
        assert!(!w.is_yielding());
    }

    #[test]
    fn wait_until_sees_other_thread_and_times_out() {
        let flag = Arc::new(AtomicBool::new(false));
        let f2 = Arc::clone(&flag);
        let t = std::thread::spawn(move || f2.store(true, Ordering::Release));
        assert!(wait_until(
            || flag.load(Ordering::Acquire),
            Duration::from_secs(10)
        ));
        t.join().unwrap();
        assert!(!wait_until(|| false, Duration::from_millis(5)));
    }
}
