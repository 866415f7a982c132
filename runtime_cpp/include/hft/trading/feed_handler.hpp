// Feed handler: sequence checking of decoded market messages and their application to the
// per-instrument L2 books.
//
// It is split in two halves because a pipeline may put a thread boundary between them:
//  - SequenceChecker runs where messages arrive (the feed thread). It detects gaps and
//    duplicates per instrument and stream, counts them, calls the gap callback and marks the
//    message (kMsgGapBefore) so the gap state travels with the data through the ring.
//  - BookBuilder runs where the strategy runs. It owns the books and the InstrumentViews the
//    strategy reads, so no book is ever shared between threads.
// FeedHandler glues both for single-threaded use.
//
// Gaps are never skipped silently: the message after a gap is still applied (it is the newest
// information), the instrument is flagged stale until a kBookReset, and counters and the
// callback report it. Duplicates (seq not above the last one) are dropped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "hft/book/l2_book.hpp"
#include "hft/trading/order.hpp"
#include "hft/trading/strategy.hpp"

namespace hft::trading {

/// Result of SequenceChecker::check.
enum class FeedVerdict : std::uint8_t {
  kOk,             ///< in sequence (or unsequenced): apply
  kGap,            ///< messages were missed before this one: apply, instrument is now stale
  kDuplicate,      ///< seq at or below the last one seen: already applied, dropped
  kBadInstrument,  ///< instrument id out of range: dropped
};

/// True for verdicts whose message must still be applied to the book.
constexpr bool should_apply(FeedVerdict v) noexcept {
  return v == FeedVerdict::kOk || v == FeedVerdict::kGap;
}

/// Default gap callback: nothing beyond the counters and the stale flag.
struct IgnoreGap {
  void operator()(InstrumentId, std::uint64_t /*expected*/, std::uint64_t /*got*/) noexcept {}
};

struct FeedStats {
  std::uint64_t gaps = 0;            ///< gap events
  std::uint64_t missed = 0;          ///< messages known missing, summed over gaps
  std::uint64_t duplicates = 0;      ///< dropped stale/duplicate messages
  std::uint64_t bad_instrument = 0;  ///< dropped messages for unknown instruments
};

/// Per-instrument, per-stream sequence tracking. `OnGap` is called as
/// on_gap(instrument, expected_seq, received_seq) on the thread calling check().
template <class OnGap = IgnoreGap>
class SequenceChecker {
 public:
  explicit SequenceChecker(std::size_t instruments, OnGap on_gap = {})
      : last_(2 * (instruments == 0 ? 1 : instruments), 0),
        instruments_(instruments == 0 ? 1 : instruments),
        on_gap_(std::move(on_gap)) {}

  /// Checks `m` and, on a gap, sets kMsgGapBefore in m.flags.
  FeedVerdict check(MarketMsg& m) noexcept {
    if (m.instrument >= instruments_) [[unlikely]] {
      ++stats_.bad_instrument;
      return FeedVerdict::kBadInstrument;
    }
    if (m.seq == 0 || m.kind == MsgKind::kFill) return FeedVerdict::kOk;
    std::uint64_t& last = last_[2 * m.instrument + (m.kind == MsgKind::kTrade ? 1 : 0)];
    if (m.kind == MsgKind::kBookReset) {
      last = m.seq;  // the snapshot's sequence: the next delta must be seq + 1
      return FeedVerdict::kOk;
    }
    // last == 0: nothing seen on this stream yet, so any start is accepted.
    if (last != 0 && m.seq != last + 1) [[unlikely]] {
      if (m.seq <= last) {
        ++stats_.duplicates;
        return FeedVerdict::kDuplicate;
      }
      ++stats_.gaps;
      stats_.missed += m.seq - last - 1;
      m.flags |= kMsgGapBefore;
      on_gap_(m.instrument, last + 1, m.seq);
      last = m.seq;
      return FeedVerdict::kGap;
    }
    last = m.seq;
    return FeedVerdict::kOk;
  }

  const FeedStats& stats() const noexcept { return stats_; }
  OnGap& on_gap() noexcept { return on_gap_; }

 private:
  std::vector<std::uint64_t> last_;  // [2 * instrument + stream], stream 0 = book, 1 = trades
  std::size_t instruments_;
  FeedStats stats_;
  OnGap on_gap_;
};

/// Owns one PriceLevelBook per instrument and the InstrumentViews that strategies read.
class BookBuilder {
 public:
  BookBuilder(std::size_t instruments, std::size_t depth_ticks) {
    const std::size_t n = instruments == 0 ? 1 : instruments;
    books_.reserve(n);
    views_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      books_.emplace_back(depth_ticks);
      views_[i].id = static_cast<InstrumentId>(i);
      views_[i].book = &books_[i];
    }
  }
  BookBuilder(const BookBuilder&) = delete;
  BookBuilder& operator=(const BookBuilder&) = delete;

  /// Applies a checked message (instrument already validated). Returns true when the strategy
  /// should run now, i.e. unless the message is a non-final level of a multi-level event.
  bool apply(const MarketMsg& m) noexcept {
    InstrumentView& v = views_[m.instrument];
    if ((m.flags & kMsgStale) != 0) [[unlikely]] {
      v.stale = true;
      return false;
    }
    switch (m.kind) {
      case MsgKind::kBookDelta:
        v.stale |= (m.flags & kMsgGapBefore) != 0;
        books_[m.instrument].set_level(m.side, m.px_ticks, m.qty_lots);
        break;
      case MsgKind::kTrade:
        v.last_trade = TradeTick{m.instrument, m.side, m.px_ticks, m.qty_lots, m.ts_ns};
        v.has_trade = true;
        break;
      case MsgKind::kFill: {
        const std::int64_t signed_qty = side_sign(m.side) * m.qty_lots;
        v.position += signed_qty;
        v.cash -= signed_qty * m.px_ticks;
        break;
      }
      case MsgKind::kBookReset:
        books_[m.instrument].clear();
        v.stale = false;
        return false;  // the snapshot levels follow; the strategy runs after them
    }
    return (m.flags & kMsgMore) == 0;
  }

  /// View handed to the strategy for message `m`.
  MarketView view(const MarketMsg& m) const noexcept {
    return MarketView{m.ts_ns, m.instrument, m.kind, &views_[m.instrument], views_};
  }

  const PriceLevelBook& book(InstrumentId i) const noexcept { return books_[i]; }
  const InstrumentView& instrument(InstrumentId i) const noexcept { return views_[i]; }
  std::span<const InstrumentView> instruments() const noexcept { return views_; }

 private:
  std::vector<PriceLevelBook> books_;
  std::vector<InstrumentView> views_;
};

/// Sequence checking and book building on one thread.
template <class OnGap = IgnoreGap>
class FeedHandler {
 public:
  struct Result {
    FeedVerdict verdict;
    bool notify;  ///< the strategy should run for this message
  };

  FeedHandler(std::size_t instruments, std::size_t depth_ticks, OnGap on_gap = {})
      : seq_(instruments, std::move(on_gap)), books_(instruments, depth_ticks) {}

  Result on_message(MarketMsg m) noexcept {
    const FeedVerdict v = seq_.check(m);
    if (!should_apply(v)) return Result{v, false};
    return Result{v, books_.apply(m)};
  }

  SequenceChecker<OnGap>& sequencer() noexcept { return seq_; }
  BookBuilder& books() noexcept { return books_; }
  const FeedStats& stats() const noexcept { return seq_.stats(); }

 private:
  SequenceChecker<OnGap> seq_;
  BookBuilder books_;
};

}  // namespace hft::trading
