//! Value types that flow between the trading stages: market messages in, orders out.
//!
//! Everything is a `Copy` struct of integers so it crosses a thread boundary through
//! [`crate::ring`] by a plain copy, and inline and threaded pipelines see identical data.
//! Prices are integer ticks and quantities integer lots throughout; conversion from the wire's
//! decimals happens once, in the feed handler.
#![deny(unsafe_code)]

use crate::l2book::PriceLevelBook;
pub use crate::l2book::Side;

/// Index of an instrument within one pipeline (`0 .. instruments - 1`), not an exchange id:
/// a dense index lets every per-instrument table be a plain array.
pub type InstrumentId = u32;

/// +1 for `Bid` (buy), -1 for `Ask` (sell): the sign of the position change when filled.
#[inline]
pub const fn side_sign(side: Side) -> i64 {
    match side {
        Side::Bid => 1,
        Side::Ask => -1,
    }
}

/// A new order as handed to the gateway. `ts_ns` is the timestamp of the market message that
/// caused it (not a wall-clock read), which keeps replays deterministic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub client_order_id: u64,
    pub instrument: InstrumentId,
    pub side: Side,
    pub px_ticks: i64,
    pub qty_lots: i64,
    pub ts_ns: u64,
}

/// What a strategy asks for: one limit order on one side. The pipeline turns it into an
/// [`OrderRequest`] (assigning the client order id and timestamp) and sends it through risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    pub instrument: InstrumentId,
    pub side: Side,
    pub px_ticks: i64,
    pub qty_lots: i64,
}

/// A public trade print. `aggressor` is the taker's side (`Bid` = a buyer lifted the offer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeTick {
    pub instrument: InstrumentId,
    pub aggressor: Side,
    pub px_ticks: i64,
    pub qty_lots: i64,
    pub ts_ns: u64,
}

impl Default for TradeTick {
    fn default() -> Self {
        TradeTick {
            instrument: 0,
            aggressor: Side::Bid,
            px_ticks: 0,
            qty_lots: 0,
            ts_ns: 0,
        }
    }
}

/// Best bid and ask prices at one instant. `valid` is false when either side is empty; the risk
/// gate then has no reference price and rejects (it never guesses a mid).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Touch {
    pub bid_px: i64,
    pub ask_px: i64,
    pub valid: bool,
}

/// Touch of an L2 book.
#[inline]
pub fn touch_of(book: &PriceLevelBook) -> Touch {
    match (book.best_bid(), book.best_ask()) {
        (Some((bid, _)), Some((ask, _))) => Touch {
            bid_px: bid,
            ask_px: ask,
            valid: true,
        },
        _ => Touch::default(),
    }
}

/// Kind of a normalised market message (same discriminants as `hft::trading::MsgKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MsgKind {
    /// Absolute level update: side, px, qty (0 deletes).
    BookDelta = 0,
    /// Public trade: side = aggressor, px, qty.
    Trade = 1,
    /// Own execution: side, px, qty; updates the position (unsequenced).
    Fill = 2,
    /// Clear the book before a snapshot; `seq` restarts the delta sequence.
    BookReset = 3,
}

/// No flag.
pub const MSG_NONE: u8 = 0;
/// At least one message of this stream was missed before this one (set by the sequence checker,
/// carried with the message so the gap state travels with the data instead of being shared).
pub const MSG_GAP_BEFORE: u8 = 1;
/// Set on every level of a multi-level event except the last: the book applies it but the
/// strategy runs once, on the last level, never on a half-applied event.
pub const MSG_MORE: u8 = 2;
/// Not market data: the instrument's updates were lost (a packet gap on its channel). The book is
/// left as it is and marked stale, so the strategy stops quoting until the next `BookReset`.
pub const MSG_STALE: u8 = 4;

/// One decoded feed message, the unit crossing the feed -> book ring (48 bytes, like C++).
///
/// `seq` is per instrument and per stream (book deltas and trades are separate streams); each
/// message must carry the previous one's seq + 1, and 0 means unsequenced. `ts_ns` should be the
/// local receive time: it stamps the orders the message triggers and is the risk gate's
/// rate-limit clock, which keeps replays deterministic. `rx_tsc` is stamped by the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct MarketMsg {
    pub seq: u64,
    pub ts_ns: u64,
    pub px_ticks: i64,
    pub qty_lots: i64,
    pub rx_tsc: u64,
    pub instrument: InstrumentId,
    pub kind: MsgKind,
    pub side: Side,
    pub flags: u8,
}

const _: () = assert!(core::mem::size_of::<MarketMsg>() == 48);

impl Default for MarketMsg {
    fn default() -> Self {
        book_reset(0, 0, 0)
    }
}

/// A book delta: the level `px` on `side` now holds `qty` lots.
#[inline]
pub const fn book_delta(
    instrument: InstrumentId,
    side: Side,
    px: i64,
    qty: i64,
    seq: u64,
    ts_ns: u64,
) -> MarketMsg {
    MarketMsg {
        seq,
        ts_ns,
        px_ticks: px,
        qty_lots: qty,
        rx_tsc: 0,
        instrument,
        kind: MsgKind::BookDelta,
        side,
        flags: MSG_NONE,
    }
}

/// A public trade.
#[inline]
pub const fn trade_msg(
    instrument: InstrumentId,
    aggressor: Side,
    px: i64,
    qty: i64,
    seq: u64,
    ts_ns: u64,
) -> MarketMsg {
    MarketMsg {
        kind: MsgKind::Trade,
        ..book_delta(instrument, aggressor, px, qty, seq, ts_ns)
    }
}

/// An own execution (unsequenced).
#[inline]
pub const fn fill_msg(
    instrument: InstrumentId,
    side: Side,
    px: i64,
    qty: i64,
    ts_ns: u64,
) -> MarketMsg {
    MarketMsg {
        kind: MsgKind::Fill,
        ..book_delta(instrument, side, px, qty, 0, ts_ns)
    }
}

/// Clears the book of `instrument` before a snapshot whose sequence is `seq`.
#[inline]
pub const fn book_reset(instrument: InstrumentId, seq: u64, ts_ns: u64) -> MarketMsg {
    MarketMsg {
        kind: MsgKind::BookReset,
        ..book_delta(instrument, Side::Bid, 0, 0, seq, ts_ns)
    }
}

/// The marker that makes an instrument stale without touching its book ([`MSG_STALE`]).
#[inline]
pub const fn stale_msg(instrument: InstrumentId, ts_ns: u64) -> MarketMsg {
    MarketMsg {
        flags: MSG_STALE,
        ..book_delta(instrument, Side::Bid, 0, 0, 0, ts_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_kind_and_fields() {
        let d = book_delta(3, Side::Ask, 101, 5, 9, 77);
        assert_eq!(
            (d.kind, d.side, d.px_ticks, d.qty_lots, d.seq, d.ts_ns),
            (MsgKind::BookDelta, Side::Ask, 101, 5, 9, 77)
        );
        assert_eq!(trade_msg(0, Side::Bid, 1, 1, 2, 0).kind, MsgKind::Trade);
        let f = fill_msg(1, Side::Ask, 5, 6, 7);
        assert_eq!((f.kind, f.seq), (MsgKind::Fill, 0));
        assert_eq!(book_reset(2, 10, 0).kind, MsgKind::BookReset);
        assert_eq!(side_sign(Side::Bid), 1);
        assert_eq!(side_sign(Side::Ask), -1);
    }

    #[test]
    fn touch_needs_both_sides() {
        let mut book = PriceLevelBook::new(64);
        assert!(!touch_of(&book).valid);
        book.set_level(Side::Bid, 100, 1);
        assert!(!touch_of(&book).valid);
        book.set_level(Side::Ask, 102, 1);
        assert_eq!(
            touch_of(&book),
            Touch {
                bid_px: 100,
                ask_px: 102,
                valid: true
            }
        );
    }
}
