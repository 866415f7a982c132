// Audit journal: an append-only binary record of everything the engine decided and every message
// it exchanged with the venue, for reconciliation and the evidence a trading-controls review asks
// for (who sent what, which risk check said what, when the kill switch fired).
//
// The hot path never touches the file. Each producing thread owns a Channel: append() copies the
// record into a slot of the channel's own hft::SpscRing and returns (no lock, no allocation, no
// system call). One writer thread drains every channel, numbers the records in the order it
// writes them, adds the CRC, batches the bytes into write(2) calls, applies the fsync policy and
// rotates files by size. When a ring is full the record is not written and the channel counts it;
// the writer then journals a kLost record with the count, so a reader always knows that, and how
// much, is missing. Payloads larger than a slot are refused the same way (counted, kLost).
//
// File layout (runtime_cpp/FORMATS.md section 7; read by `hftc audit`): a 32-byte file header, then
// records of a 24-byte header, the payload and a CRC-32 (zlib's polynomial) over header and
// payload. Integers are little-endian.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "hft/audit/journal_format.hpp"
#include "hft/audit/journal_reader.hpp"
#include "hft/spsc_ring.hpp"

namespace hft::audit {

enum class FsyncPolicy : std::uint8_t {
  kNever = 0,       ///< leave it to the kernel (fastest; a power cut may lose the last seconds)
  kInterval = 1,    ///< fdatasync at most every `fsync_interval_ms` while records arrive
  kEveryBatch = 2,  ///< fdatasync after every batch the writer writes (slowest, safest)
};

struct JournalConfig {
  /// Files are `<path_prefix>-000001.hftj`, `-000002`, ... (the directory must exist).
  std::string path_prefix;
  std::uint64_t rotate_bytes = 256ULL << 20;  ///< start a new file past this size
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::uint32_t fsync_interval_ms = 1000;
  std::size_t ring_capacity = 16384;  ///< slots per channel, power of two
  std::uint16_t schema_id = 0;        ///< the schema the kMessage records are encoded with
  std::uint16_t schema_version = 0;
};

/// Counters, read at any time (relaxed; exact once the journal is closed).
struct JournalStats {
  std::uint64_t written = 0;  ///< records written to files
  std::uint64_t lost = 0;     ///< records refused by channels (ring full or oversize)
  std::uint64_t bytes = 0;    ///< bytes written, headers included
  std::uint64_t files = 0;    ///< files opened
  std::uint64_t fsyncs = 0;
  std::uint64_t write_errors = 0;  ///< failed write/fsync/open calls (records then dropped)
};

class Journal;

/// One producer's handle: append() from exactly one thread.
class Channel {
 public:
  /// Largest payload a record may carry (a slot is 256 bytes).
  static constexpr std::size_t kMaxPayload = 240;

  /// Queues one record; false (and counted) when the ring is full or the payload too large.
  /// `ts_ns` is the event's time (CLOCK_REALTIME ns). Never blocks, never allocates.
  bool append(RecordType type, std::span<const std::byte> payload, std::uint64_t ts_ns,
              std::uint16_t flags = 0) noexcept {
    if (payload.size() > kMaxPayload) {
      oversize_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    Slot s;
    s.type = static_cast<std::uint16_t>(type);
    s.flags = flags;
    s.len = static_cast<std::uint32_t>(payload.size());
    s.ts_ns = ts_ns;
    if (!payload.empty()) std::memcpy(s.payload.data(), payload.data(), payload.size());
    if (!ring_.try_push(s)) {
      ring_full_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  /// A fixed-layout record (RiskDecision, SessionRecord, ...).
  template <class T>
  requires std::is_trivially_copyable_v<T>
  bool append_struct(RecordType type, const T& value, std::uint64_t ts_ns) noexcept {
    return append(type, std::as_bytes(std::span<const T, 1>(&value, 1)), ts_ns);
  }

  /// A fixed-layout header followed by text (kParams, kKillSwitch, kNames); text past the slot
  /// is cut at the slot's end.
  template <class T>
  requires std::is_trivially_copyable_v<T>
  bool append_with_text(RecordType type, const T& head, std::string_view text,
                        std::uint64_t ts_ns) noexcept {
    std::array<std::byte, kMaxPayload> buf{};
    std::memcpy(buf.data(), &head, sizeof(T));
    const std::size_t n = std::min(text.size(), kMaxPayload - sizeof(T));
    if (n != 0) std::memcpy(buf.data() + sizeof(T), text.data(), n);
    return append(type, std::span<const std::byte>(buf.data(), sizeof(T) + n), ts_ns);
  }

  std::uint64_t lost() const noexcept {
    return ring_full_.load(std::memory_order_relaxed) + oversize_.load(std::memory_order_relaxed);
  }

 private:
  friend class Journal;
  struct Slot {
    std::uint16_t type = 0;
    std::uint16_t flags = 0;
    std::uint32_t len = 0;
    std::uint64_t ts_ns = 0;
    std::array<std::byte, kMaxPayload> payload;
  };
  static_assert(sizeof(Slot) == 256);

  explicit Channel(std::size_t capacity) : ring_(capacity) {}

  SpscRing<Slot> ring_;
  std::atomic<std::uint64_t> ring_full_{0};
  std::atomic<std::uint64_t> oversize_{0};
  // Writer-side: what has already been reported in kLost records.
  std::uint64_t reported_full_ = 0;
  std::uint64_t reported_oversize_ = 0;
};

/// The journal: owns the channels, the files and the writer thread.
class Journal {
 public:
  /// Opens a new file after any the prefix already has (a restart continues the journal: file
  /// index and record sequence carry on, nothing is overwritten), then starts the writer. Throws
  /// std::system_error when the file cannot be created.
  explicit Journal(JournalConfig cfg) : cfg_(std::move(cfg)) {
    const ReadResult existing = read_journal(cfg_.path_prefix, [](const RecordView&) {});
    file_index_.store(existing.last_index);
    next_seq_ = existing.last_seq + 1;
    open_next();
    if (fd_ < 0) {
      throw std::system_error(open_errno_, std::generic_category(),
                              "audit journal: cannot create " + file_name(file_index_));
    }
    writer_ = std::thread([this] { run(); });
  }

  ~Journal() { close(); }
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// A new producer channel. Call before the producing thread starts (takes a lock; allocates).
  Channel& channel() {
    std::lock_guard lock(channels_mu_);
    auto c = std::unique_ptr<Channel>(new Channel(cfg_.ring_capacity));
    Channel& ref = *c;
    channels_.push_back(std::move(c));
    channel_count_.store(channels_.size(), std::memory_order_release);
    return ref;
  }

  /// Drains every channel, writes, syncs and closes the file; idempotent. Appends after close()
  /// are never written.
  void close() {
    if (!stop_.exchange(true) && writer_.joinable()) writer_.join();
    if (fd_ >= 0) {
      flush();
      if (cfg_.fsync != FsyncPolicy::kNever) sync();
      ::close(fd_);
      fd_ = -1;
    }
  }

  /// Current file name (changes on rotation).
  std::string current_file() const { return file_name(file_index_.load()); }

  JournalStats stats() const noexcept {
    JournalStats s;
    s.written = written_.load(std::memory_order_relaxed);
    s.bytes = bytes_.load(std::memory_order_relaxed);
    s.files = file_index_.load(std::memory_order_relaxed);
    s.fsyncs = fsyncs_.load(std::memory_order_relaxed);
    s.write_errors = write_errors_.load(std::memory_order_relaxed);
    std::lock_guard lock(channels_mu_);
    for (const auto& c : channels_) s.lost += c->lost();
    return s;
  }

  /// Wall-clock nanoseconds, the timestamp records carry.
  static std::uint64_t now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
  }

 private:
  std::string file_name(std::uint64_t index) const {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "-%06llu.hftj", static_cast<unsigned long long>(index));
    return cfg_.path_prefix + suffix;
  }

  // ---- writer thread -------------------------------------------------------------------------

  void run() {
    std::vector<Channel::Slot> batch(256);
    auto last_sync = std::chrono::steady_clock::now();
    bool dirty = false;
    for (;;) {
      const bool stopping = stop_.load(std::memory_order_acquire);
      std::size_t got = 0;
      const std::size_t n = channel_count_.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < n; ++i) {
        Channel* c = channel_at(i);
        report_lost(*c);
        for (;;) {
          const std::size_t k = c->ring_.try_pop_n(std::span(batch));
          for (std::size_t j = 0; j < k; ++j) {
            const auto& s = batch[j];
            write_record(s.type, s.flags, s.ts_ns,
                         std::span<const std::byte>(s.payload.data(), s.len));
          }
          got += k;
          if (k < batch.size()) break;
        }
      }
      if (got != 0) {
        flush();
        dirty = true;
        if (cfg_.fsync == FsyncPolicy::kEveryBatch) {
          sync();
          dirty = false;
        }
      }
      const auto now = std::chrono::steady_clock::now();
      if (dirty && cfg_.fsync == FsyncPolicy::kInterval &&
          now - last_sync >= std::chrono::milliseconds(cfg_.fsync_interval_ms)) {
        sync();
        dirty = false;
        last_sync = now;
      }
      if (stopping && got == 0) {
        // A last look at the counters: appends refused after the final drain.
        for (std::size_t i = 0; i < n; ++i) report_lost(*channel_at(i));
        flush();
        return;
      }
      if (got == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  Channel* channel_at(std::size_t i) {
    std::lock_guard lock(channels_mu_);
    return channels_[i].get();
  }

  void report_lost(Channel& c) {
    const std::uint64_t full = c.ring_full_.load(std::memory_order_relaxed);
    const std::uint64_t over = c.oversize_.load(std::memory_order_relaxed);
    if (full == c.reported_full_ && over == c.reported_oversize_) return;
    const LostRecord lost{full - c.reported_full_, over - c.reported_oversize_};
    c.reported_full_ = full;
    c.reported_oversize_ = over;
    write_record(static_cast<std::uint16_t>(RecordType::kLost), 0, now_ns(),
                 std::as_bytes(std::span<const LostRecord, 1>(&lost, 1)));
  }

  static void put16(std::byte* p, std::uint16_t v) noexcept { std::memcpy(p, &v, 2); }
  static void put32(std::byte* p, std::uint32_t v) noexcept { std::memcpy(p, &v, 4); }
  static void put64(std::byte* p, std::uint64_t v) noexcept { std::memcpy(p, &v, 8); }
  static_assert(std::endian::native == std::endian::little, "the journal is little-endian");

  void write_record(std::uint16_t type, std::uint16_t flags, std::uint64_t ts_ns,
                    std::span<const std::byte> payload) {
    const std::size_t size = kRecordHeaderSize + payload.size() + kRecordTrailerSize;
    if (file_bytes_ + buf_.size() + size > cfg_.rotate_bytes &&
        file_bytes_ + buf_.size() > kFileHeaderSize) {
      flush();
      if (cfg_.fsync != FsyncPolicy::kNever) sync();
      ::close(fd_);
      fd_ = -1;
      open_next();
    }
    const std::size_t at = buf_.size();
    buf_.resize(at + size);
    std::byte* p = buf_.data() + at;
    put32(p, static_cast<std::uint32_t>(payload.size()));
    put16(p + 4, type);
    put16(p + 6, flags);
    put64(p + 8, next_seq_++);
    put64(p + 16, ts_ns);
    if (!payload.empty()) std::memcpy(p + kRecordHeaderSize, payload.data(), payload.size());
    const std::uint32_t crc =
        crc32(std::span<const std::byte>(p, kRecordHeaderSize + payload.size()));
    put32(p + kRecordHeaderSize + payload.size(), crc);
    written_.fetch_add(1, std::memory_order_relaxed);
  }

  void open_next() {
    const std::uint64_t index = file_index_.load() + 1;
    const std::string name = file_name(index);
    fd_ = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      open_errno_ = errno;
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    file_index_.store(index);
    file_bytes_ = 0;
    std::array<std::byte, kFileHeaderSize> h{};
    std::memcpy(h.data(), kFileMagic.data(), kFileMagic.size());
    put16(h.data() + 8, kFormatVersion);
    put16(h.data() + 10, cfg_.schema_id);
    put16(h.data() + 12, cfg_.schema_version);
    put64(h.data() + 16, index);
    put64(h.data() + 24, next_seq_);  // sequence number of the file's first record
    buf_.insert(buf_.begin(), h.begin(), h.end());
  }

  void flush() {
    if (buf_.empty()) return;
    if (fd_ < 0) {  // the file could not be opened (disk full, ...): drop, counted
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      buf_.clear();
      open_next();
      return;
    }
    std::size_t off = 0;
    while (off < buf_.size()) {
      const ssize_t w = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        write_errors_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      off += static_cast<std::size_t>(w);
    }
    file_bytes_ += off;
    bytes_.fetch_add(off, std::memory_order_relaxed);
    buf_.clear();
  }

  void sync() {
    if (fd_ < 0) return;
    if (::fdatasync(fd_) != 0) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
    } else {
      fsyncs_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  JournalConfig cfg_;
  mutable std::mutex channels_mu_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::atomic<std::size_t> channel_count_{0};
  std::atomic<bool> stop_{false};
  std::thread writer_;

  // Writer-thread state (and the constructor/close(), which do not overlap with it).
  int fd_ = -1;
  int open_errno_ = 0;
  std::uint64_t file_bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::vector<std::byte> buf_;

  std::atomic<std::uint64_t> file_index_{0};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> fsyncs_{0};
  std::atomic<std::uint64_t> write_errors_{0};
};

}  // namespace hft::audit
