//! Pre-trade risk gate: the last check every order passes before it reaches the gateway.
//!
//! Same limits, units and decision precedence as `hft::trading::RiskGate`: [`RiskGate::check`]
//! evaluates every limit unconditionally, packs the failures into a bit mask and reports the
//! highest-precedence one (lowest bit), so accepted and rejected orders cost the same. No
//! allocation after construction, no panics, no floating point: bands and notionals use exact
//! 128-bit integer products, and every sum that extreme inputs could overflow (positions,
//! counters, the band's bound) saturates, in debug and release builds alike.
#![deny(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::order::{side_sign, InstrumentId, OrderRequest, Side, Touch};

/// Why an order was accepted or rejected. Rejections are listed in precedence order: when
/// several limits fail, [`RiskGate::check`] reports the first one listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RiskDecision {
    Accept = 0,
    /// The kill switch is tripped: nothing leaves until it is reset.
    KillSwitch,
    /// qty <= 0 or instrument out of range.
    InvalidOrder,
    /// qty > max_order_qty.
    MaxOrderQty,
    /// |px| * qty > max_notional (only when max_notional > 0).
    MaxNotional,
    /// |position + signed qty| > max_position.
    MaxPosition,
    /// No two-sided touch to measure the price band against.
    NoMarket,
    /// Price further than price_band_bps from mid.
    PriceBand,
    /// Token bucket empty (max_orders_per_second).
    OrderRate,
}

impl RiskDecision {
    /// Number of decisions (accept included).
    pub const COUNT: usize = 9;
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
        }
    }
}

/// Limits of the schema's risk_gate component. Units: lots, ticks, and tick*lot for notional.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskLimits {
    /// Per instrument, absolute, lots.
    pub max_position: i64,
    pub max_order_qty: i64,
    /// Sustained rate and burst size of the token bucket. 0 rejects every order: a missing rate
    /// limit must be spelled out as a large number, never defaulted to "unlimited".
    pub max_orders_per_second: u64,
    /// Max |px - mid| / mid, in basis points.
    pub price_band_bps: i64,
    /// 0 = no notional limit.
    pub max_notional: i64,
    /// Whether operators get a kill switch endpoint. The gate always honours a tripped switch:
    /// a safety stop that configuration could silently disable would be a trap.
    pub kill_switch: bool,
}

impl Default for RiskLimits {
    /// Everything zero (so every order is rejected), kill switch endpoint on.
    fn default() -> Self {
        RiskLimits {
            max_position: 0,
            max_order_qty: 0,
            max_orders_per_second: 0,
            price_band_bps: 0,
            max_notional: 0,
            kill_switch: true,
        }
    }
}

/// A handle on a gate's kill switch, usable from any thread while the gate runs elsewhere.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch(Arc<AtomicBool>);

impl KillSwitch {
    /// Latches the switch: every later check returns [`RiskDecision::KillSwitch`] until reset.
    pub fn trip(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Releases the switch.
    pub fn reset(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
    /// Whether the switch is tripped.
    pub fn tripped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Per-pipeline risk gate. [`check`](Self::check) runs on one thread; the kill switch may be
/// flipped from any thread through a [`KillSwitch`] handle.
#[derive(Debug)]
pub struct RiskGate {
    limits: RiskLimits,
    rate: u64,
    capacity: u64,
    tokens: u64,
    last_ns: u64,
    position: Vec<i64>,
    counts: [u64; RiskDecision::COUNT],
    kill: KillSwitch,
}

impl RiskGate {
    /// Fixed-point unit of the token bucket: one order costs `UNIT`, and the bucket refills
    /// `rate` units per elapsed ns, so integer arithmetic stays exact.
    pub const UNIT: u64 = 1_000_000_000;
    /// Rates above this are clamped so that the capacity (rate * UNIT) cannot overflow.
    pub const MAX_RATE: u64 = 1_000_000_000;

    /// A gate with a full bucket and flat positions for `instruments` instruments (at least 1).
    pub fn new(limits: RiskLimits, instruments: usize) -> Self {
        let rate = limits.max_orders_per_second.min(Self::MAX_RATE);
        RiskGate {
            limits,
            rate,
            capacity: rate * Self::UNIT,
            tokens: rate * Self::UNIT,
            last_ns: 0,
            position: vec![0; instruments.max(1)],
            counts: [0; RiskDecision::COUNT],
            kill: KillSwitch::default(),
        }
    }

    /// Decides on one order at `now_ns` (any monotonic ns clock; the pipeline passes the
    /// triggering message's timestamp so replays are deterministic) given the touch the strategy
    /// saw. Accepting consumes one token; a rejection changes nothing but its counter.
    #[inline]
    pub fn check(&mut self, o: &OrderRequest, t: &Touch, now_ns: u64) -> RiskDecision {
        self.refill(now_ns);
        let n = self.position.len();
        let inst = o.instrument as usize;
        let bad = o.qty_lots <= 0 || inst >= n;
        let idx = if inst < n { inst } else { 0 };
        let qty = i128::from(o.qty_lots);
        let px = i128::from(o.px_ticks);
        let notional =
            self.limits.max_notional > 0 && px.abs() * qty > i128::from(self.limits.max_notional);
        let new_pos = i128::from(self.position[idx]) + i128::from(side_sign(o.side)) * qty;
        let max_pos = i128::from(self.limits.max_position);
        let pos = new_pos > max_pos || -new_pos > max_pos;
        // |px - mid| <= bps/10000 * |mid|, doubled to stay in integers: mid2 = bid + ask.
        let mid2 = i128::from(t.bid_px) + i128::from(t.ask_px);
        let dev2 = 2 * px - mid2;
        // |dev2| * 10_000 < 2^79 always fits; bps * |mid2| can reach 2^128, so it saturates.
        let band = t.valid
            && dev2.abs() * 10_000
                > i128::from(self.limits.price_band_bps).saturating_mul(mid2.abs());
        let fail = u32::from(self.kill.tripped())
            | u32::from(bad) << 1
            | u32::from(o.qty_lots > self.limits.max_order_qty) << 2
            | u32::from(notional) << 3
            | u32::from(pos) << 4
            | u32::from(!t.valid) << 5
            | u32::from(band) << 6
            | u32::from(self.tokens < Self::UNIT) << 7;
        if fail == 0 {
            self.tokens -= Self::UNIT; // fail == 0 implies tokens >= UNIT
            self.counts[0] = self.counts[0].saturating_add(1);
            return RiskDecision::Accept;
        }
        let reason = fail.trailing_zeros() as usize + 1;
        self.counts[reason] = self.counts[reason].saturating_add(1);
        RiskDecision::ALL[reason]
    }

    /// Applies an execution to the position the limit is measured against.
    #[inline]
    pub fn on_fill(&mut self, instrument: InstrumentId, side: Side, qty_lots: i64) {
        if let Some(p) = self.position.get_mut(instrument as usize) {
            *p = p.saturating_add(side_sign(side).saturating_mul(qty_lots));
        }
    }

    /// A handle to trip or reset the kill switch from any thread.
    pub fn kill_switch(&self) -> KillSwitch {
        self.kill.clone()
    }
    /// Latches the kill switch.
    pub fn trip(&self) {
        self.kill.trip();
    }
    /// Releases the kill switch.
    pub fn reset(&self) {
        self.kill.reset();
    }
    /// Whether the kill switch is tripped.
    pub fn tripped(&self) -> bool {
        self.kill.tripped()
    }

    /// Position of `instrument` in lots (0 when out of range).
    pub fn position(&self, instrument: InstrumentId) -> i64 {
        self.position.get(instrument as usize).copied().unwrap_or(0)
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

    const LIMITS: RiskLimits = RiskLimits {
        max_position: 10,
        max_order_qty: 5,
        max_orders_per_second: 2,
        price_band_bps: 100,
        max_notional: 0,
        kill_switch: true,
    };
    const TOUCH: Touch = Touch {
        bid_px: 10_000,
        ask_px: 10_002,
        valid: true,
    };

    fn order(side: Side, px: i64, qty: i64) -> OrderRequest {
        OrderRequest {
            client_order_id: 1,
            instrument: 0,
            side,
            px_ticks: px,
            qty_lots: qty,
            ts_ns: 0,
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
    fn precedence_is_the_lowest_failing_limit() {
        let mut g = RiskGate::new(LIMITS, 1);
        // Too big, too far and no tokens at once: max_order_qty wins.
        let o = order(Side::Bid, 1, 50);
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::MaxOrderQty);
        g.trip();
        assert_eq!(g.check(&o, &TOUCH, 0), RiskDecision::KillSwitch);
        let handle = g.kill_switch();
        handle.reset();
        assert!(!g.tripped());
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
            g.check(&order(Side::Bid, 10_001, 5), &TOUCH, 0),
            RiskDecision::MaxNotional
        );
    }

    #[test]
    fn bucket_refills_with_time_and_never_backwards() {
        let mut g = RiskGate::new(LIMITS, 1);
        let o = order(Side::Bid, 10_000, 1);
        assert_eq!(g.check(&o, &TOUCH, 1_000), RiskDecision::Accept);
        assert_eq!(g.check(&o, &TOUCH, 1_000), RiskDecision::Accept);
        assert_eq!(g.check(&o, &TOUCH, 1_000), RiskDecision::OrderRate);
        // A clock stepping back refills nothing.
        assert_eq!(g.check(&o, &TOUCH, 10), RiskDecision::OrderRate);
        // Half a second at 2 orders/s refills one order.
        assert_eq!(g.check(&o, &TOUCH, 500_001_000), RiskDecision::Accept);
        assert_eq!(g.check(&o, &TOUCH, 500_001_000), RiskDecision::OrderRate);
        // A long pause refills at most a full bucket.
        assert_eq!(g.check(&o, &TOUCH, 100_000_000_000), RiskDecision::Accept);
        assert_eq!(g.tokens(), 1);
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
        };
        let mut g = RiskGate::new(limits, 1);
        let far = Touch {
            bid_px: i64::MAX,
            ask_px: i64::MAX,
            valid: true,
        };
        for (side, px, qty) in [
            (Side::Bid, i64::MAX, i64::MAX),
            (Side::Ask, i64::MIN, i64::MAX),
            (Side::Bid, i64::MIN, i64::MIN),
        ] {
            let o = order(side, px, qty);
            let d = g.check(&o, &far, u64::MAX);
            assert_ne!(d, RiskDecision::KillSwitch);
            g.on_fill(0, side, qty);
        }
        // The loop left i64::MIN; three more buys of i64::MAX go -1, MAX - 1, then saturate.
        for _ in 0..3 {
            g.on_fill(0, Side::Bid, i64::MAX);
        }
        assert_eq!(g.position(0), i64::MAX);
        g.on_fill(0, Side::Ask, i64::MIN);
        assert_eq!(g.position(0), i64::MAX);
        let negative = RiskLimits {
            price_band_bps: i64::MIN,
            ..limits
        };
        let mut h = RiskGate::new(negative, 1);
        let o = order(Side::Ask, -1, 1); // a negative band bound: every priced order is outside
        assert_eq!(h.check(&o, &far, 0), RiskDecision::PriceBand);
        h.counts = [u64::MAX; RiskDecision::COUNT];
        assert_eq!(h.check(&o, &far, 0), RiskDecision::PriceBand);
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
        for (i, d) in RiskDecision::ALL.iter().enumerate() {
            assert_eq!(*d as usize, i);
        }
    }
}
