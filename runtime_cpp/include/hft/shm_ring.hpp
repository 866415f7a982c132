// SPSC ring in a named POSIX shared-memory object, laid out byte for byte as described
// in runtime_cpp/FORMATS.md §1 so that C++ and Rust processes can share it.
//
//   auto tx = hft::ShmRing<Msg>::create("md_feed", 1024);          // producer process
//   auto rx = hft::ShmRing<Msg>::attach_retry("md_feed", 1024, 5s); // consumer process
//
// Creation and attachment may throw hft::ShmError (not a hot path); push/pop never throw.
// The synchronisation is the same as hft::SpscRing: free-running u64 `head`/`tail` in
// the shared header, each side caching the opposite index in its own process memory.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "hft/cpu.hpp"
#include "hft/spsc_ring.hpp"

namespace hft {

static_assert(std::endian::native == std::endian::little,
              "the shared ring format is little-endian; add byte swapping for this target");
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "cross-process atomics must be lock-free");

/// Header of the shared region (FORMATS.md §1, version 1). Plain integers so the struct is
/// standard-layout; the three words that are accessed concurrently (magic, head, tail)
/// are only touched through std::atomic_ref.
struct ShmRingHeader {
  static constexpr std::uint64_t kMagic = 0x474E495243544648ull;  // "HFTCRING" little-endian
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::uint64_t kDataOffset = 256;

  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t item_size;
  std::uint64_t capacity;
  std::uint64_t data_offset;
  std::uint8_t reserved0[32];
  alignas(64) std::uint64_t head;  // producer's line (64..127)
  std::uint8_t pad_head[56];
  alignas(64) std::uint64_t tail;  // consumer's line (128..191)
  std::uint8_t pad_tail[56];
  std::uint8_t reserved1[64];
};
static_assert(std::is_standard_layout_v<ShmRingHeader>);
static_assert(offsetof(ShmRingHeader, magic) == 0);
static_assert(offsetof(ShmRingHeader, version) == 8);
static_assert(offsetof(ShmRingHeader, item_size) == 12);
static_assert(offsetof(ShmRingHeader, capacity) == 16);
static_assert(offsetof(ShmRingHeader, data_offset) == 24);
static_assert(offsetof(ShmRingHeader, head) == 64);
static_assert(offsetof(ShmRingHeader, tail) == 128);
static_assert(sizeof(ShmRingHeader) == ShmRingHeader::kDataOffset);

namespace shm_detail {
/// Joins pieces into one string with a single allocation. (Chains of std::string
/// operator+ trip GCC 12's -Wrestrict false positive at -O3, PR 105329.)
inline std::string concat(std::initializer_list<std::string_view> parts) {
  std::size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}
}  // namespace shm_detail

/// Error raised while creating or attaching a shared ring.
class ShmError : public std::runtime_error {
 public:
  enum class Kind {
    kNotReady,         ///< object missing, too small or magic not yet written: retry later
    kMismatch,         ///< header field differs from what the caller expects
    kInvalidArgument,  ///< bad name or capacity
    kSystem,           ///< a system call failed (see errno())
  };

  ShmError(Kind kind, const std::string& what, std::string field = {}, std::uint64_t expected = 0,
           std::uint64_t found = 0, int err = 0)
      : std::runtime_error(what),
        kind_(kind),
        field_(std::move(field)),
        expected_(expected),
        found_(found),
        errno_(err) {}

  Kind kind() const noexcept { return kind_; }
  bool not_ready() const noexcept { return kind_ == Kind::kNotReady; }
  /// For kMismatch: the header field ("magic", "version", "item_size", "capacity",
  /// "data_offset", "size") and the expected / found values.
  const std::string& field() const noexcept { return field_; }
  std::uint64_t expected() const noexcept { return expected_; }
  std::uint64_t found() const noexcept { return found_; }
  /// For kSystem (and not-ready caused by a missing object): the errno value.
  int error_number() const noexcept { return errno_; }

  static ShmError mismatch(std::string_view name, const char* field, std::uint64_t expected,
                           std::uint64_t found) {
    return ShmError(
        Kind::kMismatch,
        shm_detail::concat({"shm ring '", name, "': ", field, " mismatch: expected ",
                            std::to_string(expected), ", found ", std::to_string(found)}),
        field, expected, found);
  }
  static ShmError not_ready(std::string_view name, const std::string& why, int err = 0) {
    return ShmError(Kind::kNotReady, shm_detail::concat({"shm ring '", name, "' not ready: ", why}),
                    {}, 0, 0, err);
  }
  static ShmError system(std::string_view name, const char* call, int err) {
    return ShmError(Kind::kSystem,
                    shm_detail::concat({"shm ring '", name, "': ", call,
                                        " failed: ", std::generic_category().message(err)}),
                    {}, 0, 0, err);
  }
  static ShmError invalid(std::string_view name, const std::string& why) {
    return ShmError(Kind::kInvalidArgument, shm_detail::concat({"shm ring '", name, "': ", why}));
  }

 private:
  Kind kind_;
  std::string field_;
  std::uint64_t expected_;
  std::uint64_t found_;
  int errno_;
};

namespace shm_detail {

inline std::uint64_t region_size(std::string_view name, std::uint64_t capacity,
                                 std::uint64_t item_size) {
  if (capacity < 2 || !std::has_single_bit(capacity)) {
    throw ShmError::invalid(
        name, concat({"capacity must be a power of two >= 2, got ", std::to_string(capacity)}));
  }
  if (capacity > (UINT64_MAX - ShmRingHeader::kDataOffset) / item_size ||
      ShmRingHeader::kDataOffset + capacity * item_size > static_cast<std::uint64_t>(SIZE_MAX)) {
    throw ShmError::invalid(name, "capacity too large");
  }
  return ShmRingHeader::kDataOffset + capacity * item_size;
}

inline std::string object_name(std::string_view name) {
  if (name.empty() || name.size() > 250 || name.find('/') != std::string_view::npos) {
    throw ShmError::invalid(name, "name must be 1..250 characters without '/'");
  }
  return concat({"/", name});
}

/// Owns one mapping (and optionally the name) and releases them on destruction.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* base, std::size_t size, bool unmap, std::string unlink_name)
      : base_(base), size_(size), unmap_(unmap), unlink_name_(std::move(unlink_name)) {}
  Mapping(Mapping&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        unmap_(std::exchange(o.unmap_, false)),
        unlink_name_(std::move(o.unlink_name_)) {
    o.unlink_name_.clear();
  }
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      base_ = std::exchange(o.base_, nullptr);
      size_ = std::exchange(o.size_, 0);
      unmap_ = std::exchange(o.unmap_, false);
      unlink_name_ = std::move(o.unlink_name_);
      o.unlink_name_.clear();
    }
    return *this;
  }
  ~Mapping() { reset(); }

  std::byte* base() const noexcept { return static_cast<std::byte*>(base_); }
  std::size_t size() const noexcept { return size_; }
  void keep_name() noexcept { unlink_name_.clear(); }

 private:
  void reset() noexcept {
    if (base_ != nullptr && unmap_) ::munmap(base_, size_);
    if (!unlink_name_.empty()) ::shm_unlink(unlink_name_.c_str());
    base_ = nullptr;
    unlink_name_.clear();
  }

  void* base_ = nullptr;
  std::size_t size_ = 0;
  bool unmap_ = false;
  std::string unlink_name_;
};

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

inline std::atomic_ref<std::uint64_t> word(std::byte* base, std::size_t offset) noexcept {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(base + offset));
}

/// Writes a fresh version-1 header into zeroed memory at `base`; `magic` goes last with
/// release ordering so that an attacher that acquires it sees every other field.
inline void format_header(std::byte* base, std::uint32_t item_size, std::uint64_t capacity) {
  auto* h = reinterpret_cast<ShmRingHeader*>(base);
  h->version = ShmRingHeader::kVersion;
  h->item_size = item_size;
  h->capacity = capacity;
  h->data_offset = ShmRingHeader::kDataOffset;
  word(base, offsetof(ShmRingHeader, head)).store(0, std::memory_order_relaxed);
  word(base, offsetof(ShmRingHeader, tail)).store(0, std::memory_order_relaxed);
  word(base, offsetof(ShmRingHeader, magic))
      .store(ShmRingHeader::kMagic, std::memory_order_release);
}

/// Checks a header against the caller's expectations. `mapped` is how many bytes of the
/// object exist. Throws kNotReady while magic is 0, kMismatch naming the first bad field.
inline void validate_header(std::string_view name, std::byte* base, std::size_t mapped,
                            std::uint32_t item_size, std::uint64_t capacity) {
  if (mapped < sizeof(ShmRingHeader)) {
    throw ShmError::not_ready(name,
                              concat({"object is ", std::to_string(mapped), " bytes, header needs ",
                                      std::to_string(sizeof(ShmRingHeader))}));
  }
  // Acquire pairs with the creator's release store of magic in format_header().
  const std::uint64_t magic = word(base, 0).load(std::memory_order_acquire);
  if (magic == 0) throw ShmError::not_ready(name, "magic not written yet");
  if (magic != ShmRingHeader::kMagic) {
    throw ShmError::mismatch(name, "magic", ShmRingHeader::kMagic, magic);
  }
  const auto* h = reinterpret_cast<const ShmRingHeader*>(base);
  if (h->version != ShmRingHeader::kVersion) {
    throw ShmError::mismatch(name, "version", ShmRingHeader::kVersion, h->version);
  }
  if (h->item_size != item_size)
    throw ShmError::mismatch(name, "item_size", item_size, h->item_size);
  if (h->capacity != capacity) throw ShmError::mismatch(name, "capacity", capacity, h->capacity);
  if (h->data_offset != ShmRingHeader::kDataOffset) {
    throw ShmError::mismatch(name, "data_offset", ShmRingHeader::kDataOffset, h->data_offset);
  }
  const std::uint64_t need = region_size(name, capacity, item_size);
  if (mapped < need) throw ShmError::mismatch(name, "size", need, mapped);
}

}  // namespace shm_detail

struct ShmCreateOptions {
  /// Unlink the name when the producer is destroyed (FORMATS.md: "configurable").
  bool unlink_on_destroy = true;
};

/// Producer end: creates (or formats) the region and pushes. Move-only.
template <RingItem T>
class ShmRingProducer {
  static_assert(sizeof(T) <= UINT32_MAX, "item_size is a u32 in the header");
  static constexpr auto kItemSize = static_cast<std::uint32_t>(sizeof(T));

 public:
  /// Creates the named object per FORMATS.md: unlinks a stale one, O_CREAT|O_EXCL, 0600,
  /// ftruncate, header with magic last.
  static ShmRingProducer create(std::string_view name, std::uint64_t capacity,
                                ShmCreateOptions opts = {}) {
    const std::string obj = shm_detail::object_name(name);
    const std::uint64_t size = shm_detail::region_size(name, capacity, sizeof(T));
    ::shm_unlink(obj.c_str());  // stale object from a crashed run; ENOENT is fine
    shm_detail::Fd fd(::shm_open(obj.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600));
    if (fd.get() < 0) throw ShmError::system(name, "shm_open", errno);
    // From here on the name is ours: unlink it again if anything below fails.
    shm_detail::Mapping guard(nullptr, 0, false, obj);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
      throw ShmError::system(name, "ftruncate", errno);
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) throw ShmError::system(name, "mmap", errno);
    guard.keep_name();
    shm_detail::Mapping map(p, size, true, opts.unlink_on_destroy ? obj : std::string());
    // ftruncate zero-filled the object, so reserved bytes and indices are already 0.
    shm_detail::format_header(map.base(), kItemSize, capacity);
    return ShmRingProducer(std::move(map), capacity);
  }

  /// Formats caller-owned memory (>= region_bytes(capacity), 8-byte aligned, zeroed) as a
  /// ring and produces into it without owning it: e.g. an in-process ring in the same
  /// layout, or memory mapped some other way.
  static ShmRingProducer format(void* base, std::size_t bytes, std::uint64_t capacity) {
    const std::uint64_t size = shm_detail::region_size("<memory>", capacity, sizeof(T));
    if (bytes < size) throw ShmError::invalid("<memory>", "buffer smaller than the ring");
    std::memset(base, 0, size);
    shm_detail::Mapping map(base, bytes, false, {});
    shm_detail::format_header(map.base(), kItemSize, capacity);
    return ShmRingProducer(std::move(map), capacity);
  }

  static constexpr std::uint64_t region_bytes(std::uint64_t capacity) noexcept {
    return ShmRingHeader::kDataOffset + capacity * sizeof(T);
  }

  std::uint64_t capacity() const noexcept { return mask_ + 1; }

  /// Pushes one item; false when full. Never throws or blocks.
  bool try_push(const T& item) noexcept {
    if (head_ - cached_tail_ > mask_) {
      // Acquire pairs with the consumer's release of tail: its reads of the slot we are
      // about to overwrite are complete.
      cached_tail_ = tail().load(std::memory_order_acquire);
      if (head_ - cached_tail_ > mask_) return false;
    }
    std::memcpy(slot(head_), &item, sizeof(T));
    ++head_;
    head().store(head_, std::memory_order_release);  // publishes the slot
    return true;
  }

  /// Pushes as many of `items` as fit; returns the number pushed.
  std::size_t try_push_n(std::span<const T> items) noexcept {
    std::uint64_t free = capacity() - (head_ - cached_tail_);
    if (free < items.size()) {
      cached_tail_ = tail().load(std::memory_order_acquire);
      free = capacity() - (head_ - cached_tail_);
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(free, items.size()));
    if (n == 0) return 0;
    const std::size_t first =
        std::min<std::size_t>(n, static_cast<std::size_t>(capacity() - (head_ & mask_)));
    std::memcpy(slot(head_), items.data(), first * sizeof(T));
    if (n > first) std::memcpy(slot(0), items.data() + first, (n - first) * sizeof(T));
    head_ += n;
    head().store(head_, std::memory_order_release);
    return n;
  }

  /// Items pushed so far (this side's index).
  std::uint64_t pushed() const noexcept { return head_; }
  /// Items the consumer has popped so far (acquire: a fresh read of the shared index).
  std::uint64_t consumed() const noexcept { return tail().load(std::memory_order_acquire); }

  /// Keep the name after destruction even if created with unlink_on_destroy.
  void keep_name() noexcept { map_.keep_name(); }

 private:
  ShmRingProducer(shm_detail::Mapping map, std::uint64_t capacity)
      : map_(std::move(map)),
        data_(map_.base() + ShmRingHeader::kDataOffset),
        mask_(capacity - 1) {}

  std::atomic_ref<std::uint64_t> head() const noexcept {
    return shm_detail::word(map_.base(), offsetof(ShmRingHeader, head));
  }
  std::atomic_ref<std::uint64_t> tail() const noexcept {
    return shm_detail::word(map_.base(), offsetof(ShmRingHeader, tail));
  }
  std::byte* slot(std::uint64_t seq) const noexcept {
    return data_ + static_cast<std::size_t>(seq & mask_) * sizeof(T);
  }

  shm_detail::Mapping map_;
  std::byte* data_;
  std::uint64_t mask_;
  std::uint64_t head_ = 0;         // our own index, mirrored here so we never re-read it
  std::uint64_t cached_tail_ = 0;  // last tail we saw; only refreshed when we look full
};

/// Consumer end: attaches to an existing region and pops. Move-only.
template <RingItem T>
class ShmRingConsumer {
  static_assert(sizeof(T) <= UINT32_MAX, "item_size is a u32 in the header");
  static constexpr auto kItemSize = static_cast<std::uint32_t>(sizeof(T));

 public:
  /// Attaches once. Throws ShmError: not_ready() when the object does not exist yet, is
  /// still too small or has no magic; kMismatch naming the field otherwise.
  static ShmRingConsumer attach(std::string_view name, std::uint64_t capacity) {
    const std::string obj = shm_detail::object_name(name);
    const std::uint64_t need = shm_detail::region_size(name, capacity, sizeof(T));
    shm_detail::Fd fd(::shm_open(obj.c_str(), O_RDWR, 0));
    if (fd.get() < 0) {
      const int err = errno;
      if (err == ENOENT) throw ShmError::not_ready(name, "object does not exist", err);
      throw ShmError::system(name, "shm_open", err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw ShmError::system(name, "fstat", errno);
    const auto have = static_cast<std::size_t>(st.st_size);
    if (have < sizeof(ShmRingHeader)) {
      throw ShmError::not_ready(name,
                                shm_detail::concat({"object is ", std::to_string(have), " bytes"}));
    }
    // Map what exists (never more: touching past the end of the object is SIGBUS), then
    // validate; the creator ftruncates before writing magic, so once magic is visible the
    // object has its final size.
    const std::size_t len = std::min<std::size_t>(have, static_cast<std::size_t>(need));
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) throw ShmError::system(name, "mmap", errno);
    shm_detail::Mapping map(p, len, true, {});
    shm_detail::validate_header(name, map.base(), have, kItemSize, capacity);
    return ShmRingConsumer(std::move(map), capacity);
  }

  /// attach() retried every millisecond while the ring is not ready, up to `timeout`;
  /// then rethrows the last not-ready error. Mismatches are thrown immediately.
  static ShmRingConsumer attach_retry(std::string_view name, std::uint64_t capacity,
                                      std::chrono::nanoseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      try {
        return attach(name, capacity);
      } catch (const ShmError& e) {
        if (!e.not_ready() || std::chrono::steady_clock::now() >= deadline) throw;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  /// Consumes from caller-owned memory already formatted by ShmRingProducer::format().
  static ShmRingConsumer over(void* base, std::size_t bytes, std::uint64_t capacity) {
    shm_detail::Mapping map(base, bytes, false, {});
    shm_detail::validate_header("<memory>", map.base(), bytes, kItemSize, capacity);
    return ShmRingConsumer(std::move(map), capacity);
  }

  std::uint64_t capacity() const noexcept { return mask_ + 1; }

  /// Pops one item into `out`; false when empty. Never throws or blocks.
  bool try_pop(T& out) noexcept {
    if (tail_ == cached_head_) {
      // Acquire pairs with the producer's release of head: slot contents are visible.
      cached_head_ = head().load(std::memory_order_acquire);
      if (tail_ == cached_head_) return false;
    }
    std::memcpy(&out, slot(tail_), sizeof(T));
    ++tail_;
    tail().store(tail_, std::memory_order_release);  // slot read done; producer may reuse
    return true;
  }

  /// Pops up to out.size() items; returns the number popped.
  std::size_t try_pop_n(std::span<T> out) noexcept {
    std::uint64_t avail = cached_head_ - tail_;
    if (avail < out.size()) {
      cached_head_ = head().load(std::memory_order_acquire);
      avail = cached_head_ - tail_;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(avail, out.size()));
    if (n == 0) return 0;
    const std::size_t first =
        std::min<std::size_t>(n, static_cast<std::size_t>(capacity() - (tail_ & mask_)));
    std::memcpy(out.data(), slot(tail_), first * sizeof(T));
    if (n > first) std::memcpy(out.data() + first, slot(0), (n - first) * sizeof(T));
    tail_ += n;
    tail().store(tail_, std::memory_order_release);
    return n;
  }

  /// Items popped so far (this side's index).
  std::uint64_t popped() const noexcept { return tail_; }

 private:
  ShmRingConsumer(shm_detail::Mapping map, std::uint64_t capacity)
      : map_(std::move(map)), data_(map_.base() + ShmRingHeader::kDataOffset), mask_(capacity - 1) {
    // Resume where a previous consumer stopped (tail is only ever written by consumers).
    tail_ = tail().load(std::memory_order_acquire);
    cached_head_ = tail_;
  }

  std::atomic_ref<std::uint64_t> head() const noexcept {
    return shm_detail::word(map_.base(), offsetof(ShmRingHeader, head));
  }
  std::atomic_ref<std::uint64_t> tail() const noexcept {
    return shm_detail::word(map_.base(), offsetof(ShmRingHeader, tail));
  }
  std::byte* slot(std::uint64_t seq) const noexcept {
    return data_ + static_cast<std::size_t>(seq & mask_) * sizeof(T);
  }

  shm_detail::Mapping map_;
  std::byte* data_;
  std::uint64_t mask_;
  std::uint64_t tail_ = 0;         // our own index
  std::uint64_t cached_head_ = 0;  // last head we saw; only refreshed when we look empty
};

/// Entry points named after FORMATS.md: ShmRing<T>::create() for the producer,
/// ShmRing<T>::attach() / attach_retry() for the consumer.
template <RingItem T>
struct ShmRing {
  using Producer = ShmRingProducer<T>;
  using Consumer = ShmRingConsumer<T>;

  static Producer create(std::string_view name, std::uint64_t capacity,
                         ShmCreateOptions opts = {}) {
    return Producer::create(name, capacity, opts);
  }
  static Consumer attach(std::string_view name, std::uint64_t capacity) {
    return Consumer::attach(name, capacity);
  }
  static Consumer attach_retry(std::string_view name, std::uint64_t capacity,
                               std::chrono::nanoseconds timeout) {
    return Consumer::attach_retry(name, capacity, timeout);
  }
};

}  // namespace hft
