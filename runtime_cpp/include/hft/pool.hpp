// Fixed-size object pool over a huge-page arena.
//
// HugePageArena maps one region up front and prefaults it, so nothing on the hot path
// takes a page fault or calls into the allocator. ObjectPool<T> carves it into slots
// threaded on an intrusive free list (the link lives in the free slot itself):
// acquire/release are O(1) pointer swaps. The pool is single-threaded by design: give
// each thread its own pool, or hand objects across threads through a ring.
#pragma once

#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace hft {

/// What actually backs an arena.
enum class ArenaBacking {
  kHugeTlb,      ///< explicit 2 MiB pages from the hugetlbfs pool (MAP_HUGETLB)
  kTransparent,  ///< normal mapping, 2 MiB aligned, madvise(MADV_HUGEPAGE) accepted (THP)
  kNormal,       ///< plain 4 KiB pages (THP disabled or madvise refused)
};

inline constexpr std::string_view to_string(ArenaBacking b) noexcept {
  switch (b) {
    case ArenaBacking::kHugeTlb:
      return "hugetlb";
    case ArenaBacking::kTransparent:
      return "thp";
    case ArenaBacking::kNormal:
      return "normal";
  }
  return "unknown";
}

/// One anonymous mapping, rounded up to whole 2 MiB pages, prefaulted.
class HugePageArena {
 public:
  static constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

  struct Options {
    bool try_hugetlb = true;  ///< attempt MAP_HUGETLB first
    bool prefault = true;     ///< touch every page now rather than on first use
  };

  /// Throws std::system_error if not even a normal mapping can be made.
  explicit HugePageArena(std::size_t bytes) : HugePageArena(bytes, Options{}) {}
  HugePageArena(std::size_t bytes, Options opts) {
    size_ = round_up(bytes == 0 ? 1 : bytes, kHugePageSize);
#if defined(MAP_HUGETLB)
    if (opts.try_hugetlb) {
      // MAP_POPULATE: reserve and fault the huge pages now; fails cleanly (ENOMEM) when
      // the hugetlb pool is empty instead of SIGBUS-ing later.
      void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
      if (p != MAP_FAILED) {
        base_ = p;
        map_len_ = size_;
        backing_ = ArenaBacking::kHugeTlb;
        return;
      }
    }
#endif
    // Fallback: over-map by one huge page and trim, so the region is 2 MiB aligned and
    // the kernel can back it with transparent huge pages.
    const std::size_t len = size_ + kHugePageSize;
    void* raw = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap arena");
    const auto addr = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = round_up(addr, kHugePageSize);
    if (aligned > addr) ::munmap(raw, aligned - addr);
    const std::uintptr_t end = addr + len;
    if (end > aligned + size_)
      ::munmap(reinterpret_cast<void*>(aligned + size_), end - aligned - size_);
    base_ = reinterpret_cast<void*>(aligned);
    map_len_ = size_;
    backing_ = ArenaBacking::kNormal;
#if defined(MADV_HUGEPAGE)
    if (::madvise(base_, size_, MADV_HUGEPAGE) == 0) backing_ = ArenaBacking::kTransparent;
#endif
    if (opts.prefault) {
      // Writing (not reading) each page allocates it: a read would map the shared zero page.
      for (std::size_t off = 0; off < size_; off += 4096)
        static_cast<volatile char*>(base_)[off] = 0;
    }
  }

  HugePageArena(const HugePageArena&) = delete;
  HugePageArena& operator=(const HugePageArena&) = delete;
  HugePageArena(HugePageArena&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        map_len_(std::exchange(o.map_len_, 0)),
        backing_(o.backing_) {}
  HugePageArena& operator=(HugePageArena&& o) noexcept {
    if (this != &o) {
      release();
      base_ = std::exchange(o.base_, nullptr);
      size_ = std::exchange(o.size_, 0);
      map_len_ = std::exchange(o.map_len_, 0);
      backing_ = o.backing_;
    }
    return *this;
  }
  ~HugePageArena() { release(); }

  void* data() const noexcept { return base_; }
  /// Usable bytes: the request rounded up to a multiple of 2 MiB.
  std::size_t size() const noexcept { return size_; }
  ArenaBacking backing() const noexcept { return backing_; }

 private:
  static constexpr std::uintptr_t round_up(std::uintptr_t v, std::uintptr_t a) noexcept {
    return (v + a - 1) & ~(a - 1);
  }
  void release() noexcept {
    if (base_ != nullptr) ::munmap(base_, map_len_);
    base_ = nullptr;
  }

  void* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t map_len_ = 0;
  ArenaBacking backing_ = ArenaBacking::kNormal;
};

/// Pool of `capacity` slots for T. acquire() constructs in a free slot (nullptr when the
/// pool is exhausted), release() destroys and returns the slot. Objects still acquired
/// when the pool is destroyed are not destroyed (their storage simply goes away).
template <class T>
class ObjectPool {
  static_assert(alignof(T) <= 4096, "over-aligned beyond a page is not supported");

  union Slot {
    Slot* next;  // valid while the slot is free
    alignas(T) std::byte storage[sizeof(T)];
  };

 public:
  struct Deleter {
    ObjectPool* pool;
    void operator()(T* p) const noexcept { pool->release(p); }
  };
  using Handle = std::unique_ptr<T, Deleter>;

  explicit ObjectPool(std::size_t capacity, HugePageArena::Options opts = {})
      : arena_(checked_bytes(capacity), opts), capacity_(capacity) {
    slots_ = static_cast<Slot*>(arena_.data());
    // Thread the list in address order so a fresh pool hands out consecutive slots.
    for (std::size_t i = 0; i < capacity; ++i) {
      slots_[i].next = (i + 1 < capacity) ? &slots_[i + 1] : nullptr;
    }
    free_ = capacity ? &slots_[0] : nullptr;
    available_ = capacity;
  }

  ObjectPool(const ObjectPool&) = delete;
  ObjectPool& operator=(const ObjectPool&) = delete;

  /// Constructs a T in a free slot; nullptr when none is left. If T's constructor
  /// throws, the slot goes back to the free list and the exception propagates.
  template <class... Args>
  [[nodiscard]] T* acquire(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    Slot* s = free_;
    if (s == nullptr) return nullptr;
    free_ = s->next;
    --available_;
    if constexpr (std::is_nothrow_constructible_v<T, Args...>) {
      return ::new (static_cast<void*>(s->storage)) T(std::forward<Args>(args)...);
    } else {
      try {
        return ::new (static_cast<void*>(s->storage)) T(std::forward<Args>(args)...);
      } catch (...) {
        push_free(s);
        throw;
      }
    }
  }

  /// acquire() wrapped in a unique_ptr that releases back to this pool.
  template <class... Args>
  [[nodiscard]] Handle make(Args&&... args) {
    return Handle(acquire(std::forward<Args>(args)...), Deleter{this});
  }

  /// Destroys `p` (which must come from this pool's acquire()) and frees its slot.
  void release(T* p) noexcept {
    if (p == nullptr) return;
    p->~T();
    push_free(reinterpret_cast<Slot*>(p));
  }

  bool owns(const T* p) const noexcept {
    const auto* b = reinterpret_cast<const std::byte*>(slots_);
    const auto* q = reinterpret_cast<const std::byte*>(p);
    return q >= b && q < b + capacity_ * sizeof(Slot) &&
           static_cast<std::size_t>(q - b) % sizeof(Slot) == 0;
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t available() const noexcept { return available_; }
  std::size_t in_use() const noexcept { return capacity_ - available_; }
  ArenaBacking backing() const noexcept { return arena_.backing(); }
  static constexpr std::size_t slot_size() noexcept { return sizeof(Slot); }

 private:
  static std::size_t checked_bytes(std::size_t capacity) {
    if (capacity > SIZE_MAX / sizeof(Slot)) throw std::bad_array_new_length();
    return capacity * sizeof(Slot);
  }
  void push_free(Slot* s) noexcept {
    s->next = free_;  // LIFO: the most recently released (cache-hot) slot is reused first
    free_ = s;
    ++available_;
  }

  HugePageArena arena_;
  Slot* slots_ = nullptr;
  Slot* free_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t available_ = 0;
};

}  // namespace hft
