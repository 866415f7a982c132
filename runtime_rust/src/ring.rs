//! Bounded single-producer / single-consumer ring for `Copy` items.
//!
//! [`channel`] allocates the ring once and returns a [`Producer`] and a
//! [`Consumer`] handle. Neither handle is `Clone` and every mutating method takes
//! `&mut self`, so the type system guarantees there is exactly one pusher and one
//! popper; each handle is `Send` and can move to its own thread.
//!
//! # Design
//!
//! * `head` counts items ever pushed and is written only by the producer; `tail`
//!   counts items ever popped and is written only by the consumer. Both are
//!   free-running (wrapping) counters and a slot index is `counter & mask`, so the
//!   capacity must be a power of two and the full/empty test is a subtraction.
//! * The two shared counters each sit on their own 64-byte cache line
//!   ([`CachePadded`]), so the producer's stores never invalidate the line the
//!   consumer's counter lives on (no false sharing).
//! * Each handle keeps a private copy of its own counter plus a *cached* copy of
//!   the opposite one. The shared opposite counter is only re-read when the cache
//!   says "full" (producer) or "empty" (consumer), which keeps the hot path to
//!   one uncontended store per push or pop (per batch for the batch methods).
//! * Nothing is allocated after [`channel`] returns.
//!
//! # Memory ordering
//!
//! * Producer: write the slot, then `head.store(Release)`. Consumer:
//!   `head.load(Acquire)`, then read the slot. The release/acquire pair makes the
//!   slot write happen-before the slot read.
//! * Consumer: read the slot, then `tail.store(Release)`. Producer:
//!   `tail.load(Acquire)` before reusing the slot. This pair makes the consumer's
//!   read happen-before the producer's overwrite of the same slot.
//! * A handle never loads its *own* shared counter: it is the only writer, so
//!   its private copy is always current.

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Pads and aligns a value to a 64-byte cache line so that two of them never
/// share a line.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct CachePadded<T>(pub T);

impl<T> Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for CachePadded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// State shared by both handles.
struct Shared<T> {
    /// Items ever pushed (producer writes, release).
    head: CachePadded<AtomicUsize>,
    /// Items ever popped (consumer writes, release).
    tail: CachePadded<AtomicUsize>,
    /// `capacity` slots; a slot is initialised iff its sequence is in
    /// `[tail, head)`.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    mask: usize,
}

// SAFETY: slots are only accessed through the single `Producer` (sequences not
// yet published, i.e. in `[head, tail + capacity)`) and the single `Consumer`
// (sequences in `[tail, head)`); the two ranges are disjoint and hand-over is
// synchronised by the release/acquire protocol described in the module docs. The
// items themselves move between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    #[inline]
    fn slot_ptr(&self, seq: usize) -> *mut T {
        // `UnsafeCell<MaybeUninit<T>>` has the same layout as `T`.
        self.slots[seq & self.mask].get().cast::<T>()
    }

    #[inline]
    fn base_ptr(&self) -> *mut T {
        // `UnsafeCell::raw_get` turns the slice pointer into a `*mut` without
        // creating a reference to the cell contents.
        UnsafeCell::raw_get(self.slots.as_ptr()).cast::<T>()
    }

    #[inline]
    fn capacity(&self) -> usize {
        self.mask + 1
    }
}

/// Creates a ring holding up to `capacity` items and returns its two ends.
///
/// # Panics
/// If `capacity` is not a power of two or is smaller than 2.
pub fn channel<T: Copy + Send>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    assert!(
        capacity >= 2 && capacity.is_power_of_two(),
        "ring capacity must be a power of two >= 2, got {capacity}"
    );
    let slots: Box<[UnsafeCell<MaybeUninit<T>>]> = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded(AtomicUsize::new(0)),
        tail: CachePadded(AtomicUsize::new(0)),
        slots,
        mask: capacity - 1,
    });
    (
        Producer {
            shared: Arc::clone(&shared),
            head: 0,
            cached_tail: 0,
        },
        Consumer {
            shared,
            tail: 0,
            cached_head: 0,
        },
    )
}

/// The pushing end of a ring created by [`channel`].
pub struct Producer<T: Copy + Send> {
    shared: Arc<Shared<T>>,
    /// Private copy of `shared.head` (this handle is its only writer).
    head: usize,
    /// Last observed value of `shared.tail`; may lag behind the real one,
    /// which only makes the ring look fuller than it is.
    cached_tail: usize,
}

impl<T: Copy + Send> Producer<T> {
    /// Free slots according to the cached tail, refreshing the cache (one
    /// acquire load of the consumer's line) only when fewer than `want` are free.
    #[inline]
    fn free_slots(&mut self, want: usize) -> usize {
        let cap = self.shared.capacity();
        let free = cap - self.head.wrapping_sub(self.cached_tail);
        if free >= want {
            return free;
        }
        // Acquire: pairs with the consumer's release store of `tail`, so its
        // reads of the slots we are about to overwrite have completed.
        self.cached_tail = self.shared.tail.load(Ordering::Acquire);
        cap - self.head.wrapping_sub(self.cached_tail)
    }

    /// Pushes one item, or gives it back if the ring is full.
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), T> {
        if self.free_slots(1) == 0 {
            return Err(value);
        }
        let slot = self.shared.slot_ptr(self.head);
        // SAFETY: sequence `head` is in `[head, tail + capacity)`, so the slot is
        // owned by the producer: the consumer will not read it until the release
        // store below publishes it, and it has finished reading the previous
        // occupant (acquire load of `tail` in `free_slots`).
        unsafe { slot.write(value) };
        self.head = self.head.wrapping_add(1);
        // Release: publishes the slot write to the consumer's acquire load.
        self.shared.head.store(self.head, Ordering::Release);
        Ok(())
    }

    /// Pushes, busy-waiting (spin, then yield) while the ring is full.
    pub fn push_blocking(&mut self, value: T) {
        let mut wait = crate::affinity::SpinWait::new();
        let mut v = value;
        loop {
            match self.try_push(v) {
                Ok(()) => return,
                Err(back) => {
                    v = back;
                    wait.spin();
                }
            }
        }
    }

    /// Pushes as many items from the front of `items` as fit and returns how
    /// many were pushed. All of them are published with a single release store.
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        if items.is_empty() {
            return 0;
        }
        let n = items.len().min(self.free_slots(items.len()));
        if n == 0 {
            return 0;
        }
        let cap = self.shared.capacity();
        let start = self.head & self.shared.mask;
        let first = n.min(cap - start);
        let base = self.shared.base_ptr();
        // SAFETY: the `n` sequences from `head` are free (checked above) and thus
        // owned by the producer; they map to slots `start..start+first` and
        // `0..n-first`, both in bounds of the `cap`-slot buffer. Source and
        // destination cannot overlap (`items` is a borrowed slice, the ring is
        // private heap memory). `T: Copy`, so a bitwise copy is a valid move.
        unsafe {
            ptr::copy_nonoverlapping(items.as_ptr(), base.add(start), first);
            ptr::copy_nonoverlapping(items.as_ptr().add(first), base, n - first);
        }
        self.head = self.head.wrapping_add(n);
        // Release: one store publishes all `n` slot writes.
        self.shared.head.store(self.head, Ordering::Release);
        n
    }

    /// Number of items currently in the ring (a snapshot; the consumer may be
    /// popping concurrently, so the true value can only be smaller).
    pub fn len(&self) -> usize {
        self.head
            .wrapping_sub(self.shared.tail.load(Ordering::Acquire))
    }

    /// `true` when the ring is empty at the time of the call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Total items ever pushed through this handle.
    pub fn pushed(&self) -> usize {
        self.head
    }
}

impl<T: Copy + Send> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("head", &self.head)
            .field("cached_tail", &self.cached_tail)
            .finish()
    }
}

/// The popping end of a ring created by [`channel`].
pub struct Consumer<T: Copy + Send> {
    shared: Arc<Shared<T>>,
    /// Private copy of `shared.tail` (this handle is its only writer).
    tail: usize,
    /// Last observed value of `shared.head`; may lag behind the real one,
    /// which only makes the ring look emptier than it is.
    cached_head: usize,
}

impl<T: Copy + Send> Consumer<T> {
    /// Items available according to the cached head, refreshing the cache (one
    /// acquire load of the producer's line) only when fewer than `want` are
    /// visible.
    #[inline]
    fn available(&mut self, want: usize) -> usize {
        let avail = self.cached_head.wrapping_sub(self.tail);
        if avail >= want {
            return avail;
        }
        // Acquire: pairs with the producer's release store of `head`, making the
        // slot writes up to that head visible.
        self.cached_head = self.shared.head.load(Ordering::Acquire);
        self.cached_head.wrapping_sub(self.tail)
    }

    /// Pops one item, or `None` if the ring is empty.
    #[inline]
    pub fn try_pop(&mut self) -> Option<T> {
        if self.available(1) == 0 {
            return None;
        }
        let slot = self.shared.slot_ptr(self.tail);
        // SAFETY: sequence `tail` is in `[tail, head)`: the producer initialised
        // the slot and published it with a release store that our acquire load
        // observed; it will not overwrite it until we release `tail` below.
        let value = unsafe { slot.read() };
        self.tail = self.tail.wrapping_add(1);
        // Release: our read of the slot happens-before the producer reuses it.
        self.shared.tail.store(self.tail, Ordering::Release);
        Some(value)
    }

    /// Pops, busy-waiting (spin, then yield) while the ring is empty.
    pub fn pop_blocking(&mut self) -> T {
        let mut wait = crate::affinity::SpinWait::new();
        loop {
            if let Some(v) = self.try_pop() {
                return v;
            }
            wait.spin();
        }
    }

    /// Pops up to `out.len()` items into the front of `out` and returns how
    /// many were popped. All slots are released with a single store.
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        if out.is_empty() {
            return 0;
        }
        let n = out.len().min(self.available(out.len()));
        if n == 0 {
            return 0;
        }
        let cap = self.shared.capacity();
        let start = self.tail & self.shared.mask;
        let first = n.min(cap - start);
        let base = self.shared.base_ptr();
        // SAFETY: the `n` sequences from `tail` are published (checked above) and
        // owned by the consumer until the release store below; they map to slots
        // `start..start+first` and `0..n-first`, in bounds. `out` is an exclusive
        // borrow distinct from the ring buffer, so the copies do not overlap.
        unsafe {
            ptr::copy_nonoverlapping(base.add(start), out.as_mut_ptr(), first);
            ptr::copy_nonoverlapping(base, out.as_mut_ptr().add(first), n - first);
        }
        self.tail = self.tail.wrapping_add(n);
        // Release: all `n` reads happen-before the producer reuses the slots.
        self.shared.tail.store(self.tail, Ordering::Release);
        n
    }

    /// Number of items currently in the ring (a snapshot; the producer may be
    /// pushing concurrently, so the true value can only be larger).
    pub fn len(&self) -> usize {
        self.shared
            .head
            .load(Ordering::Acquire)
            .wrapping_sub(self.tail)
    }

    /// `true` when the ring is empty at the time of the call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Total items ever popped through this handle.
    pub fn popped(&self) -> usize {
        self.tail
    }
}

impl<T: Copy + Send> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("tail", &self.tail)
            .field("cached_head", &self.cached_head)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn counters_are_on_separate_cache_lines() {
        assert_eq!(std::mem::align_of::<CachePadded<AtomicUsize>>(), 64);
        assert_eq!(std::mem::size_of::<CachePadded<AtomicUsize>>(), 64);
        let (p, _c) = channel::<u64>(4);
        let h = &p.shared.head as *const _ as usize;
        let t = &p.shared.tail as *const _ as usize;
        assert!(h.abs_diff(t) >= 64);
        assert_eq!(h % 64, 0);
        assert_eq!(t % 64, 0);
    }

    #[test]
    #[should_panic(expected = "power of two")]
    fn rejects_non_power_of_two() {
        let _ = channel::<u32>(3);
    }

    #[test]
    #[should_panic(expected = "power of two")]
    fn rejects_capacity_one() {
        let _ = channel::<u32>(1);
    }

    #[test]
    fn push_pop_fifo_full_and_empty() {
        let (mut p, mut c) = channel::<u32>(4);
        assert!(c.try_pop().is_none());
        assert!(p.is_empty());
        for i in 0..4 {
            p.try_push(i).unwrap();
        }
        assert_eq!(p.try_push(99), Err(99));
        assert_eq!(p.len(), 4);
        assert_eq!(c.len(), 4);
        for i in 0..4 {
            assert_eq!(c.try_pop(), Some(i));
        }
        assert!(c.try_pop().is_none());
        assert!(c.is_empty());
        assert_eq!(p.pushed(), 4);
        assert_eq!(c.popped(), 4);
    }

    #[test]
    fn wraps_around_many_times() {
        let (mut p, mut c) = channel::<u64>(8);
        for i in 0..1000u64 {
            p.try_push(i).unwrap();
            p.try_push(i + 1_000_000).unwrap();
            assert_eq!(c.try_pop(), Some(i));
            assert_eq!(c.try_pop(), Some(i + 1_000_000));
        }
    }

    #[test]
    fn batch_push_pop_across_wrap() {
        let (mut p, mut c) = channel::<u16>(8);
        // Move the indices to 5 so batches straddle the end of the buffer.
        assert_eq!(p.push_slice(&[0, 1, 2, 3, 4]), 5);
        let mut out = [0u16; 5];
        assert_eq!(c.pop_slice(&mut out), 5);
        assert_eq!(out, [0, 1, 2, 3, 4]);

        let items: Vec<u16> = (10..20).collect();
        // Only 8 fit.
        assert_eq!(p.push_slice(&items), 8);
        assert_eq!(p.push_slice(&items), 0);
        let mut out = [0u16; 3];
        assert_eq!(c.pop_slice(&mut out), 3);
        assert_eq!(out, [10, 11, 12]);
        assert_eq!(p.push_slice(&[100, 101, 102, 103]), 3);
        let mut out = [0u16; 16];
        assert_eq!(c.pop_slice(&mut out), 8);
        assert_eq!(&out[..8], &[13, 14, 15, 16, 17, 100, 101, 102]);
        assert_eq!(c.pop_slice(&mut out), 0);
        assert_eq!(p.push_slice(&[]), 0);
        assert_eq!(c.pop_slice(&mut []), 0);
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Wide {
        seq: u64,
        pad: [u64; 7],
    }

    #[test]
    fn threaded_single_items_in_order() {
        const N: u64 = 200_000;
        let (mut p, mut c) = channel::<Wide>(64);
        let t = thread::spawn(move || {
            for s in 0..N {
                p.push_blocking(Wide {
                    seq: s,
                    pad: [s; 7],
                });
            }
        });
        for s in 0..N {
            let w = c.pop_blocking();
            assert_eq!(
                w,
                Wide {
                    seq: s,
                    pad: [s; 7]
                }
            );
        }
        t.join().unwrap();
        assert!(c.try_pop().is_none());
    }

    #[test]
    fn threaded_batches_in_order() {
        const N: u64 = 300_000;
        let (mut p, mut c) = channel::<u64>(128);
        let t = thread::spawn(move || {
            let mut next = 0u64;
            let mut buf = [0u64; 37];
            let mut wait = crate::affinity::SpinWait::new();
            while next < N {
                let k = ((N - next) as usize).min(buf.len());
                for (i, b) in buf[..k].iter_mut().enumerate() {
                    *b = next + i as u64;
                }
                let pushed = p.push_slice(&buf[..k]);
                if pushed == 0 {
                    wait.spin();
                } else {
                    wait.reset();
                }
                next += pushed as u64;
            }
        });
        let mut expect = 0u64;
        let mut out = [0u64; 50];
        let mut wait = crate::affinity::SpinWait::new();
        while expect < N {
            let n = c.pop_slice(&mut out);
            for &v in &out[..n] {
                assert_eq!(v, expect);
                expect += 1;
            }
            if n == 0 {
                wait.spin();
            } else {
                wait.reset();
            }
        }
        t.join().unwrap();
    }

    #[test]
    fn handles_are_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Producer<u64>>();
        assert_send::<Consumer<[u8; 64]>>();
    }
}
