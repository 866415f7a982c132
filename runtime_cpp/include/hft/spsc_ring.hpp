// Single-producer / single-consumer ring buffer for trivially copyable items.
//
// One thread calls the push side, one (other) thread calls the pop side. Indices are
// free-running 64-bit counters (items ever pushed / popped); the slot of sequence s is
// s & (capacity - 1). They cannot wrap in practice (2^64 items).
//
// Each side keeps a cached copy of the other side's index and only re-reads the shared
// one when the cache says full (producer) or empty (consumer). In the steady state the
// producer therefore touches only its own line and the slots, and the consumer only its
// own line and the slots; the shared index lines move between cores once per "batch of
// progress" instead of once per item.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "hft/cpu.hpp"

namespace hft {

template <class T>
concept RingItem = std::is_trivially_copyable_v<T> && !std::is_const_v<T>;

template <RingItem T>
class SpscRing {
 public:
  using value_type = T;

  /// `capacity` must be a power of two >= 2 (std::invalid_argument otherwise). All memory
  /// is allocated here; push/pop never allocate.
  explicit SpscRing(std::size_t capacity) : shared_(init(capacity)) {}

  ~SpscRing() { ::operator delete (shared_.slots, std::align_val_t{kCacheLineSize}); }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const noexcept { return shared_.mask + 1; }

  // ---- producer side -------------------------------------------------------------

  /// Pushes one item; false when the ring is full.
  bool try_push(const T& item) noexcept {
    const std::uint64_t head = prod_.head.load(std::memory_order_relaxed);  // own index
    if (head - prod_.cached_tail > shared_.mask) {
      // Looks full: refresh. Acquire pairs with the consumer's release of `tail`, so its
      // reads of the slots we are about to overwrite have completed.
      prod_.cached_tail = cons_.tail.load(std::memory_order_acquire);
      if (head - prod_.cached_tail > shared_.mask) return false;
    }
    std::memcpy(slot(head), &item, sizeof(T));
    // Release publishes the slot write to a consumer that acquires `head`.
    prod_.head.store(head + 1, std::memory_order_release);
    return true;
  }

  /// Pushes as many of `items` as fit (in order); returns how many were pushed.
  std::size_t try_push_n(std::span<const T> items) noexcept {
    const std::uint64_t head = prod_.head.load(std::memory_order_relaxed);
    std::size_t free = capacity() - static_cast<std::size_t>(head - prod_.cached_tail);
    if (free < items.size()) {
      prod_.cached_tail = cons_.tail.load(std::memory_order_acquire);
      free = capacity() - static_cast<std::size_t>(head - prod_.cached_tail);
    }
    const std::size_t n = std::min(free, items.size());
    if (n == 0) return 0;
    copy_in(head, items.data(), n);
    prod_.head.store(head + n, std::memory_order_release);  // one publication for n items
    return n;
  }

  // ---- consumer side -------------------------------------------------------------

  /// Pops one item into `out`; false when the ring is empty.
  bool try_pop(T& out) noexcept {
    const std::uint64_t tail = cons_.tail.load(std::memory_order_relaxed);  // own index
    if (tail == cons_.cached_head) {
      // Looks empty: refresh. Acquire pairs with the producer's release of `head`, so
      // the slot contents written before it are visible.
      cons_.cached_head = prod_.head.load(std::memory_order_acquire);
      if (tail == cons_.cached_head) return false;
    }
    std::memcpy(&out, slot(tail), sizeof(T));
    // Release orders our slot read before the producer may reuse the slot.
    cons_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  /// Pops up to `out.size()` items into `out`; returns how many were popped.
  std::size_t try_pop_n(std::span<T> out) noexcept {
    const std::uint64_t tail = cons_.tail.load(std::memory_order_relaxed);
    std::size_t avail = static_cast<std::size_t>(cons_.cached_head - tail);
    if (avail < out.size()) {
      cons_.cached_head = prod_.head.load(std::memory_order_acquire);
      avail = static_cast<std::size_t>(cons_.cached_head - tail);
    }
    const std::size_t n = std::min(avail, out.size());
    if (n == 0) return 0;
    copy_out(tail, out.data(), n);
    cons_.tail.store(tail + n, std::memory_order_release);
    return n;
  }

  // ---- either side (approximate while the other side runs) -----------------------

  std::size_t size_approx() const noexcept {
    const std::uint64_t tail = cons_.tail.load(std::memory_order_acquire);
    const std::uint64_t head = prod_.head.load(std::memory_order_acquire);
    return head >= tail ? static_cast<std::size_t>(head - tail) : 0;
  }
  bool empty_approx() const noexcept { return size_approx() == 0; }

 private:
  // Read-only after construction; shared (clean) by both cores.
  struct alignas(kCacheLineSize) Shared {
    std::byte* slots;
    std::uint64_t mask;
  };
  // Written by the producer only: its index and its private copy of the consumer's.
  struct alignas(kCacheLineSize) Producer {
    std::atomic<std::uint64_t> head{0};
    std::uint64_t cached_tail{0};
  };
  // Written by the consumer only.
  struct alignas(kCacheLineSize) Consumer {
    std::atomic<std::uint64_t> tail{0};
    std::uint64_t cached_head{0};
  };

  static Shared init(std::size_t capacity) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
      throw std::invalid_argument("SpscRing capacity must be a power of two >= 2");
    }
    if (capacity > SIZE_MAX / sizeof(T)) throw std::invalid_argument("SpscRing too large");
    // Cache-line aligned so the first slot does not share a line with anything else.
    auto* slots = static_cast<std::byte*>(
        ::operator new (capacity * sizeof(T), std::align_val_t{kCacheLineSize}));
    return Shared{slots, capacity - 1};
  }

  std::byte* slot(std::uint64_t seq) const noexcept {
    return shared_.slots + static_cast<std::size_t>(seq & shared_.mask) * sizeof(T);
  }

  // Copies n items into consecutive sequences starting at `seq`, in at most two chunks.
  void copy_in(std::uint64_t seq, const T* src, std::size_t n) noexcept {
    const std::size_t first =
        std::min(n, capacity() - static_cast<std::size_t>(seq & shared_.mask));
    std::memcpy(slot(seq), src, first * sizeof(T));
    if (n > first) std::memcpy(shared_.slots, src + first, (n - first) * sizeof(T));
  }
  void copy_out(std::uint64_t seq, T* dst, std::size_t n) const noexcept {
    const std::size_t first =
        std::min(n, capacity() - static_cast<std::size_t>(seq & shared_.mask));
    std::memcpy(dst, slot(seq), first * sizeof(T));
    if (n > first) std::memcpy(dst + first, shared_.slots, (n - first) * sizeof(T));
  }

  Shared shared_;
  Producer prod_;
  Consumer cons_;
};

}  // namespace hft
