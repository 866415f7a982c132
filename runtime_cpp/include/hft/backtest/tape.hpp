// Read-only memory map of a market-data tape (.hftt, FORMATS.md §4).
//
// open() validates everything the replay relies on (header, offsets, column bounds, instrument
// ids, event kinds, local-timestamp order) once, so the hot loop can index the columns without a
// single check. Validation errors name the file and the offending field or row.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hft::backtest {

/// Event kinds and flag bits of the tape (FORMATS.md §4).
enum EventKind : std::uint8_t { kDepth = 1, kTrade = 2, kClear = 3 };
enum EventFlag : std::uint8_t { kFlagAsk = 1, kFlagEnd = 2, kFlagSnapshot = 4 };

/// Layout constants of version 1.
namespace tape_format {
inline constexpr char kMagic[8] = {'H', 'F', 'T', 'T', 'A', 'P', 'E', '1'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 64;
inline constexpr std::size_t kInstrumentBytes = 64;
inline constexpr std::size_t kSymbolBytes = 40;
inline constexpr std::size_t kColumnAlign = 64;
inline constexpr std::uint32_t kMaxInstruments = 64;
/// Bytes per event of each column, in file order.
inline constexpr std::size_t kColumnWidths[7] = {8, 8, 8, 8, 2, 1, 1};

constexpr std::uint64_t align_up(std::uint64_t v) noexcept {
  return (v + (kColumnAlign - 1)) & ~std::uint64_t{kColumnAlign - 1};
}
}  // namespace tape_format

struct InstrumentInfo {
  std::string symbol;
  double tick_size, lot_size, multiplier;
};

class Tape {
 public:
  /// Maps and validates a tape. Throws std::runtime_error("<path>: <what is wrong>").
  static Tape open(const std::string& path) {
    Tape t;
    t.path_ = path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) t.fail(std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      t.fail(std::string("cannot stat: ") + std::strerror(e));
    }
    t.len_ = static_cast<std::size_t>(st.st_size);
    if (t.len_ < tape_format::kHeaderBytes) {
      ::close(fd);
      t.fail("file is " + std::to_string(t.len_) + " bytes, shorter than the 64-byte header");
    }
    // MAP_POPULATE: fault the pages in now rather than inside the replay loop.
    void* p = ::mmap(nullptr, t.len_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    const int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) t.fail(std::string("cannot mmap: ") + std::strerror(e));
    t.base_ = static_cast<const std::uint8_t*>(p);
    t.validate();
    return t;
  }

  Tape(Tape&& o) noexcept { *this = std::move(o); }
  Tape& operator=(Tape&& o) noexcept {
    if (this != &o) {
      unmap();
      path_ = std::move(o.path_);
      base_ = std::exchange(o.base_, nullptr);
      len_ = std::exchange(o.len_, 0);
      n_ = std::exchange(o.n_, 0);
      instruments_ = std::move(o.instruments_);
      meta_ = o.meta_;
      for (std::size_t c = 0; c < 7; ++c) col_[c] = std::exchange(o.col_[c], nullptr);
    }
    return *this;
  }
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  ~Tape() { unmap(); }

  std::size_t size() const noexcept { return n_; }
  std::size_t instruments() const noexcept { return instruments_.size(); }
  const InstrumentInfo& instrument(std::size_t i) const { return instruments_.at(i); }
  const std::string& path() const noexcept { return path_; }
  std::span<const std::int64_t> local_ts() const noexcept { return col<std::int64_t>(0); }
  std::span<const std::int64_t> exch_ts() const noexcept { return col<std::int64_t>(1); }
  std::span<const std::int64_t> px() const noexcept { return col<std::int64_t>(2); }
  std::span<const std::int64_t> qty() const noexcept { return col<std::int64_t>(3); }
  std::span<const std::uint16_t> instrument_ids() const noexcept { return col<std::uint16_t>(4); }
  std::span<const std::uint8_t> kinds() const noexcept { return col<std::uint8_t>(5); }
  std::span<const std::uint8_t> flags() const noexcept { return col<std::uint8_t>(6); }
  /// The metadata JSON, verbatim.
  std::string_view meta() const noexcept { return meta_; }

 private:
  Tape() = default;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(path_ + ": " + what);
  }

  void unmap() noexcept {
    if (base_ != nullptr) ::munmap(const_cast<std::uint8_t*>(base_), len_);
    base_ = nullptr;
  }

  template <class T>
  std::span<const T> col(std::size_t c) const noexcept {
    // Columns start on 64-byte boundaries of a page-aligned mapping, so T is aligned.
    return {reinterpret_cast<const T*>(col_[c]), n_};
  }

  template <class T>
  T read(std::size_t off) const noexcept {
    T v;
    std::memcpy(&v, base_ + off, sizeof v);  // the header fields are little-endian like the host
    return v;
  }

  // Checks that [off, off + bytes) lies inside the file without overflowing.
  void check_range(std::uint64_t off, std::uint64_t bytes, const char* what) const {
    if (off > len_ || bytes > len_ - off) {
      fail(std::string(what) + " [" + std::to_string(off) + ", +" + std::to_string(bytes) +
           ") runs past the end of the " + std::to_string(len_) + "-byte file");
    }
  }

  void validate() {
    static_assert(std::endian::native == std::endian::little, "tapes are little-endian");
    namespace tf = tape_format;
    if (std::memcmp(base_, tf::kMagic, 8) != 0) fail("not a tape (bad magic, expected HFTTAPE1)");
    const auto version = read<std::uint32_t>(8);
    if (version != tf::kVersion) {
      fail("unsupported tape version " + std::to_string(version) + " (this reader knows 1)");
    }
    const auto count = read<std::uint32_t>(12);
    if (count < 1 || count > tf::kMaxInstruments) {
      fail("instrument count " + std::to_string(count) + " is outside 1..64");
    }
    const auto n = read<std::uint64_t>(16);
    const auto table = read<std::uint64_t>(24);
    const auto meta_off = read<std::uint64_t>(32);
    const auto meta_len = read<std::uint64_t>(40);
    const auto first_col = read<std::uint64_t>(48);
    check_range(table, std::uint64_t{count} * tf::kInstrumentBytes, "instrument table");
    check_range(meta_off, meta_len, "metadata");
    if (first_col % tf::kColumnAlign != 0) {
      fail("first column offset " + std::to_string(first_col) + " is not 64-byte aligned");
    }
    // Events are at least 36 bytes, which bounds n before any multiplication can overflow.
    if (n > len_ / 36) fail("event count " + std::to_string(n) + " does not fit in the file");
    n_ = static_cast<std::size_t>(n);
    std::uint64_t off = first_col;
    for (std::size_t c = 0; c < 7; ++c) {
      const std::uint64_t bytes = n * tf::kColumnWidths[c];
      check_range(off, bytes, "column");
      col_[c] = base_ + off;
      off = tf::align_up(off + bytes);
    }
    meta_ = std::string_view(reinterpret_cast<const char*>(base_ + meta_off), meta_len);

    instruments_.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::size_t e = table + i * tf::kInstrumentBytes;
      const char* sym = reinterpret_cast<const char*>(base_ + e);
      const std::size_t sym_len = ::strnlen(sym, tf::kSymbolBytes);
      InstrumentInfo info{std::string(sym, sym_len), read<double>(e + 40), read<double>(e + 48),
                          read<double>(e + 56)};
      const auto positive = [](double v) { return std::isfinite(v) && v > 0.0; };
      if (!positive(info.tick_size) || !positive(info.lot_size) || !positive(info.multiplier)) {
        fail("instrument " + std::to_string(i) + " ('" + info.symbol +
             "'): tick_size, lot_size and contract_multiplier must be finite and > 0");
      }
      instruments_.push_back(std::move(info));
    }

    const auto ts = local_ts();
    const auto ids = instrument_ids();
    const auto kind = kinds();
    const auto qtys = qty();
    const auto pxs = px();
    constexpr std::int64_t kPxLimit = std::int64_t{1} << 61;  // the book's key space
    for (std::size_t r = 0; r < n_; ++r) {
      if (ids[r] >= count) {
        fail("row " + std::to_string(r) + ": instrument " + std::to_string(ids[r]) +
             " is not in the " + std::to_string(count) + "-entry instrument table");
      }
      if (kind[r] < kDepth || kind[r] > kClear) {
        fail("row " + std::to_string(r) + ": unknown event kind " + std::to_string(kind[r]));
      }
      if (qtys[r] < 0) fail("row " + std::to_string(r) + ": negative quantity");
      if (pxs[r] <= -kPxLimit || pxs[r] >= kPxLimit) {
        fail("row " + std::to_string(r) + ": price " + std::to_string(pxs[r]) +
             " ticks is out of range");
      }
      if (r != 0 && ts[r] < ts[r - 1]) {
        fail("row " + std::to_string(r) + ": local_ts goes backwards (" + std::to_string(ts[r]) +
             " after " + std::to_string(ts[r - 1]) + ")");
      }
    }
  }

  std::string path_;
  const std::uint8_t* base_ = nullptr;
  std::size_t len_ = 0;
  std::size_t n_ = 0;
  std::vector<InstrumentInfo> instruments_;
  std::string_view meta_;
  const std::uint8_t* col_[7] = {};
};

}  // namespace hft::backtest
