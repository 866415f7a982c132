//! Order-level (L3) book: individual orders by id with per-level FIFO priority.
//!
//! Feeds such as ITCH refer to orders only by id after the add, so every
//! message starts with an id lookup; that lookup is an open-addressing table
//! (linear probing, backward-shift deletion, no tombstones) sized at
//! construction, not a `HashMap`, so it never rehashes or allocates. Orders
//! live in a preallocated pool and are chained per price level through `u32`
//! indices (doubly linked, so a cancel from the middle of a queue is O(1)).
//! Price levels come from a second preallocated pool; each side keeps its
//! active levels in a sorted `Vec` with the touch at the end, so the best level
//! is O(1), and inserting or removing a level near the touch (where almost all
//! activity is) moves only the few entries behind it.
//!
//! Every operation returns a `Result` with a [`BookError`]; nothing here
//! panics on bad input, because a malformed or gapped feed must not take the
//! process down.
#![deny(unsafe_code)]

pub use crate::l2book::Side;
use std::fmt;

const NIL: u32 = u32::MAX;

/// Why an order-book operation was refused; the book is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookError {
    /// No live order has this id.
    UnknownId(u64),
    /// An order with this id is already live.
    DuplicateId(u64),
    /// The preallocated order pool is exhausted.
    PoolFull,
    /// Quantities must be positive (`modify` also accepts 0, meaning cancel).
    InvalidQuantity(i64),
}

impl fmt::Display for BookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownId(id) => write!(f, "unknown order id {id}"),
            Self::DuplicateId(id) => write!(f, "duplicate order id {id}"),
            Self::PoolFull => write!(f, "order pool full"),
            Self::InvalidQuantity(q) => write!(f, "invalid quantity {q}"),
        }
    }
}

impl std::error::Error for BookError {}

/// A live order as seen from outside the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderInfo {
    pub side: Side,
    pub px: i64,
    pub qty: i64,
}

#[derive(Debug, Clone, Copy)]
struct Order {
    id: u64,
    qty: i64,
    level: u32,
    prev: u32,
    next: u32,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    px: i64,
    qty: i64,
    count: u32,
    head: u32,
    tail: u32,
    side: Side,
}

/// Sort key with the best price largest: bids by price, asks by `!px`
/// (order-reversing and, unlike negation, overflow-free).
#[inline(always)]
fn sort_key(side: Side, px: i64) -> i64 {
    match side {
        Side::Bid => px,
        Side::Ask => !px,
    }
}

/// Fixed-capacity id → pool-slot map, open addressing with linear probing.
/// Capacity is a power of two at least twice the order pool, so the load
/// factor stays ≤ 50 % and probe sequences stay short.
#[derive(Debug, Clone)]
struct IdTable {
    keys: Vec<u64>,
    vals: Vec<u32>,
    mask: usize,
    shift: u32,
}

impl IdTable {
    fn new(max_orders: usize) -> Self {
        let cap = (max_orders.saturating_mul(2)).max(8).next_power_of_two();
        Self {
            keys: vec![0; cap],
            vals: vec![NIL; cap],
            mask: cap - 1,
            shift: 64 - cap.trailing_zeros(),
        }
    }

    /// Fibonacci hashing: sequential exchange ids spread over the table.
    #[inline(always)]
    fn home(&self, id: u64) -> usize {
        (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Table position holding `id`, if present.
    #[inline]
    fn find(&self, id: u64) -> Option<usize> {
        let mut i = self.home(id);
        loop {
            if self.vals[i] == NIL {
                return None;
            }
            if self.keys[i] == id {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    fn get(&self, id: u64) -> Option<u32> {
        self.find(id).map(|i| self.vals[i])
    }

    /// Inserts a key known to be absent; the pool bound guarantees a free cell.
    #[inline]
    fn insert_new(&mut self, id: u64, slot: u32) {
        let mut i = self.home(id);
        while self.vals[i] != NIL {
            i = (i + 1) & self.mask;
        }
        self.keys[i] = id;
        self.vals[i] = slot;
    }

    /// Removes the entry at position `i`, shifting later members of the probe
    /// run back so lookups never need tombstones.
    #[inline]
    fn remove_at(&mut self, mut i: usize) {
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            if self.vals[j] == NIL {
                break;
            }
            let h = self.home(self.keys[j]);
            let stays = if i <= j {
                i < h && h <= j
            } else {
                i < h || h <= j
            };
            if !stays {
                self.keys[i] = self.keys[j];
                self.vals[i] = self.vals[j];
                i = j;
            }
        }
        self.vals[i] = NIL;
    }

    fn clear(&mut self) {
        self.vals.fill(NIL);
    }
}

/// L3 order book (FORMATS.md §3) with all storage preallocated for
/// `max_orders` live orders.
#[derive(Debug, Clone)]
pub struct OrderBook {
    orders: Vec<Order>,
    free_order: u32,
    levels: Vec<Level>,
    free_levels: Vec<u32>,
    /// Active levels per side as `(sort_key, level index)`, ascending, touch last.
    sorted: [Vec<(i64, u32)>; 2],
    ids: IdTable,
    live: usize,
}

impl OrderBook {
    /// A book holding at most `max_orders` live orders (capped at `u32::MAX - 1`
    /// because pool links are `u32`).
    pub fn new(max_orders: usize) -> Self {
        let n = max_orders.min(NIL as usize - 1);
        let orders = (0..n)
            .map(|i| Order {
                id: 0,
                qty: 0,
                level: NIL,
                prev: NIL,
                next: if i + 1 < n { (i + 1) as u32 } else { NIL },
            })
            .collect();
        let levels = vec![
            Level {
                px: 0,
                qty: 0,
                count: 0,
                head: NIL,
                tail: NIL,
                side: Side::Bid,
            };
            n
        ];
        Self {
            orders,
            free_order: if n > 0 { 0 } else { NIL },
            levels,
            free_levels: (0..n as u32).rev().collect(),
            sorted: [Vec::with_capacity(n), Vec::with_capacity(n)],
            ids: IdTable::new(n),
            live: 0,
        }
    }

    /// Capacity of the order pool.
    pub fn max_orders(&self) -> usize {
        self.orders.len()
    }

    /// Number of live orders.
    pub fn order_count(&self) -> usize {
        self.live
    }

    /// Adds a resting order at the back of its price level's queue.
    pub fn add(&mut self, id: u64, side: Side, px: i64, qty: i64) -> Result<(), BookError> {
        if qty <= 0 {
            return Err(BookError::InvalidQuantity(qty));
        }
        if self.ids.find(id).is_some() {
            return Err(BookError::DuplicateId(id));
        }
        if self.free_order == NIL {
            return Err(BookError::PoolFull);
        }
        let level = self.level_for(side, px).ok_or(BookError::PoolFull)?;
        let slot = self.free_order;
        self.free_order = self.orders[slot as usize].next;
        self.orders[slot as usize] = Order {
            id,
            qty,
            level,
            prev: NIL,
            next: NIL,
        };
        self.push_back(level, slot);
        self.levels[level as usize].qty += qty;
        self.ids.insert_new(id, slot);
        self.live += 1;
        Ok(())
    }

    /// Removes an order; returns the quantity it still had.
    pub fn cancel(&mut self, id: u64) -> Result<i64, BookError> {
        let pos = self.ids.find(id).ok_or(BookError::UnknownId(id))?;
        let slot = self.ids.vals[pos];
        self.ids.remove_at(pos);
        Ok(self.remove_order(slot))
    }

    /// Changes an order's quantity. Reducing keeps its queue position;
    /// increasing sends it to the back of the queue (exchange priority rules);
    /// 0 cancels it.
    pub fn modify(&mut self, id: u64, new_qty: i64) -> Result<(), BookError> {
        if new_qty < 0 {
            return Err(BookError::InvalidQuantity(new_qty));
        }
        let slot = self.ids.get(id).ok_or(BookError::UnknownId(id))?;
        if new_qty == 0 {
            return self.cancel(id).map(|_| ());
        }
        let o = self.orders[slot as usize];
        let level = o.level;
        self.levels[level as usize].qty += new_qty - o.qty;
        self.orders[slot as usize].qty = new_qty;
        if new_qty > o.qty {
            self.unlink(level, slot);
            self.push_back(level, slot);
        }
        Ok(())
    }

    /// Executes up to `qty` lots against an order; returns the lots filled
    /// (`min(qty, remaining)`). A fully filled order is removed.
    pub fn execute(&mut self, id: u64, qty: i64) -> Result<i64, BookError> {
        if qty <= 0 {
            return Err(BookError::InvalidQuantity(qty));
        }
        let pos = self.ids.find(id).ok_or(BookError::UnknownId(id))?;
        let slot = self.ids.vals[pos];
        let remaining = self.orders[slot as usize].qty;
        if qty >= remaining {
            self.ids.remove_at(pos);
            self.remove_order(slot);
            Ok(remaining)
        } else {
            self.orders[slot as usize].qty = remaining - qty;
            let level = self.orders[slot as usize].level;
            self.levels[level as usize].qty -= qty;
            Ok(qty)
        }
    }

    /// Side, price and remaining quantity of a live order.
    pub fn order(&self, id: u64) -> Option<OrderInfo> {
        let slot = self.ids.get(id)?;
        let o = &self.orders[slot as usize];
        let l = &self.levels[o.level as usize];
        Some(OrderInfo {
            side: l.side,
            px: l.px,
            qty: o.qty,
        })
    }

    /// Quantity queued ahead of order `id` at its price level.
    pub fn qty_ahead(&self, id: u64) -> Result<i64, BookError> {
        let slot = self.ids.get(id).ok_or(BookError::UnknownId(id))?;
        let mut ahead = 0;
        let mut cur = self.orders[slot as usize].prev;
        while cur != NIL {
            ahead += self.orders[cur as usize].qty;
            cur = self.orders[cur as usize].prev;
        }
        Ok(ahead)
    }

    /// Best bid as `(price, aggregated qty)`.
    #[inline]
    pub fn best_bid(&self) -> Option<(i64, i64)> {
        self.best(Side::Bid)
    }

    /// Best ask as `(price, aggregated qty)`.
    #[inline]
    pub fn best_ask(&self) -> Option<(i64, i64)> {
        self.best(Side::Ask)
    }

    /// Best level of `side` as `(price, aggregated qty)`.
    #[inline]
    pub fn best(&self, side: Side) -> Option<(i64, i64)> {
        self.sorted[side as usize].last().map(|&(_, l)| {
            let l = &self.levels[l as usize];
            (l.px, l.qty)
        })
    }

    /// Aggregated quantity at `px` (0 when the level is empty).
    pub fn level_qty(&self, side: Side, px: i64) -> i64 {
        self.find_level(side, px).map_or(0, |i| {
            self.levels[self.sorted[side as usize][i].1 as usize].qty
        })
    }

    /// Number of orders queued at `px`.
    pub fn level_order_count(&self, side: Side, px: i64) -> usize {
        self.find_level(side, px).map_or(0, |i| {
            self.levels[self.sorted[side as usize][i].1 as usize].count as usize
        })
    }

    /// Number of non-empty price levels on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.sorted[side as usize].len()
    }

    /// Order ids at `px` in priority order, written into a caller-owned buffer.
    pub fn level_orders_into(&self, side: Side, px: i64, out: &mut Vec<(u64, i64)>) {
        out.clear();
        if let Some(i) = self.find_level(side, px) {
            let mut cur = self.levels[self.sorted[side as usize][i].1 as usize].head;
            while cur != NIL {
                let o = &self.orders[cur as usize];
                out.push((o.id, o.qty));
                cur = o.next;
            }
        }
    }

    /// Up to `n` `(price, aggregated qty)` levels from the touch outwards,
    /// written into a caller-owned buffer.
    pub fn depth_into(&self, side: Side, n: usize, out: &mut Vec<(i64, i64)>) {
        out.clear();
        for &(_, l) in self.sorted[side as usize].iter().rev().take(n) {
            let l = &self.levels[l as usize];
            out.push((l.px, l.qty));
        }
    }

    /// Removes every order; keeps all allocations.
    pub fn clear(&mut self) {
        let n = self.orders.len();
        for (i, o) in self.orders.iter_mut().enumerate() {
            o.next = if i + 1 < n { (i + 1) as u32 } else { NIL };
        }
        self.free_order = if n > 0 { 0 } else { NIL };
        self.free_levels.clear();
        self.free_levels.extend((0..n as u32).rev());
        self.sorted[0].clear();
        self.sorted[1].clear();
        self.ids.clear();
        self.live = 0;
    }

    #[inline]
    fn find_level(&self, side: Side, px: i64) -> Option<usize> {
        let k = sort_key(side, px);
        self.sorted[side as usize]
            .binary_search_by(|&(x, _)| x.cmp(&k))
            .ok()
    }

    /// Index of the level at `px`, creating it if needed. A free level always
    /// exists when a free order does, since every level holds ≥ 1 order; the
    /// `None` case only guards that invariant so a bug cannot turn into a panic.
    #[inline]
    fn level_for(&mut self, side: Side, px: i64) -> Option<u32> {
        let k = sort_key(side, px);
        let sorted = &mut self.sorted[side as usize];
        // Most adds land at or near the touch, i.e. near the end.
        if let Some(&(last, l)) = sorted.last() {
            if last == k {
                return Some(l);
            }
        }
        match sorted.binary_search_by(|&(x, _)| x.cmp(&k)) {
            Ok(i) => Some(sorted[i].1),
            Err(i) => {
                let l = self.free_levels.pop()?;
                self.levels[l as usize] = Level {
                    px,
                    qty: 0,
                    count: 0,
                    head: NIL,
                    tail: NIL,
                    side,
                };
                sorted.insert(i, (k, l));
                Some(l)
            }
        }
    }

    #[inline]
    fn push_back(&mut self, level: u32, slot: u32) {
        let lv = &mut self.levels[level as usize];
        let tail = lv.tail;
        lv.tail = slot;
        if tail == NIL {
            lv.head = slot;
        } else {
            self.orders[tail as usize].next = slot;
        }
        lv.count += 1;
        let o = &mut self.orders[slot as usize];
        o.prev = tail;
        o.next = NIL;
    }

    #[inline]
    fn unlink(&mut self, level: u32, slot: u32) {
        let Order { prev, next, .. } = self.orders[slot as usize];
        if prev == NIL {
            self.levels[level as usize].head = next;
        } else {
            self.orders[prev as usize].next = next;
        }
        if next == NIL {
            self.levels[level as usize].tail = prev;
        } else {
            self.orders[next as usize].prev = prev;
        }
        self.levels[level as usize].count -= 1;
    }

    /// Unlinks a pooled order (already gone from the id table), frees its
    /// slot and its level if now empty; returns its remaining qty.
    fn remove_order(&mut self, slot: u32) -> i64 {
        let o = self.orders[slot as usize];
        let level = o.level;
        self.unlink(level, slot);
        let lv = &mut self.levels[level as usize];
        lv.qty -= o.qty;
        if lv.count == 0 {
            let side = lv.side;
            let k = sort_key(side, lv.px);
            let sorted = &mut self.sorted[side as usize];
            let pos = if sorted.last().map(|&(x, _)| x) == Some(k) {
                Some(sorted.len() - 1)
            } else {
                sorted.binary_search_by(|&(x, _)| x.cmp(&k)).ok()
            };
            if let Some(pos) = pos {
                sorted.remove(pos);
            }
            self.free_levels.push(level);
        }
        self.orders[slot as usize].next = self.free_order;
        self.orders[slot as usize].level = NIL;
        self.free_order = slot;
        self.live -= 1;
        o.qty
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap, VecDeque};

    #[test]
    fn add_best_and_fifo() {
        let mut b = OrderBook::new(16);
        assert_eq!(b.best_bid(), None);
        b.add(1, Side::Bid, 100, 5).unwrap();
        b.add(2, Side::Bid, 100, 3).unwrap();
        b.add(3, Side::Bid, 101, 1).unwrap();
        b.add(4, Side::Ask, 103, 7).unwrap();
        b.add(5, Side::Ask, 102, 2).unwrap();
        assert_eq!(b.best_bid(), Some((101, 1)));
        assert_eq!(b.best_ask(), Some((102, 2)));
        assert_eq!(b.level_qty(Side::Bid, 100), 8);
        assert_eq!(b.level_order_count(Side::Bid, 100), 2);
        assert_eq!(b.level_qty(Side::Ask, 100), 0);
        assert_eq!(b.order_count(), 5);
        assert_eq!(b.qty_ahead(2), Ok(5));
        assert_eq!(b.qty_ahead(1), Ok(0));
        assert_eq!(
            b.order(4),
            Some(OrderInfo {
                side: Side::Ask,
                px: 103,
                qty: 7
            })
        );
        let mut d = Vec::new();
        b.depth_into(Side::Ask, 5, &mut d);
        assert_eq!(d, vec![(102, 2), (103, 7)]);
        b.depth_into(Side::Bid, 1, &mut d);
        assert_eq!(d, vec![(101, 1)]);
        assert_eq!(b.cancel(3), Ok(1));
        assert_eq!(b.best_bid(), Some((100, 8)));
        assert_eq!(b.level_count(Side::Bid), 1);
    }

    #[test]
    fn modify_priority_rules() {
        let mut b = OrderBook::new(8);
        b.add(1, Side::Ask, 50, 10).unwrap();
        b.add(2, Side::Ask, 50, 10).unwrap();
        b.add(3, Side::Ask, 50, 10).unwrap();
        let mut q = Vec::new();
        // Down keeps priority.
        b.modify(1, 4).unwrap();
        b.level_orders_into(Side::Ask, 50, &mut q);
        assert_eq!(q, vec![(1, 4), (2, 10), (3, 10)]);
        assert_eq!(b.level_qty(Side::Ask, 50), 24);
        // Up loses it.
        b.modify(1, 11).unwrap();
        b.level_orders_into(Side::Ask, 50, &mut q);
        assert_eq!(q, vec![(2, 10), (3, 10), (1, 11)]);
        assert_eq!(b.qty_ahead(1), Ok(20));
        // Same quantity changes nothing.
        b.modify(2, 10).unwrap();
        b.level_orders_into(Side::Ask, 50, &mut q);
        assert_eq!(q, vec![(2, 10), (3, 10), (1, 11)]);
        // Middle of the queue moving to the back.
        b.modify(3, 12).unwrap();
        b.level_orders_into(Side::Ask, 50, &mut q);
        assert_eq!(q, vec![(2, 10), (1, 11), (3, 12)]);
        // Zero cancels.
        b.modify(1, 0).unwrap();
        assert_eq!(b.order_count(), 2);
        assert_eq!(b.modify(1, 3), Err(BookError::UnknownId(1)));
        assert_eq!(b.modify(2, -1), Err(BookError::InvalidQuantity(-1)));
    }

    #[test]
    fn execute_partial_and_full() {
        let mut b = OrderBook::new(4);
        b.add(7, Side::Bid, -5, 10).unwrap();
        assert_eq!(b.execute(7, 4), Ok(4));
        assert_eq!(b.best_bid(), Some((-5, 6)));
        assert_eq!(b.execute(7, 100), Ok(6));
        assert_eq!(b.best_bid(), None);
        assert_eq!(b.order_count(), 0);
        assert_eq!(b.execute(7, 1), Err(BookError::UnknownId(7)));
        b.add(8, Side::Bid, 1, 1).unwrap();
        assert_eq!(b.execute(8, 0), Err(BookError::InvalidQuantity(0)));
    }

    #[test]
    fn errors_leave_book_unchanged() {
        let mut b = OrderBook::new(2);
        assert_eq!(
            b.add(1, Side::Bid, 10, 0),
            Err(BookError::InvalidQuantity(0))
        );
        b.add(1, Side::Bid, 10, 1).unwrap();
        assert_eq!(b.add(1, Side::Ask, 11, 1), Err(BookError::DuplicateId(1)));
        b.add(2, Side::Ask, 11, 1).unwrap();
        assert_eq!(b.add(3, Side::Ask, 12, 1), Err(BookError::PoolFull));
        assert_eq!(b.cancel(3), Err(BookError::UnknownId(3)));
        assert_eq!(b.qty_ahead(3), Err(BookError::UnknownId(3)));
        assert_eq!(b.order_count(), 2);
        assert_eq!(b.best_ask(), Some((11, 1)));
        assert_eq!(b.cancel(1), Ok(1));
        b.add(3, Side::Ask, 12, 1).unwrap();
        assert_eq!(b.level_count(Side::Ask), 2);
        b.clear();
        assert_eq!(b.order_count(), 0);
        assert_eq!(b.best_ask(), None);
        b.add(1, Side::Bid, 10, 1).unwrap();
        b.add(2, Side::Bid, 10, 1).unwrap();
        assert_eq!(b.add(4, Side::Bid, 10, 1), Err(BookError::PoolFull));
        let mut empty = OrderBook::new(0);
        assert_eq!(empty.add(1, Side::Bid, 1, 1), Err(BookError::PoolFull));
        assert!(!BookError::PoolFull.to_string().is_empty());
    }

    #[test]
    fn extreme_prices_and_ids() {
        let mut b = OrderBook::new(8);
        b.add(u64::MAX, Side::Ask, i64::MIN, 1).unwrap();
        b.add(0, Side::Ask, i64::MAX, 1).unwrap();
        b.add(1, Side::Bid, i64::MIN, 1).unwrap();
        b.add(2, Side::Bid, i64::MAX, 1).unwrap();
        assert_eq!(b.best_ask(), Some((i64::MIN, 1)));
        assert_eq!(b.best_bid(), Some((i64::MAX, 1)));
        assert_eq!(b.cancel(u64::MAX), Ok(1));
        assert_eq!(b.best_ask(), Some((i64::MAX, 1)));
        assert_eq!(b.cancel(0), Ok(1));
    }

    #[test]
    fn id_table_survives_collisions_and_deletes() {
        // Many ids in a small table with interleaved deletes exercises
        // backward-shift deletion across wrapped probe runs.
        let mut t = IdTable::new(32);
        let mut live: HashMap<u64, u32> = HashMap::new();
        let mut s = 5u64;
        for step in 0..20_000u32 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = (s >> 33) % 97;
            match t.find(id) {
                Some(pos) => {
                    assert_eq!(live.remove(&id), Some(t.vals[pos]));
                    t.remove_at(pos);
                }
                None => {
                    assert!(!live.contains_key(&id));
                    if live.len() < 32 {
                        t.insert_new(id, step);
                        live.insert(id, step);
                    }
                }
            }
            for (&k, &v) in &live {
                assert_eq!(t.get(k), Some(v));
            }
        }
    }

    /// Straightforward reference book on std collections.
    #[derive(Default)]
    struct Model {
        sides: [BTreeMap<i64, VecDeque<(u64, i64)>>; 2],
        ids: HashMap<u64, (Side, i64)>,
        cap: usize,
    }

    impl Model {
        fn add(&mut self, id: u64, side: Side, px: i64, qty: i64) -> Result<(), BookError> {
            if qty <= 0 {
                return Err(BookError::InvalidQuantity(qty));
            }
            if self.ids.contains_key(&id) {
                return Err(BookError::DuplicateId(id));
            }
            if self.ids.len() == self.cap {
                return Err(BookError::PoolFull);
            }
            self.ids.insert(id, (side, px));
            self.sides[side as usize]
                .entry(px)
                .or_default()
                .push_back((id, qty));
            Ok(())
        }

        fn take(&mut self, id: u64) -> Result<(Side, i64, usize, i64), BookError> {
            let &(side, px) = self.ids.get(&id).ok_or(BookError::UnknownId(id))?;
            let q = &self.sides[side as usize][&px];
            let pos = q.iter().position(|&(i, _)| i == id).unwrap();
            Ok((side, px, pos, q[pos].1))
        }

        fn remove(&mut self, side: Side, px: i64, pos: usize, id: u64) {
            let q = self.sides[side as usize].get_mut(&px).unwrap();
            q.remove(pos);
            if q.is_empty() {
                self.sides[side as usize].remove(&px);
            }
            self.ids.remove(&id);
        }

        fn cancel(&mut self, id: u64) -> Result<i64, BookError> {
            let (side, px, pos, qty) = self.take(id)?;
            self.remove(side, px, pos, id);
            Ok(qty)
        }

        fn modify(&mut self, id: u64, new_qty: i64) -> Result<(), BookError> {
            if new_qty < 0 {
                return Err(BookError::InvalidQuantity(new_qty));
            }
            let (side, px, pos, qty) = self.take(id)?;
            if new_qty == 0 {
                self.remove(side, px, pos, id);
                return Ok(());
            }
            let q = self.sides[side as usize].get_mut(&px).unwrap();
            if new_qty > qty {
                q.remove(pos);
                q.push_back((id, new_qty));
            } else {
                q[pos].1 = new_qty;
            }
            Ok(())
        }

        fn execute(&mut self, id: u64, qty: i64) -> Result<i64, BookError> {
            if qty <= 0 {
                return Err(BookError::InvalidQuantity(qty));
            }
            let (side, px, pos, rem) = self.take(id)?;
            if qty >= rem {
                self.remove(side, px, pos, id);
                Ok(rem)
            } else {
                self.sides[side as usize].get_mut(&px).unwrap()[pos].1 -= qty;
                Ok(qty)
            }
        }

        fn best(&self, side: Side) -> Option<(i64, i64)> {
            let m = &self.sides[side as usize];
            let e = match side {
                Side::Bid => m.iter().next_back(),
                Side::Ask => m.iter().next(),
            };
            e.map(|(&px, q)| (px, q.iter().map(|x| x.1).sum()))
        }
    }

    #[test]
    fn randomized_against_reference_model() {
        let mut s = 1234u64;
        let mut rnd = move || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let cap = 200;
        let mut book = OrderBook::new(cap);
        let mut model = Model {
            cap,
            ..Model::default()
        };
        let mut buf = Vec::new();
        // ok adds, duplicate ids, pool full, invalid qty, ok cancels, unknown
        // cancels, executions that filled the whole order: each must occur.
        let mut seen = [0usize; 7];
        for step in 0..60_000 {
            let id = rnd() % 400;
            let op = rnd() % 10;
            let qty = (rnd() % 20) as i64 - 1;
            match op {
                0..=3 => {
                    let side = if rnd() % 2 == 0 { Side::Bid } else { Side::Ask };
                    let px = 1000 + (rnd() % 30) as i64 - 15;
                    let got = book.add(id, side, px, qty);
                    assert_eq!(got, model.add(id, side, px, qty));
                    match got {
                        Ok(()) => seen[0] += 1,
                        Err(BookError::DuplicateId(_)) => seen[1] += 1,
                        Err(BookError::PoolFull) => seen[2] += 1,
                        Err(_) => seen[3] += 1,
                    }
                }
                4 | 5 => {
                    let got = book.cancel(id);
                    assert_eq!(got, model.cancel(id));
                    seen[4 + usize::from(got.is_err())] += 1;
                }
                6 | 7 => assert_eq!(book.modify(id, qty), model.modify(id, qty)),
                _ => {
                    let got = book.execute(id, qty);
                    assert_eq!(got, model.execute(id, qty));
                    seen[6] += usize::from(matches!(got, Ok(q) if q < qty));
                }
            }
            assert_eq!(book.order_count(), model.ids.len(), "step {step}");
            assert_eq!(book.best_bid(), model.best(Side::Bid), "step {step}");
            assert_eq!(book.best_ask(), model.best(Side::Ask), "step {step}");
            if step % 50 == 0 {
                for side in [Side::Bid, Side::Ask] {
                    assert_eq!(book.level_count(side), model.sides[side as usize].len());
                    for (&px, q) in &model.sides[side as usize] {
                        book.level_orders_into(side, px, &mut buf);
                        assert_eq!(buf, q.iter().copied().collect::<Vec<_>>(), "step {step}");
                        assert_eq!(book.level_qty(side, px), q.iter().map(|x| x.1).sum::<i64>());
                        let mut ahead = 0;
                        for &(oid, oq) in q {
                            assert_eq!(book.qty_ahead(oid), Ok(ahead));
                            ahead += oq;
                        }
                    }
                }
            }
        }
        assert!(seen.iter().all(|&c| c > 0), "coverage {seen:?}");
    }
}
