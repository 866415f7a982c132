// Price-level (L2) order book over a tick-indexed window around the touch (FORMATS.md §3).
//
// Design, after CppTrader's optimized book and charles-cooper/itch-order-book: each side is a
// preallocated circular array of quantities indexed by price tick, plus a bitmap of non-empty
// levels. An update is an array store; the best price is a cached tick that only changes when an
// update improves on it (O(1)) or deletes it (a bitmap scan, 64 levels per word, bounded by the
// window). Nothing allocates after construction.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "hft/book/side.hpp"

namespace hft {

/// One price level: price in ticks, quantity in lots.
struct PriceLevel {
  int64_t px;
  int64_t qty;
  friend bool operator==(const PriceLevel&, const PriceLevel&) = default;
};

/// Outcome of PriceLevelBook::set_level.
enum class L2Update : uint8_t {
  kApplied,  ///< the level was stored, replaced or deleted
  kIgnored,  ///< deleting a level that was not in the book (a no-op)
  kDropped,  ///< a non-zero level deeper than the window from the touch; counted, not stored
};

/// L2 book over integer tick prices and integer lot quantities.
///
/// Window policy. Each side covers exactly `capacity_ticks` consecutive prices starting at its own
/// touch and extending into the book: bids [best_bid - cap + 1, best_bid], asks
/// [best_ask, best_ask + cap - 1]. The window follows the touch:
///  - a level that improves the touch moves the window with it; levels that end up more than
///    cap - 1 ticks behind the new touch are dropped and counted in dropped_levels();
///  - deleting the best level moves the touch back to the next non-empty level (a bitmap scan
///    bounded by the window); the window then reaches deeper, into slots that are known empty;
///  - a non-zero update deeper than cap - 1 ticks from the touch is not stored (kDropped) and is
///    counted in dropped_levels().
/// So the book is exact for every level within `capacity_ticks` of its side's touch; size the
/// capacity for the deepest level you trade on. Dropped deep levels do not come back on their own
/// when the touch later moves towards them: the feed has to resend them (or resnapshot).
///
/// The storage is circular (slot = price & (cap - 1)), so moving the window never copies levels;
/// it only clears the slots of dropped levels. Prices must satisfy |px| < 2^62. Quantities must be
/// >= 0 (0 deletes the level). The two sides are independent: a crossed input is stored as given.
class PriceLevelBook {
 public:
  /// `capacity_ticks` is rounded up to a power of two, at least 64.
  explicit PriceLevelBook(size_t capacity_ticks)
      : bid_(round_capacity(capacity_ticks)), ask_(round_capacity(capacity_ticks)) {}

  /// Window size per side in ticks, after rounding.
  size_t capacity_ticks() const noexcept { return bid_.cap; }

  /// Sets the absolute quantity at a price; qty 0 deletes the level.
  L2Update set_level(Side side, int64_t px, int64_t qty) noexcept {
    // Bids are stored with key = -px so that "better" is "lower key" on both sides.
    return side == Side::Bid ? bid_.set(-px, qty) : ask_.set(px, qty);
  }

  std::optional<PriceLevel> best_bid() const noexcept {
    if (bid_.count == 0) return std::nullopt;
    return PriceLevel{-bid_.best, bid_.qty[bid_.slot(bid_.best)]};
  }
  std::optional<PriceLevel> best_ask() const noexcept {
    if (ask_.count == 0) return std::nullopt;
    return PriceLevel{ask_.best, ask_.qty[ask_.slot(ask_.best)]};
  }

  /// Quantity at a price, 0 when the level is empty or outside the window.
  int64_t level_qty(Side side, int64_t px) const noexcept {
    return side == Side::Bid ? bid_.get(-px) : ask_.get(px);
  }

  /// Writes up to out.size() levels from the touch outwards; returns how many were written.
  size_t depth(Side side, std::span<PriceLevel> out) const noexcept {
    const Ladder& l = side == Side::Bid ? bid_ : ask_;
    const int64_t sign = side == Side::Bid ? -1 : 1;
    size_t n = 0;
    if (l.count == 0) return 0;
    uint64_t off = 0;  // distance from the touch, in ticks
    while (n < out.size()) {
      const int64_t key = l.best + static_cast<int64_t>(off);
      out[n++] = PriceLevel{sign * key, l.qty[l.slot(key)]};
      const uint64_t next = l.find_next(key + 1, l.cap - off - 1);
      if (next == kNone) break;
      off += next + 1;
    }
    return n;
  }
  /// Same as depth(side, out) restricted to the first `n` entries of `out`.
  size_t depth(Side side, size_t n, std::span<PriceLevel> out) const noexcept {
    return depth(side, out.first(n < out.size() ? n : out.size()));
  }

  /// Number of non-empty levels on a side.
  size_t level_count(Side side) const noexcept {
    return side == Side::Bid ? bid_.count : ask_.count;
  }

  /// (best_bid + best_ask) / 2 in ticks; empty if either side is empty.
  std::optional<double> mid() const noexcept {
    if (bid_.count == 0 || ask_.count == 0) return std::nullopt;
    return (static_cast<double>(-bid_.best) + static_cast<double>(ask_.best)) * 0.5;
  }

  /// Best ask - best bid in ticks; empty if either side is empty.
  std::optional<int64_t> spread() const noexcept {
    if (bid_.count == 0 || ask_.count == 0) return std::nullopt;
    return ask_.best + bid_.best;  // ask_px - bid_px, with bid key = -bid_px
  }

  /// Size-weighted mid, (bid_px * ask_qty + ask_px * bid_qty) / (bid_qty + ask_qty): leans towards
  /// the side with less quantity, which is where the price is more likely to move.
  std::optional<double> microprice() const noexcept {
    if (bid_.count == 0 || ask_.count == 0) return std::nullopt;
    const double bq = static_cast<double>(bid_.qty[bid_.slot(bid_.best)]);
    const double aq = static_cast<double>(ask_.qty[ask_.slot(ask_.best)]);
    const double bp = static_cast<double>(-bid_.best);
    const double ap = static_cast<double>(ask_.best);
    return (bp * aq + ap * bq) / (bq + aq);
  }

  /// (bid_qty - ask_qty) / (bid_qty + ask_qty) at the touch, in [-1, 1].
  std::optional<double> imbalance() const noexcept {
    if (bid_.count == 0 || ask_.count == 0) return std::nullopt;
    const double bq = static_cast<double>(bid_.qty[bid_.slot(bid_.best)]);
    const double aq = static_cast<double>(ask_.qty[ask_.slot(ask_.best)]);
    return (bq - aq) / (bq + aq);
  }

  /// Levels discarded by the window policy (deep inserts plus levels evicted on recentring).
  uint64_t dropped_levels() const noexcept { return bid_.dropped + ask_.dropped; }

  /// Empties both sides (O(levels), no deallocation) and resets the drop counter.
  void clear() noexcept {
    bid_.clear();
    ask_.clear();
  }

 private:
  static constexpr uint64_t kNone = ~uint64_t{0};

  static size_t round_capacity(size_t c) noexcept { return std::bit_ceil(c < 64 ? size_t{64} : c); }

  // One side in key space: lower key = better price. The window is [best, best + cap - 1].
  struct Ladder {
    explicit Ladder(size_t c)
        : cap(c),
          mask(c - 1),
          qty(std::make_unique<int64_t[]>(c)),
          bits(std::make_unique<uint64_t[]>(c / 64)) {}

    size_t slot(int64_t key) const noexcept { return static_cast<uint64_t>(key) & mask; }

    bool in_window(int64_t key) const noexcept {
      return count != 0 && static_cast<uint64_t>(key) - static_cast<uint64_t>(best) < cap;
    }

    int64_t get(int64_t key) const noexcept { return in_window(key) ? qty[slot(key)] : 0; }

    L2Update set(int64_t key, int64_t q) noexcept {
      // Distance behind the touch; wraps to a huge value for keys better than the touch.
      const uint64_t d = static_cast<uint64_t>(key) - static_cast<uint64_t>(best);
      if (count != 0 && d < cap) [[likely]] {
        const size_t s = slot(key);
        const uint64_t bit = uint64_t{1} << (s & 63);
        if (q != 0) {
          if (qty[s] == 0) {
            bits[s >> 6] |= bit;
            ++count;
          }
          qty[s] = q;
          return L2Update::kApplied;
        }
        if (qty[s] == 0) return L2Update::kIgnored;
        qty[s] = 0;
        bits[s >> 6] &= ~bit;
        if (--count != 0 && d == 0) {
          // The touch was deleted: walk the bitmap to the next level. count != 0 guarantees one
          // exists inside the window because nothing is stored outside it.
          best += static_cast<int64_t>(find_next(key + 1, cap - 1)) + 1;
        }
        return L2Update::kApplied;
      }
      return set_outside(key, q);
    }

    // Cold part of set(): empty side, a new touch, or a level deeper than the window.
    [[gnu::noinline]] L2Update set_outside(int64_t key, int64_t q) noexcept {
      if (q == 0) return L2Update::kIgnored;  // nothing is stored outside the window
      if (count == 0) {
        best = key;
      } else if (key < best) {
        // New touch: levels now further than cap - 1 behind it leave the window. They occupy the
        // slots of keys [key + cap, best + cap - 1], i.e. the slots the window gains in front.
        const uint64_t gain = static_cast<uint64_t>(best) - static_cast<uint64_t>(key);
        if (gain >= cap) {
          dropped += count;
          clear_all();
        } else {
          int64_t from = key;
          uint64_t left = gain;
          for (uint64_t off; left != 0 && (off = find_next(from, left)) != kNone;) {
            const size_t s = slot(from + static_cast<int64_t>(off));
            qty[s] = 0;
            bits[s >> 6] &= ~(uint64_t{1} << (s & 63));
            --count;
            ++dropped;
            from += static_cast<int64_t>(off) + 1;
            left -= off + 1;
          }
        }
        best = key;
      } else {
        ++dropped;  // deeper than the window behind the touch
        return L2Update::kDropped;
      }
      const size_t s = slot(key);
      qty[s] = q;
      bits[s >> 6] |= uint64_t{1} << (s & 63);
      ++count;
      return L2Update::kApplied;
    }

    // Offset from `key` of the first non-empty level among the `len` keys starting at `key`
    // (circularly), or kNone.
    uint64_t find_next(int64_t key, uint64_t len) const noexcept {
      if (len == 0) return kNone;
      size_t s = slot(key);
      uint64_t word = bits[s >> 6] & (~uint64_t{0} << (s & 63));
      uint64_t scanned = 64 - (s & 63);  // bits of this word at or after s
      uint64_t base = 0;                 // offset of bit 0 of `word` relative to key, plus (s&63)
      size_t w = s >> 6;
      const size_t words = cap >> 6;
      for (;;) {
        if (word != 0) {
          const uint64_t off = base + static_cast<uint64_t>(std::countr_zero(word)) - (s & 63);
          return off < len ? off : kNone;
        }
        if (scanned >= len) return kNone;
        base += 64;
        scanned += 64;
        w = (w + 1) & (words - 1);
        word = bits[w];
      }
    }

    void clear_all() noexcept {
      for (size_t w = 0; w < (cap >> 6); ++w) {
        for (uint64_t b = bits[w]; b != 0; b &= b - 1) {
          qty[(w << 6) + static_cast<size_t>(std::countr_zero(b))] = 0;
        }
        bits[w] = 0;
      }
      count = 0;
    }

    void clear() noexcept {
      clear_all();
      dropped = 0;
    }

    size_t cap;
    size_t mask;
    std::unique_ptr<int64_t[]> qty;
    std::unique_ptr<uint64_t[]> bits;
    int64_t best = 0;  // key of the touch; meaningful only while count != 0
    size_t count = 0;
    uint64_t dropped = 0;
  };

  Ladder bid_;
  Ladder ask_;
};

}  // namespace hft
