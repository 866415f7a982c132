//! Order state machine, in-flight tracking and quote management, mirroring `hft::oms` in
//! `runtime_cpp` decision for decision (both run the same test vectors).
//!
//! [`OrderManager`] knows what the venue holds of ours from the requests we sent and the
//! execution reports that came back, and nothing else: position, cash and PnL move on fills
//! only. [`OrderManager::quote`] turns the strategy's desired quote per side into the fewest
//! requests (new, cancel, replace; or cancel and new where the venue has no replace) against
//! what rests and what is in flight, so an unchanged quote sends nothing.
//!
//! Unexpected reports (an id never sent, a report for an order already closed, a duplicate ack,
//! a cancel reject for an order not being canceled) are counted and otherwise ignored, except
//! fills: a fill always moves the position. Orders live in a [`Pool`] sized at construction;
//! nothing on the report or quote path allocates.

#![deny(unsafe_code)]

pub mod credentials;

use crate::l2book::Side;
use crate::pool::{Pool, PoolHandle};

/// Life of one order, by client order id (see `hft::oms::OrdState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OrdState {
    /// Sent, not acknowledged (also the new id of a replace in flight).
    PendingNew = 0,
    /// Resting, nothing filled.
    New = 1,
    /// Resting, part filled.
    PartiallyFilled = 2,
    /// Terminal.
    Filled = 3,
    /// Cancel sent, not confirmed; fills still apply.
    PendingCancel = 4,
    /// Terminal.
    Canceled = 5,
    /// Replace sent, not confirmed (the old id); fills still apply.
    PendingReplace = 6,
    /// Terminal: the new id took over.
    Replaced = 7,
    /// Terminal: the venue refused the new order (or the replace's new id).
    Rejected = 8,
}

impl OrdState {
    /// The name the test vectors use.
    pub fn name(self) -> &'static str {
        match self {
            OrdState::PendingNew => "pending_new",
            OrdState::New => "new",
            OrdState::PartiallyFilled => "partially_filled",
            OrdState::Filled => "filled",
            OrdState::PendingCancel => "pending_cancel",
            OrdState::Canceled => "canceled",
            OrdState::PendingReplace => "pending_replace",
            OrdState::Replaced => "replaced",
            OrdState::Rejected => "rejected",
        }
    }

    fn resting(self) -> bool {
        matches!(self, OrdState::New | OrdState::PartiallyFilled)
    }
}

/// What an execution report says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExecKind {
    /// Order acknowledged, resting.
    New = 0,
    /// `last_qty` traded at `last_px`.
    Fill = 1,
    /// Order gone (our cancel, an IOC remainder, or the venue's own).
    Canceled = 2,
    /// `cl_ord_id` replaced `orig_cl_ord_id`.
    Replaced = 3,
    /// New order (or a replace's new id) refused.
    Rejected = 4,
    /// Cancel refused; the order stays as it was.
    CancelRejected = 5,
    /// Replace of `orig_cl_ord_id` by `cl_ord_id` refused.
    ReplaceRejected = 6,
}

impl ExecKind {
    /// All kinds, in discriminant order.
    pub const ALL: [ExecKind; 7] = [
        ExecKind::New,
        ExecKind::Fill,
        ExecKind::Canceled,
        ExecKind::Replaced,
        ExecKind::Rejected,
        ExecKind::CancelRejected,
        ExecKind::ReplaceRejected,
    ];

    /// The name the test vectors use.
    pub fn name(self) -> &'static str {
        match self {
            ExecKind::New => "new",
            ExecKind::Fill => "fill",
            ExecKind::Canceled => "canceled",
            ExecKind::Replaced => "replaced",
            ExecKind::Rejected => "rejected",
            ExecKind::CancelRejected => "cancel_rejected",
            ExecKind::ReplaceRejected => "replace_rejected",
        }
    }
}

/// One execution report, decoded. `side`, `last_px` (ticks) and `last_qty` (lots) matter for
/// fills only; `orig_cl_ord_id` for replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecReport {
    pub cl_ord_id: u64,
    pub orig_cl_ord_id: u64,
    pub kind: ExecKind,
    pub side: Side,
    pub last_px: i64,
    pub last_qty: i64,
}

/// Kind of a request for the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ActionKind {
    New = 0,
    Cancel = 1,
    Replace = 2,
}

impl ActionKind {
    /// The name the test vectors use.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::New => "new",
            ActionKind::Cancel => "cancel",
            ActionKind::Replace => "replace",
        }
    }
}

/// A request for the gateway. New: a fresh order `cl_ord_id`. Cancel: cancel `cl_ord_id` (px and
/// qty are its price and leaves). Replace: `orig_cl_ord_id` becomes `cl_ord_id` at `px` for a
/// total of `qty` (filled quantity included, as FIX does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub kind: ActionKind,
    pub cl_ord_id: u64,
    pub orig_cl_ord_id: u64,
    pub side: Side,
    pub px: i64,
    pub qty: i64,
}

impl Default for Action {
    fn default() -> Self {
        Action {
            kind: ActionKind::New,
            cl_ord_id: 0,
            orig_cl_ord_id: 0,
            side: Side::Bid,
            px: 0,
            qty: 0,
        }
    }
}

/// One live order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub cl_ord_id: u64,
    /// The id this order replaces, while the replace is in flight.
    pub replaces: u64,
    /// The id replacing this one, while the replace is in flight.
    pub replaced_by: u64,
    pub side: Side,
    pub px: i64,
    /// Total ordered, filled part included.
    pub qty: i64,
    pub cum_qty: i64,
    pub state: OrdState,
    /// Restored when a cancel or replace is refused.
    pub before: OrdState,
}

impl Order {
    fn blank() -> Self {
        Order {
            cl_ord_id: 0,
            replaces: 0,
            replaced_by: 0,
            side: Side::Bid,
            px: 0,
            qty: 0,
            cum_qty: 0,
            state: OrdState::PendingNew,
            before: OrdState::PendingNew,
        }
    }

    /// Quantity still to fill.
    pub fn leaves(&self) -> i64 {
        self.qty - self.cum_qty
    }
}

/// The strategy's wish for one side: rest `qty` lots at `px` ticks, or nothing (`qty <= 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DesiredQuote {
    pub px: i64,
    pub qty: i64,
}

impl DesiredQuote {
    /// No order on this side.
    pub const NONE: DesiredQuote = DesiredQuote { px: 0, qty: 0 };

    fn active(self) -> bool {
        self.qty > 0
    }
}

/// Limits and venue capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OmsConfig {
    /// Live orders at most (the pool's size).
    pub capacity: usize,
    /// Unacknowledged new, cancel and replace requests at most.
    pub max_in_flight: u32,
    /// The venue has cancel/replace; else cancel, then new.
    pub venue_replace: bool,
    /// Ids count up from here (start above the last session's).
    pub first_cl_ord_id: u64,
}

impl Default for OmsConfig {
    fn default() -> Self {
        OmsConfig {
            capacity: 64,
            max_in_flight: 8,
            venue_replace: true,
            first_cl_ord_id: 1,
        }
    }
}

/// What happened, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OmsCounters {
    pub reports: u64,
    pub fills: u64,
    /// Reports for an id never sent (or closed too long ago to remember).
    pub unknown_reports: u64,
    /// Reports for an order already closed, or not expecting them.
    pub late_reports: u64,
    pub rejects: u64,
    pub cancel_rejects: u64,
    pub replace_rejects: u64,
    pub news_sent: u64,
    pub cancels_sent: u64,
    pub replaces_sent: u64,
    /// New or replace skipped: every slot holds a live order.
    pub capacity_full: u64,
}

/// Ids of closed orders remembered, to tell a late report from an unknown one.
pub const RECENT_CLOSED: usize = 256;
/// [`OrderManager::quote`] writes at most this many actions: on each side, a surplus order's
/// cancel, then a cancel and a new (or one replace).
pub const MAX_ACTIONS: usize = 6;

/// The order state machine and quote manager.
pub struct OrderManager {
    cfg: OmsConfig,
    pool: Pool<Order>,
    /// Live orders, oldest first.
    live: Vec<PoolHandle>,
    next_id: u64,
    recent: [u64; RECENT_CLOSED],
    recent_head: usize,
    position: i64,
    cash: i64,
    counters: OmsCounters,
}

impl OrderManager {
    /// An order manager for `cfg.capacity` live orders (allocated here, once).
    pub fn new(cfg: OmsConfig) -> Self {
        let capacity = cfg.capacity.max(1);
        OrderManager {
            cfg,
            pool: Pool::new(capacity, Order::blank),
            live: Vec::with_capacity(capacity),
            next_id: cfg.first_cl_ord_id.max(1),
            recent: [0; RECENT_CLOSED],
            recent_head: 0,
            position: 0,
            cash: 0,
            counters: OmsCounters::default(),
        }
    }

    /// The requests that move the resting orders toward `bid` and `ask`, written to `out`;
    /// returns how many. Same rules as `hft::oms::OrderManager::quote`: bid side first.
    pub fn quote(
        &mut self,
        bid: DesiredQuote,
        ask: DesiredQuote,
        out: &mut [Action; MAX_ACTIONS],
    ) -> usize {
        let n = self.quote_side(Side::Bid, bid, &mut out[..]);
        n + self.quote_side(Side::Ask, ask, &mut out[n..])
    }

    /// Sends a new order directly. `None` when out of slots or in-flight budget.
    pub fn send_new(&mut self, side: Side, px: i64, qty: i64) -> Option<Action> {
        if self.in_flight() >= self.cfg.max_in_flight {
            return None;
        }
        let i = self.open(side, px, qty)?;
        self.counters.news_sent += 1;
        let id = self.at(i).cl_ord_id;
        Some(Action {
            kind: ActionKind::New,
            cl_ord_id: id,
            orig_cl_ord_id: 0,
            side,
            px,
            qty,
        })
    }

    /// Asks to cancel live order `id`. `None` when it is unknown, already going, or over budget.
    pub fn send_cancel(&mut self, id: u64) -> Option<Action> {
        let i = self.index_of(id)?;
        if !self.at(i).state.resting() || self.in_flight() >= self.cfg.max_in_flight {
            return None;
        }
        self.counters.cancels_sent += 1;
        let o = self.at_mut(i);
        o.before = o.state;
        o.state = OrdState::PendingCancel;
        Some(Action {
            kind: ActionKind::Cancel,
            cl_ord_id: o.cl_ord_id,
            orig_cl_ord_id: 0,
            side: o.side,
            px: o.px,
            qty: o.leaves(),
        })
    }

    /// Asks to move live order `id` to `px` with `leaves` lots left to fill.
    pub fn send_replace(&mut self, id: u64, px: i64, leaves: i64) -> Option<Action> {
        let i = self.index_of(id)?;
        if !self.at(i).state.resting() || self.in_flight() >= self.cfg.max_in_flight {
            return None;
        }
        let old = *self.at(i);
        let r = self.open(old.side, px, old.cum_qty + leaves)?;
        let new_id = self.at(r).cl_ord_id;
        let total = {
            let n = self.at_mut(r);
            n.replaces = old.cl_ord_id;
            n.cum_qty = old.cum_qty;
            n.qty
        };
        let o = self.at_mut(i);
        o.replaced_by = new_id;
        o.before = o.state;
        o.state = OrdState::PendingReplace;
        self.counters.replaces_sent += 1;
        Some(Action {
            kind: ActionKind::Replace,
            cl_ord_id: new_id,
            orig_cl_ord_id: old.cl_ord_id,
            side: old.side,
            px,
            qty: total,
        })
    }

    /// Applies one execution report. Never fails: what it cannot place is counted.
    pub fn on_report(&mut self, r: &ExecReport) {
        self.counters.reports += 1;
        if r.kind == ExecKind::Fill {
            self.counters.fills += 1;
            // Saturating: a garbled report must not overflow (the C++ twin saturates alike).
            let signed_qty = if r.side == Side::Bid {
                r.last_qty
            } else {
                0i64.saturating_sub(r.last_qty)
            };
            self.position = self.position.saturating_add(signed_qty);
            self.cash = self
                .cash
                .saturating_sub(signed_qty.saturating_mul(r.last_px));
        }
        let Some(i) = self.index_of(r.cl_ord_id) else {
            if self.recently_closed(r.cl_ord_id) {
                self.counters.late_reports += 1;
            } else {
                self.counters.unknown_reports += 1;
            }
            return;
        };
        let o = *self.at(i);
        match r.kind {
            ExecKind::New | ExecKind::Replaced => {
                if o.state != OrdState::PendingNew {
                    self.counters.late_reports += 1;
                } else if o.replaces != 0 {
                    self.finish_replace(o.cl_ord_id);
                } else {
                    self.at_mut(i).state = OrdState::New;
                }
            }
            ExecKind::Fill => self.on_fill(o.cl_ord_id, r.last_qty),
            ExecKind::Canceled => self.close(i, OrdState::Canceled),
            ExecKind::Rejected | ExecKind::ReplaceRejected => {
                if o.state != OrdState::PendingNew {
                    self.counters.late_reports += 1;
                } else if o.replaces != 0 {
                    self.refuse_replace(i);
                } else {
                    self.counters.rejects += 1;
                    self.close(i, OrdState::Rejected);
                }
            }
            ExecKind::CancelRejected => {
                if o.state != OrdState::PendingCancel {
                    self.counters.late_reports += 1;
                } else {
                    self.counters.cancel_rejects += 1;
                    let o = self.at_mut(i);
                    o.state = o.before;
                }
            }
        }
    }

    /// The live order `id`, or `None` once it is closed.
    pub fn find(&self, id: u64) -> Option<&Order> {
        self.index_of(id).map(|i| self.at(i))
    }

    /// Live orders, oldest first.
    pub fn live(&self) -> impl Iterator<Item = &Order> + '_ {
        self.live.iter().map(|h| self.pool.get(h))
    }

    /// Number of live orders.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> u32 {
        self.live()
            .filter(|o| matches!(o.state, OrdState::PendingNew | OrdState::PendingCancel))
            .count() as u32
    }

    /// Net position in lots (long positive), from fills only.
    pub fn position(&self) -> i64 {
        self.position
    }

    /// Cash in ticks x lots: minus what buys cost, plus what sales brought.
    pub fn cash(&self) -> i64 {
        self.cash
    }

    /// Marked to `mark_px` ticks: cash plus the position's value.
    pub fn pnl(&self, mark_px: i64) -> i64 {
        self.cash
            .saturating_add(self.position.saturating_mul(mark_px))
    }

    pub fn counters(&self) -> &OmsCounters {
        &self.counters
    }

    pub fn config(&self) -> &OmsConfig {
        &self.cfg
    }

    fn at(&self, i: usize) -> &Order {
        self.pool.get(&self.live[i])
    }

    fn at_mut(&mut self, i: usize) -> &mut Order {
        self.pool.get_mut(&self.live[i])
    }

    fn index_of(&self, id: u64) -> Option<usize> {
        self.live
            .iter()
            .position(|h| self.pool.get(h).cl_ord_id == id)
    }

    fn quote_side(&mut self, side: Side, want: DesiredQuote, out: &mut [Action]) -> usize {
        // The side's working order is its oldest one not being canceled (the old id of a replace
        // is represented by its new id). A second one (left by a refused cancel) is surplus.
        let mut working: Option<Order> = None;
        let mut surplus: Option<u64> = None;
        for o in self.live() {
            if o.side != side
                || matches!(o.state, OrdState::PendingCancel | OrdState::PendingReplace)
            {
                continue;
            }
            if working.is_none() {
                working = Some(*o);
            } else if o.state.resting() {
                surplus = Some(o.cl_ord_id);
                break;
            }
        }
        let mut n = 0;
        let mut push = |a: Option<Action>, n: &mut usize| -> bool {
            match a {
                Some(a) => {
                    out[*n] = a;
                    *n += 1;
                    true
                }
                None => false,
            }
        };
        if let Some(id) = surplus {
            let a = self.send_cancel(id);
            push(a, &mut n);
        }
        let Some(w) = working else {
            if want.active() {
                let a = self.send_new(side, want.px, want.qty);
                push(a, &mut n);
            }
            return n;
        };
        if w.state == OrdState::PendingNew {
            return n; // wait for the ack
        }
        if !want.active() {
            let a = self.send_cancel(w.cl_ord_id);
            push(a, &mut n);
            return n;
        }
        if w.px == want.px && w.leaves() == want.qty {
            return n;
        }
        if self.cfg.venue_replace {
            let a = self.send_replace(w.cl_ord_id, want.px, want.qty);
            push(a, &mut n);
            return n;
        }
        let a = self.send_cancel(w.cl_ord_id);
        if !push(a, &mut n) {
            return n;
        }
        let a = self.send_new(side, want.px, want.qty);
        push(a, &mut n);
        n
    }

    /// Index of the new live order, or `None` (counted) when every slot is taken.
    fn open(&mut self, side: Side, px: i64, qty: i64) -> Option<usize> {
        if self.live.len() >= self.cfg.capacity {
            self.counters.capacity_full += 1;
            return None;
        }
        let Some(h) = self.pool.acquire() else {
            self.counters.capacity_full += 1;
            return None;
        };
        let id = self.next_id;
        self.next_id += 1;
        *self.pool.get_mut(&h) = Order {
            cl_ord_id: id,
            side,
            px,
            qty,
            ..Order::blank()
        };
        self.live.push(h);
        Some(self.live.len() - 1)
    }

    fn on_fill(&mut self, id: u64, qty: i64) {
        let Some(i) = self.index_of(id) else { return };
        let o = *self.at(i);
        // A fill on the new id of a replace implies the replace took place.
        if o.state == OrdState::PendingNew && o.replaces != 0 && !self.finish_replace(id) {
            return;
        }
        let Some(i) = self.index_of(id) else { return };
        let o = self.at_mut(i);
        o.cum_qty = o.cum_qty.saturating_add(qty);
        if o.cum_qty >= o.qty {
            self.close(i, OrdState::Filled);
            return;
        }
        match o.state {
            OrdState::PendingNew | OrdState::New => o.state = OrdState::PartiallyFilled,
            OrdState::PendingCancel | OrdState::PendingReplace => {
                o.before = OrdState::PartiallyFilled
            }
            _ => {}
        }
    }

    /// The replace of `replaces` by order `id` took place; false when that leaves it filled (closed).
    fn finish_replace(&mut self, id: u64) -> bool {
        let Some(i) = self.index_of(id) else {
            return false;
        };
        let old_id = self.at(i).replaces;
        if let Some(j) = self.index_of(old_id) {
            let cum = self.at(j).cum_qty;
            self.at_mut(i).cum_qty = cum; // fills on the old id while the replace was in flight
            self.close(j, OrdState::Replaced);
        }
        let Some(i) = self.index_of(id) else {
            return false;
        };
        let n = self.at_mut(i);
        n.replaces = 0;
        if n.cum_qty >= n.qty {
            self.close(i, OrdState::Filled);
            return false;
        }
        n.state = if n.cum_qty > 0 {
            OrdState::PartiallyFilled
        } else {
            OrdState::New
        };
        true
    }

    fn refuse_replace(&mut self, i: usize) {
        self.counters.replace_rejects += 1;
        let old_id = self.at(i).replaces;
        if let Some(j) = self.index_of(old_id) {
            let old = self.at_mut(j);
            if old.state == OrdState::PendingReplace {
                old.state = old.before;
                old.replaced_by = 0;
            }
        }
        self.close(i, OrdState::Rejected);
    }

    fn close(&mut self, i: usize, final_state: OrdState) {
        let h = self.live.remove(i);
        let o = self.pool.get_mut(&h);
        o.state = final_state;
        self.recent[self.recent_head] = o.cl_ord_id;
        self.recent_head = (self.recent_head + 1) % RECENT_CLOSED;
        self.pool.release(h);
    }

    fn recently_closed(&self, id: u64) -> bool {
        id != 0 && self.recent.contains(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_quoting_sends_nothing_and_slots_are_reused() {
        let mut om = OrderManager::new(OmsConfig {
            capacity: 4,
            max_in_flight: 2,
            ..OmsConfig::default()
        });
        let mut out = [Action::default(); MAX_ACTIONS];
        for i in 0..1000i64 {
            let n = om.quote(
                DesiredQuote {
                    px: 100 - i % 3,
                    qty: 5,
                },
                DesiredQuote {
                    px: 102 + i % 3,
                    qty: 5,
                },
                &mut out,
            );
            assert_eq!(n, 2, "cycle {i}");
            let (bid, ask) = (out[0], out[1]);
            for a in [bid, ask] {
                om.on_report(&ExecReport {
                    cl_ord_id: a.cl_ord_id,
                    orig_cl_ord_id: 0,
                    kind: ExecKind::New,
                    side: a.side,
                    last_px: 0,
                    last_qty: 0,
                });
                let again = om.quote(
                    DesiredQuote { px: bid.px, qty: 5 },
                    DesiredQuote { px: ask.px, qty: 5 },
                    &mut out,
                );
                assert_eq!(again, 0, "a resting quote is left alone");
            }
            for a in [bid, ask] {
                om.on_report(&ExecReport {
                    cl_ord_id: a.cl_ord_id,
                    orig_cl_ord_id: 0,
                    kind: ExecKind::Fill,
                    side: a.side,
                    last_px: a.px,
                    last_qty: 5,
                });
            }
            assert_eq!(om.live_count(), 0);
        }
        assert_eq!(om.position(), 0);
        assert_eq!(om.counters().fills, 2000);
        assert_eq!(om.counters().capacity_full, 0);
    }

    #[test]
    fn garbage_reports_are_counted_not_fatal() {
        let mut om = OrderManager::new(OmsConfig::default());
        for id in 0..300u64 {
            for kind in ExecKind::ALL.into_iter().filter(|k| *k != ExecKind::Fill) {
                om.on_report(&ExecReport {
                    cl_ord_id: id * 7919,
                    orig_cl_ord_id: id,
                    kind,
                    side: Side::Ask,
                    last_px: 0,
                    last_qty: 0,
                });
            }
        }
        assert_eq!(om.counters().unknown_reports, 1800);
        assert_eq!(om.live_count(), 0);
        assert_eq!(om.position(), 0);
    }

    #[test]
    fn extreme_fills_saturate_instead_of_overflowing() {
        let mut om = OrderManager::new(OmsConfig::default());
        let fill = |cl, side, v| ExecReport {
            cl_ord_id: cl,
            orig_cl_ord_id: 0,
            kind: ExecKind::Fill,
            side,
            last_px: v,
            last_qty: v,
        };
        om.on_report(&fill(5, Side::Bid, i64::MAX));
        om.on_report(&fill(5, Side::Bid, i64::MAX));
        assert_eq!(om.position(), i64::MAX);
        assert_eq!(om.cash(), i64::MIN);
        om.on_report(&fill(6, Side::Ask, i64::MIN));
        assert_eq!(om.position(), i64::MAX);
        assert_eq!(om.cash(), 0);
        assert_eq!(om.pnl(i64::MAX), i64::MAX);
        assert_eq!(om.counters().unknown_reports, 3);
    }
}
