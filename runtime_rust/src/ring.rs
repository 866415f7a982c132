//! Bounded single-producer / single-consumer ring for `Copy` items.
//!
//! [`channel`] allocates the ring once and returns a [`Producer`] and a
//! [`Consumer`] handle. Neither handle is `Clone` and every mutating method takes
//! `&mut self`, so the type system guarantees there is exactly one pusher and one
//! popper; each handle is `Send` and can move to its own thread.
//!
//! # Design
//!
//! The protocol of `hft::SpscRing` in `runtime_cpp` (Vyukov's bounded queue,
//! specialised to one producer and one consumer):
//!
//! * Positions are free-running sequences (items ever pushed / popped); sequence
//!   `s` lives in slot `s & mask`, so the capacity is a power of two.
//! * Each slot carries its own sequence number beside the item. Slot `i` starts
//!   at `i`, "free for sequence `i`"; the producer writes the item for sequence
//!   `s` and publishes `s + 1` ("full"); the consumer reads it and publishes
//!   `s + capacity` ("free for the next lap").
//! * Neither side reads the other side's position on the hot path: handing an
//!   item from one core to the other moves one cache line (sequence and item
//!   together) instead of two (the index line, then the slot line). The C++
//!   runtime measured this against the cached-opposite-index design it replaced:
//!   a shorter round trip and equal or better throughput.
//! * Each handle keeps its position privately and mirrors it into a shared
//!   counter on its own 64-byte cache line ([`CachePadded`]); the counters are
//!   only read by [`Producer::len`] / [`Consumer::len`], never by push or pop.
//! * The producer writes an item whose size is a multiple of 64 bytes in whole
//!   64-byte chunks (one store each with AVX-512) rather than field by field;
//!   measured, this tripled 64-byte throughput (see `write_item`).
//! * Nothing is allocated after [`channel`] returns. The slot array starts on a
//!   cache line (as in C++); each handle keeps its own copy of the array pointer
//!   and index mask, so a push or pop follows no shared pointer and needs no
//!   bounds check, and touches nothing but its slot and its own counter line.
//!
//! # Memory ordering
//!
//! * Producer: write the item, then `seq.store(s + 1, Release)`. Consumer:
//!   `seq.load(Acquire) == s + 1`, then read the item. The pair makes the item
//!   write happen-before the read.
//! * Consumer: read the item, then `seq.store(s + capacity, Release)`. Producer:
//!   `seq.load(Acquire) == s` (with `s` one lap later) before overwriting. The
//!   pair makes the read happen-before the overwrite.
//! * Batches: slots are freed and filled in order, so when the last slot of a
//!   batch is ready, every earlier one is too (its release came first).

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
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

/// One slot: the item, then the sequence that says whose turn it is.
///
/// `repr(C)` pins the order. The C++ ring puts the sequence first; for items of
/// a cache line or more, measured here (`ring_bench`, 64-byte items, the same
/// slot alignment), the sequence after the item gave ~22 M items/s against
/// ~17 M with it first, and no difference for 8-byte items, so the Rust ring
/// keeps the order the compiler had chosen before it was pinned.
#[repr(C)]
struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    seq: AtomicUsize,
}

/// State shared by both handles.
struct Shared<T> {
    /// Items ever pushed (mirror of the producer's position, for `len`).
    head: CachePadded<AtomicUsize>,
    /// Items ever popped (mirror of the consumer's position, for `len`).
    tail: CachePadded<AtomicUsize>,
    /// `mask + 1` slots, the array starting on a cache line (as in C++, so the
    /// first slots share no line with an unrelated allocation); slot `s & mask`
    /// holds an initialised item iff its sequence is `s + 1`.
    slots: NonNull<Slot<T>>,
    mask: usize,
}

// SAFETY: `Shared` owns its slot array (allocated in `Shared::new`, freed in
// `Drop`), so moving it between threads is moving a `Box`-like owner.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: a slot's item is written only by the single `Producer`, while the slot's
// sequence says "free for this sequence", and read only by the single `Consumer`,
// while it says "full"; each side hands the slot over with a release store that the
// other side's acquire load observes before touching the item (see the module docs).
// The items themselves move between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The slot array's layout: `capacity` slots aligned to a cache line.
    fn layout(capacity: usize) -> Layout {
        Layout::array::<Slot<T>>(capacity)
            .and_then(|l| l.align_to(64))
            .expect("ring capacity overflows the address space")
    }

    fn new(capacity: usize) -> Self {
        let layout = Self::layout(capacity);
        // SAFETY: `layout` has a non-zero size (capacity >= 2 and a slot holds at
        // least its sequence word).
        let raw = unsafe { alloc(layout) }.cast::<Slot<T>>();
        let Some(slots) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        for i in 0..capacity {
            // SAFETY: `i < capacity`, inside the fresh allocation sized for
            // `capacity` slots; `write` initialises without reading the old bytes.
            unsafe {
                slots.as_ptr().add(i).write(Slot {
                    seq: AtomicUsize::new(i), // free for sequence i
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                })
            };
        }
        Shared {
            head: CachePadded(AtomicUsize::new(0)),
            tail: CachePadded(AtomicUsize::new(0)),
            slots,
            mask: capacity - 1,
        }
    }

    #[inline(always)]
    fn capacity(&self) -> usize {
        self.mask + 1
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Items are `Copy` (every constructor requires it), so slots hold nothing
        // to drop: only the memory is released.
        // SAFETY: `slots` came from `alloc` with exactly this layout in `new` and
        // is freed once, here; no handle outlives the `Arc` that owns `self`.
        unsafe { dealloc(self.slots.as_ptr().cast(), Self::layout(self.capacity())) };
    }
}

/// Writes `value` to `dst`, the item of a slot that the producer owns.
///
/// On x86-64, an item whose size is a multiple of 64 bytes is copied in 64-byte
/// chunks typed `MaybeUninit<__m512i>`: an untyped copy, so padding bytes inside
/// `T` are fine, that LLVM keeps whole. With AVX-512 each chunk is one store, and
/// an item built in registers never goes through the stack. A plain `T` write is
/// split by LLVM into the item's parts (a 64-byte item made of a word and zeros
/// became three stores into the slot). Measured with `ring_bench`, 64-byte items,
/// a `target-cpu=native` build on an AVX-512 machine, the two alternated: about
/// 23 M items/s with the plain write and 75 M with the chunked one. Without
/// AVX-512 each chunk is lowered to narrower vector stores; a default (SSE2)
/// build still measured ~27 M with the plain write and 45-52 M with the chunks.
///
/// # Safety
/// `dst` must be valid for writes of one `T` and aligned for `T` (a slot's item).
#[inline(always)]
unsafe fn write_item<T: Copy>(dst: *mut T, value: T) {
    #[cfg(target_arch = "x86_64")]
    if size_of::<T>().is_multiple_of(64) {
        use std::arch::x86_64::__m512i;
        let src = (&value as *const T).cast::<MaybeUninit<__m512i>>();
        let dst = dst.cast::<MaybeUninit<__m512i>>();
        for k in 0..size_of::<T>() / 64 {
            // SAFETY: chunk `k` lies inside `value` (a local `T`) and inside the
            // `T` at `dst` (valid for writes, by the caller's contract), since
            // `64 * (k + 1) <= size_of::<T>()`; the unaligned forms need no
            // alignment, and `MaybeUninit` carries any bytes, padding included.
            unsafe { dst.add(k).write_unaligned(src.add(k).read_unaligned()) };
        }
        return;
    }
    // SAFETY: `dst` is valid for writes of one `T` and aligned (the caller's
    // contract).
    unsafe { dst.write(value) }
}

/// A handle's private copy of where the slots are: the base pointer and the
/// index mask, kept in the handle itself so the hot path neither follows the
/// `Arc` nor bounds-checks (`seq & mask` is always in range), and the compiler
/// can keep both in registers across the atomic operations.
struct SlotView<T> {
    base: NonNull<Slot<T>>,
    mask: usize,
}

impl<T> SlotView<T> {
    fn new(shared: &Shared<T>) -> Self {
        SlotView {
            // The array never moves or shrinks while the `Arc` that owns it
            // lives, and every handle holds that `Arc`.
            base: shared.slots,
            mask: shared.mask,
        }
    }

    #[inline(always)]
    fn slot(&self, seq: usize) -> &Slot<T> {
        // SAFETY: `base` points at the first of `mask + 1` initialised slots owned
        // by the `Arc<Shared<T>>` that the handle holding this view also holds, so
        // the slots outlive `&self`; `seq & mask <= mask` keeps the index in
        // bounds. Only shared references are formed (the item is behind
        // `UnsafeCell`).
        unsafe { &*self.base.as_ptr().add(seq & self.mask) }
    }
}

// SAFETY: the only non-auto-`Send` field is the `SlotView` pointer into the slots
// owned by the `Arc<Shared<T>>` the handle also holds; moving the handle to another
// thread moves that `Arc` with it, and the slot protocol (see `Shared`) is what
// makes the single pusher and single popper on different threads sound.
unsafe impl<T: Copy + Send> Send for Producer<T> {}
// SAFETY: as above; through `&Producer` only `len`/`capacity`/`pushed` are
// reachable, which read atomics or plain fields and never touch a slot.
unsafe impl<T: Copy + Send> Sync for Producer<T> {}
// SAFETY: same argument as for `Producer`.
unsafe impl<T: Copy + Send> Send for Consumer<T> {}
// SAFETY: through `&Consumer` only `len`/`capacity`/`popped` are reachable.
unsafe impl<T: Copy + Send> Sync for Consumer<T> {}

/// Creates a ring holding up to `capacity` items and returns its two ends.
///
/// # Panics
/// If `capacity` is not a power of two or is smaller than 2.
pub fn channel<T: Copy + Send>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    assert!(
        capacity >= 2 && capacity.is_power_of_two(),
        "ring capacity must be a power of two >= 2, got {capacity}"
    );
    let shared = Arc::new(Shared::new(capacity));
    (
        Producer {
            view: SlotView::new(&shared),
            shared: Arc::clone(&shared),
            head: 0,
        },
        Consumer {
            view: SlotView::new(&shared),
            shared,
            tail: 0,
        },
    )
}

/// The pushing end of a ring created by [`channel`].
pub struct Producer<T: Copy + Send> {
    view: SlotView<T>,
    shared: Arc<Shared<T>>,
    /// Items pushed through this handle (the next sequence to fill).
    head: usize,
}

impl<T: Copy + Send> Producer<T> {
    /// Whether the slot of sequence `seq` is free for it. Acquire: pairs with the
    /// consumer's release when it freed the slot, so its read of the previous
    /// lap's item has completed before we overwrite it.
    #[inline(always)]
    fn is_free(&self, seq: usize) -> bool {
        self.view.slot(seq).seq.load(Ordering::Acquire) == seq
    }

    /// Writes the item of sequence `seq` (whose slot is free) and publishes it.
    #[inline(always)]
    fn fill(&self, seq: usize, value: T) {
        let slot = self.view.slot(seq);
        // SAFETY: the slot's sequence is `seq` ("free for seq", checked by the
        // caller with an acquire load), so the consumer has finished with its
        // previous item and will not read it until the release store below.
        unsafe { write_item(slot.value.get().cast::<T>(), value) };
        // Release: publishes the item write to the consumer's acquire load.
        slot.seq.store(seq.wrapping_add(1), Ordering::Release);
    }

    /// Pushes one item, or gives it back if the ring is full.
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), T> {
        let head = self.head;
        if !self.is_free(head) {
            return Err(value);
        }
        self.fill(head, value);
        self.head = head.wrapping_add(1);
        self.shared.head.store(self.head, Ordering::Relaxed);
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
    /// many were pushed.
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        let head = self.head;
        let mut n = items.len().min(self.view.mask + 1);
        if n == 0 {
            return 0;
        }
        // The consumer frees slots in order: if the last slot needed is free, so
        // are the ones before it.
        if !self.is_free(head.wrapping_add(n - 1)) {
            n = (0..n)
                .take_while(|&k| self.is_free(head.wrapping_add(k)))
                .count();
            if n == 0 {
                return 0;
            }
        }
        for (k, &item) in items[..n].iter().enumerate() {
            self.fill(head.wrapping_add(k), item);
        }
        self.head = head.wrapping_add(n);
        self.shared.head.store(self.head, Ordering::Relaxed);
        n
    }

    /// Number of items currently in the ring (a snapshot; the consumer may be
    /// popping concurrently, so the true value can only be smaller).
    pub fn len(&self) -> usize {
        self.head
            .wrapping_sub(self.shared.tail.load(Ordering::Relaxed))
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
            .finish()
    }
}

/// The popping end of a ring created by [`channel`].
pub struct Consumer<T: Copy + Send> {
    view: SlotView<T>,
    shared: Arc<Shared<T>>,
    /// Items popped through this handle (the next sequence to read).
    tail: usize,
}

impl<T: Copy + Send> Consumer<T> {
    /// Whether the item of sequence `seq` is published. Acquire: pairs with the
    /// producer's release, so the item's bytes are visible.
    #[inline(always)]
    fn is_full(&self, seq: usize) -> bool {
        self.view.slot(seq).seq.load(Ordering::Acquire) == seq.wrapping_add(1)
    }

    /// Reads the item of sequence `seq` (which is published) and frees its slot.
    #[inline(always)]
    fn take(&self, seq: usize) -> T {
        let slot = self.view.slot(seq);
        // SAFETY: the slot's sequence is `seq + 1` (checked by the caller with an
        // acquire load): the producer initialised the item and will not overwrite
        // it until the release store below frees the slot. `T: Copy`, so reading
        // it out leaves nothing to drop.
        let value = unsafe { (*slot.value.get()).assume_init_read() };
        // Release: our read happens-before the producer's next write to the slot.
        slot.seq
            .store(seq.wrapping_add(self.view.mask + 1), Ordering::Release);
        value
    }

    /// Pops one item, or `None` if the ring is empty.
    #[inline]
    pub fn try_pop(&mut self) -> Option<T> {
        let tail = self.tail;
        if !self.is_full(tail) {
            return None;
        }
        let value = self.take(tail);
        self.tail = tail.wrapping_add(1);
        self.shared.tail.store(self.tail, Ordering::Relaxed);
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
    /// many were popped.
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        let tail = self.tail;
        let mut n = out.len().min(self.view.mask + 1);
        if n == 0 {
            return 0;
        }
        // The producer publishes in order: the last item present implies the
        // earlier ones.
        if !self.is_full(tail.wrapping_add(n - 1)) {
            n = (0..n)
                .take_while(|&k| self.is_full(tail.wrapping_add(k)))
                .count();
            if n == 0 {
                return 0;
            }
        }
        for (k, o) in out[..n].iter_mut().enumerate() {
            *o = self.take(tail.wrapping_add(k));
        }
        self.tail = tail.wrapping_add(n);
        self.shared.tail.store(self.tail, Ordering::Relaxed);
        n
    }

    /// Number of items currently in the ring (a snapshot; the producer may be
    /// pushing concurrently, so the true value can only be larger).
    pub fn len(&self) -> usize {
        self.shared
            .head
            .load(Ordering::Relaxed)
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
    fn slots_start_on_a_cache_line_with_the_sequence_after_the_item() {
        let (p, c) = channel::<[u64; 8]>(8);
        assert_eq!(p.view.base.as_ptr() as usize % 64, 0);
        assert_eq!(p.view.base, c.view.base);
        assert_eq!(std::mem::offset_of!(Slot<[u64; 8]>, seq), 64);
        assert_eq!(std::mem::size_of::<Slot<u64>>(), 16);
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

    /// 128 bytes with 7 padding bytes after `tag`: two 64-byte chunks per item
    /// (the chunked item copy), padding included.
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    struct Padded {
        tag: u8,
        seq: u64,
        rest: [u32; 28],
    }

    fn padded(s: u64) -> Padded {
        Padded {
            tag: s as u8,
            seq: s,
            rest: std::array::from_fn(|i| (s as u32).wrapping_mul(31).wrapping_add(i as u32)),
        }
    }

    #[test]
    fn multi_chunk_items_with_padding_round_trip() {
        assert_eq!(size_of::<Padded>(), 128);
        let (mut p, mut c) = channel::<Padded>(8);
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        for round in 0..20u64 {
            // Alternate single and batch operations so both cross the wrap.
            if round % 2 == 0 {
                while p.try_push(padded(next_in)).is_ok() {
                    next_in += 1;
                }
                while let Some(v) = c.try_pop() {
                    assert_eq!(v, padded(next_out));
                    next_out += 1;
                }
            } else {
                let batch: Vec<Padded> = (next_in..next_in + 5).map(padded).collect();
                next_in += p.push_slice(&batch) as u64;
                let mut out = [padded(0); 3];
                loop {
                    let n = c.pop_slice(&mut out);
                    if n == 0 {
                        break;
                    }
                    for v in &out[..n] {
                        assert_eq!(*v, padded(next_out));
                        next_out += 1;
                    }
                }
            }
        }
        assert_eq!(next_in, next_out);
        assert!(next_in > 80, "the ring wrapped several times");
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
