//! Owned copies of the messages of `fx.mm`: plain structs with `Vec`s for groups
//! and var-data, for tests, tools and replay. They allocate; the hot path uses the
//! flyweights in [`crate::messages`].

#![forbid(unsafe_code)]

use crate::messages::{
    BookDeltaDecoder, BookDeltaEncoder, CancelOrderDecoder, CancelOrderEncoder,
    ExecutionReportDecoder, ExecutionReportEncoder, HeartbeatDecoder, HeartbeatEncoder,
    LogonDecoder, LogonEncoder, LogoutDecoder, LogoutEncoder, NewOrderDecoder, NewOrderEncoder,
    OrderRejectDecoder, OrderRejectEncoder, ReplaceOrderDecoder, ReplaceOrderEncoder,
    SnapshotDecoder, SnapshotEncoder, SnapshotLevelsDecoder, SnapshotLevelsEncoder,
    SnapshotLevelsOrdersDecoder, SnapshotLevelsOrdersEncoder, TradeDecoder, TradeEncoder,
};
use crate::types::{ExecType, OrderFlags, OrderStatus, Price, Qty, Side, TimeInForce};
use crate::wire::{self, DecodeError, EncodeError};

/// A message as an owned value: decode from bytes, encode to bytes.
pub trait OwnedMessage: Sized {
    /// The template id.
    const TEMPLATE_ID: u16;
    /// Decodes the message at `offset`.
    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError>;
    /// Encodes the message at `offset`; returns its length on the wire.
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError>;
}

/// One changed price level of the venue's book.
#[derive(Clone, Debug, PartialEq)]
pub struct BookDelta {
    pub instrument: u32,
    pub seq: u64,
    /// Venue timestamp.
    pub ts_exchange: u64,
    pub side: Side,
    pub price: Price,
    /// New absolute size of the level; 0 deletes it.
    pub qty: Qty,
    /// Orders at the level, when the venue sends it.
    pub order_count: Option<u16>,
}

impl BookDelta {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &BookDeltaDecoder<'_>) -> Self {
        Self {
            instrument: d.instrument(),
            seq: d.seq(),
            ts_exchange: d.ts_exchange(),
            side: d.side(),
            price: d.price(),
            qty: d.qty(),
            order_count: d.order_count(),
        }
    }
}

impl OwnedMessage for BookDelta {
    const TEMPLATE_ID: u16 = 1;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&BookDeltaDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = BookDeltaEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_instrument(self.instrument);
        e.set_seq(self.seq);
        e.set_ts_exchange(self.ts_exchange);
        e.set_side(self.side);
        e.set_price(self.price);
        e.set_qty(self.qty);
        e.set_order_count(self.order_count);
        Ok(e.encoded_length())
    }
}

/// A trade printed by the venue.
#[derive(Clone, Debug, PartialEq)]
pub struct Trade {
    pub instrument: u32,
    pub seq: u64,
    pub ts_exchange: u64,
    pub aggressor: Side,
    pub price: Price,
    pub qty: Qty,
}

impl Trade {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &TradeDecoder<'_>) -> Self {
        Self {
            instrument: d.instrument(),
            seq: d.seq(),
            ts_exchange: d.ts_exchange(),
            aggressor: d.aggressor(),
            price: d.price(),
            qty: d.qty(),
        }
    }
}

impl OwnedMessage for Trade {
    const TEMPLATE_ID: u16 = 2;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&TradeDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = TradeEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_instrument(self.instrument);
        e.set_seq(self.seq);
        e.set_ts_exchange(self.ts_exchange);
        e.set_aggressor(self.aggressor);
        e.set_price(self.price);
        e.set_qty(self.qty);
        Ok(e.encoded_length())
    }
}

/// Full book of one instrument, sent on (re)connect.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub instrument: u32,
    pub seq: u64,
    /// One price level.
    pub levels: Vec<SnapshotLevels>,
    pub venue_note: Vec<u8>,
}

impl Snapshot {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &SnapshotDecoder<'_>) -> Self {
        Self {
            instrument: d.instrument(),
            seq: d.seq(),
            levels: d
                .levels()
                .map(|e| SnapshotLevels::from_decoder(&e))
                .collect(),
            venue_note: d.venue_note().to_vec(),
        }
    }
}

impl OwnedMessage for Snapshot {
    const TEMPLATE_ID: u16 = 3;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&SnapshotDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = SnapshotEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_instrument(self.instrument);
        e.set_seq(self.seq);
        {
            let mut group = e.encode_levels(wire::entry_count(self.levels.len())?)?;
            for entry in &self.levels {
                entry.encode_entry(&mut group.next_entry()?)?;
            }
        }
        e.put_venue_note(&self.venue_note)?;
        Ok(e.encoded_length())
    }
}

/// One price level.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotLevels {
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    /// Resting orders at the level, when the venue shows them.
    pub orders: Vec<SnapshotLevelsOrders>,
}

impl SnapshotLevels {
    /// Copies every field, nested group and var-data out of a decoder.
    pub fn from_decoder(d: &SnapshotLevelsDecoder<'_>) -> Self {
        Self {
            side: d.side(),
            price: d.price(),
            qty: d.qty(),
            orders: d
                .orders()
                .map(|e| SnapshotLevelsOrders::from_decoder(&e))
                .collect(),
        }
    }

    /// Writes this entry into a started entry of the group.
    #[inline]
    pub fn encode_entry(&self, e: &mut SnapshotLevelsEncoder<'_>) -> Result<(), EncodeError> {
        e.set_side(self.side);
        e.set_price(self.price);
        e.set_qty(self.qty);
        e.encode_orders_from(&self.orders, |x, entry| x.encode_entry(entry))?;
        Ok(())
    }
}

/// Resting orders at the level, when the venue shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotLevelsOrders {
    pub order_id: u64,
    pub qty: Qty,
}

impl SnapshotLevelsOrders {
    /// Copies every field, nested group and var-data out of a decoder.
    pub fn from_decoder(d: &SnapshotLevelsOrdersDecoder<'_>) -> Self {
        Self {
            order_id: d.order_id(),
            qty: d.qty(),
        }
    }

    /// Writes this entry into a started entry of the group.
    #[inline]
    pub fn encode_entry(&self, e: &mut SnapshotLevelsOrdersEncoder<'_>) -> Result<(), EncodeError> {
        e.set_order_id(self.order_id);
        e.set_qty(self.qty);
        Ok(())
    }
}

/// An order sent to the venue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOrder {
    pub client_order_id: u64,
    pub instrument: u32,
    pub symbol: [u8; 12],
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    pub flags: OrderFlags,
    pub tif: TimeInForce,
    pub ts_sent: u64,
}

impl NewOrder {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &NewOrderDecoder<'_>) -> Self {
        Self {
            client_order_id: d.client_order_id(),
            instrument: d.instrument(),
            symbol: *d.symbol(),
            side: d.side(),
            price: d.price(),
            qty: d.qty(),
            flags: d.flags(),
            tif: d.tif(),
            ts_sent: d.ts_sent(),
        }
    }
}

impl OwnedMessage for NewOrder {
    const TEMPLATE_ID: u16 = 10;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&NewOrderDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = NewOrderEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_client_order_id(self.client_order_id);
        e.set_instrument(self.instrument);
        e.set_symbol(&self.symbol)?;
        e.set_side(self.side);
        e.set_price(self.price);
        e.set_qty(self.qty);
        e.set_flags(self.flags);
        e.set_tif(self.tif);
        e.set_ts_sent(self.ts_sent);
        Ok(e.encoded_length())
    }
}

/// Venue's answer to an order (ack, fill, cancel, replace or reject).
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionReport {
    pub client_order_id: u64,
    /// The replaced order, on a replace; else 0.
    pub orig_client_order_id: u64,
    pub exec_id: u64,
    pub exec_type: ExecType,
    pub order_status: OrderStatus,
    pub side: Side,
    pub last_price: Price,
    pub last_qty: Qty,
    pub leaves_qty: Qty,
    pub cum_qty: Qty,
    pub seq: u64,
    pub ts_exchange: u64,
    /// Empty unless rejected.
    pub reject_reason: Vec<u8>,
}

impl ExecutionReport {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &ExecutionReportDecoder<'_>) -> Self {
        Self {
            client_order_id: d.client_order_id(),
            orig_client_order_id: d.orig_client_order_id(),
            exec_id: d.exec_id(),
            exec_type: d.exec_type(),
            order_status: d.order_status(),
            side: d.side(),
            last_price: d.last_price(),
            last_qty: d.last_qty(),
            leaves_qty: d.leaves_qty(),
            cum_qty: d.cum_qty(),
            seq: d.seq(),
            ts_exchange: d.ts_exchange(),
            reject_reason: d.reject_reason().to_vec(),
        }
    }
}

impl OwnedMessage for ExecutionReport {
    const TEMPLATE_ID: u16 = 11;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&ExecutionReportDecoder::wrap(
            buf, offset,
        )?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = ExecutionReportEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_client_order_id(self.client_order_id);
        e.set_orig_client_order_id(self.orig_client_order_id);
        e.set_exec_id(self.exec_id);
        e.set_exec_type(self.exec_type);
        e.set_order_status(self.order_status);
        e.set_side(self.side);
        e.set_last_price(self.last_price);
        e.set_last_qty(self.last_qty);
        e.set_leaves_qty(self.leaves_qty);
        e.set_cum_qty(self.cum_qty);
        e.set_seq(self.seq);
        e.set_ts_exchange(self.ts_exchange);
        e.put_reject_reason(&self.reject_reason)?;
        Ok(e.encoded_length())
    }
}

/// Cancels a resting order.
#[derive(Clone, Debug, PartialEq)]
pub struct CancelOrder {
    /// Id of this request.
    pub client_order_id: u64,
    /// The order to cancel.
    pub orig_client_order_id: u64,
    pub instrument: u32,
    pub side: Side,
    pub seq: u64,
    pub ts_sent: u64,
}

impl CancelOrder {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &CancelOrderDecoder<'_>) -> Self {
        Self {
            client_order_id: d.client_order_id(),
            orig_client_order_id: d.orig_client_order_id(),
            instrument: d.instrument(),
            side: d.side(),
            seq: d.seq(),
            ts_sent: d.ts_sent(),
        }
    }
}

impl OwnedMessage for CancelOrder {
    const TEMPLATE_ID: u16 = 12;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&CancelOrderDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = CancelOrderEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_client_order_id(self.client_order_id);
        e.set_orig_client_order_id(self.orig_client_order_id);
        e.set_instrument(self.instrument);
        e.set_side(self.side);
        e.set_seq(self.seq);
        e.set_ts_sent(self.ts_sent);
        Ok(e.encoded_length())
    }
}

/// Moves a resting order to a new price and quantity (cancel/replace).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplaceOrder {
    /// Id of the order after the replace.
    pub client_order_id: u64,
    /// The order replaced.
    pub orig_client_order_id: u64,
    pub instrument: u32,
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    pub seq: u64,
    pub ts_sent: u64,
}

impl ReplaceOrder {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &ReplaceOrderDecoder<'_>) -> Self {
        Self {
            client_order_id: d.client_order_id(),
            orig_client_order_id: d.orig_client_order_id(),
            instrument: d.instrument(),
            side: d.side(),
            price: d.price(),
            qty: d.qty(),
            seq: d.seq(),
            ts_sent: d.ts_sent(),
        }
    }
}

impl OwnedMessage for ReplaceOrder {
    const TEMPLATE_ID: u16 = 13;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&ReplaceOrderDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = ReplaceOrderEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_client_order_id(self.client_order_id);
        e.set_orig_client_order_id(self.orig_client_order_id);
        e.set_instrument(self.instrument);
        e.set_side(self.side);
        e.set_price(self.price);
        e.set_qty(self.qty);
        e.set_seq(self.seq);
        e.set_ts_sent(self.ts_sent);
        Ok(e.encoded_length())
    }
}

/// The venue refused a request (new, cancel or replace) before it reached the book.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderReject {
    pub client_order_id: u64,
    /// Venue reason code.
    pub reject_code: u16,
    pub seq: u64,
    pub ts_exchange: u64,
}

impl OrderReject {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &OrderRejectDecoder<'_>) -> Self {
        Self {
            client_order_id: d.client_order_id(),
            reject_code: d.reject_code(),
            seq: d.seq(),
            ts_exchange: d.ts_exchange(),
        }
    }
}

impl OwnedMessage for OrderReject {
    const TEMPLATE_ID: u16 = 14;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&OrderRejectDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = OrderRejectEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_client_order_id(self.client_order_id);
        e.set_reject_code(self.reject_code);
        e.set_seq(self.seq);
        e.set_ts_exchange(self.ts_exchange);
        Ok(e.encoded_length())
    }
}

/// Opens the order-entry session; each side's first message.
#[derive(Clone, Debug, PartialEq)]
pub struct Logon {
    pub seq: u64,
    pub heartbeat_ms: u32,
    pub api_key: [u8; 64],
    pub ts_sent: u64,
}

impl Logon {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &LogonDecoder<'_>) -> Self {
        Self {
            seq: d.seq(),
            heartbeat_ms: d.heartbeat_ms(),
            api_key: *d.api_key(),
            ts_sent: d.ts_sent(),
        }
    }
}

impl OwnedMessage for Logon {
    const TEMPLATE_ID: u16 = 20;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&LogonDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = LogonEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_seq(self.seq);
        e.set_heartbeat_ms(self.heartbeat_ms);
        e.set_api_key(&self.api_key)?;
        e.set_ts_sent(self.ts_sent);
        Ok(e.encoded_length())
    }
}

/// Closes the order-entry session.
#[derive(Clone, Debug, PartialEq)]
pub struct Logout {
    pub seq: u64,
    /// 0 on a normal close.
    pub reason: u16,
    pub ts_sent: u64,
}

impl Logout {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &LogoutDecoder<'_>) -> Self {
        Self {
            seq: d.seq(),
            reason: d.reason(),
            ts_sent: d.ts_sent(),
        }
    }
}

impl OwnedMessage for Logout {
    const TEMPLATE_ID: u16 = 21;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&LogoutDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = LogoutEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_seq(self.seq);
        e.set_reason(self.reason);
        e.set_ts_sent(self.ts_sent);
        Ok(e.encoded_length())
    }
}

/// Sent after a heartbeat interval without other traffic.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    pub seq: u64,
    pub ts_sent: u64,
}

impl Heartbeat {
    /// Copies every field, group and var-data out of a decoder.
    pub fn from_decoder(d: &HeartbeatDecoder<'_>) -> Self {
        Self {
            seq: d.seq(),
            ts_sent: d.ts_sent(),
        }
    }
}

impl OwnedMessage for Heartbeat {
    const TEMPLATE_ID: u16 = 22;

    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        Ok(Self::from_decoder(&HeartbeatDecoder::wrap(buf, offset)?))
    }

    #[inline]
    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {
        let mut e = HeartbeatEncoder::wrap_and_apply_header(buf, offset)?;
        e.set_seq(self.seq);
        e.set_ts_sent(self.ts_sent);
        Ok(e.encoded_length())
    }
}
