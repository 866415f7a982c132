// UDP market-data transport: `udp://HOST:PORT` endpoints, a non-blocking receiver that drains the
// socket in recvmmsg batches with kernel receive timestamps, and a sender for publishers.
//
// HOST is an IPv4 address or a multicast group (224.0.0.0/4). For a group the receiver binds the
// group's port and joins it on the interface given by `iface` (loopback by default), and the
// sender sends through that interface with loopback delivery on and TTL 1, so a group on
// 127.0.0.1 never leaves the machine.
//
// Receive timestamps: SO_TIMESTAMPNS asks the kernel to stamp each datagram when it arrived
// (CLOCK_REALTIME). Where the option or the control message is missing, rx_ns() is 0 and the
// caller stamps with its own clock.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "hft/net/endpoint.hpp"
namespace hft::md {

struct UdpEndpoint {
  std::string host;
  std::uint16_t port = 0;
  in_addr addr{};
  bool multicast = false;

  std::string url() const { return "udp://" + host + ":" + std::to_string(port); }
};

/// Parses `udp://HOST:PORT` (HOST a dotted IPv4 address). On failure returns nullopt and sets
/// `why`.
inline std::optional<UdpEndpoint> parse_udp_url(std::string_view url, std::string& why) {
  UdpEndpoint ep;
  if (!net::parse_ipv4_url(url, "udp://", ep.host, ep.port, ep.addr, why)) return std::nullopt;
  ep.multicast = IN_MULTICAST(ntohl(ep.addr.s_addr));
  return ep;
}

namespace detail {
inline std::system_error sys_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const noexcept { return fd_; }

 private:
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

}  // namespace detail

/// Non-blocking receiver. poll() takes up to `batch` datagrams in one recvmmsg call; datagram i
/// of the batch is data(i), with its kernel receive time rx_ns(i) (0 when unavailable) and
/// truncated(i) when it was larger than `slot_bytes`.
class UdpReceiver {
 public:
  UdpReceiver(const UdpEndpoint& ep, std::size_t batch = 32,
              std::size_t slot_bytes = kDefaultSlotBytes, int rcvbuf_bytes = 8 << 20,
              in_addr iface = in_addr{htonl(INADDR_LOOPBACK)})
      : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)),
        slot_(slot_bytes),
        data_(batch * slot_bytes),
        iov_(batch),
        msgs_(batch),
        ctrl_(batch * kCtrlBytes),
        rx_ns_(batch, 0),
        truncated_(batch, false) {
    if (fd_.get() < 0) throw detail::sys_error("socket");
    const int one = 1;
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      throw detail::sys_error("SO_REUSEADDR");
    }
    // A larger buffer rides out bursts; the kernel caps it at net.core.rmem_max without failing.
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    kernel_ts_ = ::setsockopt(fd_.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0;
    const sockaddr_in sa = net::to_sockaddr(ep.addr, ep.port);
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      throw detail::sys_error("bind " + ep.url());
    }
    if (ep.multicast) {
      ip_mreq mreq{};
      mreq.imr_multiaddr = ep.addr;
      mreq.imr_interface = iface;
      if (::setsockopt(fd_.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
        throw detail::sys_error("join multicast group " + ep.host);
      }
    }
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
      port_ = ntohs(bound.sin_port);
    }
    for (std::size_t i = 0; i < batch; ++i) {
      iov_[i] = iovec{data_.data() + i * slot_, slot_};
    }
  }

  static constexpr std::size_t kDefaultSlotBytes = 65536;

  /// Receives what is queued, up to the batch size, without blocking. Returns the number of
  /// datagrams (0 when none). Throws std::system_error only on a socket failure that is not a
  /// transient condition (EAGAIN, EINTR and ECONNREFUSED return 0).
  std::size_t poll() {
    for (std::size_t i = 0; i < msgs_.size(); ++i) {
      msgs_[i].msg_hdr = msghdr{};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      msgs_[i].msg_hdr.msg_control = ctrl_.data() + i * kCtrlBytes;
      msgs_[i].msg_hdr.msg_controllen = kCtrlBytes;
      msgs_[i].msg_len = 0;
    }
    const int n = ::recvmmsg(fd_.get(), msgs_.data(), static_cast<unsigned>(msgs_.size()),
                             MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED) {
        return 0;
      }
      throw detail::sys_error("recvmmsg");
    }
    for (int i = 0; i < n; ++i) {
      msghdr& h = msgs_[static_cast<std::size_t>(i)].msg_hdr;
      truncated_[static_cast<std::size_t>(i)] = (h.msg_flags & MSG_TRUNC) != 0;
      std::uint64_t ts = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec t{};
          std::memcpy(&t, CMSG_DATA(c), sizeof t);
          ts = static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ull +
               static_cast<std::uint64_t>(t.tv_nsec);
        }
      }
      rx_ns_[static_cast<std::size_t>(i)] = ts;
    }
    return static_cast<std::size_t>(n);
  }

  std::span<const char> data(std::size_t i) const noexcept {
    const std::size_t len = msgs_[i].msg_len < slot_ ? msgs_[i].msg_len : slot_;
    return {data_.data() + i * slot_, len};
  }
  /// Kernel receive time, CLOCK_REALTIME ns; 0 when the kernel did not stamp it.
  std::uint64_t rx_ns(std::size_t i) const noexcept { return rx_ns_[i]; }
  bool truncated(std::size_t i) const noexcept { return truncated_[i]; }
  bool kernel_timestamps() const noexcept { return kernel_ts_; }
  std::uint16_t port() const noexcept { return port_; }
  int fd() const noexcept { return fd_.get(); }

 private:
  static constexpr std::size_t kCtrlBytes = CMSG_SPACE(sizeof(timespec)) + 64;

  detail::Fd fd_;
  std::size_t slot_;
  std::vector<char> data_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  std::vector<char> ctrl_;
  std::vector<std::uint64_t> rx_ns_;
  std::vector<bool> truncated_;
  bool kernel_ts_ = false;
  std::uint16_t port_ = 0;
};

/// Sends datagrams to one endpoint (a unicast address or a group on `iface`, loopback by default).
class UdpSender {
 public:
  explicit UdpSender(const UdpEndpoint& ep, in_addr iface = in_addr{htonl(INADDR_LOOPBACK)})
      : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)),
        to_(net::to_sockaddr(ep.addr, ep.port)) {
    if (fd_.get() < 0) throw detail::sys_error("socket");
    const int sndbuf = 8 << 20;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (ep.multicast) {
      const unsigned char ttl = 1;
      const unsigned char loop = 1;
      if (::setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_IF, &iface, sizeof iface) != 0 ||
          ::setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
          ::setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0) {
        throw detail::sys_error("multicast options for " + ep.host);
      }
    }
  }

  /// Sends one datagram; retries on EINTR and while the socket buffer is full (ENOBUFS/EAGAIN).
  /// Returns false on any other failure (e.g. ECONNREFUSED after an ICMP error on loopback).
  bool send(std::span<const char> packet) noexcept {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const ssize_t n = ::sendto(fd_.get(), packet.data(), packet.size(), 0,
                                 reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
      if (n == static_cast<ssize_t>(packet.size())) return true;
      if (n < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) continue;
      return false;
    }
    return false;
  }

 private:
  detail::Fd fd_;
  sockaddr_in to_;
};

}  // namespace hft::md
