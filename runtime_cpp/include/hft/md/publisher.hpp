// A market-data publisher: messages in, sequenced UDP packets (FORMATS.md §6) out. Shared by
// `<pkg>_md_publish` and `<pkg>_venue`, which both send a tape as the schema's market data.
//
// Messages are packed into packets of at most `max_packet_bytes`; a message too big for that
// size goes alone in a packet up to the largest datagram. Packets carry seq start_seq, +1, ...
// on one channel; a seq listed in `skip` is counted but not sent (a loss a receiver must see).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <utility>
#include <vector>

#include "hft/md/packet.hpp"
#include "hft/md/udp.hpp"

namespace hft::md {

/// CLOCK_REALTIME in ns: the packets' sending time.
inline std::uint64_t realtime_ns() noexcept {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(t.tv_nsec);
}

class PacketPublisher {
 public:
  struct Options {
    std::uint16_t channel = 0;
    std::size_t max_packet_bytes = 1472;  // one Ethernet frame's UDP payload
    std::uint64_t start_seq = 1;
    std::vector<std::uint64_t> skip;  // sorted
  };

  PacketPublisher(UdpSender& sender, Options opt)
      : sender_(sender),
        opt_(std::move(opt)),
        packet_(kMaxPacketBytes),
        writer_(std::span<char>(packet_.data(), std::min(opt_.max_packet_bytes, kMaxPacketBytes))),
        seq_(opt_.start_seq) {
    writer_.start(seq_, realtime_ns(), opt_.channel);
  }

  /// Appends one message, sending the packet first when it is full. False on a send error, or
  /// when the message cannot be sent at all (larger than a datagram); `error()` says which.
  bool add(std::span<const char> m) {
    if (writer_.add(m)) return true;
    if (!flush()) return false;
    if (writer_.add(m)) return true;
    PacketWriter big(std::span<char>(packet_.data(), packet_.size()));
    big.start(seq_, realtime_ns(), opt_.channel);
    if (!big.add(m)) {
      error_ = Error::kTooBig;
      return false;
    }
    if (!send(big)) return false;
    writer_.start(seq_, realtime_ns(), opt_.channel);
    return true;
  }

  /// Sends the packet being filled (nothing when it is empty) and starts the next one.
  bool flush() {
    if (writer_.count() == 0) return true;
    if (!send(writer_)) return false;
    writer_.start(seq_, realtime_ns(), opt_.channel);
    return true;
  }

  enum class Error : std::uint8_t { kNone, kSend, kTooBig };
  Error error() const noexcept { return error_; }
  std::uint64_t sent() const noexcept { return sent_; }
  std::uint64_t skipped() const noexcept { return skipped_; }
  std::uint64_t next_seq() const noexcept { return seq_; }

  /// Stamps the packets sent from now on with `ns` instead of the wall clock (a lockstep venue
  /// sends tape time, so the receiver's clock is the tape's); 0 goes back to the wall clock.
  void stamp_with(std::uint64_t ns) noexcept { fixed_ns_ = ns; }

 private:
  bool send(PacketWriter& w) {
    w.stamp(fixed_ns_ != 0 ? fixed_ns_ : realtime_ns());
    const std::span<const char> bytes = w.finish();
    const std::uint64_t this_seq = seq_++;
    if (std::binary_search(opt_.skip.begin(), opt_.skip.end(), this_seq)) {
      ++skipped_;
      return true;
    }
    if (!sender_.send(bytes)) {
      error_ = Error::kSend;
      return false;
    }
    ++sent_;
    return true;
  }

  UdpSender& sender_;
  Options opt_;
  std::vector<char> packet_;
  PacketWriter writer_;
  std::uint64_t seq_;
  std::uint64_t fixed_ns_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t skipped_ = 0;
  Error error_ = Error::kNone;
};

}  // namespace hft::md
