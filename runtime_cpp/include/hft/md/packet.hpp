// Market-data packets (FORMATS.md §6): a sequenced header, then length-framed schema messages.
//
//   offset 0   u64  seq              per channel, +1 per packet, first packet 1
//   offset 8   u64  sending_time_ns  publisher's clock (CLOCK_REALTIME ns)
//   offset 16  u16  channel
//   offset 18  u16  count            messages that follow (0: a heartbeat)
//   offset 20  count x { u16 length, `length` bytes: one schema message, its SBE header included }
//
// Everything is little-endian. A packet is validated whole before any message in it is used, so a
// truncated or malformed packet is dropped as a unit and never half-applied.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace hft::md {

static_assert(std::endian::native == std::endian::little,
              "packets are little-endian like the host");

inline constexpr std::size_t kPacketHeaderBytes = 20;
inline constexpr std::size_t kFrameHeaderBytes = 2;
/// The largest UDP payload over IPv4.
inline constexpr std::size_t kMaxPacketBytes = 65507;

struct PacketHeader {
  std::uint64_t seq = 0;
  std::uint64_t sending_ns = 0;
  std::uint16_t channel = 0;
  std::uint16_t count = 0;
};

/// Why a packet (or a part of it) was not used; the `reason` label of
/// hftc_md_packets_dropped_total.
enum class DropReason : std::uint8_t {
  kTruncated,  ///< shorter than its header, or a frame runs past the end of the datagram
  kMalformed,  ///< a zero-length frame, or bytes left over after the announced messages
  kOversize,   ///< larger than the receive buffer (the kernel cut it: MSG_TRUNC)
  kDecode,     ///< a framed message the schema's dispatch refused (the others were applied)
  kDuplicate,  ///< sequence number at or below one already seen on the channel
};
inline constexpr std::size_t kDropReasons = 5;
inline constexpr std::array<std::string_view, kDropReasons> kDropReasonNames = {
    "truncated", "malformed", "oversize", "decode", "duplicate"};

constexpr std::string_view name(DropReason r) noexcept {
  return kDropReasonNames[static_cast<std::size_t>(r)];
}

namespace detail {
template <class T>
inline T load(const char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
inline void store(char* p, T v) noexcept {
  std::memcpy(p, &v, sizeof v);
}
}  // namespace detail

/// Result of parse(): the header, and the messages once the framing checked out.
struct ParsedPacket {
  bool ok = false;
  DropReason reason = DropReason::kMalformed;  ///< when !ok
  PacketHeader header;
  std::span<const char> body;  ///< the frames, when ok

  /// Calls fn(std::span<const char> message) for each framed message, in order. Only on ok.
  template <class Fn>
  void for_each(Fn&& fn) const {
    const char* p = body.data();
    for (std::uint16_t i = 0; i < header.count; ++i) {
      const auto len = detail::load<std::uint16_t>(p);
      fn(std::span<const char>(p + kFrameHeaderBytes, len));
      p += kFrameHeaderBytes + len;
    }
  }
};

/// Validates a whole datagram: header present, every frame non-empty and inside the datagram,
/// nothing after the last frame.
inline ParsedPacket parse(std::span<const char> packet) noexcept {
  ParsedPacket out;
  if (packet.size() < kPacketHeaderBytes) {
    out.reason = DropReason::kTruncated;
    return out;
  }
  const char* p = packet.data();
  out.header =
      PacketHeader{detail::load<std::uint64_t>(p), detail::load<std::uint64_t>(p + 8),
                   detail::load<std::uint16_t>(p + 16), detail::load<std::uint16_t>(p + 18)};
  std::size_t at = kPacketHeaderBytes;
  for (std::uint16_t i = 0; i < out.header.count; ++i) {
    if (packet.size() - at < kFrameHeaderBytes) {
      out.reason = DropReason::kTruncated;
      return out;
    }
    const auto len = detail::load<std::uint16_t>(p + at);
    if (len == 0) {
      out.reason = DropReason::kMalformed;
      return out;
    }
    at += kFrameHeaderBytes;
    if (packet.size() - at < len) {
      out.reason = DropReason::kTruncated;
      return out;
    }
    at += len;
  }
  if (at != packet.size()) {
    out.reason = DropReason::kMalformed;
    return out;
  }
  out.ok = true;
  out.body = packet.subspan(kPacketHeaderBytes);
  return out;
}

/// Builds packets in a caller-owned buffer: start(), add() messages while they fit, finish().
class PacketWriter {
 public:
  explicit PacketWriter(std::span<char> buffer) noexcept : buf_(buffer) {}

  void start(std::uint64_t seq, std::uint64_t sending_ns, std::uint16_t channel) noexcept {
    hdr_ = PacketHeader{seq, sending_ns, channel, 0};
    size_ = kPacketHeaderBytes;
  }

  /// Room for a message of `len` bytes (and its frame header)?
  bool fits(std::size_t len) const noexcept {
    return hdr_.count < 0xFFFF && len <= 0xFFFF && size_ + kFrameHeaderBytes + len <= buf_.size();
  }

  /// Appends one message; false (nothing written) when it does not fit or is empty.
  bool add(std::span<const char> message) noexcept {
    if (message.empty() || !fits(message.size())) return false;
    detail::store(buf_.data() + size_, static_cast<std::uint16_t>(message.size()));
    std::memcpy(buf_.data() + size_ + kFrameHeaderBytes, message.data(), message.size());
    size_ += kFrameHeaderBytes + message.size();
    ++hdr_.count;
    return true;
  }

  /// Restamps the packet's sending time (a publisher stamps it when the packet leaves).
  void stamp(std::uint64_t sending_ns) noexcept { hdr_.sending_ns = sending_ns; }

  /// Writes the header and returns the finished packet.
  std::span<const char> finish() noexcept {
    char* p = buf_.data();
    detail::store(p, hdr_.seq);
    detail::store(p + 8, hdr_.sending_ns);
    detail::store(p + 16, hdr_.channel);
    detail::store(p + 18, hdr_.count);
    return {buf_.data(), size_};
  }

  std::uint16_t count() const noexcept { return hdr_.count; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return buf_.size(); }

 private:
  std::span<char> buf_;
  PacketHeader hdr_;
  std::size_t size_ = kPacketHeaderBytes;
};

}  // namespace hft::md
