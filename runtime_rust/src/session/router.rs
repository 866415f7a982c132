//! The one order path of a generated engine, mirroring `hft::session::OrderRouter` in
//! `runtime_cpp`: the strategy's desired quotes per instrument go through
//! [`OrderManager::quote`] into the fewest new/cancel/replace requests, and execution reports come
//! back into the same order manager. Whatever carries the requests (the in-process
//! [`SimulatedVenue`](super::SimulatedVenue), or a venue session) sees only [`Action`] values
//! and answers only with [`ExecReport`] values, so position, cash and PnL come from execution
//! reports.
//!
//! One [`OrderManager`] per instrument; client order ids carry the instrument in their top bits,
//! so a report (whose message may name no instrument) finds its order manager by id alone. A
//! cancel is a request of its own with a fresh id (from [`CANCEL_ID_BASE`] up), remembered so
//! that a refusal of it is applied to the order it tried to cancel.
//!
//! Connection loss: [`OrderRouter::suspend`] stops quoting and counts the live orders as unknown;
//! the venue's reconcile ([`OrderRouter::reconcile_report`] for each order it still holds, then
//! [`OrderRouter::end_reconcile`]) restores them; orders it does not report are closed as
//! canceled. Single-threaded: everything runs on the thread that owns the router.
#![deny(unsafe_code)]

use crate::l2book::Side;
use crate::oms::{
    Action, ActionKind, DesiredQuote, ExecKind, ExecReport, OmsConfig, OrdState, OrderManager,
    MAX_ACTIONS, RECENT_CLOSED,
};
use crate::trading::{InstrumentId, OrderRequest};

/// Bits of a client order id below the instrument index.
pub const INSTRUMENT_SHIFT: u32 = 48;
/// Cancel request ids start here (above every order id).
pub const CANCEL_ID_BASE: u64 = 1 << 62;
/// Cancel requests remembered, to apply a late refusal to its order.
pub const CANCEL_MEMORY: usize = 256;
/// Execution report kinds, in [`ExecKind`] order (metric labels).
pub const EXEC_KIND_NAMES: [&str; 7] = [
    "new",
    "fill",
    "canceled",
    "replaced",
    "rejected",
    "cancel_rejected",
    "replace_rejected",
];
/// Request kinds, in [`ActionKind`] order (metric labels).
pub const ACTION_KIND_NAMES: [&str; 3] = ["new", "cancel", "replace"];

/// What the router did, for metrics and the run's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterCounters {
    /// Requests by [`ActionKind`].
    pub sent: [u64; 3],
    /// Reports by [`ExecKind`].
    pub reports: [u64; 7],
    /// Desired quotes taken ([`OrderRouter::want`]).
    pub desired: u64,
    /// Reports for an id of no instrument.
    pub unroutable: u64,
    /// Times quoting stopped (connection loss).
    pub suspended: u64,
    /// Live orders at those times.
    pub marked_unknown: u64,
    /// Orders the venue reported open in a reconcile.
    pub reconcile_open: u64,
    /// Orders closed as canceled by a reconcile.
    pub reconcile_closed: u64,
    /// Reconcile reports for no order of ours.
    pub reconcile_foreign: u64,
}

/// One request for the venue: `action` for `instrument`, under message id `request_id` (the
/// order's own id, or a fresh one for a cancel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    pub instrument: InstrumentId,
    pub request_id: u64,
}

/// A fill an execution report carried: the position of `instrument` moves by `qty_lots` on
/// `side` at `px_ticks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutedFill {
    pub instrument: InstrumentId,
    pub side: Side,
    pub px_ticks: i64,
    pub qty_lots: i64,
}

/// Requests for several instruments, one [`OrderManager`] each (see the module docs).
pub struct OrderRouter {
    oms: Vec<OrderManager>,
    desired: Vec<[DesiredQuote; 2]>,
    dirty: Vec<bool>,
    any_dirty: bool,
    quoting: bool,
    closing: bool,
    /// Ids the venue reported in the current reconcile.
    seen: Vec<u64>,
    cancels: [u64; CANCEL_MEMORY],
    next_cancel: u64,
    counters: RouterCounters,
}

impl OrderRouter {
    /// `first_id` (below 2^48, > 0): where each instrument's order ids start counting, e.g. a
    /// time-derived value so a restarted engine does not reuse the last run's ids.
    pub fn new(instruments: usize, cfg: OmsConfig, first_id: u64) -> Self {
        let first_id = (first_id & ((1 << INSTRUMENT_SHIFT) - 1)).max(1);
        let oms = (0..instruments)
            .map(|i| {
                OrderManager::new(OmsConfig {
                    first_cl_ord_id: ((i as u64) << INSTRUMENT_SHIFT) | first_id,
                    ..cfg
                })
            })
            .collect();
        OrderRouter {
            oms,
            desired: vec![[DesiredQuote::NONE; 2]; instruments],
            dirty: vec![false; instruments],
            any_dirty: false,
            quoting: true,
            closing: false,
            seen: Vec::with_capacity(instruments * cfg.capacity.max(1)),
            cancels: [0; CANCEL_MEMORY],
            next_cancel: 0,
            counters: RouterCounters::default(),
        }
    }

    /// The strategy's latest quote for one side of one instrument (replacing the previous one).
    pub fn want(&mut self, o: &OrderRequest) {
        let i = o.instrument as usize;
        if self.closing || i >= self.desired.len() {
            return;
        }
        self.counters.desired += 1;
        self.desired[i][usize::from(o.side == Side::Ask)] = DesiredQuote {
            px: o.px_ticks,
            qty: o.qty_lots,
        };
        self.dirty[i] = true;
        self.any_dirty = true;
    }

    /// Stops quoting everything for good: the desired quotes become empty and [`want`](Self::want)
    /// is ignored from now on; [`pump`](Self::pump) then sends the cancels.
    pub fn cancel_all(&mut self) {
        self.closing = true;
        self.desired.fill([DesiredQuote::NONE; 2]);
        self.dirty.fill(true);
        self.any_dirty = true;
    }

    /// Moves the resting orders toward the desired quotes: `send` each request, instruments in
    /// order, as [`OrderManager::quote`] writes them. Nothing while suspended.
    pub fn pump(&mut self, mut send: impl FnMut(&Request)) {
        if !self.quoting || !self.any_dirty {
            return;
        }
        self.any_dirty = false;
        let mut out = [Action::default(); MAX_ACTIONS];
        for i in 0..self.oms.len() {
            if !self.dirty[i] {
                continue;
            }
            self.dirty[i] = false;
            let [bid, ask] = self.desired[i];
            let n = self.oms[i].quote(bid, ask, &mut out);
            for a in &out[..n] {
                self.counters.sent[a.kind as usize] += 1;
                let request_id = if a.kind == ActionKind::Cancel {
                    self.remember_cancel(a.cl_ord_id)
                } else {
                    a.cl_ord_id
                };
                send(&Request {
                    action: *a,
                    instrument: i as InstrumentId,
                    request_id,
                });
            }
        }
    }

    /// One execution report (ids as sent). Returns the fill it carries, whatever the order's
    /// state (a fill always moves the position). A report naming one of our cancel requests is
    /// applied to the order (its original id, or the one remembered).
    pub fn on_report(&mut self, report: &ExecReport) -> Option<RoutedFill> {
        let mut r = *report;
        if r.cl_ord_id >= CANCEL_ID_BASE {
            r.cl_ord_id = if r.orig_cl_ord_id != 0 {
                r.orig_cl_ord_id
            } else {
                self.cancelled_order(r.cl_ord_id)
            };
        }
        self.counters.reports[r.kind as usize] += 1;
        let i = self.instrument_of(r.cl_ord_id);
        if i >= self.oms.len() {
            self.counters.unroutable += 1;
            return None;
        }
        self.oms[i].on_report(&r);
        self.dirty[i] = true;
        self.any_dirty = true;
        (r.kind == ExecKind::Fill).then_some(RoutedFill {
            instrument: i as InstrumentId,
            side: r.side,
            px_ticks: r.last_px,
            qty_lots: r.last_qty,
        })
    }

    /// The venue refused request `request_id` before it reached the book: a cancel's refusal
    /// restores the order; a new order's or a replace's closes it as rejected.
    pub fn on_reject(&mut self, request_id: u64) {
        let (kind, id) = if request_id >= CANCEL_ID_BASE {
            (ExecKind::CancelRejected, self.cancelled_order(request_id))
        } else {
            (ExecKind::Rejected, request_id)
        };
        self.on_report(&ExecReport {
            cl_ord_id: id,
            orig_cl_ord_id: 0,
            kind,
            side: Side::Bid,
            last_px: 0,
            last_qty: 0,
        });
    }

    /// The connection is gone: stop quoting; what rests is unknown until the reconcile.
    pub fn suspend(&mut self) {
        if !self.quoting {
            return;
        }
        self.quoting = false;
        self.counters.suspended += 1;
        self.counters.marked_unknown += self.live() as u64;
    }

    /// Logged on again: the venue's reconcile reports follow.
    pub fn begin_reconcile(&mut self) {
        self.seen.clear();
    }

    /// The venue still holds order `id` (open or partially filled).
    pub fn reconcile_report(&mut self, id: u64) {
        self.counters.reconcile_open += 1;
        let i = self.instrument_of(id);
        let Some(o) = self.oms.get(i).and_then(|m| m.find(id)) else {
            self.counters.reconcile_foreign += 1;
            return;
        };
        let (state, replaces) = (o.state, o.replaces);
        self.seen.push(id);
        if state == OrdState::PendingNew {
            // Sent before the loss and acknowledged since: a new order, or a replace's new id.
            let kind = if replaces != 0 {
                ExecKind::Replaced
            } else {
                ExecKind::New
            };
            self.apply(i, id, kind);
        }
    }

    /// The reconcile is over: requests it shows were not carried out are undone, orders the
    /// venue did not report are closed as canceled, and quoting resumes.
    pub fn end_reconcile(&mut self) {
        let mut ids = Vec::new();
        for i in 0..self.oms.len() {
            // A replace the venue did not carry out (the old id still open): refuse it.
            self.collect(i, &mut ids);
            for &id in &ids {
                let Some(o) = self.oms[i].find(id) else {
                    continue;
                };
                if !self.seen.contains(&id) {
                    continue;
                }
                let (state, replaced_by) = (o.state, o.replaced_by);
                if state == OrdState::PendingReplace
                    && replaced_by != 0
                    && !self.seen.contains(&replaced_by)
                {
                    self.apply(i, replaced_by, ExecKind::ReplaceRejected);
                } else if state == OrdState::PendingCancel {
                    self.apply(i, id, ExecKind::CancelRejected);
                }
            }
            self.collect(i, &mut ids);
            for &id in &ids {
                if self.seen.contains(&id) {
                    continue;
                }
                self.counters.reconcile_closed += 1;
                self.apply(i, id, ExecKind::Canceled);
            }
            self.dirty[i] = true;
        }
        self.any_dirty = true;
        self.quoting = true;
    }

    /// False while suspended (between a connection loss and the end of the reconcile).
    pub fn quoting(&self) -> bool {
        self.quoting
    }

    /// Live orders over all instruments (resting or in flight).
    pub fn live(&self) -> usize {
        self.oms.iter().map(OrderManager::live_count).sum()
    }
    pub fn instruments(&self) -> usize {
        self.oms.len()
    }
    /// The order manager of instrument `i`.
    pub fn oms(&self, i: usize) -> &OrderManager {
        &self.oms[i]
    }
    pub fn counters(&self) -> &RouterCounters {
        &self.counters
    }
    /// Reports the order managers could not place: for ids never sent, or for closed orders.
    pub fn unexpected_reports(&self) -> u64 {
        self.counters.unroutable
            + self
                .oms
                .iter()
                .map(|m| m.counters().unknown_reports + m.counters().late_reports)
                .sum::<u64>()
    }
    /// The instrument an order id belongs to; [`instruments`](Self::instruments) for none.
    pub fn instrument_of(&self, id: u64) -> usize {
        if id == 0 || id >= CANCEL_ID_BASE {
            return self.oms.len();
        }
        usize::try_from(id >> INSTRUMENT_SHIFT)
            .ok()
            .filter(|&i| i < self.oms.len())
            .unwrap_or(self.oms.len())
    }

    fn apply(&mut self, i: usize, id: u64, kind: ExecKind) {
        self.oms[i].on_report(&ExecReport {
            cl_ord_id: id,
            orig_cl_ord_id: 0,
            kind,
            side: Side::Bid,
            last_px: 0,
            last_qty: 0,
        });
    }

    fn collect(&self, i: usize, ids: &mut Vec<u64>) {
        ids.clear();
        ids.extend(self.oms[i].live().map(|o| o.cl_ord_id));
    }

    fn remember_cancel(&mut self, order_id: u64) -> u64 {
        let request = CANCEL_ID_BASE + self.next_cancel;
        self.next_cancel += 1;
        self.cancels[(request % CANCEL_MEMORY as u64) as usize] = order_id;
        request
    }

    /// The order a cancel request was for; 0 (an unknown report) when never sent or too old.
    fn cancelled_order(&self, request: u64) -> u64 {
        let next = CANCEL_ID_BASE + self.next_cancel;
        if request >= next || request + (CANCEL_MEMORY as u64) < next {
            return 0;
        }
        self.cancels[(request % CANCEL_MEMORY as u64) as usize]
    }
}

// The cancel memory and the order managers' memory of closed orders are sized alike.
const _: () = assert!(CANCEL_MEMORY == RECENT_CLOSED);

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(instrument: InstrumentId, side: Side, px: i64, qty: i64) -> OrderRequest {
        OrderRequest {
            client_order_id: 0,
            instrument,
            side,
            px_ticks: px,
            qty_lots: qty,
            ts_ns: 0,
        }
    }

    fn report(kind: ExecKind, id: u64) -> ExecReport {
        ExecReport {
            cl_ord_id: id,
            orig_cl_ord_id: 0,
            kind,
            side: Side::Bid,
            last_px: 0,
            last_qty: 0,
        }
    }

    fn pump(r: &mut OrderRouter) -> Vec<Request> {
        let mut out = Vec::new();
        r.pump(|q| out.push(*q));
        out
    }

    #[test]
    fn ids_carry_the_instrument_and_an_unchanged_quote_sends_nothing() {
        let mut r = OrderRouter::new(2, OmsConfig::default(), 7);
        r.want(&quote(1, Side::Bid, 100, 2));
        let sent = pump(&mut r);
        assert_eq!(sent.len(), 1);
        let new = sent[0];
        assert_eq!(new.action.kind, ActionKind::New);
        assert_eq!(new.instrument, 1);
        assert_eq!(new.request_id, (1 << INSTRUMENT_SHIFT) | 7);
        assert_eq!(r.instrument_of(new.request_id), 1);
        r.on_report(&report(ExecKind::New, new.request_id));
        r.want(&quote(1, Side::Bid, 100, 2));
        assert!(pump(&mut r).is_empty(), "same quote: nothing to do");
        r.want(&quote(1, Side::Bid, 101, 2));
        let moved = pump(&mut r);
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].action.kind, ActionKind::Replace);
        assert_eq!(moved[0].action.orig_cl_ord_id, new.request_id);
        assert_eq!(r.counters().sent, [1, 0, 1]);
        assert_eq!(r.live(), 2, "both ids live while the replace is in flight");
        let mut done = report(ExecKind::Replaced, moved[0].request_id);
        done.orig_cl_ord_id = new.request_id;
        r.on_report(&done);
        assert_eq!(r.live(), 1);
        assert!(pump(&mut r).is_empty());
    }

    #[test]
    fn a_cancel_has_its_own_id_and_its_refusal_restores_the_order() {
        let mut r = OrderRouter::new(1, OmsConfig::default(), 1);
        r.want(&quote(0, Side::Ask, 50, 1));
        let id = pump(&mut r)[0].request_id;
        r.on_report(&report(ExecKind::New, id));
        r.cancel_all();
        let cancel = pump(&mut r)[0];
        assert_eq!(cancel.action.kind, ActionKind::Cancel);
        assert_eq!(cancel.action.cl_ord_id, id);
        assert_eq!(cancel.request_id, CANCEL_ID_BASE);
        r.on_reject(cancel.request_id);
        assert_eq!(r.counters().reports[ExecKind::CancelRejected as usize], 1);
        assert_eq!(r.live(), 1, "refused cancel: the order rests");
        r.want(&quote(0, Side::Ask, 60, 1));
        assert_eq!(r.counters().desired, 1, "closing: want is ignored");
        let again = pump(&mut r)[0];
        assert_eq!(again.request_id, CANCEL_ID_BASE + 1);
        let mut done = report(ExecKind::Canceled, again.request_id);
        done.orig_cl_ord_id = id;
        assert_eq!(r.on_report(&done), None);
        assert_eq!(r.live(), 0);
        assert_eq!(r.unexpected_reports(), 0);
    }

    #[test]
    fn reconcile_restores_reported_orders_and_closes_the_rest() {
        // As hft::session's OrderRouter test of the same name.
        let mut r = OrderRouter::new(2, OmsConfig::default(), 1000);
        r.want(&quote(0, Side::Bid, 100, 1));
        r.want(&quote(0, Side::Ask, 110, 1));
        r.want(&quote(1, Side::Bid, 50, 1));
        let sent = pump(&mut r);
        assert_eq!(sent.len(), 3);
        let (bid, ask, other) = (
            sent[0].action.cl_ord_id,
            sent[1].action.cl_ord_id,
            sent[2].action.cl_ord_id,
        );
        r.on_report(&report(ExecKind::New, bid));
        r.on_report(&report(ExecKind::New, ask)); // `other` is still unacknowledged
        r.want(&quote(0, Side::Bid, 99, 1));
        let sent = pump(&mut r);
        assert_eq!(
            sent.len(),
            1,
            "a replace of the bid, in flight when the connection drops"
        );
        let bid2 = sent[0].action.cl_ord_id;
        r.suspend();
        assert!(!r.quoting());
        assert_eq!(r.counters().marked_unknown, 4); // bid, its replacement, ask, other
        r.want(&quote(0, Side::Ask, 111, 1));
        assert!(pump(&mut r).is_empty(), "nothing is sent while suspended");
        // The venue holds the old bid (the replace never arrived) and `other`; the ask is gone.
        r.begin_reconcile();
        r.reconcile_report(bid);
        r.reconcile_report(other);
        r.reconcile_report(777); // not ours
        r.end_reconcile();
        assert!(r.quoting());
        let c = *r.counters();
        assert_eq!(
            (c.reconcile_open, c.reconcile_foreign, c.reconcile_closed),
            (3, 1, 1)
        );
        assert_eq!(r.oms(0).find(bid).map(|o| o.state), Some(OrdState::New));
        assert!(r.oms(0).find(bid2).is_none());
        assert!(r.oms(0).find(ask).is_none());
        assert_eq!(r.oms(1).find(other).map(|o| o.state), Some(OrdState::New));
        // Quoting resumes from what is known: the bid moves again and the ask is new.
        let sent = pump(&mut r);
        assert_eq!(
            sent.iter().map(|q| q.action.kind).collect::<Vec<_>>(),
            [ActionKind::Replace, ActionKind::New]
        );
    }

    #[test]
    fn fills_come_back_with_their_instrument_and_unknown_ids_are_counted() {
        let mut r = OrderRouter::new(2, OmsConfig::default(), 1);
        r.want(&quote(1, Side::Bid, 10, 3));
        let id = pump(&mut r)[0].request_id;
        r.on_report(&report(ExecKind::New, id));
        let mut fill = report(ExecKind::Fill, id);
        fill.last_px = 10;
        fill.last_qty = 3;
        assert_eq!(
            r.on_report(&fill),
            Some(RoutedFill {
                instrument: 1,
                side: Side::Bid,
                px_ticks: 10,
                qty_lots: 3
            })
        );
        assert_eq!((r.oms(1).position(), r.oms(1).cash()), (3, -30));
        assert_eq!(
            r.on_report(&report(ExecKind::Fill, 5 << INSTRUMENT_SHIFT)),
            None
        );
        assert_eq!(
            r.on_report(&report(ExecKind::New, CANCEL_ID_BASE + 9)),
            None
        );
        assert_eq!(r.counters().unroutable, 2);
        assert_eq!(r.unexpected_reports(), 2);
    }
}
