//! The strategy stage: what a strategy sees ([`MarketView`]), where it writes ([`QuoteSink`])
//! and the [`Strategy`] trait any strategy implements to plug into
//! [`Pipeline`](super::Pipeline).
//!
//! The pipeline is generic over the strategy type (no `dyn`), so the compiler can inline the
//! strategy into the feed and risk code around it, as the C++ pipeline does with its template
//! parameter. Generated strategies (their adapters) and hand-written ones implement the same
//! trait.
#![deny(unsafe_code)]

use super::order::{touch_of, InstrumentId, MsgKind, Quote, Side, Touch, TradeTick};
use crate::l2book::PriceLevelBook;

/// State of one instrument as the strategy sees it, owned and updated by the book stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstrumentView {
    pub id: InstrumentId,
    /// Lots, from fill messages.
    pub position: i64,
    /// Sum of `-signed_qty * px` over fills, in tick*lot units.
    pub cash: i64,
    pub last_trade: TradeTick,
    pub has_trade: bool,
    /// A sequence gap was seen and no book reset has arrived since: the book may be wrong.
    pub stale: bool,
}

impl InstrumentView {
    /// Mark-to-market P&L at `mark_px` ticks, in tick*lot units.
    pub fn pnl(&self, mark_px: i64) -> i64 {
        self.cash + self.position * mark_px
    }
}

/// Everything a strategy gets per event: the instrument that changed and, for multi-leg
/// strategies, every instrument of the pipeline (indexed by [`InstrumentId`]).
#[derive(Clone, Copy, Debug)]
pub struct MarketView<'a> {
    /// Timestamp of the triggering message.
    pub ts_ns: u64,
    pub instrument: InstrumentId,
    pub trigger: MsgKind,
    /// Per-instrument state, indexed by instrument id.
    pub legs: &'a [InstrumentView],
    /// Per-instrument books, indexed by instrument id.
    pub books: &'a [PriceLevelBook],
}

impl<'a> MarketView<'a> {
    /// State of the instrument that changed.
    pub fn this(&self) -> &'a InstrumentView {
        &self.legs[self.instrument as usize]
    }
    /// Book of the instrument that changed.
    pub fn book(&self) -> &'a PriceLevelBook {
        &self.books[self.instrument as usize]
    }
    /// Position of the instrument that changed.
    pub fn position(&self) -> i64 {
        self.this().position
    }
    /// State of instrument `id`.
    pub fn leg(&self, id: InstrumentId) -> &'a InstrumentView {
        &self.legs[id as usize]
    }
    /// Book of instrument `id`.
    pub fn book_of(&self, id: InstrumentId) -> &'a PriceLevelBook {
        &self.books[id as usize]
    }
    /// Touch of instrument `id`.
    pub fn touch(&self, id: InstrumentId) -> Touch {
        touch_of(self.book_of(id))
    }
}

/// Fixed-capacity output of one strategy invocation. The pipeline clears it before each call
/// and drains it after. Quotes beyond capacity are refused and counted, never silently lost.
#[derive(Clone, Debug)]
pub struct QuoteSink {
    quotes: [Quote; QuoteSink::CAPACITY],
    len: usize,
    overflow: u64,
}

impl Default for QuoteSink {
    fn default() -> Self {
        QuoteSink {
            quotes: [Quote {
                instrument: 0,
                side: Side::Bid,
                px_ticks: 0,
                qty_lots: 0,
            }; QuoteSink::CAPACITY],
            len: 0,
            overflow: 0,
        }
    }
}

impl QuoteSink {
    /// Quotes one invocation may produce.
    pub const CAPACITY: usize = 16;

    /// Adds a quote; false (and counted) when full.
    #[inline]
    pub fn push(&mut self, q: Quote) -> bool {
        match self.quotes.get_mut(self.len) {
            Some(slot) => {
                *slot = q;
                self.len += 1;
                true
            }
            None => {
                self.overflow += 1;
                false
            }
        }
    }
    /// A buy order for `qty` lots at `px` ticks.
    #[inline]
    pub fn buy(&mut self, instrument: InstrumentId, px: i64, qty: i64) -> bool {
        self.push(Quote {
            instrument,
            side: Side::Bid,
            px_ticks: px,
            qty_lots: qty,
        })
    }
    /// A sell order for `qty` lots at `px` ticks.
    #[inline]
    pub fn sell(&mut self, instrument: InstrumentId, px: i64, qty: i64) -> bool {
        self.push(Quote {
            instrument,
            side: Side::Ask,
            px_ticks: px,
            qty_lots: qty,
        })
    }
    /// The quotes of this invocation, in order.
    pub fn quotes(&self) -> &[Quote] {
        &self.quotes[..self.len]
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn clear(&mut self) {
        self.len = 0;
    }
    /// Quotes refused because the sink was full, over the sink's lifetime.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
}

/// A strategy reacts to market events by writing desired orders into the sink. `on_market` runs
/// on the pipeline's hot path: it should not allocate or block, and a panic there stops the
/// pipeline's thread.
pub trait Strategy {
    fn on_market(&mut self, m: &MarketView<'_>, out: &mut QuoteSink);
}

/// Reference market maker (same behaviour as `hft::trading::SymmetricQuoter`): joins the touch
/// `offset_ticks` behind it on both sides with a fixed size and sends a new order only when its
/// desired price changes. It stops adding to a side once |position| would exceed
/// `max_position`, and stays silent while the book is stale or one-sided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SymmetricQuoter {
    pub instrument: InstrumentId,
    pub offset_ticks: i64,
    pub qty_lots: i64,
    pub max_position: i64,
    /// Last price sent per side; 0 = none yet.
    pub last_bid: i64,
    pub last_ask: i64,
}

impl Strategy for SymmetricQuoter {
    fn on_market(&mut self, m: &MarketView<'_>, out: &mut QuoteSink) {
        let v = m.leg(self.instrument);
        if v.stale {
            return;
        }
        let t = m.touch(self.instrument);
        if !t.valid {
            return;
        }
        let bid = t.bid_px - self.offset_ticks;
        let ask = t.ask_px + self.offset_ticks;
        if bid != self.last_bid && v.position + self.qty_lots <= self.max_position {
            out.buy(self.instrument, bid, self.qty_lots);
            self.last_bid = bid;
        }
        if ask != self.last_ask && v.position - self.qty_lots >= -self.max_position {
            out.sell(self.instrument, ask, self.qty_lots);
            self.last_ask = ask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_refuses_beyond_capacity_and_counts() {
        let mut s = QuoteSink::default();
        for i in 0..QuoteSink::CAPACITY {
            assert!(s.buy(0, i as i64, 1));
        }
        assert!(!s.sell(0, 1, 1));
        assert_eq!((s.len(), s.overflow()), (QuoteSink::CAPACITY, 1));
        assert_eq!(s.quotes()[3].px_ticks, 3);
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.overflow(), 1);
    }

    #[test]
    fn symmetric_quoter_quotes_on_change_only() {
        let mut books = vec![PriceLevelBook::new(64)];
        let legs = [InstrumentView::default()];
        let mut q = SymmetricQuoter {
            offset_ticks: 1,
            qty_lots: 2,
            max_position: 10,
            ..SymmetricQuoter::default()
        };
        let mut out = QuoteSink::default();
        books[0].set_level(Side::Bid, 100, 5);
        {
            let m = MarketView {
                ts_ns: 0,
                instrument: 0,
                trigger: MsgKind::BookDelta,
                legs: &legs,
                books: &books,
            };
            q.on_market(&m, &mut out);
        }
        assert!(out.is_empty(), "one-sided book: no quotes");
        books[0].set_level(Side::Ask, 103, 5);
        let m = MarketView {
            ts_ns: 0,
            instrument: 0,
            trigger: MsgKind::BookDelta,
            legs: &legs,
            books: &books,
        };
        q.on_market(&m, &mut out);
        assert_eq!(
            out.quotes(),
            &[
                Quote {
                    instrument: 0,
                    side: Side::Bid,
                    px_ticks: 99,
                    qty_lots: 2
                },
                Quote {
                    instrument: 0,
                    side: Side::Ask,
                    px_ticks: 104,
                    qty_lots: 2
                },
            ]
        );
        out.clear();
        q.on_market(&m, &mut out);
        assert!(out.is_empty(), "same touch: nothing new");
    }
}
