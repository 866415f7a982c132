// A metric registry in a named POSIX shared-memory object, so another process (a monitor,
// `hftc monitor ... shm:NAME`) can read the live values without any IPC from the engine.
// The bytes are exactly the region layout documented in hft/metrics/registry.hpp
// (header magic "HFTCMETR", version 1, 256-byte header + capacity * 512-byte entries);
// the object's size is Registry::region_bytes(capacity).
//
//   hft::metrics::ShmMetrics shm("hftc_fx", 64);           // engine: create (replaces a stale one)
//   auto orders = shm.registry().counter("hftc_orders_total", "Orders sent.", {{"pipeline",
//   "fx"}});
//
//   auto reader = hft::metrics::ShmMetricsReader("hftc_fx");  // any process: attach read-only
//   std::string text = reader.expose();                       // Prometheus text, as over HTTP
//
// Names may be given with or without the leading '/'. The owner unlinks the object when
// destroyed unless constructed with unlink_on_close = false.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "hft/metrics/registry.hpp"

namespace hft::metrics {

namespace detail {
inline std::string shm_path(std::string_view name) {
  std::string p;
  p.reserve(name.size() + 1);
  if (!name.starts_with('/')) p.push_back('/');
  p.append(name);
  if (p.size() < 2 || p.find('/', 1) != std::string::npos) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "hft::metrics: bad shm name '" + std::string(name) + "'");
  }
  return p;
}
}  // namespace detail

/// Owner side: creates (or replaces) the named object and a Registry inside it.
class ShmMetrics {
 public:
  explicit ShmMetrics(std::string_view name, std::uint32_t capacity = 64,
                      bool unlink_on_close = true)
      : path_(detail::shm_path(name)),
        bytes_(Registry::region_bytes(capacity)),
        unlink_(unlink_on_close) {
    ::shm_unlink(path_.c_str());  // a stale object from a crashed run; absent is fine
    const int fd = ::shm_open(path_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::system_error(errno, std::generic_category(), "hft::metrics: shm_open " + path_);
    if (::ftruncate(fd, static_cast<off_t>(bytes_)) != 0) {
      const int err = errno;
      ::close(fd);
      ::shm_unlink(path_.c_str());
      throw std::system_error(err, std::generic_category(), "hft::metrics: ftruncate " + path_);
    }
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::shm_unlink(path_.c_str());
      throw std::system_error(err, std::generic_category(), "hft::metrics: mmap " + path_);
    }
    map_ = p;
    registry_ = std::make_unique<Registry>(map_, bytes_, capacity);
  }

  ShmMetrics(const ShmMetrics&) = delete;
  ShmMetrics& operator=(const ShmMetrics&) = delete;
  ~ShmMetrics() {
    registry_.reset();
    ::munmap(map_, bytes_);
    if (unlink_) ::shm_unlink(path_.c_str());
  }

  [[nodiscard]] Registry& registry() noexcept { return *registry_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::size_t bytes_;
  bool unlink_;
  void* map_ = nullptr;
  std::unique_ptr<Registry> registry_;
};

/// A value read from shared memory (one series).
struct MetricSample {
  std::string name;
  std::string labels;  // rendered, without braces
  MetricType type;
  double value;       // counter value, gauge value, or histogram count
  std::uint64_t sum;  // histogram sum (ns), else 0
};

/// Reader side: maps the object read-only and validates the header.
class ShmMetricsReader {
 public:
  explicit ShmMetricsReader(std::string_view name) : path_(detail::shm_path(name)) {
    const int fd = ::shm_open(path_.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
      throw std::system_error(errno, std::generic_category(), "hft::metrics: shm_open " + path_);
    struct stat st{};
    if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < sizeof(MetricsHeader)) {
      ::close(fd);
      throw std::system_error(EPROTO, std::generic_category(),
                              "hft::metrics: " + path_ + " is too small");
    }
    bytes_ = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, bytes_, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED)
      throw std::system_error(errno, std::generic_category(), "hft::metrics: mmap " + path_);
    map_ = p;
    const auto* h = static_cast<const MetricsHeader*>(map_);
    const bool ok =
        detail::load(h->magic) == MetricsHeader::kMagic && h->version == MetricsHeader::kVersion &&
        h->header_bytes == sizeof(MetricsHeader) && h->entry_bytes == sizeof(MetricEntry) &&
        h->bucket_bounds == kBucketBounds && Registry::region_bytes(h->capacity) <= bytes_;
    if (!ok) {
      ::munmap(map_, bytes_);
      throw std::system_error(EPROTO, std::generic_category(),
                              "hft::metrics: " + path_ + " is not a version-1 metric region");
    }
  }

  ShmMetricsReader(const ShmMetricsReader&) = delete;
  ShmMetricsReader& operator=(const ShmMetricsReader&) = delete;
  ~ShmMetricsReader() { ::munmap(map_, bytes_); }

  [[nodiscard]] std::string expose() const {
    std::string out;
    expose_region(header(), entries(), out);
    return out;
  }

  [[nodiscard]] std::uint32_t size() const noexcept {
    return std::min(detail::load_count(header()), header().capacity);
  }

  /// The series `name` with rendered labels `labels`, if published.
  [[nodiscard]] std::optional<MetricSample> find(std::string_view name,
                                                 std::string_view labels = {}) const {
    const std::uint32_t n = size();
    for (std::uint32_t i = 0; i < n; ++i) {
      const MetricEntry& e = entries()[i];
      if (detail::field(e.name, kNameBytes) != name ||
          detail::field(e.labels, kLabelBytes) != labels)
        continue;
      const std::uint64_t raw = detail::load(e.value);
      MetricSample s{std::string(name), std::string(labels), static_cast<MetricType>(e.type), 0.0,
                     0};
      if (e.type == static_cast<std::uint32_t>(MetricType::gauge)) {
        s.value = std::bit_cast<double>(raw);
      } else if (e.type == static_cast<std::uint32_t>(MetricType::histogram)) {
        std::uint64_t c = 0;
        for (const auto& b : e.buckets) c += detail::load(b);
        s.value = static_cast<double>(c);
        s.sum = raw;
      } else {
        s.value = static_cast<double>(raw);
      }
      return s;
    }
    return std::nullopt;
  }

 private:
  [[nodiscard]] const MetricsHeader& header() const noexcept {
    return *static_cast<const MetricsHeader*>(map_);
  }
  [[nodiscard]] const MetricEntry* entries() const noexcept {
    return reinterpret_cast<const MetricEntry*>(static_cast<const std::byte*>(map_) +
                                                sizeof(MetricsHeader));
  }

  std::string path_;
  std::size_t bytes_ = 0;
  void* map_ = nullptr;
};

}  // namespace hft::metrics
