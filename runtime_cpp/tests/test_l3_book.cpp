#include "hft/book/l3_book.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <map>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using hft::L3Level;
using hft::OrderBook;
using hft::OrderInfo;
using hft::OrderResult;
using hft::Side;

TEST(L3Book, AddAggregatesAndTracksTouch) {
  OrderBook b(16);
  EXPECT_FALSE(b.best_bid());
  EXPECT_FALSE(b.best_ask());
  EXPECT_EQ(b.add(1, Side::Bid, 100, 5), OrderResult::kOk);
  EXPECT_EQ(b.add(2, Side::Bid, 100, 7), OrderResult::kOk);
  EXPECT_EQ(b.add(3, Side::Bid, 99, 1), OrderResult::kOk);
  EXPECT_EQ(b.add(4, Side::Ask, 102, 3), OrderResult::kOk);
  EXPECT_EQ(b.add(5, Side::Ask, 101, 2), OrderResult::kOk);
  EXPECT_EQ(b.best_bid(), (L3Level{100, 12, 2}));
  EXPECT_EQ(b.best_ask(), (L3Level{101, 2, 1}));
  EXPECT_EQ(b.level_qty(Side::Bid, 100), 12);
  EXPECT_EQ(b.level_qty(Side::Bid, 99), 1);
  EXPECT_EQ(b.level_qty(Side::Bid, 101), 0);
  EXPECT_EQ(b.level_qty(Side::Ask, 102), 3);
  EXPECT_EQ(b.level_order_count(Side::Bid, 100), 2u);
  EXPECT_EQ(b.level_count(Side::Bid), 2u);
  EXPECT_EQ(b.order_count(), 5u);
  EXPECT_EQ(b.find(3), (OrderInfo{Side::Bid, 99, 1}));
  EXPECT_FALSE(b.find(42));
}

TEST(L3Book, RejectsBadRequestsWithoutChangingTheBook) {
  OrderBook b(2);
  EXPECT_EQ(b.add(1, Side::Ask, 10, 0), OrderResult::kInvalidQty);
  EXPECT_EQ(b.add(1, Side::Ask, 10, -3), OrderResult::kInvalidQty);
  EXPECT_EQ(b.add(1, Side::Ask, 10, 3), OrderResult::kOk);
  EXPECT_EQ(b.add(1, Side::Bid, 9, 3), OrderResult::kDuplicateId);
  EXPECT_EQ(b.cancel(2), OrderResult::kUnknownId);
  EXPECT_EQ(b.modify(2, 5), OrderResult::kUnknownId);
  EXPECT_EQ(b.execute(2, 1), OrderResult::kUnknownId);
  EXPECT_EQ(b.modify(1, 0), OrderResult::kInvalidQty);
  EXPECT_EQ(b.execute(1, 0), OrderResult::kInvalidQty);
  EXPECT_EQ(b.execute(1, 4), OrderResult::kInvalidQty);
  EXPECT_FALSE(b.qty_ahead(2));
  EXPECT_EQ(b.order_count(), 1u);
  EXPECT_EQ(b.best_ask(), (L3Level{10, 3, 1}));
  EXPECT_FALSE(b.best_bid());
}

TEST(L3Book, PoolExhaustionAndReuse) {
  OrderBook b(3);
  EXPECT_EQ(b.add(1, Side::Bid, 10, 1), OrderResult::kOk);
  EXPECT_EQ(b.add(2, Side::Bid, 11, 1), OrderResult::kOk);
  EXPECT_EQ(b.add(3, Side::Ask, 12, 1), OrderResult::kOk);
  EXPECT_EQ(b.add(4, Side::Ask, 12, 1), OrderResult::kPoolFull);
  EXPECT_EQ(b.add(1, Side::Ask, 12, 1), OrderResult::kDuplicateId);  // duplicate wins over full
  EXPECT_EQ(b.cancel(2), OrderResult::kOk);
  EXPECT_EQ(b.add(4, Side::Ask, 13, 1), OrderResult::kOk);
  EXPECT_EQ(b.order_count(), 3u);
  EXPECT_EQ(b.best_bid(), (L3Level{10, 1, 1}));
  b.clear();
  EXPECT_EQ(b.order_count(), 0u);
  EXPECT_FALSE(b.best_ask());
  for (uint64_t id = 100; id < 103; ++id) EXPECT_EQ(b.add(id, Side::Bid, 5, 1), OrderResult::kOk);
  EXPECT_EQ(b.add(103, Side::Bid, 5, 1), OrderResult::kPoolFull);
  OrderBook zero(0);
  EXPECT_EQ(zero.add(1, Side::Bid, 1, 1), OrderResult::kPoolFull);
}

TEST(L3Book, FifoQueuePosition) {
  OrderBook b(8);
  b.add(1, Side::Ask, 50, 10);
  b.add(2, Side::Ask, 50, 20);
  b.add(3, Side::Ask, 50, 30);
  EXPECT_EQ(b.qty_ahead(1), 0);
  EXPECT_EQ(b.qty_ahead(2), 10);
  EXPECT_EQ(b.qty_ahead(3), 30);
  // Execute fills from whichever order the exchange names; a full fill removes it from the queue.
  EXPECT_EQ(b.execute(1, 4), OrderResult::kOk);
  EXPECT_EQ(b.qty_ahead(2), 6);
  EXPECT_EQ(b.best_ask(), (L3Level{50, 56, 3}));
  EXPECT_EQ(b.execute(1, 6), OrderResult::kOk);
  EXPECT_FALSE(b.find(1));
  EXPECT_EQ(b.qty_ahead(2), 0);
  EXPECT_EQ(b.qty_ahead(3), 20);
  EXPECT_EQ(b.best_ask(), (L3Level{50, 50, 2}));
  EXPECT_EQ(b.cancel(2), OrderResult::kOk);
  EXPECT_EQ(b.qty_ahead(3), 0);
  EXPECT_EQ(b.execute(3, 30), OrderResult::kOk);
  EXPECT_FALSE(b.best_ask());
  EXPECT_EQ(b.level_count(Side::Ask), 0u);
  EXPECT_EQ(b.order_count(), 0u);
}

TEST(L3Book, ModifyPriorityRules) {
  OrderBook b(8);
  b.add(1, Side::Bid, 100, 10);
  b.add(2, Side::Bid, 100, 10);
  b.add(3, Side::Bid, 100, 10);
  // Down: keeps its place.
  EXPECT_EQ(b.modify(1, 4), OrderResult::kOk);
  EXPECT_EQ(b.qty_ahead(1), 0);
  EXPECT_EQ(b.qty_ahead(2), 4);
  EXPECT_EQ(b.level_qty(Side::Bid, 100), 24);
  // Same qty: no change at all.
  EXPECT_EQ(b.modify(2, 10), OrderResult::kOk);
  EXPECT_EQ(b.qty_ahead(2), 4);
  // Up: goes to the back.
  EXPECT_EQ(b.modify(1, 5), OrderResult::kOk);
  EXPECT_EQ(b.qty_ahead(2), 0);
  EXPECT_EQ(b.qty_ahead(3), 10);
  EXPECT_EQ(b.qty_ahead(1), 20);
  EXPECT_EQ(b.level_qty(Side::Bid, 100), 25);
  // Up while already last: stays last.
  EXPECT_EQ(b.modify(1, 50), OrderResult::kOk);
  EXPECT_EQ(b.qty_ahead(1), 20);
  EXPECT_EQ(b.best_bid(), (L3Level{100, 70, 3}));
}

TEST(L3Book, LevelsStaySortedAcrossManyPrices) {
  OrderBook b(1000);
  std::mt19937_64 rng(5);
  std::vector<int64_t> prices;
  for (uint64_t id = 0; id < 500; ++id) {
    const int64_t px = static_cast<int64_t>(rng() % 2000);
    prices.push_back(px);
    ASSERT_EQ(b.add(id, Side::Ask, px, 1), OrderResult::kOk);
  }
  // Remove in increasing price order; the touch must follow exactly.
  std::vector<std::pair<int64_t, uint64_t>> by_px;
  for (uint64_t id = 0; id < 500; ++id) by_px.emplace_back(prices[id], id);
  std::sort(by_px.begin(), by_px.end());
  for (auto [px, id] : by_px) {
    ASSERT_EQ(b.best_ask()->px, px);
    ASSERT_EQ(b.cancel(id), OrderResult::kOk);
  }
  EXPECT_FALSE(b.best_ask());
}

// Reference model: std::map of levels holding std::list FIFOs.
struct RefBook {
  struct Ord {
    Side side;
    int64_t px;
    int64_t qty;
  };
  size_t max_orders;
  std::map<int64_t, std::list<uint64_t>, std::greater<>> bids;
  std::map<int64_t, std::list<uint64_t>> asks;
  std::unordered_map<uint64_t, Ord> orders;

  std::list<uint64_t>& queue(Side s, int64_t px) { return s == Side::Bid ? bids[px] : asks[px]; }
  void drop_if_empty(Side s, int64_t px) {
    if (s == Side::Bid && bids[px].empty()) bids.erase(px);
    if (s == Side::Ask && asks[px].empty()) asks.erase(px);
  }
  OrderResult add(uint64_t id, Side s, int64_t px, int64_t qty) {
    if (orders.count(id)) return OrderResult::kDuplicateId;
    if (qty <= 0) return OrderResult::kInvalidQty;
    if (orders.size() == max_orders) return OrderResult::kPoolFull;
    orders[id] = {s, px, qty};
    queue(s, px).push_back(id);
    return OrderResult::kOk;
  }
  OrderResult cancel(uint64_t id) {
    auto it = orders.find(id);
    if (it == orders.end()) return OrderResult::kUnknownId;
    const Ord o = it->second;
    queue(o.side, o.px).remove(id);
    drop_if_empty(o.side, o.px);
    orders.erase(it);
    return OrderResult::kOk;
  }
  OrderResult modify(uint64_t id, int64_t q) {
    auto it = orders.find(id);
    if (it == orders.end()) return OrderResult::kUnknownId;
    if (q <= 0) return OrderResult::kInvalidQty;
    if (q > it->second.qty) {
      auto& fifo = queue(it->second.side, it->second.px);
      fifo.remove(id);
      fifo.push_back(id);
    }
    it->second.qty = q;
    return OrderResult::kOk;
  }
  OrderResult execute(uint64_t id, int64_t q) {
    auto it = orders.find(id);
    if (it == orders.end()) return OrderResult::kUnknownId;
    if (q <= 0 || q > it->second.qty) return OrderResult::kInvalidQty;
    if (q == it->second.qty) return cancel(id);
    it->second.qty -= q;
    return OrderResult::kOk;
  }
  template <class M>
  std::optional<L3Level> top(const M& m) const {
    if (m.empty()) return std::nullopt;
    int64_t q = 0;
    for (uint64_t id : m.begin()->second) q += orders.at(id).qty;
    return L3Level{m.begin()->first, q, static_cast<uint32_t>(m.begin()->second.size())};
  }
  int64_t level_qty(Side s, int64_t px) const {
    const std::list<uint64_t>* fifo = nullptr;
    if (s == Side::Bid) {
      if (auto it = bids.find(px); it != bids.end()) fifo = &it->second;
    } else {
      if (auto it = asks.find(px); it != asks.end()) fifo = &it->second;
    }
    int64_t q = 0;
    if (fifo) {
      for (uint64_t id : *fifo) q += orders.at(id).qty;
    }
    return q;
  }
  std::optional<int64_t> qty_ahead(uint64_t id) const {
    auto it = orders.find(id);
    if (it == orders.end()) return std::nullopt;
    const auto& fifo =
        it->second.side == Side::Bid ? bids.at(it->second.px) : asks.at(it->second.px);
    int64_t q = 0;
    for (uint64_t other : fifo) {
      if (other == id) break;
      q += orders.at(other).qty;
    }
    return q;
  }
};

TEST(L3Book, RandomizedAgainstReference) {
  constexpr size_t kMax = 300;  // small enough that the pool fills up regularly
  OrderBook b(kMax);
  RefBook ref{kMax, {}, {}, {}};
  std::mt19937_64 rng(77);
  std::vector<uint64_t> ids;  // ids ever used, live or not, to also hit unknown/duplicate paths
  uint64_t next_id = 1;
  int ok_ops = 0;
  int pool_full = 0;
  for (int op = 0; op < 60'000; ++op) {
    const unsigned kind = rng() % 10;
    OrderResult got, want;
    uint64_t id = ids.empty() ? 0 : ids[rng() % ids.size()];
    if (!ref.orders.empty() && rng() % 8 != 0) {  // mostly act on live orders
      id = std::next(ref.orders.begin(), static_cast<long>(rng() % ref.orders.size()))->first;
    }
    if (kind < 4 || ids.empty()) {
      // Occasionally reuse an id to exercise duplicates (or re-adding a dead id).
      if (rng() % 20 != 0 || ids.empty()) {
        id = next_id++ * 7919;  // sparse ids, as on real feeds
        ids.push_back(id);
      }
      const Side s = (rng() & 1) ? Side::Bid : Side::Ask;
      const int64_t px = 1000 + (s == Side::Bid ? -1 : 1) * static_cast<int64_t>(rng() % 40);
      const int64_t qty = static_cast<int64_t>(rng() % 100);  // 0 is rejected
      got = b.add(id, s, px, qty);
      want = ref.add(id, s, px, qty);
    } else if (kind < 6) {
      got = b.cancel(id);
      want = ref.cancel(id);
    } else if (kind < 8) {
      const int64_t q = static_cast<int64_t>(rng() % 120);
      got = b.modify(id, q);
      want = ref.modify(id, q);
    } else {
      const auto live = ref.orders.find(id);
      const int64_t q = live != ref.orders.end() && rng() % 3 == 0
                            ? live->second.qty  // full fill
                            : static_cast<int64_t>(rng() % 60);
      got = b.execute(id, q);
      want = ref.execute(id, q);
    }
    ASSERT_EQ(got, want) << "op " << op;
    ok_ops += got == OrderResult::kOk;
    pool_full += got == OrderResult::kPoolFull;
    ASSERT_EQ(b.order_count(), ref.orders.size()) << "op " << op;
    ASSERT_EQ(b.best_bid(), ref.top(ref.bids)) << "op " << op;
    ASSERT_EQ(b.best_ask(), ref.top(ref.asks)) << "op " << op;
    ASSERT_EQ(b.qty_ahead(id), ref.qty_ahead(id)) << "op " << op;
    if (op % 50 == 0) {
      ASSERT_EQ(b.level_count(Side::Bid), ref.bids.size());
      ASSERT_EQ(b.level_count(Side::Ask), ref.asks.size());
      for (int64_t px = 950; px <= 1050; ++px) {
        ASSERT_EQ(b.level_qty(Side::Bid, px), ref.level_qty(Side::Bid, px)) << px;
        ASSERT_EQ(b.level_qty(Side::Ask, px), ref.level_qty(Side::Ask, px)) << px;
      }
      for (auto& [oid, o] : ref.orders) {
        ASSERT_EQ(b.find(oid), (OrderInfo{o.side, o.px, o.qty}));
        ASSERT_EQ(b.qty_ahead(oid), ref.qty_ahead(oid));
      }
    }
  }
  EXPECT_GT(ok_ops, 30'000);
  EXPECT_GT(pool_full, 0);
}

}  // namespace
