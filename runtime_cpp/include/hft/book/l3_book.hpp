// Order-level (L3) order book with per-level FIFO queues (FORMATS.md §3).
//
// Everything the hot path touches is preallocated at construction for a fixed maximum number of
// live orders: the order pool, the price-level pool, the id -> order hash table and the sorted
// per-side level arrays. add/cancel/modify/execute never allocate and never throw; failures are
// reported as OrderResult codes.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "hft/book/side.hpp"

namespace hft {

/// Result of an L3 book operation. Only kOk changes the book.
enum class OrderResult : uint8_t {
  kOk,
  kUnknownId,    ///< cancel/modify/execute of an id that is not live
  kDuplicateId,  ///< add of an id that is already live
  kPoolFull,     ///< add while max_orders orders are live
  kInvalidQty,   ///< qty <= 0, or execute of more than the order's remaining qty
};

/// Aggregated view of one price level.
struct L3Level {
  int64_t px;
  int64_t qty;      ///< sum of the remaining qty of the level's orders
  uint32_t orders;  ///< number of orders queued at the level
  friend bool operator==(const L3Level&, const L3Level&) = default;
};

/// A live order as seen from outside the book.
struct OrderInfo {
  Side side;
  int64_t px;
  int64_t qty;
  friend bool operator==(const OrderInfo&, const OrderInfo&) = default;
};

/// Order-level book with price-time priority.
///
/// Layout:
///  - orders live in a fixed pool and are chained per price level by an intrusive doubly linked
///    list of 32-bit pool indices (FIFO: add at the tail, fill from the head);
///  - ids map to pool indices through an open-addressing hash table (linear probing,
///    backward-shift deletion so churn leaves no tombstones) with at least 2x max_orders slots;
///  - each side keeps its levels in a vector sorted so that the touch is at the back: best
///    bid/ask is O(1), and since most activity is near the touch, inserting or erasing a level
///    moves only the few entries in front of it. Lookups scan a few entries from the touch, then
///    binary-search. Both vectors are reserved to max_orders, so insert never reallocates.
///
/// Priority rules: modify down keeps the order's place in the queue, modify up moves it to the
/// back (it would otherwise jump ahead of size that was there first). Not thread-safe.
class OrderBook {
 public:
  /// Preallocates everything for `max_orders` live orders (at most 2^32 - 2, since pool links are
  /// 32-bit to keep orders small). Throws std::length_error beyond that; this is the only throw.
  explicit OrderBook(size_t max_orders)
      : max_orders_(checked_capacity(max_orders)),
        orders_(std::make_unique<Order[]>(max_orders)),
        levels_(std::make_unique<Level[]>(max_orders)),
        table_mask_(std::bit_ceil(std::max<size_t>(16, max_orders * 2)) - 1),
        table_shift_(64 - std::countr_zero(table_mask_ + 1)),
        table_(std::make_unique<Slot[]>(table_mask_ + 1)) {
    for (auto& side : sides_) side.reserve(max_orders);
    clear();
  }

  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;

  /// Adds an order at the back of its price level's queue.
  OrderResult add(uint64_t id, Side side, int64_t px, int64_t qty) noexcept {
    const size_t pos = find_slot(id);
    if (table_[pos].order != kNil) return OrderResult::kDuplicateId;
    if (qty <= 0) return OrderResult::kInvalidQty;
    if (free_orders_ == kNil) return OrderResult::kPoolFull;
    const uint32_t oi = free_orders_;
    Order& o = orders_[oi];
    free_orders_ = o.next;
    const uint32_t li = find_or_add_level(side, px);
    o.id = id;
    o.px = px;
    o.qty = qty;
    o.level = li;
    o.side = side;
    push_back(levels_[li], oi);
    levels_[li].qty += qty;
    table_[pos] = Slot{id, oi};
    ++live_;
    return OrderResult::kOk;
  }

  /// Removes an order.
  OrderResult cancel(uint64_t id) noexcept {
    const size_t pos = find_slot(id);
    const uint32_t oi = table_[pos].order;
    if (oi == kNil) return OrderResult::kUnknownId;
    remove_order(oi, pos);
    return OrderResult::kOk;
  }

  /// Sets an order's remaining quantity: down keeps queue priority, up sends it to the back.
  OrderResult modify(uint64_t id, int64_t new_qty) noexcept {
    const uint32_t oi = table_[find_slot(id)].order;
    if (oi == kNil) return OrderResult::kUnknownId;
    if (new_qty <= 0) return OrderResult::kInvalidQty;
    Order& o = orders_[oi];
    Level& l = levels_[o.level];
    l.qty += new_qty - o.qty;
    if (new_qty > o.qty && l.tail != oi) {
      unlink(l, oi);
      push_back(l, oi);
    }
    o.qty = new_qty;
    return OrderResult::kOk;
  }

  /// Fills `qty` of an order; a full fill removes it.
  OrderResult execute(uint64_t id, int64_t qty) noexcept {
    const size_t pos = find_slot(id);
    const uint32_t oi = table_[pos].order;
    if (oi == kNil) return OrderResult::kUnknownId;
    Order& o = orders_[oi];
    if (qty <= 0 || qty > o.qty) return OrderResult::kInvalidQty;
    if (qty == o.qty) {
      remove_order(oi, pos);
    } else {
      o.qty -= qty;
      levels_[o.level].qty -= qty;
    }
    return OrderResult::kOk;
  }

  std::optional<L3Level> best_bid() const noexcept { return best(Side::Bid); }
  std::optional<L3Level> best_ask() const noexcept { return best(Side::Ask); }

  /// Aggregated qty at a price (0 if no level there).
  int64_t level_qty(Side side, int64_t px) const noexcept {
    const auto& v = sides_[index(side)];
    const auto it = lower(v, key(side, px));
    return (it != v.end() && it->key == key(side, px)) ? levels_[it->level].qty : 0;
  }

  /// Number of orders queued at a price (0 if no level there).
  uint32_t level_order_count(Side side, int64_t px) const noexcept {
    const auto& v = sides_[index(side)];
    const auto it = lower(v, key(side, px));
    return (it != v.end() && it->key == key(side, px)) ? levels_[it->level].count : 0;
  }

  /// Number of non-empty price levels on a side.
  size_t level_count(Side side) const noexcept { return sides_[index(side)].size(); }

  /// Number of live orders.
  size_t order_count() const noexcept { return live_; }
  size_t max_orders() const noexcept { return max_orders_; }

  /// A live order's side, price and remaining qty.
  std::optional<OrderInfo> find(uint64_t id) const noexcept {
    const uint32_t oi = table_[find_slot(id)].order;
    if (oi == kNil) return std::nullopt;
    const Order& o = orders_[oi];
    return OrderInfo{o.side, o.px, o.qty};
  }

  /// Queue position: total qty of the orders ahead of `id` at its level. O(orders ahead): meant
  /// for strategy decisions on own orders, not for every market-data message.
  std::optional<int64_t> qty_ahead(uint64_t id) const noexcept {
    const uint32_t oi = table_[find_slot(id)].order;
    if (oi == kNil) return std::nullopt;
    int64_t ahead = 0;
    for (uint32_t p = orders_[oi].prev; p != kNil; p = orders_[p].prev) ahead += orders_[p].qty;
    return ahead;
  }

  /// Removes every order and level; keeps all allocations.
  void clear() noexcept {
    for (size_t i = 0; i < max_orders_; ++i) {
      orders_[i].next = i + 1 < max_orders_ ? static_cast<uint32_t>(i + 1) : kNil;
      levels_[i].next_free = i + 1 < max_orders_ ? static_cast<uint32_t>(i + 1) : kNil;
    }
    free_orders_ = max_orders_ != 0 ? 0 : kNil;
    free_levels_ = free_orders_;
    std::fill_n(table_.get(), table_mask_ + 1, Slot{});
    for (auto& side : sides_) side.clear();
    live_ = 0;
  }

 private:
  static constexpr uint32_t kNil = ~uint32_t{0};
  // Entries within this distance of the touch are found by a linear scan before binary search.
  static constexpr size_t kLinearScan = 8;

  struct Order {
    uint64_t id = 0;
    int64_t px = 0;
    int64_t qty = 0;
    uint32_t prev = kNil;
    uint32_t next = kNil;  // also the free-list link while the slot is unused
    uint32_t level = kNil;
    Side side = Side::Bid;
  };
  struct Level {
    int64_t px = 0;
    int64_t qty = 0;
    uint32_t head = kNil;
    uint32_t tail = kNil;
    uint32_t count = 0;
    uint32_t next_free = kNil;
  };
  struct Slot {
    uint64_t id = 0;
    uint32_t order = kNil;  // kNil marks an empty slot
  };
  // Sorted-side entry. key = px for bids and -px for asks, ascending, so the touch is at back().
  struct LevelRef {
    int64_t key;
    uint32_t level;
  };

  static size_t checked_capacity(size_t n) {
    if (n >= kNil) throw std::length_error("hft::OrderBook: max_orders must be < 2^32 - 1");
    return n;
  }

  static constexpr size_t index(Side s) noexcept { return static_cast<size_t>(s); }
  static constexpr int64_t key(Side s, int64_t px) noexcept { return s == Side::Bid ? px : -px; }

  size_t home(uint64_t id) const noexcept {
    // Fibonacci hashing: spreads sequential exchange ids across the table.
    return static_cast<size_t>((id * 0x9E3779B97F4A7C15ULL) >> table_shift_);
  }

  // Slot holding `id`, or the empty slot where it would be inserted.
  size_t find_slot(uint64_t id) const noexcept {
    size_t i = home(id);
    while (table_[i].order != kNil && table_[i].id != id) i = (i + 1) & table_mask_;
    return i;
  }

  // Backward-shift deletion: pull later entries of the probe run into the hole so lookups never
  // need tombstones.
  void erase_slot(size_t i) noexcept {
    size_t j = i;
    for (;;) {
      j = (j + 1) & table_mask_;
      if (table_[j].order == kNil) break;
      const size_t k = home(table_[j].id);
      // Entry j may stay if its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      table_[i] = table_[j];
      i = j;
    }
    table_[i] = Slot{};
  }

  // First entry with key >= k. Checks the few entries nearest the touch first.
  static std::vector<LevelRef>::const_iterator lower(const std::vector<LevelRef>& v,
                                                     int64_t k) noexcept {
    const size_t n = v.size();
    const size_t stop = n > kLinearScan ? n - kLinearScan : 0;
    size_t i = n;
    while (i > stop && v[i - 1].key >= k) --i;
    if (i > stop || i == 0) return v.begin() + static_cast<ptrdiff_t>(i);
    return std::lower_bound(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), k,
                            [](const LevelRef& r, int64_t x) { return r.key < x; });
  }

  uint32_t find_or_add_level(Side side, int64_t px) noexcept {
    auto& v = sides_[index(side)];
    const int64_t k = key(side, px);
    const auto it = lower(v, k);
    if (it != v.end() && it->key == k) return it->level;
    // A level always has at least one order, so the level pool (max_orders) cannot run out
    // before the order pool, which add() checked.
    const uint32_t li = free_levels_;
    Level& l = levels_[li];
    free_levels_ = l.next_free;
    l = Level{};
    l.px = px;
    v.insert(it, LevelRef{k, li});  // within reserved capacity: no reallocation
    return li;
  }

  void push_back(Level& l, uint32_t oi) noexcept {
    Order& o = orders_[oi];
    o.prev = l.tail;
    o.next = kNil;
    if (l.tail != kNil) {
      orders_[l.tail].next = oi;
    } else {
      l.head = oi;
    }
    l.tail = oi;
    ++l.count;
  }

  void unlink(Level& l, uint32_t oi) noexcept {
    Order& o = orders_[oi];
    if (o.prev != kNil) {
      orders_[o.prev].next = o.next;
    } else {
      l.head = o.next;
    }
    if (o.next != kNil) {
      orders_[o.next].prev = o.prev;
    } else {
      l.tail = o.prev;
    }
    --l.count;
  }

  void remove_order(uint32_t oi, size_t slot) noexcept {
    Order& o = orders_[oi];
    const uint32_t li = o.level;
    Level& l = levels_[li];
    unlink(l, oi);
    l.qty -= o.qty;
    if (l.count == 0) {
      auto& v = sides_[index(o.side)];
      v.erase(lower(v, key(o.side, o.px)));
      l.next_free = free_levels_;
      free_levels_ = li;
    }
    o.next = free_orders_;
    free_orders_ = oi;
    erase_slot(slot);
    --live_;
  }

  std::optional<L3Level> best(Side side) const noexcept {
    const auto& v = sides_[index(side)];
    if (v.empty()) return std::nullopt;
    const Level& l = levels_[v.back().level];
    return L3Level{l.px, l.qty, l.count};
  }

  size_t max_orders_;
  std::unique_ptr<Order[]> orders_;
  std::unique_ptr<Level[]> levels_;
  size_t table_mask_;
  int table_shift_;
  std::unique_ptr<Slot[]> table_;
  std::vector<LevelRef> sides_[2];
  uint32_t free_orders_ = kNil;
  uint32_t free_levels_ = kNil;
  size_t live_ = 0;
};

}  // namespace hft
