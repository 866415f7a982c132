// Order-entry framing: the FIX Simple Open Framing Header (SOFH) in front of every message.
//
//   offset 0  u32 big-endian  message_length  the whole frame, these 6 bytes included
//   offset 4  u16 big-endian  encoding_type   0xEB50: SBE 1.0 little-endian
//   offset 6  the schema's message header and body, as the generated codec encodes it
//
// A stream socket delivers bytes, not frames, so FrameReader collects them (from read(2) or from
// anything else) and hands out whole frames. It checks each SOFH as soon as its 6 bytes are in:
// a frame longer than kMaxFrameBytes, shorter than the SOFH plus the schema's message header, or
// of another encoding type is a protocol error that stops the reader for good (the stream has
// lost its framing; the session answers with a Logout and closes). Whether a message decodes is
// the schema's business: the caller reports that as FrameError::kDecode through fail().
//
// Nothing here allocates after construction; the reader's buffer holds two maximal frames so a
// frame never has to wait for the buffer to drain.
#pragma once

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace hft::session {

inline constexpr std::size_t kSofhBytes = 6;
/// SBE 1.0 little-endian, the only encoding type the order-entry session speaks.
inline constexpr std::uint16_t kSbeLittleEndian = 0xEB50;
/// The longest frame accepted, SOFH included.
inline constexpr std::size_t kMaxFrameBytes = 65536;

/// Why a stream stopped being readable; the `reason` label of the protocol error counters.
enum class FrameError : std::uint8_t {
  kNone = 0,
  kTooLong,       ///< message_length > kMaxFrameBytes
  kTooShort,      ///< message_length < SOFH + the schema's message header
  kEncodingType,  ///< encoding_type is not 0xEB50
  kDecode,        ///< a whole frame the schema's codec refused (reported by the caller)
};
inline constexpr std::size_t kFrameErrors = 5;
inline constexpr std::array<std::string_view, kFrameErrors> kFrameErrorNames = {
    "none", "too_long", "too_short", "encoding_type", "decode"};

constexpr std::string_view name(FrameError e) noexcept {
  return kFrameErrorNames[static_cast<std::size_t>(e)];
}

namespace detail {
inline void put_be32(char* p, std::uint32_t v) noexcept {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}
inline void put_be16(char* p, std::uint16_t v) noexcept {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
inline std::uint32_t get_be32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}
inline std::uint16_t get_be16(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>((u[0] << 8) | u[1]);
}
}  // namespace detail

/// Writes the SOFH for a message of `message_bytes` bytes at the front of `out`; the caller
/// encodes the message at out[kSofhBytes]. Returns the frame's size, or 0 (nothing written) when
/// the frame would not fit in `out` or exceed kMaxFrameBytes.
inline std::size_t write_sofh(std::span<char> out, std::size_t message_bytes) noexcept {
  const std::size_t frame = kSofhBytes + message_bytes;
  if (frame > kMaxFrameBytes || frame > out.size()) return 0;
  detail::put_be32(out.data(), static_cast<std::uint32_t>(frame));
  detail::put_be16(out.data() + 4, kSbeLittleEndian);
  return frame;
}

/// Frames an already encoded message: SOFH then a copy of `message`. Returns the frame's size,
/// or 0 when it does not fit.
inline std::size_t encode_frame(std::span<char> out, std::span<const char> message) noexcept {
  const std::size_t frame = write_sofh(out, message.size());
  if (frame == 0) return 0;
  if (!message.empty()) std::memcpy(out.data() + kSofhBytes, message.data(), message.size());
  return frame;
}

/// Checks one SOFH (6 bytes at `p`). On success sets `frame_bytes` to the whole frame's length.
inline FrameError check_sofh(const char* p, std::size_t min_message_bytes,
                             std::size_t& frame_bytes) noexcept {
  const std::uint32_t len = detail::get_be32(p);
  if (len > kMaxFrameBytes) return FrameError::kTooLong;
  if (len < kSofhBytes + min_message_bytes) return FrameError::kTooShort;
  if (detail::get_be16(p + 4) != kSbeLittleEndian) return FrameError::kEncodingType;
  frame_bytes = len;
  return FrameError::kNone;
}

/// What FrameReader::read_from() saw of the socket.
enum class ReadStatus : std::uint8_t {
  kOk,      ///< read something, or nothing was there (EAGAIN)
  kClosed,  ///< the peer closed its side (read returned 0)
  kError,   ///< read failed; errno is in ReadResult::error
};

struct ReadResult {
  ReadStatus status = ReadStatus::kOk;
  std::size_t bytes = 0;  ///< read by this call
  int error = 0;          ///< errno, when kError
};

/// Incremental, non-blocking frame reader. Feed it bytes (feed() or read_from(fd)), then take
/// frames with next() until it returns false. A frame's span stays valid until the next feed(),
/// write_space() or read_from().
class FrameReader {
 public:
  /// `min_message_bytes`: the schema's message header size; a frame must hold at least that.
  explicit FrameReader(std::size_t min_message_bytes, std::size_t capacity = 2 * kMaxFrameBytes)
      : min_message_(min_message_bytes),
        buf_(capacity < kMaxFrameBytes ? kMaxFrameBytes : capacity) {}

  /// Room to receive into (compacting first). Empty once the reader failed.
  std::span<char> write_space() noexcept {
    if (error_ != FrameError::kNone) return {};
    if (head_ > 0) {
      if (tail_ > head_) std::memmove(buf_.data(), buf_.data() + head_, tail_ - head_);
      tail_ -= head_;
      head_ = 0;
    }
    return std::span<char>(buf_.data() + tail_, buf_.size() - tail_);
  }

  /// `n` bytes were written into write_space().
  void commit(std::size_t n) noexcept { tail_ += n; }

  /// Copies `bytes` in; returns how many fit (all of them unless next() is not being called).
  std::size_t feed(std::span<const char> bytes) noexcept {
    const std::span<char> room = write_space();
    const std::size_t n = bytes.size() < room.size() ? bytes.size() : room.size();
    if (n > 0) std::memcpy(room.data(), bytes.data(), n);
    commit(n);
    return n;
  }

  /// Reads what the non-blocking socket `fd` has, until a short read, EAGAIN or a full buffer
  /// (so a peer's close shows on the call after the one that took its last bytes).
  ReadResult read_from(int fd) noexcept {
    ReadResult r;
    for (;;) {
      const std::span<char> room = write_space();
      if (room.empty()) return r;
      const ssize_t n = ::read(fd, room.data(), room.size());
      if (n > 0) {
        commit(static_cast<std::size_t>(n));
        r.bytes += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < room.size()) return r;
        continue;
      }
      if (n == 0) {
        r.status = ReadStatus::kClosed;
        return r;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return r;
      r.status = ReadStatus::kError;
      r.error = errno;
      return r;
    }
  }

  /// The next whole frame's message (SOFH stripped) into `message`; false when no whole frame is
  /// buffered or the stream has failed (see error()).
  bool next(std::span<const char>& message) noexcept {
    if (error_ != FrameError::kNone || tail_ - head_ < kSofhBytes) return false;
    std::size_t frame = 0;
    const FrameError e = check_sofh(buf_.data() + head_, min_message_, frame);
    if (e != FrameError::kNone) {
      error_ = e;
      return false;
    }
    if (tail_ - head_ < frame) return false;
    message = std::span<const char>(buf_.data() + head_ + kSofhBytes, frame - kSofhBytes);
    head_ += frame;
    ++frames_;
    return true;
  }

  /// Marks the stream failed (e.g. kDecode for a frame the codec refused); the first error sticks.
  void fail(FrameError e) noexcept {
    if (error_ == FrameError::kNone) error_ = e;
  }

  [[nodiscard]] FrameError error() const noexcept { return error_; }
  [[nodiscard]] bool failed() const noexcept { return error_ != FrameError::kNone; }
  /// Bytes received and not yet returned as a frame.
  [[nodiscard]] std::size_t buffered() const noexcept { return tail_ - head_; }
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }

  /// Forgets everything, for a new connection.
  void reset() noexcept {
    head_ = tail_ = 0;
    error_ = FrameError::kNone;
  }

 private:
  std::size_t min_message_;
  std::vector<char> buf_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  FrameError error_ = FrameError::kNone;
  std::uint64_t frames_ = 0;
};

}  // namespace hft::session
