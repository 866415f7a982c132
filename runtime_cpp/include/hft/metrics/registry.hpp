// Counters, gauges and latency histograms for the hot path, with a Prometheus text
// (format 0.0.4) rendering for scrapers and a fixed binary layout that another process
// can read from shared memory (see hft/metrics/shm_metrics.hpp).
//
//   hft::metrics::Registry reg;                                     // heap storage
//   auto msgs = reg.counter("hftc_messages_total", "Messages decoded.", {{"pipeline", "fx"}});
//   auto lat  = reg.histogram("hftc_tick_to_order_latency_ns", "Tick-to-order, ns.",
//                             {{"pipeline", "fx"}});
//   msgs.inc();            // hot path: one relaxed atomic add, no lock, no allocation
//   lat.record(412);       // hot path: two relaxed atomic adds
//   std::string text = reg.expose();                                // any thread
//
// Registration (counter/gauge/histogram) takes a mutex and may throw; do it at start-up.
// The returned handles are trivially copyable pointers into the metric table and stay
// valid as long as the registry (or the shared-memory region) lives. Updates are relaxed
// atomic read-modify-writes, so any number of threads may update the same metric; readers
// see each value individually (a histogram's buckets are not a consistent snapshot, but
// its `_count` is always the sum of the buckets read, so `+Inf` and `_count` agree).
//
// Binary layout of the metric region, version 1 (little-endian, all offsets in bytes).
// The same bytes are used on the heap and in a named shared-memory object.
//
//   Header, 256 bytes at offset 0:
//     0    u64  magic            0x5254454D43544648 ("HFTCMETR"); written last, with release
//     8    u32  version          1
//     12   u32  header_bytes     256
//     16   u32  entry_bytes      512
//     20   u32  capacity         number of entry slots that follow the header
//     24   u32  count            published entries; bumped with release after an entry is
//                                fully written (readers load it with acquire)
//     28   u32  bucket_bounds    19 (number of finite histogram bounds)
//     32   u64  bounds[19]       upper bounds `le` in ns: 10 20 50 100 200 500 ... 1e7
//     184  u64  created_unix_ns  wall-clock creation time
//     192  ...  reserved (zero) up to 256
//   Entry i, 512 bytes at offset 256 + 512*i:
//     0    char name[64]         metric name, NUL-padded (e.g. hftc_messages_total)
//     64   char labels[128]      rendered label pairs without braces, NUL-padded,
//                                e.g. pipeline="fx",instrument="EURUSD" (values escaped)
//     192  char help[128]        HELP text, NUL-padded
//     320  u32  type             1 counter, 2 gauge, 3 histogram
//     324  u32  reserved
//     328  u64  value            counter: count; gauge: IEEE-754 double bits;
//                                histogram: sum of recorded values (ns)
//     336  u64  buckets[20]      histogram only: per-bucket (non-cumulative) counts for
//                                bounds[0..18] then the +Inf overflow bucket
//     496  ...  reserved up to 512
// Names, labels, help and type never change after publication; value and buckets are
// updated with relaxed atomics (8-byte aligned, so plain 8-byte loads are tear-free).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hft::metrics {

static_assert(std::endian::native == std::endian::little,
              "the metric region format is little-endian; add byte swapping for this target");
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "cross-process metric values need lock-free 64-bit atomics");
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free,
              "cross-process metric counts need lock-free 32-bit atomics");

enum class MetricType : std::uint32_t { counter = 1, gauge = 2, histogram = 3 };

inline constexpr std::size_t kNameBytes = 64;
inline constexpr std::size_t kLabelBytes = 128;
inline constexpr std::size_t kHelpBytes = 128;
inline constexpr std::size_t kBucketBounds = 19;
inline constexpr std::size_t kBucketSlots = kBucketBounds + 1;  // + the +Inf bucket

/// Histogram upper bounds in ns: 1-2-5 steps from 10 ns to 10 ms.
inline constexpr std::array<std::uint64_t, kBucketBounds> kLatencyBoundsNs = {
    10,     20,     50,      100,     200,     500,       1'000,     2'000,     5'000,     10'000,
    20'000, 50'000, 100'000, 200'000, 500'000, 1'000'000, 2'000'000, 5'000'000, 10'000'000};

struct MetricsHeader {
  static constexpr std::uint64_t kMagic = 0x5254454D43544648ull;  // "HFTCMETR" little-endian
  static constexpr std::uint32_t kVersion = 1;

  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t header_bytes;
  std::uint32_t entry_bytes;
  std::uint32_t capacity;
  std::uint32_t count;
  std::uint32_t bucket_bounds;
  std::uint64_t bounds[kBucketBounds];
  std::uint64_t created_unix_ns;
  std::uint8_t reserved[64];
};

struct MetricEntry {
  char name[kNameBytes];
  char labels[kLabelBytes];
  char help[kHelpBytes];
  std::uint32_t type;
  std::uint32_t reserved0;
  std::uint64_t value;
  std::uint64_t buckets[kBucketSlots];
  std::uint8_t reserved1[16];
};

static_assert(sizeof(MetricsHeader) == 256 && alignof(MetricsHeader) == 8);
static_assert(sizeof(MetricEntry) == 512);
static_assert(offsetof(MetricsHeader, count) == 24 && offsetof(MetricsHeader, bounds) == 32 &&
              offsetof(MetricsHeader, created_unix_ns) == 184);
static_assert(offsetof(MetricEntry, type) == 320 && offsetof(MetricEntry, value) == 328 &&
              offsetof(MetricEntry, buckets) == 336);

namespace detail {

inline std::uint64_t load(const std::uint64_t& v) noexcept {
  // atomic_ref needs a non-const referent; a load never writes, so this is also valid on a
  // read-only mapping.
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(v))
      .load(std::memory_order_relaxed);
}
inline void add(std::uint64_t& v, std::uint64_t n) noexcept {
  std::atomic_ref<std::uint64_t>(v).fetch_add(n, std::memory_order_relaxed);
}
inline std::uint32_t load_count(const MetricsHeader& h) noexcept {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(h.count))
      .load(std::memory_order_acquire);
}

inline std::size_t bucket_index(std::uint64_t v) noexcept {
  return static_cast<std::size_t>(
      std::lower_bound(kLatencyBoundsNs.begin(), kLatencyBoundsNs.end(), v) -
      kLatencyBoundsNs.begin());
}

inline std::string_view field(const char* p, std::size_t cap) noexcept {
  return {p, ::strnlen(p, cap)};
}

inline void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

inline void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

inline bool valid_name(std::string_view s, bool allow_colon) noexcept {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

inline void append_escaped(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

inline void copy_field(char* dst, std::size_t cap, std::string_view src, const char* what) {
  if (src.size() >= cap) {
    throw std::length_error(std::string("hft::metrics: ") + what + " longer than " +
                            std::to_string(cap - 1) + " bytes");
  }
  std::memcpy(dst, src.data(), src.size());
  std::memset(dst + src.size(), 0, cap - src.size());
}

inline void series(std::string& out, std::string_view name, std::string_view suffix,
                   std::string_view labels, std::string_view le) {
  out += name;
  out += suffix;
  if (!labels.empty() || !le.empty()) {
    out += '{';
    out += labels;
    if (!le.empty()) {
      if (!labels.empty()) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

inline const char* type_name(std::uint32_t t) noexcept {
  switch (static_cast<MetricType>(t)) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace detail

/// Prometheus text format 0.0.4 of a metric region: families in order of first
/// registration, one `# HELP`/`# TYPE` pair each, series in registration order.
inline void expose_region(const MetricsHeader& h, const MetricEntry* entries, std::string& out) {
  const std::uint32_t n = std::min(detail::load_count(h), h.capacity);
  std::vector<bool> done(n, false);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (done[i]) continue;
    const std::string_view name = detail::field(entries[i].name, kNameBytes);
    const std::uint32_t type = entries[i].type;
    out += "# HELP ";
    out += name;
    out += ' ';
    detail::append_escaped(out, detail::field(entries[i].help, kHelpBytes), false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += detail::type_name(type);
    out += '\n';
    for (std::uint32_t j = i; j < n; ++j) {
      const MetricEntry& e = entries[j];
      if (done[j] || detail::field(e.name, kNameBytes) != name) continue;
      done[j] = true;
      const std::string_view labels = detail::field(e.labels, kLabelBytes);
      const std::uint64_t raw = detail::load(e.value);
      if (type == static_cast<std::uint32_t>(MetricType::histogram)) {
        std::uint64_t cumulative = 0;
        char le[24];
        for (std::size_t b = 0; b < kBucketSlots; ++b) {
          cumulative += detail::load(e.buckets[b]);
          std::string_view le_text = "+Inf";
          if (b < kBucketBounds) {
            auto r = std::to_chars(le, le + sizeof le, h.bounds[b]);
            le_text = std::string_view(le, static_cast<std::size_t>(r.ptr - le));
          }
          detail::series(out, name, "_bucket", labels, le_text);
          detail::append_u64(out, cumulative);
          out += '\n';
        }
        detail::series(out, name, "_sum", labels, {});
        detail::append_u64(out, raw);
        out += '\n';
        detail::series(out, name, "_count", labels, {});
        detail::append_u64(out, cumulative);
        out += '\n';
      } else {
        detail::series(out, name, "", labels, {});
        if (type == static_cast<std::uint32_t>(MetricType::gauge)) {
          detail::append_double(out, std::bit_cast<double>(raw));
        } else {
          detail::append_u64(out, raw);
        }
        out += '\n';
      }
    }
  }
}

/// A monotonically increasing count. Copy freely; inc() is safe from any thread.
class Counter {
 public:
  Counter() = default;
  explicit Counter(MetricEntry* e) noexcept : e_(e) {}
  void inc(std::uint64_t n = 1) const noexcept { detail::add(e_->value, n); }
  [[nodiscard]] std::uint64_t value() const noexcept { return detail::load(e_->value); }

 private:
  MetricEntry* e_ = nullptr;
};

/// A value that goes up and down (stored as double bits). set() is a relaxed store;
/// add() a compare-exchange loop, safe from any thread.
class Gauge {
 public:
  Gauge() = default;
  explicit Gauge(MetricEntry* e) noexcept : e_(e) {}
  void set(double v) const noexcept {
    std::atomic_ref<std::uint64_t>(e_->value).store(std::bit_cast<std::uint64_t>(v),
                                                    std::memory_order_relaxed);
  }
  void add(double d) const noexcept {
    std::atomic_ref<std::uint64_t> ref(e_->value);
    std::uint64_t old = ref.load(std::memory_order_relaxed);
    while (!ref.compare_exchange_weak(old,
                                      std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + d),
                                      std::memory_order_relaxed)) {
    }
  }
  [[nodiscard]] double value() const noexcept {
    return std::bit_cast<double>(detail::load(e_->value));
  }

 private:
  MetricEntry* e_ = nullptr;
};

/// Latency histogram over kLatencyBoundsNs. record() is safe from any thread.
class Histogram {
 public:
  Histogram() = default;
  explicit Histogram(MetricEntry* e) noexcept : e_(e) {}
  void record(std::uint64_t ns) const noexcept {
    detail::add(e_->buckets[detail::bucket_index(ns)], 1);
    detail::add(e_->value, ns);
  }
  [[nodiscard]] std::uint64_t count() const noexcept {
    std::uint64_t c = 0;
    for (const auto& b : e_->buckets) c += detail::load(b);
    return c;
  }
  [[nodiscard]] std::uint64_t sum() const noexcept { return detail::load(e_->value); }
  /// Non-cumulative count of bucket `i` (0..kBucketBounds, the last is +Inf).
  [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept {
    return detail::load(e_->buckets[i]);
  }

 private:
  MetricEntry* e_ = nullptr;
};

struct Label {
  std::string_view name;
  std::string_view value;
};

/// A fixed-capacity metric table laid out as documented at the top of this file, either on
/// the heap (Registry(capacity)) or over caller-provided memory (e.g. a shm mapping).
class Registry {
 public:
  static constexpr std::size_t region_bytes(std::uint32_t capacity) noexcept {
    return sizeof(MetricsHeader) + std::size_t{capacity} * sizeof(MetricEntry);
  }

  explicit Registry(std::uint32_t capacity = 64)
      : owned_(
            static_cast<std::byte*>(::operator new(region_bytes(capacity), std::align_val_t{64}))) {
    init(owned_, region_bytes(capacity), capacity);
  }

  /// Formats `region` (at least region_bytes(capacity), 8-byte aligned, zero or garbage).
  Registry(void* region, std::size_t bytes, std::uint32_t capacity) {
    init(region, bytes, capacity);
  }

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry() {
    if (owned_ != nullptr) ::operator delete(owned_, std::align_val_t{64});
  }

  Counter counter(std::string_view name, std::string_view help,
                  std::initializer_list<Label> labels = {}) {
    return Counter(add(name, help, labels, MetricType::counter));
  }
  Gauge gauge(std::string_view name, std::string_view help,
              std::initializer_list<Label> labels = {}) {
    return Gauge(add(name, help, labels, MetricType::gauge));
  }
  Histogram histogram(std::string_view name, std::string_view help,
                      std::initializer_list<Label> labels = {}) {
    return Histogram(add(name, help, labels, MetricType::histogram));
  }

  void expose(std::string& out) const { expose_region(*header_, entries_, out); }
  [[nodiscard]] std::string expose() const {
    std::string out;
    expose(out);
    return out;
  }

  [[nodiscard]] std::uint32_t size() const noexcept { return detail::load_count(*header_); }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return header_->capacity; }
  [[nodiscard]] const MetricsHeader& header() const noexcept { return *header_; }

 private:
  void init(void* region, std::size_t bytes, std::uint32_t capacity) {
    if (capacity == 0 || bytes < region_bytes(capacity) ||
        reinterpret_cast<std::uintptr_t>(region) % alignof(MetricsHeader) != 0) {
      throw std::invalid_argument("hft::metrics::Registry: region too small or misaligned");
    }
    std::memset(region, 0, region_bytes(capacity));
    header_ = static_cast<MetricsHeader*>(region);
    entries_ =
        reinterpret_cast<MetricEntry*>(static_cast<std::byte*>(region) + sizeof(MetricsHeader));
    header_->version = MetricsHeader::kVersion;
    header_->header_bytes = sizeof(MetricsHeader);
    header_->entry_bytes = sizeof(MetricEntry);
    header_->capacity = capacity;
    header_->bucket_bounds = kBucketBounds;
    std::copy(kLatencyBoundsNs.begin(), kLatencyBoundsNs.end(), header_->bounds);
    header_->created_unix_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    std::atomic_ref<std::uint64_t>(header_->magic)
        .store(MetricsHeader::kMagic, std::memory_order_release);
  }

  MetricEntry* add(std::string_view name, std::string_view help,
                   std::initializer_list<Label> labels, MetricType type) {
    if (!detail::valid_name(name, true)) {
      throw std::invalid_argument("hft::metrics: invalid metric name '" + std::string(name) + "'");
    }
    std::string rendered;
    for (const Label& l : labels) {
      if (!detail::valid_name(l.name, false) || l.name == "le" || l.name.starts_with("__")) {
        throw std::invalid_argument("hft::metrics: invalid label name '" + std::string(l.name) +
                                    "'");
      }
      if (!rendered.empty()) rendered += ',';
      rendered += l.name;
      rendered += "=\"";
      detail::append_escaped(rendered, l.value, true);
      rendered += '"';
    }
    std::lock_guard lock(mutex_);
    const std::uint32_t n = header_->count;  // only registration writes count, under mutex_
    for (std::uint32_t i = 0; i < n; ++i) {
      MetricEntry& e = entries_[i];
      if (detail::field(e.name, kNameBytes) != name) continue;
      if (e.type != static_cast<std::uint32_t>(type)) {
        throw std::invalid_argument("hft::metrics: '" + std::string(name) +
                                    "' registered with another type");
      }
      if (detail::field(e.labels, kLabelBytes) == rendered) return &e;
    }
    if (n >= header_->capacity) throw std::length_error("hft::metrics: registry full");
    MetricEntry& e = entries_[n];
    detail::copy_field(e.name, kNameBytes, name, "metric name");
    detail::copy_field(e.labels, kLabelBytes, rendered, "rendered labels");
    detail::copy_field(e.help, kHelpBytes, help, "help text");
    e.type = static_cast<std::uint32_t>(type);
    std::atomic_ref<std::uint32_t>(header_->count).store(n + 1, std::memory_order_release);
    return &e;
  }

  std::byte* owned_ = nullptr;
  MetricsHeader* header_ = nullptr;
  MetricEntry* entries_ = nullptr;
  std::mutex mutex_;
};

}  // namespace hft::metrics
