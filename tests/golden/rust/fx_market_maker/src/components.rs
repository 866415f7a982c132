//! Trading components of `fx.mm` over `runtime_rust::trading`, the Rust twins of the
//! C++ target's `components.hpp` (same roles, conversions and bytes):
//!
//! * exact decimal <-> tick/lot conversion (`ExactDecimal` for the schema's decimals, a `Grid`
//!   per order book);
//! * feed handlers: dispatcher [`Handler`]s turning input messages into `MarketMsg`s;
//! * order gateways: `OrderRequest` -> the output message, in a buffer the gateway owns;
//! * risk limits of the risk gates.
//!
//! Feed message roles (declared with `role:` or inferred from field names, see the README's
//! "Feed roles"):
//! * trade: `price`, `qty`, `side` (the aggressor);
//! * depth update (delta): `side`, `price`, `qty` (the absolute size of the level, 0 deletes it);
//! * snapshot: a group of `side`, `price`, `qty`: a book reset, then one delta per level, all
//!   but the last flagged `MSG_MORE` so the strategy runs once, on the whole book;
//! * bbo: `bid_price`, `bid_qty`, `ask_price`, `ask_qty`: a book reset, then both top levels;
//! * execution report (fill): `side`, `price`, `qty` of an own execution.
//!
//! Prices are decimals, quantities decimals or integers (whole units), `side` an enum with
//! buy/sell values. Optional: `instrument` (the venue's id) or `symbol` (looked up in the feed
//! handler's `instruments`), `seq` (per instrument and stream; 0 = unsequenced) and a timestamp
//! (ns, unless the caller sets a receive time).
//!
//! Instruments: `MarketMsg` and `OrderRequest` carry a dense index (0 .. instruments - 1).
//! Handlers and gateways translate with an `InstrumentTable` of venue ids (index -> venue id);
//! without one, the venue id is the index.

#![forbid(unsafe_code)]

use core::marker::PhantomData;

use runtime_rust::trading::{
    self, ExactDecimal, FeedDrops, Grid, InstrumentTable, MarketMsg, OrderGateway, OrderRequest,
    RiskLimits,
};

use crate::dispatch::Handler;
use crate::messages::{BookDeltaDecoder, NewOrderEncoder, SnapshotDecoder, TradeDecoder};
use crate::types::{Price, Qty, Side};
use crate::wire::EncodeError;

impl ExactDecimal for Price {
    const EXPONENT: i32 = Price::EXPONENT;

    #[inline]
    fn mantissa_i128(self) -> Option<i128> {
        (!self.is_null()).then_some(i128::from(self.mantissa))
    }

    #[inline]
    fn from_mantissa_i128(mantissa: i128) -> Option<Self> {
        i64::try_from(mantissa)
            .ok()
            .filter(|m| (Self::MIN_MANTISSA..=Self::MAX_MANTISSA).contains(m))
            .map(Self::from_mantissa)
    }
}

impl ExactDecimal for Qty {
    const EXPONENT: i32 = Qty::EXPONENT;

    #[inline]
    fn mantissa_i128(self) -> Option<i128> {
        (!self.is_null()).then_some(i128::from(self.mantissa))
    }

    #[inline]
    fn from_mantissa_i128(mantissa: i128) -> Option<Self> {
        i64::try_from(mantissa)
            .ok()
            .filter(|m| (Self::MIN_MANTISSA..=Self::MAX_MANTISSA).contains(m))
            .map(Self::from_mantissa)
    }
}

/// Book `book`: tick 0.00001, lot 1000, 64 ticks deep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookGrid;

impl Grid for BookGrid {
    const TICK_NUM: i64 = 1;
    const TICK_DEN: i64 = 100000;
    const LOT_NUM: i64 = 1000;
    const LOT_DEN: i64 = 1;
    const DEPTH_TICKS: usize = 64;
}

/// Feed handler `feed`: a dispatcher [`Handler`]; every `MarketMsg` goes to `sink(msg)`,
/// e.g. a closure calling `Pipeline::publish`. Runs on the ingress thread; no allocation.
/// Inputs: BookDelta (delta), Trade (trade), Snapshot (snapshot).
pub struct FeedHandler<F: FnMut(MarketMsg), G: Grid = BookGrid> {
    sink: F,
    instruments: InstrumentTable,
    rx_ns: u64,
    drops: FeedDrops,
    grid: PhantomData<G>,
}

impl<F: FnMut(MarketMsg), G: Grid> FeedHandler<F, G> {
    /// A handler whose venue instrument ids are the pipeline's indices.
    pub fn new(sink: F) -> Self {
        Self::with_instruments(sink, InstrumentTable::default())
    }

    /// A handler translating venue instrument ids through `instruments`.
    pub fn with_instruments(sink: F, instruments: InstrumentTable) -> Self {
        FeedHandler {
            sink,
            instruments,
            rx_ns: 0,
            drops: FeedDrops::default(),
            grid: PhantomData,
        }
    }

    /// Local receive time stamped on the next messages (0: use the message's own timestamp).
    pub fn set_receive_ns(&mut self, ns: u64) {
        self.rx_ns = ns;
    }

    /// Messages dropped so far, by reason.
    pub fn drops(&self) -> &FeedDrops {
        &self.drops
    }

    /// The venue instrument ids the handler translates.
    pub fn instruments(&self) -> &InstrumentTable {
        &self.instruments
    }

    /// The sink.
    pub fn sink_mut(&mut self) -> &mut F {
        &mut self.sink
    }

    /// Side, price in ticks and quantity in lots; `None` (counted) when not convertible.
    #[inline]
    fn decode_side<P: ExactDecimal, Q: ExactDecimal>(
        &mut self,
        side: Side,
        price: P,
        qty: Q,
    ) -> Option<(trading::Side, i64, i64)> {
        let side = match side {
            Side::Buy => trading::Side::Bid,
            Side::Sell => trading::Side::Ask,
            _ => {
                self.drops.bad_side += 1;
                return None;
            }
        };
        match (G::to_ticks(price), G::to_lots(qty)) {
            (Some(px), Some(lots)) => Some((side, px, lots)),
            _ => {
                self.drops.off_grid += 1;
                None
            }
        }
    }
}

impl<F: FnMut(MarketMsg), G: Grid> Handler for FeedHandler<F, G> {
    fn on_book_delta(&mut self, m: BookDeltaDecoder<'_>) {
        let Some(inst) = self.instruments.index_of(u64::from(m.instrument())) else {
            self.drops.unknown_instrument += 1;
            return;
        };
        let seq = m.seq();
        let ts = if self.rx_ns != 0 {
            self.rx_ns
        } else {
            m.ts_exchange()
        };
        let Some((side, px, qty)) = self.decode_side(m.side(), m.price(), m.qty()) else {
            return;
        };
        (self.sink)(trading::book_delta(inst, side, px, qty, seq, ts));
    }

    fn on_trade(&mut self, m: TradeDecoder<'_>) {
        let Some(inst) = self.instruments.index_of(u64::from(m.instrument())) else {
            self.drops.unknown_instrument += 1;
            return;
        };
        let seq = m.seq();
        let ts = if self.rx_ns != 0 {
            self.rx_ns
        } else {
            m.ts_exchange()
        };
        let Some((side, px, qty)) = self.decode_side(m.aggressor(), m.price(), m.qty()) else {
            return;
        };
        (self.sink)(trading::trade_msg(inst, side, px, qty, seq, ts));
    }

    fn on_snapshot(&mut self, m: SnapshotDecoder<'_>) {
        let Some(inst) = self.instruments.index_of(u64::from(m.instrument())) else {
            self.drops.unknown_instrument += 1;
            return;
        };
        let seq = m.seq();
        let ts = if self.rx_ns != 0 { self.rx_ns } else { 0 };
        (self.sink)(trading::book_reset(inst, seq, ts));
        // Each level is sent once the next valid one is known, so the last carries no MSG_MORE.
        let mut pending: Option<MarketMsg> = None;
        for level in m.levels() {
            let Some((side, px, qty)) = self.decode_side(level.side(), level.price(), level.qty())
            else {
                continue;
            };
            if let Some(mut previous) = pending {
                previous.flags |= trading::MSG_MORE;
                (self.sink)(previous);
            }
            pending = Some(trading::book_delta(inst, side, px, qty, 0, ts));
        }
        if let Some(last) = pending {
            (self.sink)(last);
        }
    }
}

/// Order gateway `gateway`: encodes each order as `NewOrder` into its own buffer and
/// keeps the bytes until the next order: [`last_encoded`](Self::last_encoded) is what to send.
/// Fields by role:
/// * `price` <- price
/// * `qty` <- qty
/// * `side` <- side
/// * `client_order_id` <- client_order_id
/// * `instrument` <- instrument
/// * `ts_sent` <- ts
///
/// Every other field is zero (null when optional), groups empty, var-data empty. Encoding never
/// allocates or panics.
#[derive(Clone, Debug)]
pub struct Gateway<G: Grid = BookGrid> {
    buf: Vec<u8>,
    length: usize,
    encoded: u64,
    failed: u64,
    instruments: InstrumentTable,
    grid: PhantomData<G>,
}

impl<G: Grid> Default for Gateway<G> {
    fn default() -> Self {
        Self::new()
    }
}

impl<G: Grid> Gateway<G> {
    /// Bytes of the longest order this gateway writes.
    pub const MAX_LENGTH: usize = 59;

    /// A gateway whose venue instrument ids are the pipeline's indices.
    pub fn new() -> Self {
        Self::with_instruments(InstrumentTable::default())
    }

    /// A gateway translating instrument indices to venue ids through `instruments`.
    pub fn with_instruments(instruments: InstrumentTable) -> Self {
        Gateway {
            buf: vec![0; Self::MAX_LENGTH],
            length: 0,
            encoded: 0,
            failed: 0,
            instruments,
            grid: PhantomData,
        }
    }

    /// Encodes `o`; false (and counted) when its price or quantity is not representable.
    pub fn encode_order(&mut self, o: &OrderRequest) -> bool {
        self.length = 0;
        let (Some(px), Some(qty)) = (
            G::from_ticks::<Price>(o.px_ticks),
            G::from_lots::<Qty>(o.qty_lots),
        ) else {
            self.failed += 1;
            return false;
        };
        let side = match o.side {
            trading::Side::Bid => Side::Buy,
            trading::Side::Ask => Side::Sell,
        };
        let venue_id = self.instruments.venue_id(o.instrument);
        match Self::write(&mut self.buf, o, venue_id, side, px, qty) {
            Ok(length) => {
                self.length = length;
                self.encoded += 1;
                true
            }
            Err(_) => {
                self.failed += 1;
                false
            }
        }
    }

    fn write(
        buf: &mut [u8],
        o: &OrderRequest,
        venue_id: u32,
        side: Side,
        px: Price,
        qty: Qty,
    ) -> Result<usize, EncodeError> {
        let mut m = NewOrderEncoder::wrap_and_apply_header(buf, 0)?;
        m.set_client_order_id(o.client_order_id)
            .set_instrument(venue_id)
            .set_side(side)
            .set_price(px)
            .set_qty(qty)
            .set_ts_sent(o.ts_ns);
        Ok(m.encoded_length())
    }

    /// Bytes of the last order, empty when it could not be encoded.
    pub fn last_encoded(&self) -> &[u8] {
        &self.buf[..self.length]
    }

    /// Orders encoded so far.
    pub fn encoded(&self) -> u64 {
        self.encoded
    }

    /// Orders not encoded: price or quantity not representable.
    pub fn failed(&self) -> u64 {
        self.failed
    }
}

impl<G: Grid> OrderGateway for Gateway<G> {
    #[inline]
    fn encode(&mut self, order: &OrderRequest) {
        self.encode_order(order);
    }

    #[inline]
    fn encode_accepted(&mut self, order: &OrderRequest) -> bool {
        self.encode_order(order)
    }
}

/// Risk gate `risk`. Quantities and positions in lots (the position limit is worst case:
/// position + open orders on one side + the new order), the price collar in basis points of the
/// current touch's mid, notionals in tick*lot (0 = no limit).
pub const RISK_LIMITS: RiskLimits = RiskLimits {
    max_position: 5000000,
    max_order_qty: 1000000,
    max_orders_per_second: 2000,
    price_band_bps: 25,
    max_notional: 0,
    kill_switch: true,
    max_open_notional: 0,
    max_open_orders: 1024,
};
