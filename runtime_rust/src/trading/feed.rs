//! Feed handler: sequence checking of decoded market messages and their application to the
//! per-instrument L2 books (same rules as `hft/trading/feed_handler.hpp`).
//!
//! Split in two halves because a pipeline may put a thread boundary between them:
//! * [`SequenceChecker`] runs where messages arrive (the feed thread). It detects gaps and
//!   duplicates per instrument and stream, counts them, calls the gap handler and marks the
//!   message ([`MSG_GAP_BEFORE`]) so the gap state travels with the data through the ring.
//! * [`BookBuilder`] runs where the strategy runs. It owns the books and the instrument views
//!   the strategy reads, so no book is ever shared between threads.
//!
//! [`FeedHandler`] glues both for single-threaded use. Gaps are never skipped silently: the
//! message after a gap is still applied (it is the newest information), the instrument is
//! flagged stale until a book reset, and counters and the handler report it. Duplicates (seq not
//! above the last one) are dropped and counted.
#![deny(unsafe_code)]

use super::order::{
    side_sign, InstrumentId, MarketMsg, MsgKind, TradeTick, MSG_GAP_BEFORE, MSG_MORE, MSG_STALE,
};
use super::strategy::{InstrumentView, MarketView};
use crate::l2book::PriceLevelBook;

/// Result of [`SequenceChecker::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeedVerdict {
    /// In sequence (or unsequenced): apply.
    Ok,
    /// Messages were missed before this one: apply, the instrument is now stale.
    Gap,
    /// Seq at or below the last one seen: already applied, dropped.
    Duplicate,
    /// Instrument id out of range: dropped.
    BadInstrument,
}

/// True for verdicts whose message must still be applied to the book.
#[inline]
pub const fn should_apply(v: FeedVerdict) -> bool {
    matches!(v, FeedVerdict::Ok | FeedVerdict::Gap)
}

/// Called on a sequence gap, on the thread checking sequences.
pub trait GapHandler {
    fn on_gap(&mut self, instrument: InstrumentId, expected: u64, received: u64);
}

/// Default gap handler: nothing beyond the counters and the stale flag.
#[derive(Clone, Copy, Debug, Default)]
pub struct IgnoreGap;

impl GapHandler for IgnoreGap {
    #[inline]
    fn on_gap(&mut self, _instrument: InstrumentId, _expected: u64, _received: u64) {}
}

impl<F: FnMut(InstrumentId, u64, u64)> GapHandler for F {
    #[inline]
    fn on_gap(&mut self, instrument: InstrumentId, expected: u64, received: u64) {
        self(instrument, expected, received)
    }
}

/// Counters of the sequence checker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    /// Gap events.
    pub gaps: u64,
    /// Messages known missing, summed over gaps.
    pub missed: u64,
    /// Dropped stale or duplicate messages.
    pub duplicates: u64,
    /// Dropped messages for unknown instruments.
    pub bad_instrument: u64,
}

/// Per-instrument, per-stream sequence tracking.
#[derive(Debug)]
pub struct SequenceChecker<H: GapHandler = IgnoreGap> {
    /// `[2 * instrument + stream]`, stream 0 = book, 1 = trades.
    last: Vec<u64>,
    instruments: usize,
    stats: FeedStats,
    on_gap: H,
}

impl SequenceChecker<IgnoreGap> {
    /// A checker for `instruments` instruments (at least 1).
    pub fn new(instruments: usize) -> Self {
        Self::with_gap_handler(instruments, IgnoreGap)
    }
}

impl<H: GapHandler> SequenceChecker<H> {
    /// A checker calling `on_gap` on every gap.
    pub fn with_gap_handler(instruments: usize, on_gap: H) -> Self {
        let n = instruments.max(1);
        SequenceChecker {
            last: vec![0; 2 * n],
            instruments: n,
            stats: FeedStats::default(),
            on_gap,
        }
    }

    /// Checks `m` and, on a gap, sets [`MSG_GAP_BEFORE`] in `m.flags`.
    #[inline]
    pub fn check(&mut self, m: &mut MarketMsg) -> FeedVerdict {
        let inst = m.instrument as usize;
        if inst >= self.instruments {
            self.stats.bad_instrument += 1;
            return FeedVerdict::BadInstrument;
        }
        if m.seq == 0 || m.kind == MsgKind::Fill {
            return FeedVerdict::Ok;
        }
        let stream = 2 * inst + usize::from(m.kind == MsgKind::Trade);
        let last = self.last[stream];
        if m.kind == MsgKind::BookReset {
            // The snapshot's sequence: the next delta must be seq + 1.
            self.last[stream] = m.seq;
            return FeedVerdict::Ok;
        }
        // last == 0: nothing seen on this stream yet, so any start is accepted.
        if last != 0 && m.seq != last.wrapping_add(1) {
            if m.seq <= last {
                self.stats.duplicates += 1;
                return FeedVerdict::Duplicate;
            }
            self.stats.gaps += 1;
            self.stats.missed += m.seq - last - 1;
            m.flags |= MSG_GAP_BEFORE;
            self.on_gap.on_gap(m.instrument, last + 1, m.seq);
            self.last[stream] = m.seq;
            return FeedVerdict::Gap;
        }
        self.last[stream] = m.seq;
        FeedVerdict::Ok
    }

    pub fn stats(&self) -> &FeedStats {
        &self.stats
    }
    pub fn gap_handler(&mut self) -> &mut H {
        &mut self.on_gap
    }
}

/// Owns one [`PriceLevelBook`] per instrument and the views strategies read.
#[derive(Debug)]
pub struct BookBuilder {
    books: Vec<PriceLevelBook>,
    views: Vec<InstrumentView>,
}

impl BookBuilder {
    /// Books of `depth_ticks` ticks for `instruments` instruments (at least 1).
    pub fn new(instruments: usize, depth_ticks: usize) -> Self {
        let n = instruments.max(1);
        BookBuilder {
            books: (0..n).map(|_| PriceLevelBook::new(depth_ticks)).collect(),
            views: (0..n)
                .map(|i| InstrumentView {
                    id: i as InstrumentId,
                    ..InstrumentView::default()
                })
                .collect(),
        }
    }

    /// Applies a checked message (instrument already validated). Returns true when the strategy
    /// should run now, i.e. unless the message is a non-final level of a multi-level event.
    #[inline]
    pub fn apply(&mut self, m: &MarketMsg) -> bool {
        let i = m.instrument as usize;
        let (Some(v), Some(book)) = (self.views.get_mut(i), self.books.get_mut(i)) else {
            return false;
        };
        if m.flags & MSG_STALE != 0 {
            v.stale = true;
            return false;
        }
        match m.kind {
            MsgKind::BookDelta => {
                v.stale |= m.flags & MSG_GAP_BEFORE != 0;
                book.set_level(m.side, m.px_ticks, m.qty_lots);
            }
            MsgKind::Trade => {
                v.last_trade = TradeTick {
                    instrument: m.instrument,
                    aggressor: m.side,
                    px_ticks: m.px_ticks,
                    qty_lots: m.qty_lots,
                    ts_ns: m.ts_ns,
                };
                v.has_trade = true;
            }
            MsgKind::Fill => {
                let signed_qty = side_sign(m.side) * m.qty_lots;
                v.position += signed_qty;
                v.cash -= signed_qty * m.px_ticks;
            }
            MsgKind::BookReset => {
                book.clear();
                v.stale = false;
                // The snapshot levels follow; the strategy runs after them.
                return false;
            }
        }
        m.flags & MSG_MORE == 0
    }

    /// View handed to the strategy for message `m`.
    #[inline]
    pub fn view(&self, m: &MarketMsg) -> MarketView<'_> {
        MarketView {
            ts_ns: m.ts_ns,
            instrument: m.instrument,
            trigger: m.kind,
            legs: &self.views,
            books: &self.books,
        }
    }

    pub fn book(&self, i: InstrumentId) -> &PriceLevelBook {
        &self.books[i as usize]
    }
    pub fn instrument(&self, i: InstrumentId) -> &InstrumentView {
        &self.views[i as usize]
    }
    pub fn instruments(&self) -> &[InstrumentView] {
        &self.views
    }
    pub fn books(&self) -> &[PriceLevelBook] {
        &self.books
    }
}

/// What [`FeedHandler::on_message`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedResult {
    pub verdict: FeedVerdict,
    /// The strategy should run for this message.
    pub notify: bool,
}

/// Sequence checking and book building on one thread.
#[derive(Debug)]
pub struct FeedHandler<H: GapHandler = IgnoreGap> {
    seq: SequenceChecker<H>,
    books: BookBuilder,
}

impl FeedHandler<IgnoreGap> {
    pub fn new(instruments: usize, depth_ticks: usize) -> Self {
        Self::with_gap_handler(instruments, depth_ticks, IgnoreGap)
    }
}

impl<H: GapHandler> FeedHandler<H> {
    pub fn with_gap_handler(instruments: usize, depth_ticks: usize, on_gap: H) -> Self {
        FeedHandler {
            seq: SequenceChecker::with_gap_handler(instruments, on_gap),
            books: BookBuilder::new(instruments, depth_ticks),
        }
    }

    #[inline]
    pub fn on_message(&mut self, mut m: MarketMsg) -> FeedResult {
        let verdict = self.seq.check(&mut m);
        if !should_apply(verdict) {
            return FeedResult {
                verdict,
                notify: false,
            };
        }
        FeedResult {
            verdict,
            notify: self.books.apply(&m),
        }
    }

    pub fn sequencer(&mut self) -> &mut SequenceChecker<H> {
        &mut self.seq
    }
    pub fn books(&self) -> &BookBuilder {
        &self.books
    }
    pub fn stats(&self) -> &FeedStats {
        self.seq.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::super::order::{
        book_delta, book_reset, fill_msg, stale_msg, trade_msg, Side, MSG_MORE,
    };
    use super::*;

    #[test]
    fn stale_marker_leaves_the_book_and_waits_for_a_reset() {
        let mut books = BookBuilder::new(1, 64);
        books.apply(&book_delta(0, Side::Bid, 100, 5, 1, 0));
        assert!(!books.apply(&stale_msg(0, 0)));
        assert!(books.instrument(0).stale);
        assert_eq!(books.book(0).best_bid(), Some((100, 5)));
        books.apply(&book_delta(0, Side::Bid, 100, 6, 2, 0));
        assert!(books.instrument(0).stale);
        books.apply(&book_reset(0, 3, 0));
        assert!(!books.instrument(0).stale);
    }

    #[test]
    fn gaps_duplicates_and_resets() {
        let mut gaps = Vec::new();
        let mut seq = SequenceChecker::with_gap_handler(2, |i, e, g| gaps.push((i, e, g)));
        let mut m = book_delta(0, Side::Bid, 100, 1, 5, 0);
        assert_eq!(seq.check(&mut m), FeedVerdict::Ok);
        let mut m = book_delta(0, Side::Bid, 100, 1, 6, 0);
        assert_eq!(seq.check(&mut m), FeedVerdict::Ok);
        let mut m = book_delta(0, Side::Bid, 100, 1, 6, 0);
        assert_eq!(seq.check(&mut m), FeedVerdict::Duplicate);
        let mut m = book_delta(0, Side::Bid, 100, 1, 9, 0);
        assert_eq!(seq.check(&mut m), FeedVerdict::Gap);
        assert_eq!(m.flags & MSG_GAP_BEFORE, MSG_GAP_BEFORE);
        // Trades are their own stream.
        let mut t = trade_msg(0, Side::Ask, 100, 1, 1, 0);
        assert_eq!(seq.check(&mut t), FeedVerdict::Ok);
        let mut r = book_reset(0, 20, 0);
        assert_eq!(seq.check(&mut r), FeedVerdict::Ok);
        let mut m = book_delta(0, Side::Bid, 100, 1, 21, 0);
        assert_eq!(seq.check(&mut m), FeedVerdict::Ok);
        let mut m = book_delta(2, Side::Bid, 100, 1, 1, 0);
        assert_eq!(seq.check(&mut m), FeedVerdict::BadInstrument);
        let stats = *seq.stats();
        drop(seq);
        assert_eq!(gaps, vec![(0, 7, 9)]);
        assert_eq!(
            stats,
            FeedStats {
                gaps: 1,
                missed: 2,
                duplicates: 1,
                bad_instrument: 1
            }
        );
    }

    #[test]
    fn books_views_and_more_flag() {
        let mut f = FeedHandler::new(1, 64);
        assert!(f.on_message(book_delta(0, Side::Bid, 100, 3, 1, 0)).notify);
        let mut more = book_delta(0, Side::Ask, 101, 2, 2, 0);
        more.flags = MSG_MORE;
        assert!(!f.on_message(more).notify);
        assert_eq!(f.books().book(0).best_ask(), Some((101, 2)));
        f.on_message(trade_msg(0, Side::Ask, 101, 1, 1, 9));
        assert!(f.books().instrument(0).has_trade);
        f.on_message(fill_msg(0, Side::Bid, 100, 4, 0));
        let v = f.books().instrument(0);
        assert_eq!((v.position, v.cash, v.pnl(101)), (4, -400, 4));
        // A gap makes the instrument stale until a reset.
        assert_eq!(
            f.on_message(book_delta(0, Side::Bid, 99, 1, 9, 0)).verdict,
            FeedVerdict::Gap
        );
        assert!(f.books().instrument(0).stale);
        assert!(!f.on_message(book_reset(0, 30, 0)).notify);
        assert!(!f.books().instrument(0).stale);
        assert_eq!(f.books().book(0).best_bid(), None);
        let m = book_delta(0, Side::Bid, 99, 1, 31, 5);
        assert!(f.on_message(m).notify);
        let view = f.books().view(&m);
        assert_eq!(
            (view.ts_ns, view.position(), view.book().best_bid()),
            (5, 4, Some((99, 1)))
        );
    }
}
