#include "hft/book/l2_book.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

namespace {

using hft::L2Update;
using hft::PriceLevel;
using hft::PriceLevelBook;
using hft::Side;

TEST(L2Book, EmptyBook) {
  PriceLevelBook b(1000);
  EXPECT_EQ(b.capacity_ticks(), 1024u);
  EXPECT_FALSE(b.best_bid());
  EXPECT_FALSE(b.best_ask());
  EXPECT_FALSE(b.mid());
  EXPECT_FALSE(b.microprice());
  EXPECT_FALSE(b.imbalance());
  EXPECT_FALSE(b.spread());
  std::array<PriceLevel, 4> out{};
  EXPECT_EQ(b.depth(Side::Bid, out), 0u);
  EXPECT_EQ(b.set_level(Side::Bid, 100, 0), L2Update::kIgnored);
  EXPECT_EQ(PriceLevelBook(1).capacity_ticks(), 64u);
}

TEST(L2Book, TouchAndDerivedPrices) {
  PriceLevelBook b(256);
  EXPECT_EQ(b.set_level(Side::Bid, 100, 30), L2Update::kApplied);
  b.set_level(Side::Bid, 99, 5);
  b.set_level(Side::Ask, 102, 10);
  b.set_level(Side::Ask, 105, 1);
  EXPECT_EQ(b.best_bid(), (PriceLevel{100, 30}));
  EXPECT_EQ(b.best_ask(), (PriceLevel{102, 10}));
  EXPECT_DOUBLE_EQ(*b.mid(), 101.0);
  EXPECT_EQ(*b.spread(), 2);
  // (100 * 10 + 102 * 30) / 40
  EXPECT_DOUBLE_EQ(*b.microprice(), 101.5);
  EXPECT_DOUBLE_EQ(*b.imbalance(), 0.5);
  EXPECT_EQ(b.level_qty(Side::Bid, 99), 5);
  EXPECT_EQ(b.level_qty(Side::Ask, 103), 0);
  EXPECT_EQ(b.level_qty(Side::Ask, 1'000'000), 0);
}

TEST(L2Book, ReplaceAndDeleteBestScansToNextLevel) {
  PriceLevelBook b(1024);
  b.set_level(Side::Ask, 500, 1);
  b.set_level(Side::Ask, 700, 2);  // 200 ticks behind: crosses several bitmap words
  b.set_level(Side::Ask, 500, 9);  // replace keeps the level
  EXPECT_EQ(b.best_ask(), (PriceLevel{500, 9}));
  EXPECT_EQ(b.level_count(Side::Ask), 2u);
  EXPECT_EQ(b.set_level(Side::Ask, 500, 0), L2Update::kApplied);
  EXPECT_EQ(b.best_ask(), (PriceLevel{700, 2}));
  EXPECT_EQ(b.set_level(Side::Ask, 500, 0), L2Update::kIgnored);
  b.set_level(Side::Ask, 700, 0);
  EXPECT_FALSE(b.best_ask());
  b.set_level(Side::Bid, -5, 3);  // negative ticks are valid prices
  b.set_level(Side::Bid, -70, 4);
  b.set_level(Side::Bid, -5, 0);
  EXPECT_EQ(b.best_bid(), (PriceLevel{-70, 4}));
}

TEST(L2Book, DepthFromTouch) {
  PriceLevelBook b(128);
  for (int64_t px : {90, 95, 100, 120, 150}) b.set_level(Side::Bid, px, px);
  for (int64_t px : {101, 103, 190}) b.set_level(Side::Ask, px, px * 2);
  std::array<PriceLevel, 8> out{};
  ASSERT_EQ(b.depth(Side::Bid, out), 5u);
  EXPECT_EQ(out[0], (PriceLevel{150, 150}));
  EXPECT_EQ(out[1], (PriceLevel{120, 120}));
  EXPECT_EQ(out[4], (PriceLevel{90, 90}));
  ASSERT_EQ(b.depth(Side::Ask, 2, out), 2u);
  EXPECT_EQ(out[0], (PriceLevel{101, 202}));
  EXPECT_EQ(out[1], (PriceLevel{103, 206}));
  ASSERT_EQ(b.depth(Side::Ask, out), 3u);
  EXPECT_EQ(out[2], (PriceLevel{190, 380}));
}

TEST(L2Book, DeepInsertIsDroppedAndCounted) {
  PriceLevelBook b(64);
  b.set_level(Side::Ask, 1000, 1);
  EXPECT_EQ(b.set_level(Side::Ask, 1063, 1), L2Update::kApplied);  // last tick in the window
  EXPECT_EQ(b.set_level(Side::Ask, 1064, 1), L2Update::kDropped);
  EXPECT_EQ(b.set_level(Side::Ask, 1064, 0), L2Update::kIgnored);  // deleting it is a no-op
  EXPECT_EQ(b.dropped_levels(), 1u);
  b.set_level(Side::Bid, 1000, 1);
  EXPECT_EQ(b.set_level(Side::Bid, 937, 1), L2Update::kApplied);
  EXPECT_EQ(b.set_level(Side::Bid, 936, 1), L2Update::kDropped);
  EXPECT_EQ(b.dropped_levels(), 2u);
}

TEST(L2Book, NewTouchRecentresAndEvictsFarLevels) {
  PriceLevelBook b(64);
  b.set_level(Side::Bid, 1000, 1);
  b.set_level(Side::Bid, 990, 2);
  b.set_level(Side::Bid, 950, 3);
  // New best bid 1020: window is [957, 1020]; 950 is now 70 ticks behind and is evicted.
  EXPECT_EQ(b.set_level(Side::Bid, 1020, 4), L2Update::kApplied);
  EXPECT_EQ(b.dropped_levels(), 1u);
  EXPECT_EQ(b.level_count(Side::Bid), 3u);
  EXPECT_EQ(b.level_qty(Side::Bid, 950), 0);
  EXPECT_EQ(b.level_qty(Side::Bid, 990), 2);
  // The evicted slot is reused by a price that maps to it.
  EXPECT_EQ(b.set_level(Side::Bid, 1014, 5), L2Update::kApplied);  // 950 + 64
  EXPECT_EQ(b.level_qty(Side::Bid, 1014), 5);
  // Jumping by more than the whole window evicts everything.
  EXPECT_EQ(b.set_level(Side::Bid, 5000, 6), L2Update::kApplied);
  EXPECT_EQ(b.dropped_levels(), 5u);
  EXPECT_EQ(b.level_count(Side::Bid), 1u);
  EXPECT_EQ(b.best_bid(), (PriceLevel{5000, 6}));
  // After the touch is deleted the side is empty and any price starts a new window.
  b.set_level(Side::Bid, 5000, 0);
  EXPECT_FALSE(b.best_bid());
  b.set_level(Side::Bid, 10, 7);
  EXPECT_EQ(b.best_bid(), (PriceLevel{10, 7}));
  b.clear();
  EXPECT_EQ(b.dropped_levels(), 0u);
  EXPECT_FALSE(b.best_bid());
  EXPECT_EQ(b.level_qty(Side::Bid, 10), 0);
}

TEST(L2Book, WindowFollowsTouchAfterDeletion) {
  PriceLevelBook b(64);
  b.set_level(Side::Ask, 100, 1);
  b.set_level(Side::Ask, 150, 1);
  EXPECT_EQ(b.set_level(Side::Ask, 200, 1), L2Update::kDropped);
  b.set_level(Side::Ask, 100, 0);  // touch moves to 150; window now [150, 213]
  EXPECT_EQ(b.set_level(Side::Ask, 200, 1), L2Update::kApplied);
  EXPECT_EQ(b.level_qty(Side::Ask, 200), 1);
}

// Reference: std::map per side with the same window rule, applied literally.
struct RefBook {
  std::map<int64_t, int64_t, std::greater<>> bids;
  std::map<int64_t, int64_t> asks;
  int64_t cap;
  uint64_t dropped = 0;

  template <class M>
  void apply(M& m, int64_t px, int64_t qty, bool bid) {
    auto behind = [&](int64_t touch, int64_t p) { return bid ? touch - p : p - touch; };
    if (qty == 0) {
      m.erase(px);
      return;
    }
    if (!m.empty() && behind(m.begin()->first, px) >= cap) {
      ++dropped;
      return;
    }
    m[px] = qty;
    const int64_t touch = m.begin()->first;
    for (auto it = m.begin(); it != m.end();) {
      if (behind(touch, it->first) >= cap) {
        it = m.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  void set(Side s, int64_t px, int64_t qty) {
    if (s == Side::Bid) {
      apply(bids, px, qty, true);
    } else {
      apply(asks, px, qty, false);
    }
  }
};

TEST(L2Book, RandomizedAgainstReference) {
  std::mt19937_64 rng(2024);
  for (int64_t cap : {64, 256}) {
    PriceLevelBook b(static_cast<size_t>(cap));
    RefBook ref{{}, {}, cap};
    int64_t centre = 10'000;
    std::vector<PriceLevel> got(cap), want;
    for (int op = 0; op < 200'000; ++op) {
      if (op % 1000 == 0) centre += static_cast<int64_t>(rng() % 201) - 100;  // drift
      const Side s = (rng() & 1) ? Side::Bid : Side::Ask;
      // Mostly near the touch, sometimes far enough to trigger window moves and drops.
      const int64_t spread = (rng() % 16 == 0) ? 3 * cap : cap / 2;
      const int64_t px = centre + static_cast<int64_t>(rng() % (2 * spread + 1)) - spread;
      const int64_t qty = (rng() % 3 == 0) ? 0 : static_cast<int64_t>(rng() % 1000) + 1;
      b.set_level(s, px, qty);
      ref.set(s, px, qty);
      ASSERT_EQ(b.dropped_levels(), ref.dropped) << "op " << op;
      if (op % 97 == 0 || op > 199'000) {
        for (Side side : {Side::Bid, Side::Ask}) {
          want.clear();
          if (side == Side::Bid) {
            for (auto [p, q] : ref.bids) want.push_back({p, q});
          } else {
            for (auto [p, q] : ref.asks) want.push_back({p, q});
          }
          const size_t n = b.depth(side, got);
          ASSERT_EQ(n, want.size()) << "op " << op;
          for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << "op " << op << " i " << i;
          ASSERT_EQ(b.level_count(side), want.size());
        }
      }
      const auto bb = b.best_bid();
      ASSERT_EQ(bb.has_value(), !ref.bids.empty());
      if (bb) {
        ASSERT_EQ(bb->px, ref.bids.begin()->first);
      }
      const auto ba = b.best_ask();
      ASSERT_EQ(ba.has_value(), !ref.asks.empty());
      if (ba) {
        ASSERT_EQ(ba->px, ref.asks.begin()->first);
      }
    }
    EXPECT_GT(ref.dropped, 100u) << "the stream should exercise the window policy";
  }
}

}  // namespace
