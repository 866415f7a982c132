//! Pre-trade risk gate: the last check every order passes before it reaches the gateway.
//!
//! Same limits, units, decisions and precedence as `hft::trading::RiskGate`. Exposure is measured
//! worst case: an accepted order counts as if it will fill, from acceptance until a fill, cancel,
//! reject or expiry takes it off. Per instrument, worst-case long = position + open buys (+ the
//! new buy), worst-case short = -position + open sells (+ the new sell); the order's side must
//! stay within `max_position`.
//!
//! [`RiskGate::check`] evaluates every limit unconditionally, packs the failures into a bit mask
//! and reports the highest-precedence one, so accepted and rejected orders cost the same. No
//! allocation after construction, no panics, no floating point, no overflow in debug or release:
//! limits are compared in exact 128-bit arithmetic, an order whose acceptance would push a stored
//! 64-bit total out of range is rejected ([`RiskDecision::Overflow`]), and fills saturate.
//!
//! Order lifecycle: `check` registers the order it accepts; the caller reports what happens to
//! it by client order id ([`RiskGate::on_order_fill`], [`RiskGate::on_cancel`],
//! [`RiskGate::on_reject`], [`RiskGate::on_expire`]). A cancel/replace is a `check` of the new id
//! and, once confirmed, `on_cancel` of the old one. [`RiskGate::on_order_accepted`] registers an
//! order that did not pass `check` here (found open at the venue after a restart). Client order
//! ids must increase: an id not above the last one registered is a duplicate, an exact check in
//! constant memory. [`Side`] is an enum, so an invalid side cannot reach the gate in Rust; the
//! decoders map unknown wire values to an error before an order exists.
#![deny(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::order::{InstrumentId, OrderRequest, Side, Touch};

/// Why an order was accepted or rejected. The values are stable (metric labels, backtest
/// summaries); new reasons are appended. Precedence, when several limits fail, is
/// [`RiskDecision::PRECEDENCE`]'s order, not the numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RiskDecision {
    Accept = 0,
    /// The kill switch is tripped: nothing leaves until it is re-armed.
    KillSwitch,
    /// qty <= 0 or instrument out of range.
    InvalidOrder,
    /// qty > max_order_qty.
    MaxOrderQty,
    /// |px| * qty > max_notional (only when max_notional > 0).
    MaxNotional,
    /// Worst-case long or short (position + open orders + this one) > max_position.
    MaxPosition,
    /// No two-sided touch to measure the price collar against.
    NoMarket,
    /// Price further than price_band_bps from the current touch's mid.
    PriceBand,
    /// Token bucket empty (max_orders_per_second).
    OrderRate,
    /// Client order id not above the last one registered.
    DuplicateOrderId,
    /// max_open_orders orders already open.
    MaxOpenOrders,
    /// Open orders' gross notional + this one's > max_open_notional (when > 0).
    MaxOpenNotional,
    /// Accepting would overflow a 64-bit total (notional, open quantity).
    Overflow,
}

impl RiskDecision {
    /// Number of decisions (accept included).
    pub const COUNT: usize = 13;
    /// Every decision, in discriminant order.
    pub const ALL: [RiskDecision; Self::COUNT] = [
        Self::Accept,
        Self::KillSwitch,
        Self::InvalidOrder,
        Self::MaxOrderQty,
        Self::MaxNotional,
        Self::MaxPosition,
        Self::NoMarket,
        Self::PriceBand,
        Self::OrderRate,
        Self::DuplicateOrderId,
        Self::MaxOpenOrders,
        Self::MaxOpenNotional,
        Self::Overflow,
    ];
    /// Rejection reasons from highest to lowest precedence (bit i of the check mask is entry i).
    pub const PRECEDENCE: [RiskDecision; Self::COUNT - 1] = [
        Self::KillSwitch,
        Self::InvalidOrder,
        Self::DuplicateOrderId,
        Self::Overflow,
        Self::MaxOrderQty,
        Self::MaxNotional,
        Self::MaxPosition,
        Self::MaxOpenNotional,
        Self::MaxOpenOrders,
        Self::NoMarket,
        Self::PriceBand,
        Self::OrderRate,
    ];

    /// Stable lower-case name, for logs and metric labels (the C++ runtime's names).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::KillSwitch => "kill_switch",
            Self::InvalidOrder => "invalid_order",
            Self::MaxOrderQty => "max_order_qty",
            Self::MaxNotional => "max_notional",
            Self::MaxPosition => "max_position",
            Self::NoMarket => "no_market",
            Self::PriceBand => "price_band",
            Self::OrderRate => "order_rate",
            Self::DuplicateOrderId => "duplicate_order_id",
            Self::MaxOpenOrders => "max_open_orders",
            Self::MaxOpenNotional => "max_open_notional",
            Self::Overflow => "overflow",
        }
    }
}

/// Limits of the schema's risk_gate component. Units: lots, ticks, and tick*lot for notional.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskLimits {
    /// Per instrument, worst case including open orders, lots.
    pub max_position: i64,
    pub max_order_qty: i64,
    /// Sustained rate and burst size of the token bucket. 0 rejects every order: a missing rate
    /// limit must be spelled out as a large number, never defaulted to "unlimited".
    pub max_orders_per_second: u64,
    /// Max |px - mid| / mid of the current touch, in basis points.
    pub price_band_bps: i64,
    /// Per order; 0 = no notional limit.
    pub max_notional: i64,
    /// Whether operators get a kill switch endpoint. The gate always honours a tripped switch:
    /// a safety stop that configuration could silently disable would be a trap.
    pub kill_switch: bool,
    /// Gross notional of all open orders (sum of |px| * open qty), tick*lot; 0 = no limit.
    pub max_open_notional: i64,
    /// Orders open at once, all instruments (clamped to 1..=[`RiskLimits::MAX_OPEN_ORDERS_CEILING`]).
    pub max_open_orders: u32,
}

impl RiskLimits {
    /// Default of `max_open_orders`.
    pub const DEFAULT_MAX_OPEN_ORDERS: u32 = 1024;
    /// Ceiling of `max_open_orders` (the open-order table is reserved from it).
    pub const MAX_OPEN_ORDERS_CEILING: u32 = 1 << 20;
}

impl Default for RiskLimits {
    /// Everything zero (so every order is rejected), kill switch endpoint on, the default
    /// open-order count.
    fn default() -> Self {
        RiskLimits {
            max_position: 0,
            max_order_qty: 0,
            max_orders_per_second: 0,
            price_band_bps: 0,
            max_notional: 0,
            kill_switch: true,
            max_open_notional: 0,
            max_open_orders: Self::DEFAULT_MAX_OPEN_ORDERS,
        }
    }
}

/// A handle on a gate's kill switch, usable from any thread while the gate runs elsewhere.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch(Arc<AtomicBool>);

impl KillSwitch {
    /// Latches the switch: every later check returns [`RiskDecision::KillSwitch`] until re-armed.
    pub fn trip(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Re-arms the gate after a trip.
    pub fn rearm(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
    /// Same as [`KillSwitch::rearm`].
    pub fn reset(&self) {
        self.rearm();
    }
    /// Whether the switch is tripped.
    pub fn tripped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// One open order, kept in acceptance order (a quoting strategy has a handful open, so a
/// linear scan beats hashing and keeps FIFO order for fills without an order id).
#[derive(Clone, Copy, Debug)]
struct OpenOrder {
    id: u64,
    px: i64,
    leaves: i64,
    instrument: usize,
    side: usize, // 0 bid, 1 ask
}

const I64_MAX: i128 = i64::MAX as i128;

fn abs_notional(px: i64, qty: i64) -> i128 {
    i128::from(px).abs() * i128::from(qty) // |px| <= 2^63, |qty| < 2^63: fits
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Bid => 0,
        Side::Ask => 1,
    }
}

/// Per-pipeline risk gate. [`check`](Self::check) and the order events run on one thread; the
/// kill switch may be flipped from any thread through a [`KillSwitch`] handle.
#[derive(Debug)]
pub struct RiskGate {
    limits: RiskLimits,
    rate: u64,
    capacity: u64,
    tokens: u64,
    last_ns: u64,
    max_open: usize,
    position: Vec<i64>,
    open_qty: Vec<[i64; 2]>,
    open: Vec<OpenOrder>,
    open_notional: i64,
    last_id: Option<u64>,
    counts: [u64; RiskDecision::COUNT],
    kill: KillSwitch,
}

impl RiskGate {
    /// Fixed-point unit of the token bucket: one order costs `UNIT`, and the bucket refills
    /// `rate` units per elapsed ns, so integer arithmetic stays exact.
    pub const UNIT: u64 = 1_000_000_000;
    /// Rates above this are clamped so that the capacity (rate * UNIT) cannot overflow.
    pub const MAX_RATE: u64 = 1_000_000_000;

    /// A gate with a full bucket, flat positions and no open orders for `instruments`
    /// instruments (at least 1).
    pub fn new(limits: RiskLimits, instruments: usize) -> Self {
        let rate = limits.max_orders_per_second.min(Self::MAX_RATE);
        let max_open = limits
            .max_open_orders
            .clamp(1, RiskLimits::MAX_OPEN_ORDERS_CEILING) as usize;
        let n = instruments.max(1);
        RiskGate {
            limits,
            rate,
            capacity: rate * Self::UNIT,
            tokens: rate * Self::UNIT,
            last_ns: 0,
            max_open,
            position: vec![0; n],
            open_qty: vec![[0; 2]; n],
            open: Vec::with_capacity(max_open),
            open_notional: 0,
            last_id: None,
            counts: [0; RiskDecision::COUNT],
            kill: KillSwitch::default(),
        }
    }

    /// Decides on one order at `now_ns` (any monotonic ns clock; the pipeline passes the
    /// triggering message's timestamp so replays are deterministic) given the touch the strategy
    /// saw. Accepting consumes one token and registers the order as open; a rejection changes
    /// nothing but its counter.
    #[inline]
    pub fn check(&mut self, o: &OrderRequest, t: &Touch, now_ns: u64) -> RiskDecision {
        self.refill(now_ns);
        let n = self.position.len();
        let inst = o.instrument as usize;
        let bad = o.qty_lots <= 0 || inst >= n;
        let idx = if inst < n { inst } else { 0 };
        let s = side_index(o.side);
        let qty = i128::from(o.qty_lots);
        let px = i128::from(o.px_ticks);
        let notional = abs_notional(o.px_ticks, o.qty_lots);
        let open_side = i128::from(self.open_qty[idx][s]) + qty;
        let open_notional = i128::from(self.open_notional) + notional;
        let overflow = notional > I64_MAX || open_side > I64_MAX || open_notional > I64_MAX;
        let dup = self.last_id.is_some_and(|last| o.client_order_id <= last);
        let notional_fail =
            self.limits.max_notional > 0 && notional > i128::from(self.limits.max_notional);
        // Worst case on the order's own side: an order that reduces risk is never refused for
        // the other side's excess.
        let pos = i128::from(self.position[idx]);
        let worst = if s == 0 { pos } else { -pos } + open_side;
        let pos_fail = worst > i128::from(self.limits.max_position);
        let open_notional_fail = self.limits.max_open_notional > 0
            && open_notional > i128::from(self.limits.max_open_notional);
        let open_orders_fail = self.open.len() >= self.max_open;
        // |px - mid| <= bps/10000 * |mid|, doubled to stay in integers: mid2 = bid + ask.
        let mid2 = i128::from(t.bid_px) + i128::from(t.ask_px);
        let dev2 = 2 * px - mid2;
        // |dev2| * 10_000 < 2^79 always fits; bps * |mid2| can reach 2^127, so it saturates.
        let band = t.valid
            && dev2.abs() * 10_000
                > i128::from(self.limits.price_band_bps).saturating_mul(mid2.abs());
        // Bit i is PRECEDENCE[i].
        let fail = u32::from(self.kill.tripped())
            | u32::from(bad) << 1
            | u32::from(dup) << 2
            | u32::from(overflow) << 3
            | u32::from(o.qty_lots > self.limits.max_order_qty) << 4
            | u32::from(notional_fail) << 5
            | u32::from(pos_fail) << 6
            | u32::from(open_notional_fail) << 7
            | u32::from(open_orders_fail) << 8
            | u32::from(!t.valid) << 9
            | u32::from(band) << 10
            | u32::from(self.tokens < Self::UNIT) << 11;
        if fail == 0 {
            self.tokens -= Self::UNIT; // fail == 0 implies tokens >= UNIT
            self.counts[0] = self.counts[0].saturating_add(1);
            // fail == 0: no overflow, so both totals fit in i64.
            self.add_open(o, idx, s, notional as i64);
            return RiskDecision::Accept;
        }
        let reason = RiskDecision::PRECEDENCE[fail.trailing_zeros() as usize];
        let c = &mut self.counts[reason as usize];
        *c = c.saturating_add(1);
        reason
    }

    /// Registers an order as open without checking any limit: one accepted elsewhere, e.g. found
    /// resting at the venue after a restart. False (and nothing registered) when it is invalid,
    /// a duplicate id, the table is full, or its totals would overflow.
    pub fn on_order_accepted(&mut self, o: &OrderRequest) -> bool {
        let inst = o.instrument as usize;
        let s = side_index(o.side);
        if o.qty_lots <= 0 || inst >= self.position.len() || self.open.len() >= self.max_open {
            return false;
        }
        if self.last_id.is_some_and(|last| o.client_order_id <= last) {
            return false;
        }
        let notional = abs_notional(o.px_ticks, o.qty_lots);
        if notional > I64_MAX
            || i128::from(self.open_notional) + notional > I64_MAX
            || i128::from(self.open_qty[inst][s]) + i128::from(o.qty_lots) > I64_MAX
        {
            return false;
        }
        self.add_open(o, inst, s, notional as i64);
        true
    }

    /// An execution of open order `client_order_id`: the position moves by `qty_lots` and the
    /// order's open quantity shrinks by as much (it closes when nothing is left). False when the
    /// id is not open or `qty_lots <= 0` (nothing changes; report the fill with
    /// [`on_fill`](Self::on_fill) instead, since money did change hands).
    pub fn on_order_fill(&mut self, client_order_id: u64, qty_lots: i64) -> bool {
        let Some(i) = self.find(client_order_id) else {
            return false;
        };
        if qty_lots <= 0 {
            return false;
        }
        let o = self.open[i];
        self.move_position(o.instrument, o.side, qty_lots);
        self.reduce(i, qty_lots.min(o.leaves));
        true
    }

    /// The order was canceled: its open quantity stops counting. False when not open.
    pub fn on_cancel(&mut self, client_order_id: u64) -> bool {
        self.close(client_order_id)
    }
    /// The venue rejected the order. False when not open.
    pub fn on_reject(&mut self, client_order_id: u64) -> bool {
        self.close(client_order_id)
    }
    /// The order expired (an IOC's remainder, end of day). False when not open.
    pub fn on_expire(&mut self, client_order_id: u64) -> bool {
        self.close(client_order_id)
    }

    /// An execution that cannot be tied to an order id (a feed's own-fill message): moves the
    /// position and takes the quantity off the oldest open orders of that instrument and side.
    /// Fills are never refused; a position beyond the 64-bit range saturates.
    #[inline]
    pub fn on_fill(&mut self, instrument: InstrumentId, side: Side, qty_lots: i64) {
        let inst = instrument as usize;
        if inst >= self.position.len() || qty_lots <= 0 {
            return;
        }
        let s = side_index(side);
        self.move_position(inst, s, qty_lots);
        let mut left = qty_lots;
        let mut i = 0;
        while i < self.open.len() && left > 0 {
            let o = self.open[i];
            if o.instrument != inst || o.side != s {
                i += 1;
                continue;
            }
            let x = left.min(o.leaves);
            left -= x;
            if !self.reduce(i, x) {
                i += 1; // a closed order's slot now holds the next one
            }
        }
    }

    /// Overwrites the position of `instrument` (reconciliation with the venue after a restart).
    pub fn set_position(&mut self, instrument: InstrumentId, lots: i64) {
        if let Some(p) = self.position.get_mut(instrument as usize) {
            *p = lots;
        }
    }

    /// A handle to trip or re-arm the kill switch from any thread.
    pub fn kill_switch(&self) -> KillSwitch {
        self.kill.clone()
    }
    /// Latches the kill switch. Open orders are the caller's to cancel.
    pub fn trip(&self) {
        self.kill.trip();
    }
    /// Re-arms the gate after a trip.
    pub fn rearm(&self) {
        self.kill.rearm();
    }
    /// Same as [`RiskGate::rearm`].
    pub fn reset(&self) {
        self.kill.rearm();
    }
    /// Whether the kill switch is tripped.
    pub fn tripped(&self) -> bool {
        self.kill.tripped()
    }

    /// Position of `instrument` in lots (0 when out of range).
    pub fn position(&self, instrument: InstrumentId) -> i64 {
        self.position.get(instrument as usize).copied().unwrap_or(0)
    }
    /// Open quantity of `instrument` on `side`, accepted and not yet filled or closed.
    pub fn open_qty(&self, instrument: InstrumentId, side: Side) -> i64 {
        self.open_qty
            .get(instrument as usize)
            .map_or(0, |q| q[side_index(side)])
    }
    /// Worst-case long (`Side::Bid`) or short (`Side::Ask`) exposure: what `max_position`
    /// bounds. Saturates at the 64-bit range (only reachable through fills beyond it).
    pub fn worst_case(&self, instrument: InstrumentId, side: Side) -> i64 {
        let inst = instrument as usize;
        if inst >= self.position.len() {
            return 0;
        }
        let s = side_index(side);
        let p = i128::from(self.position[inst]);
        let w = if s == 0 { p } else { -p } + i128::from(self.open_qty[inst][s]);
        w.clamp(i128::from(i64::MIN), I64_MAX) as i64
    }
    /// Gross notional of the open orders, tick*lot.
    pub fn open_notional(&self) -> i64 {
        self.open_notional
    }
    /// Orders open now.
    pub fn open_orders(&self) -> usize {
        self.open.len()
    }
    /// Open quantity of one order, 0 when it is not open.
    pub fn leaves(&self, client_order_id: u64) -> i64 {
        self.find(client_order_id)
            .map_or(0, |i| self.open[i].leaves)
    }
    /// The smallest client order id the gate would not call a duplicate.
    pub fn next_client_order_id(&self) -> u64 {
        self.last_id.map_or(0, |l| l.wrapping_add(1))
    }
    /// Orders that got decision `d` so far.
    pub fn count(&self, d: RiskDecision) -> u64 {
        self.counts[d as usize]
    }
    /// Orders accepted so far.
    pub fn accepted(&self) -> u64 {
        self.counts[0]
    }
    /// Orders rejected so far, for any reason.
    pub fn rejected(&self) -> u64 {
        self.counts[1..]
            .iter()
            .fold(0u64, |a, &c| a.saturating_add(c))
    }
    /// Whole orders currently available in the bucket.
    pub fn tokens(&self) -> u64 {
        self.tokens / Self::UNIT
    }
    /// The limits the gate enforces.
    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    // The caller checked that no total overflows and that there is room.
    fn add_open(&mut self, o: &OrderRequest, inst: usize, s: usize, notional: i64) {
        self.open.push(OpenOrder {
            id: o.client_order_id,
            px: o.px_ticks,
            leaves: o.qty_lots,
            instrument: inst,
            side: s,
        });
        self.open_qty[inst][s] += o.qty_lots;
        self.open_notional += notional;
        self.last_id = Some(o.client_order_id);
    }

    fn find(&self, id: u64) -> Option<usize> {
        self.open.iter().position(|o| o.id == id)
    }

    // Takes `x` (0 <= x <= leaves) off open order i; removes it when nothing is left (true).
    fn reduce(&mut self, i: usize, x: i64) -> bool {
        let o = &mut self.open[i];
        self.open_qty[o.instrument][o.side] -= x;
        // |px| * leaves was added whole; subtracting the difference keeps the total exact.
        let before = abs_notional(o.px, o.leaves);
        o.leaves -= x;
        self.open_notional -= (before - abs_notional(o.px, o.leaves)) as i64;
        if o.leaves != 0 {
            return false;
        }
        self.open.remove(i);
        true
    }

    fn close(&mut self, id: u64) -> bool {
        match self.find(id) {
            Some(i) => {
                let leaves = self.open[i].leaves;
                self.reduce(i, leaves);
                true
            }
            None => false,
        }
    }

    fn move_position(&mut self, inst: usize, s: usize, qty: i64) {
        let p = &mut self.position[inst];
        *p = if s == 0 {
            p.saturating_add(qty)
        } else {
            p.saturating_sub(qty)
        };
    }

    // Continuous refill: `rate` units per elapsed ns, capped at one second's worth (a full
    // bucket), which also bounds the product. A clock that steps back refills nothing.
    #[inline]
    fn refill(&mut self, now_ns: u64) {
        let elapsed = now_ns.saturating_sub(self.last_ns).min(Self::UNIT);
        // elapsed <= UNIT and rate <= MAX_RATE: the product and the sum stay below 2^61.
        self.tokens = self.capacity.min(self.tokens + elapsed * self.rate);
        self.last_ns = self.last_ns.max(now_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    const LIMITS: RiskLimits = RiskLimits {
        max_position: 10,
        max_order_qty: 5,
        max_orders_per_second: 2,
        price_band_bps: 100,
        max_notional: 0,
        kill_switch: true,
        max_open_notional: 0,
        max_open_orders: RiskLimits::DEFAULT_MAX_OPEN_ORDERS,
    };
    const TOUCH: Touch = Touch {
        bid_px: 10_000,
        ask_px: 10_002,
        valid: true,
    };

    // Each order gets the next client order id (the gate refuses an id that does not increase).
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    fn order(side: Side, px: i64, qty: i64) -> OrderRequest {
        OrderRequest {
            client_order_id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            instrument: 0,
            side,
            px_ticks: px,
            qty_lots: qty,
            ts_ns: 0,
        }
    }

    fn loose() -> RiskLimits {
        RiskLimits {
            max_position: 1_000_000,
            max_order_qty: 1_000_000,
            max_orders_per_second: 1_000_000,
            price_band_bps: 10_000,
            ..LIMITS
        }
    }

    #[test]
    fn accepts_within_limits_and_counts() {
        let mut g = RiskGate::new(LIMITS, 1);
        assert_eq!(g.tokens(), 2);
        assert_eq!(
            g.check(&order(Side::Bid, 10_000, 5), &TOUCH, 0),
            RiskDecision::Accept
        );
        assert_eq!(g.accepted(), 1);
        assert_eq!(g.tokens(), 1);
        assert_eq!(g.open_qty(0, Side::Bid), 5);
        assert_eq!(g.position(0), 0);
    }

    #[test]
    fn each_limit_rejects_with_its_reason() {
        let mut g = RiskGate::new(LIMITS, 1);
        let now = 0;
        assert_eq!(
            g.check(&order(Side::Bid, 10_000, 0), &TOUCH, now),
            RiskDecision::InvalidOrder
        );
        let mut o = order(Side::Bid, 10_000, 1);
        o.instrument = 1;
        assert_eq!(g.check(&o, &TOUCH, now), RiskDecision::InvalidOrder);
        assert_eq!(
            g.check(&order(Side::Bid, 10_000, 6), &TOUCH, now),
            RiskDecision::MaxOrderQty
        );
        g.on_fill(0, Side::Bid, 8);
        assert_eq!(g.position(0), 8);
        assert_eq!(
            g.check(&order(Side::Bid, 10_000, 3), &TOUCH, now),
            RiskDecision::MaxPosition
        );
        g.on_fill(0, Side::Ask, 8);
        assert_eq!(
            g.check(&order(Side::Bid, 10_000, 1), &Touch::default(), now),
            RiskDecision::NoMarket
        );
        // 1% of 10_001 is ~100 ticks: 10_102 is outside, 10_100 inside.
        assert_eq!(
            g.check(&order(Side::Ask, 10_102, 1), &TOUCH, now),
            RiskDecision::PriceBand
        );
        assert_eq!(
            g.check(&order(Side::Ask, 10_100, 1), &TOUCH, now),
            RiskDecision::Accept
        );
        assert_eq!(
            g.check(&order(Side::Ask, 10_100, 1), &TOUCH, now),
            RiskDecision::Accept
        );
        assert_eq!(
            g.check(&order(Side::Ask, 10_100, 1), &TOUCH, now),
            RiskDecision::OrderRate
        );
        assert_eq!(g.rejected(), 7);
        assert_eq!(g.count(RiskDecision::InvalidOrder), 2);
    }

    #[test]
    fn position_limit_counts_open_orders() {
        let mut g = RiskGate::new(
            RiskLimits {
                max_position: 10,
                max_order_qty: 10,
                ..loose()
            },
            1,
        );
        // 1,000 accepted-looking 10-lot buys: only the first fits a 10-lot limit.
        let accepted = (0..1000)
            .filter(|_| g.check(&order(Side::Bid, 10_000, 10), &TOUCH, 0) == RiskDecision::Accept)
            .count();
        assert_eq!(accepted, 1);
        assert_eq!(g.worst_case(0, Side::Bid), 10);
        // Sells count on the short side only.
        let sell = order(Side::Ask, 10_000, 10);
        assert_eq!(g.check(&sell, &TOUCH, 0), RiskDecision::Accept);
        // A fill moves quantity from open to position; a cancel frees it.
        assert!(g.on_order_fill(sell.client_order_id, 4));
        assert_eq!(g.position(0), -4);
        assert_eq!(g.leaves(sell.client_order_id), 6);
        assert_eq!(g.worst_case(0, Side::Ask), 10);
        assert_eq!(g.worst_case(0, Side::Bid), 6);
        assert!(g.on_cancel(sell.client_order_id));
        assert!(!g.on_cancel(sell.client_order_id));
        assert_eq!(g.worst_case(0, Side::Ask), 4);
        assert_eq!(
            g.check(&order(Side::Ask, 10_000, 6), &TOUCH, 0),
            RiskDecision::Accept
        );
        assert_eq!(
            g.check(&order(Side::Ask, 10_000, 1), &TOUCH, 0),
            RiskDecision::MaxPosition
        );
    }

    #[test]
    fn order_events_and_anonymous_fills() {
        let mut g = RiskGate::new(loose(), 1);
        let a = order(Side::Bid, 100, 2);
        let b = order(Side::Bid, 100, 2);
        assert_eq!(g.check(&a, &TOUCH, 0), RiskDecision::Accept);
        assert_eq!(g.check(&b, &TOUCH, 0), RiskDecision::Accept);
        g.on_fill(0, Side::Bid, 3); // oldest first
        assert_eq!(g.leaves(a.client_order_id), 0);
        assert_eq!(g.leaves(b.client_order_id), 1);
        assert_eq!(g.open_notional(), 100);
        assert!(g.on_reject(b.client_order_id));
        let c = order(Side::Ask, 100, 2);
        assert_eq!(g.check(&c, &TOUCH, 0), RiskDecision::Accept);
        assert!(g.on_order_fill(c.client_order_id, 5)); // more than open: whole fill moves
        assert_eq!(g.position(0), -2);
        assert_eq!(g.open_orders(), 0);
        assert!(!g.on_order_fill(c.client_order_id, 1));
        assert!(!g.on_expire(c.client_order_id));
        assert_eq!(g.open_notional(), 0);
    }

    #[test]
    fn duplicates_open_orders_and_open_notional() {
        let mut g = RiskGate::new(
            RiskLimits {
                max_open_orders: 2,
                max_open_notional: 300,
                ..loose()
            },
            1,
        );
        let mut o = order(Side::Bid, 100, 2);
        o.client_order_id = 1_000_000;
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::Accept);
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::DuplicateOrderId);
        o.client_order_id += 1;
        o.qty_lots = 2;
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::MaxOpenNotional);
        o.qty_lots = 1;
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::Accept);
        o.client_order_id += 1;
        o.px_ticks = 0;
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::MaxOpenOrders);
        o.client_order_id += 1;
        assert!(g.on_order_accepted(&o) || g.open_orders() == 2);
        assert!(!g.on_order_accepted(&o));
    }

    #[test]
    fn precedence_is_the_precedence_list() {
        let mut g = RiskGate::new(LIMITS, 1);
        // Too big, too far and no tokens at once: max_order_qty wins.
        let o = order(Side::Bid, 1, 50);
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::MaxOrderQty);
        g.trip();
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::KillSwitch);
        let handle = g.kill_switch();
        handle.rearm();
        assert!(!g.tripped());
        let mut seen = [0; RiskDecision::COUNT];
        for d in RiskDecision::PRECEDENCE {
            seen[d as usize] += 1;
        }
        assert_eq!(seen[0], 0);
        assert!(seen[1..].iter().all(|&n| n == 1));
    }

    #[test]
    fn notional_uses_exact_products() {
        let limits = RiskLimits {
            max_notional: 50_000,
            ..LIMITS
        };
        let mut g = RiskGate::new(limits, 1);
        assert_eq!(
            g.check(&order(Side::Bid, 10_000, 5), &TOUCH, 0),
            RiskDecision::Accept
        );
        assert_eq!(
            g.check(&order(Side::Ask, 10_001, 5), &TOUCH, 0),
            RiskDecision::MaxNotional
        );
    }

    #[test]
    fn bucket_refills_with_time_and_never_backwards() {
        let mut g = RiskGate::new(loose_rate(2), 1);
        let o = || order(Side::Bid, 10_000, 1);
        assert_eq!(g.check(&o(), &TOUCH, 1_000), RiskDecision::Accept);
        assert_eq!(g.check(&o(), &TOUCH, 1_000), RiskDecision::Accept);
        assert_eq!(g.check(&o(), &TOUCH, 1_000), RiskDecision::OrderRate);
        // A clock stepping back refills nothing.
        assert_eq!(g.check(&o(), &TOUCH, 10), RiskDecision::OrderRate);
        // Half a second at 2 orders/s refills one order.
        assert_eq!(g.check(&o(), &TOUCH, 500_001_000), RiskDecision::Accept);
        assert_eq!(g.check(&o(), &TOUCH, 500_001_000), RiskDecision::OrderRate);
        // A long pause refills at most a full bucket.
        assert_eq!(g.check(&o(), &TOUCH, 100_000_000_000), RiskDecision::Accept);
        assert_eq!(g.tokens(), 1);
    }

    fn loose_rate(rate: u64) -> RiskLimits {
        RiskLimits {
            max_orders_per_second: rate,
            ..loose()
        }
    }

    #[test]
    fn extreme_values_never_overflow() {
        let limits = RiskLimits {
            max_position: i64::MAX,
            max_order_qty: i64::MAX,
            max_orders_per_second: u64::MAX,
            price_band_bps: i64::MAX,
            max_notional: i64::MAX,
            kill_switch: true,
            max_open_notional: i64::MAX,
            max_open_orders: u32::MAX,
        };
        let mut g = RiskGate::new(limits, 1);
        let far = Touch {
            bid_px: i64::MAX,
            ask_px: i64::MAX,
            valid: true,
        };
        // |px| * qty beyond 64 bits is its own reason.
        assert_eq!(
            g.check(&order(Side::Bid, i64::MIN, i64::MAX), &far, u64::MAX),
            RiskDecision::Overflow
        );
        assert_eq!(
            g.check(&order(Side::Bid, 1, i64::MAX), &far, u64::MAX),
            RiskDecision::Accept
        );
        // Open buys at the 64-bit maximum: one more lot would overflow the open quantity.
        assert_eq!(
            g.check(&order(Side::Bid, 0, 1), &far, u64::MAX),
            RiskDecision::Overflow
        );
        assert_eq!(
            g.check(&order(Side::Bid, i64::MIN, i64::MIN), &far, u64::MAX),
            RiskDecision::InvalidOrder
        );
        // Fills saturate (this test runs with overflow checks on in debug builds).
        g.on_fill(0, Side::Bid, i64::MAX);
        g.on_fill(0, Side::Bid, i64::MAX);
        assert_eq!(g.position(0), i64::MAX);
        for _ in 0..3 {
            g.on_fill(0, Side::Ask, i64::MAX);
        }
        assert_eq!(g.position(0), i64::MIN);
        g.on_fill(0, Side::Ask, i64::MIN); // not a quantity: ignored
        assert_eq!(g.position(0), i64::MIN);
        assert_eq!(g.worst_case(0, Side::Ask), i64::MAX);
        assert_eq!(g.worst_case(0, Side::Bid), i64::MIN);
        let negative = RiskLimits {
            price_band_bps: i64::MIN,
            ..limits
        };
        let mut h = RiskGate::new(negative, 1);
        let o = order(Side::Ask, -1, 1); // a negative band bound: every priced order is outside
        assert_eq!(h.check(&o, &far, 0), RiskDecision::PriceBand);
        h.counts = [u64::MAX; RiskDecision::COUNT];
        assert_eq!(
            h.check(&order(Side::Ask, -1, 1), &far, 0),
            RiskDecision::PriceBand
        );
        assert_eq!(h.rejected(), u64::MAX);
    }

    #[test]
    fn zero_rate_rejects_everything_and_names_are_stable() {
        let mut g = RiskGate::new(
            RiskLimits {
                max_orders_per_second: 0,
                ..LIMITS
            },
            1,
        );
        assert_eq!(
            g.check(&order(Side::Bid, 10_000, 1), &TOUCH, 0),
            RiskDecision::OrderRate
        );
        let names: Vec<&str> = RiskDecision::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(names[0], "accept");
        assert_eq!(names[8], "order_rate");
        assert_eq!(names[12], "overflow");
        for (i, d) in RiskDecision::ALL.iter().enumerate() {
            assert_eq!(*d as usize, i);
        }
    }
}
