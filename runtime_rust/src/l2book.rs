//! Price-level (L2) order book over a tick-indexed window around the touch.
//!
//! Market-data handlers apply depth updates ("price P now has quantity Q") far
//! more often than anything else, so the book is laid out like CppTrader's
//! optimised book and charles-cooper/itch-order-book: each side is a flat array
//! indexed by price tick, so an update is one store plus a bit flip, and the
//! best level is found from an occupancy bitmap with `leading_zeros` instead
//! of a tree walk. Everything is allocated in [`PriceLevelBook::new`]; no
//! update allocates.
//!
//! # Window and recentring policy
//!
//! Each side owns `capacity_ticks` slots (rounded up to a power of two, at
//! least 64, so a price maps to its slot with a mask). The slots form a
//! circular window that always starts at the side's touch and extends
//! `capacity_ticks - 1` ticks away from it (downwards for bids, upwards for
//! asks). A price is tracked if and only if it is less than `capacity_ticks`
//! ticks from the current touch:
//!
//! * an update for a price at or beyond that distance on the far side of the
//!   touch is **dropped** and counted in [`PriceLevelBook::dropped_levels`];
//! * an update that improves the touch slides the window towards it; levels
//!   that thereby end up `capacity_ticks` or more behind the new touch are
//!   evicted (zeroed) and counted as dropped too. Sliding is just a change of
//!   the touch price, because the slots are circular; the cost is one bitmap
//!   word per 64 ticks slid, i.e. amortised O(1) for a touch that moves a few
//!   ticks at a time;
//! * deleting the touch moves it to the next occupied level, found by scanning
//!   the bitmap (one word per 64 ticks of gap). Levels dropped earlier are not
//!   resurrected: the feed's next update for them re-inserts them.
//!
//! Choose `capacity_ticks` well above the depth the strategy reads; the drop
//! counter lets a monitor notice when it is too small.
//!
//! Prices are `i64` ticks and must satisfy `|px| < 2^62` so that window
//! arithmetic cannot overflow. Quantities are `i64` lots; a quantity `<= 0`
//! deletes the level.
#![deny(unsafe_code)]

/// Book side, shared with the L3 book. The discriminants match `hft::Side`
/// and the `side` byte of the pre-decoded depth records (0 = bid, 1 = ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Side {
    Bid = 0,
    Ask = 1,
}

impl Side {
    /// The other side of the book.
    pub fn opposite(self) -> Side {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }
}

/// One side of the book, in "key" space where a higher key is always a better
/// price (bids: key = px; asks: key = -px), so both sides share one code path.
#[derive(Debug, Clone)]
struct Window {
    /// Slot `s` is `chunks[s / 64].qty[s % 64]`, occupied iff bit `s % 64` of that chunk's
    /// `bits` is set: an update touches one chunk, and indexing within it needs no bounds check.
    chunks: Vec<Chunk>,
    mask: u64,
    cap: i64,
    /// Key of the touch; meaningful only while `levels > 0`.
    best: i64,
    levels: usize,
    dropped: u64,
}

/// 64 consecutive slots of a window and their occupancy bits.
#[derive(Debug, Clone)]
struct Chunk {
    bits: u64,
    qty: [i64; 64],
}

impl Window {
    fn new(cap: usize) -> Self {
        Self {
            chunks: vec![
                Chunk {
                    bits: 0,
                    qty: [0; 64]
                };
                cap / 64
            ],
            mask: cap as u64 - 1,
            cap: cap as i64,
            best: 0,
            levels: 0,
            dropped: 0,
        }
    }

    #[inline(always)]
    fn slot(&self, key: i64) -> usize {
        (key as u64 & self.mask) as usize
    }

    #[inline(always)]
    fn in_window(&self, key: i64) -> bool {
        self.levels > 0 && key <= self.best && key > self.best - self.cap
    }

    #[inline(always)]
    fn get_slot(&self, s: usize) -> i64 {
        self.chunks[s >> 6].qty[s & 63]
    }

    #[inline]
    fn get(&self, key: i64) -> i64 {
        if self.in_window(key) {
            self.get_slot(self.slot(key))
        } else {
            0
        }
    }

    /// The hot path, as in the C++ book: one unsigned compare decides whether `key` is inside
    /// the window, and the quantity slot alone says whether the level exists (a level is stored
    /// iff its quantity is non-zero), so an update touches the bitmap only when a level appears
    /// or disappears.
    #[inline]
    fn set(&mut self, key: i64, qty: i64) {
        // Ticks behind the touch; wraps to a huge value for keys better than the touch.
        let behind = (self.best as u64).wrapping_sub(key as u64);
        if self.levels == 0 || behind >= self.cap as u64 {
            return self.set_outside(key, qty);
        }
        let s = self.slot(key);
        let bit = 1u64 << (s & 63);
        let chunk = &mut self.chunks[s >> 6];
        let q = &mut chunk.qty[s & 63];
        if qty > 0 {
            if *q == 0 {
                chunk.bits |= bit;
                self.levels += 1;
            }
            *q = qty;
            return;
        }
        if *q == 0 {
            return;
        }
        *q = 0;
        chunk.bits &= !bit;
        self.levels -= 1;
        if behind == 0 && self.levels > 0 {
            // The touch was deleted: walk the bitmap to the next level, which exists inside
            // the window because nothing is stored outside it.
            if let Some(next) = self.next_below(s) {
                self.best -= ((s as u64).wrapping_sub(next as u64) & self.mask) as i64;
            }
        }
    }

    /// The cold part of [`set`](Self::set): an empty side, a new touch, or a level deeper than
    /// the window.
    #[cold]
    #[inline(never)]
    fn set_outside(&mut self, key: i64, qty: i64) {
        if qty <= 0 {
            return; // nothing is stored outside the window
        }
        if self.levels == 0 {
            self.best = key;
            self.store(key, qty);
        } else if key > self.best {
            // The touch improves: keys <= key - cap fall out of the window.
            let lo = self.best - self.cap + 1;
            let hi = key - self.cap;
            if hi >= lo {
                self.evict(lo, hi);
            }
            self.best = key;
            self.store(key, qty);
        } else {
            self.dropped += 1;
        }
    }

    #[inline(always)]
    fn store(&mut self, key: i64, qty: i64) {
        let s = self.slot(key);
        let bit = 1u64 << (s & 63);
        let chunk = &mut self.chunks[s >> 6];
        let word = &mut chunk.bits;
        if *word & bit == 0 {
            *word |= bit;
            self.levels += 1;
        }
        chunk.qty[s & 63] = qty;
    }

    /// Nearest occupied slot strictly "below" slot `s` in circular order, i.e.
    /// the next worse price. Every occupied slot is inside the window, so the
    /// first one found is the right one.
    #[inline]
    fn next_below(&self, s: usize) -> Option<usize> {
        let nw = self.chunks.len();
        let mut w = s >> 6;
        let below = self.chunks[w].bits & ((1u64 << (s & 63)) - 1);
        if below != 0 {
            return Some((w << 6) | (63 - below.leading_zeros()) as usize);
        }
        // Visits every word once more, ending with the high bits of `s`'s own
        // word, which are the farthest away in circular order.
        for _ in 0..nw {
            w = if w == 0 { nw - 1 } else { w - 1 };
            let word = self.chunks[w].bits;
            if word != 0 {
                return Some((w << 6) | (63 - word.leading_zeros()) as usize);
            }
        }
        None
    }

    /// Zeroes every level with key in `[lo, hi]` and counts it as dropped.
    fn evict(&mut self, lo: i64, hi: i64) {
        if hi - lo + 1 >= self.cap {
            self.dropped += self.levels as u64;
            self.clear();
            return;
        }
        let mut key = lo;
        while key <= hi {
            let s = self.slot(key);
            let b = s & 63;
            let n = (64 - b as i64).min(hi - key + 1);
            let m = if n == 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << b
            };
            let w = s >> 6;
            let mut hit = self.chunks[w].bits & m;
            if hit != 0 {
                self.chunks[w].bits &= !m;
                let c = hit.count_ones();
                self.levels -= c as usize;
                self.dropped += u64::from(c);
                while hit != 0 {
                    let t = hit.trailing_zeros() as usize;
                    self.chunks[w].qty[t] = 0;
                    hit &= hit - 1;
                }
            }
            key += n;
        }
    }

    fn clear(&mut self) {
        for chunk in self.chunks.iter_mut() {
            let mut hit = chunk.bits;
            while hit != 0 {
                let t = hit.trailing_zeros() as usize;
                chunk.qty[t] = 0;
                hit &= hit - 1;
            }
            chunk.bits = 0;
        }
        self.levels = 0;
    }

    #[inline]
    fn best(&self) -> Option<(i64, i64)> {
        if self.levels == 0 {
            None
        } else {
            Some((self.best, self.get_slot(self.slot(self.best))))
        }
    }

    /// Calls `f(key, qty)` for up to `n` levels from the touch outwards.
    fn walk(&self, n: usize, mut f: impl FnMut(i64, i64)) {
        if self.levels == 0 || n == 0 {
            return;
        }
        let top = self.slot(self.best);
        let mut s = top;
        f(self.best, self.get_slot(s));
        for _ in 1..n.min(self.levels) {
            match self.next_below(s) {
                Some(next) => {
                    s = next;
                    let dist = ((top as u64).wrapping_sub(s as u64) & self.mask) as i64;
                    f(self.best - dist, self.get_slot(s));
                }
                None => return,
            }
        }
    }
}

/// L2 book: aggregated quantity per price level, both sides (FORMATS.md §3).
#[derive(Debug, Clone)]
pub struct PriceLevelBook {
    bids: Window,
    asks: Window,
}

#[inline(always)]
fn key(side: Side, px: i64) -> i64 {
    match side {
        Side::Bid => px,
        Side::Ask => -px,
    }
}

impl PriceLevelBook {
    /// A book whose sides each track `capacity_ticks` ticks from their touch
    /// (rounded up to a power of two, minimum 64).
    pub fn new(capacity_ticks: usize) -> Self {
        let cap = capacity_ticks.max(64).next_power_of_two();
        Self {
            bids: Window::new(cap),
            asks: Window::new(cap),
        }
    }

    /// Effective window width per side after rounding.
    pub fn capacity_ticks(&self) -> usize {
        self.bids.chunks.len() * 64
    }

    #[inline(always)]
    fn window(&self, side: Side) -> &Window {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    /// Sets the aggregated quantity at `px`; `qty <= 0` deletes the level.
    /// See the module documentation for what happens outside the window.
    #[inline]
    pub fn set_level(&mut self, side: Side, px: i64, qty: i64) {
        match side {
            Side::Bid => self.bids.set(px, qty),
            Side::Ask => self.asks.set(-px, qty),
        }
    }

    /// Best bid as `(price, qty)`.
    #[inline]
    pub fn best_bid(&self) -> Option<(i64, i64)> {
        self.bids.best()
    }

    /// Best ask as `(price, qty)`.
    #[inline]
    pub fn best_ask(&self) -> Option<(i64, i64)> {
        self.asks.best().map(|(k, q)| (-k, q))
    }

    /// Quantity resting at `px` (0 when absent or outside the window).
    pub fn level_qty(&self, side: Side, px: i64) -> i64 {
        self.window(side).get(key(side, px))
    }

    /// Number of non-empty levels tracked on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.window(side).levels
    }

    /// Levels dropped (on both sides) because they were, or came to be, at
    /// least `capacity_ticks` from their touch.
    pub fn dropped_levels(&self) -> u64 {
        self.bids.dropped + self.asks.dropped
    }

    /// Up to `n` `(price, qty)` levels from the touch outwards.
    pub fn depth(&self, side: Side, n: usize) -> Vec<(i64, i64)> {
        let mut out = Vec::with_capacity(n.min(self.level_count(side)));
        self.depth_into(side, n, &mut out);
        out
    }

    /// Like [`depth`](Self::depth) but refills a caller-owned buffer, so a
    /// strategy reading depth on every tick does not allocate.
    pub fn depth_into(&self, side: Side, n: usize, out: &mut Vec<(i64, i64)>) {
        out.clear();
        self.window(side)
            .walk(n, |k, q| out.push((key(side, k), q)));
    }

    /// `(bid + ask) / 2` when both sides are present.
    pub fn mid(&self) -> Option<f64> {
        let (b, _) = self.best_bid()?;
        let (a, _) = self.best_ask()?;
        Some((b as f64 + a as f64) / 2.0)
    }

    /// Size-weighted mid: `(bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty)`,
    /// which leans towards the side more likely to be hit next.
    pub fn microprice(&self) -> Option<f64> {
        let (b, bq) = self.best_bid()?;
        let (a, aq) = self.best_ask()?;
        let (bq, aq) = (bq as f64, aq as f64);
        Some((b as f64 * aq + a as f64 * bq) / (bq + aq))
    }

    /// Touch imbalance `(bid_qty - ask_qty) / (bid_qty + ask_qty)` in [-1, 1].
    pub fn imbalance(&self) -> Option<f64> {
        let (_, bq) = self.best_bid()?;
        let (_, aq) = self.best_ask()?;
        let (bq, aq) = (bq as f64, aq as f64);
        Some((bq - aq) / (bq + aq))
    }

    /// Empties both sides (keeps allocations and the drop counter).
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn empty_book() {
        let b = PriceLevelBook::new(100);
        assert_eq!(b.capacity_ticks(), 128);
        assert_eq!(b.best_bid(), None);
        assert_eq!(b.best_ask(), None);
        assert_eq!(b.mid(), None);
        assert_eq!(b.microprice(), None);
        assert_eq!(b.imbalance(), None);
        assert!(b.depth(Side::Bid, 5).is_empty());
        assert_eq!(PriceLevelBook::new(0).capacity_ticks(), 64);
    }

    #[test]
    fn touch_and_signals() {
        let mut b = PriceLevelBook::new(256);
        b.set_level(Side::Bid, 100, 5);
        b.set_level(Side::Bid, 99, 7);
        b.set_level(Side::Ask, 102, 15);
        b.set_level(Side::Ask, 103, 1);
        assert_eq!(b.best_bid(), Some((100, 5)));
        assert_eq!(b.best_ask(), Some((102, 15)));
        assert_eq!(b.mid(), Some(101.0));
        assert_eq!(b.microprice(), Some((100.0 * 15.0 + 102.0 * 5.0) / 20.0));
        assert_eq!(b.imbalance(), Some(-0.5));
        assert_eq!(b.depth(Side::Bid, 10), vec![(100, 5), (99, 7)]);
        assert_eq!(b.depth(Side::Ask, 1), vec![(102, 15)]);
        assert_eq!(b.depth(Side::Ask, 10), vec![(102, 15), (103, 1)]);
        // Update in place, then delete the touch: next level takes over.
        b.set_level(Side::Bid, 100, 8);
        assert_eq!(b.best_bid(), Some((100, 8)));
        b.set_level(Side::Bid, 100, 0);
        assert_eq!(b.best_bid(), Some((99, 7)));
        b.set_level(Side::Ask, 102, 0);
        assert_eq!(b.best_ask(), Some((103, 1)));
        // Deleting an absent level is a no-op.
        b.set_level(Side::Ask, 150, 0);
        b.set_level(Side::Ask, 90, 0);
        assert_eq!(b.level_count(Side::Ask), 1);
        b.set_level(Side::Ask, 103, 0);
        assert_eq!(b.best_ask(), None);
        assert_eq!(b.level_count(Side::Ask), 0);
        b.clear();
        assert_eq!(b.best_bid(), None);
        assert_eq!(b.level_qty(Side::Bid, 99), 0);
    }

    #[test]
    fn negative_prices_and_wraparound() {
        let mut b = PriceLevelBook::new(64);
        for px in -40..=20 {
            b.set_level(Side::Bid, px, px + 100);
        }
        assert_eq!(b.best_bid(), Some((20, 120)));
        for px in (-40..=20).rev() {
            assert_eq!(b.best_bid(), Some((px, px + 100)));
            b.set_level(Side::Bid, px, 0);
        }
        assert_eq!(b.best_bid(), None);
    }

    #[test]
    fn window_drops_far_levels_and_counts_them() {
        let mut b = PriceLevelBook::new(64);
        b.set_level(Side::Bid, 1000, 1);
        b.set_level(Side::Bid, 937, 2); // 63 ticks away: tracked
        b.set_level(Side::Bid, 936, 3); // 64 ticks away: dropped
        assert_eq!(b.level_qty(Side::Bid, 937), 2);
        assert_eq!(b.level_qty(Side::Bid, 936), 0);
        assert_eq!(b.dropped_levels(), 1);
        // Touch moves up by 10: 937 is now 73 ticks away and is evicted.
        b.set_level(Side::Bid, 1010, 4);
        assert_eq!(b.level_qty(Side::Bid, 937), 0);
        assert_eq!(b.dropped_levels(), 2);
        assert_eq!(b.depth(Side::Bid, 10), vec![(1010, 4), (1000, 1)]);
        // A jump far beyond the window evicts everything.
        b.set_level(Side::Bid, 100_000, 9);
        assert_eq!(b.dropped_levels(), 4);
        assert_eq!(b.depth(Side::Bid, 10), vec![(100_000, 9)]);
        // Asks mirror it: the window extends upwards from the touch.
        b.set_level(Side::Ask, 500, 1);
        b.set_level(Side::Ask, 563, 1);
        b.set_level(Side::Ask, 564, 1);
        assert_eq!(b.dropped_levels(), 5);
        b.set_level(Side::Ask, 490, 1);
        assert_eq!(b.depth(Side::Ask, 10), vec![(490, 1), (500, 1)]);
        assert_eq!(b.dropped_levels(), 6);
    }

    /// Reference model with the same window policy, on a BTreeMap.
    #[derive(Default)]
    struct Model {
        sides: [BTreeMap<i64, i64>; 2],
        dropped: u64,
    }

    impl Model {
        fn set(&mut self, side: Side, px: i64, qty: i64, cap: i64) {
            let i = side as usize;
            let k = key(side, px);
            let m = &mut self.sides[i];
            if qty <= 0 {
                m.remove(&k);
                return;
            }
            match m.keys().next_back().copied() {
                None => {
                    m.insert(k, qty);
                }
                Some(best) if k > best => {
                    let before = m.len();
                    m.retain(|&x, _| x > k - cap);
                    self.dropped += (before - m.len()) as u64;
                    m.insert(k, qty);
                }
                Some(best) if k > best - cap => {
                    m.insert(k, qty);
                }
                Some(_) => self.dropped += 1,
            }
        }
    }

    #[test]
    fn randomized_against_btreemap() {
        let mut s = 99u64;
        let mut rnd = move || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let cap = 128i64;
        let mut book = PriceLevelBook::new(cap as usize);
        let mut model = Model::default();
        let mut mid = 10_000i64;
        for step in 0..50_000 {
            let r = rnd();
            if r % 50 == 0 {
                mid += (rnd() % 401) as i64 - 200; // occasional jump
            } else if r % 5 == 0 {
                mid += (rnd() % 5) as i64 - 2;
            }
            let side = if rnd() % 2 == 0 { Side::Bid } else { Side::Ask };
            let off = (rnd() % 160) as i64;
            let px = match side {
                Side::Bid => mid - off,
                Side::Ask => mid + 1 + off,
            };
            let qty = if rnd() % 3 == 0 {
                0
            } else {
                (rnd() % 100) as i64 + 1
            };
            book.set_level(side, px, qty);
            model.set(side, px, qty, cap);
            if step % 97 == 0 || qty == 0 {
                for side in [Side::Bid, Side::Ask] {
                    let want: Vec<(i64, i64)> = model.sides[side as usize]
                        .iter()
                        .rev()
                        .map(|(&k, &q)| (key(side, k), q))
                        .collect();
                    assert_eq!(book.depth(side, usize::MAX), want, "step {step}");
                    assert_eq!(book.level_count(side), want.len());
                }
                assert_eq!(book.dropped_levels(), model.dropped, "step {step}");
            }
        }
        assert!(model.dropped > 0, "window policy never exercised");
    }
}
