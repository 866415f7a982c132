// Order-entry transport: `tcp://HOST:PORT` endpoints, a non-blocking TCP connection carrying
// SOFH frames (framing.hpp) both ways, and a listener for the venue side.
//
// Nothing blocks: connect() starts a non-blocking connect that poll_connect() completes, reads
// take what the socket has, and frames that the socket cannot take yet wait in an output buffer
// flushed by the next send_frame() or flush(). TCP_NODELAY is set: an order must not wait for
// Nagle's algorithm. Errors come back as values (the session decides what a closed peer means);
// only a socket that cannot be created at all throws.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "hft/net/endpoint.hpp"
#include "hft/session/framing.hpp"

namespace hft::session {

struct TcpEndpoint {
  std::string host;
  std::uint16_t port = 0;
  in_addr addr{};

  std::string url() const { return "tcp://" + host + ":" + std::to_string(port); }
};

/// Parses `tcp://HOST:PORT` (HOST a dotted IPv4 address, or a DNS name resolved now, blocking).
/// On failure returns nullopt and sets `why`.
inline std::optional<TcpEndpoint> parse_tcp_url(std::string_view url, std::string& why) {
  TcpEndpoint ep;
  if (!net::parse_ipv4_url(url, "tcp://", ep.host, ep.port, ep.addr, why, /*resolve=*/true)) {
    return std::nullopt;
  }
  return ep;
}

namespace detail {
inline void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
}  // namespace detail

/// What poll_connect() found.
enum class ConnectStatus : std::uint8_t { kConnected, kInProgress, kFailed };

/// One TCP connection carrying SOFH frames. Movable, not copyable; closes its socket when
/// destroyed.
class TcpConnection {
 public:
  /// `min_message_bytes`: the schema's message header size (FrameReader's lower bound).
  explicit TcpConnection(std::size_t min_message_bytes,
                         std::size_t out_capacity = 4 * kMaxFrameBytes)
      : reader_(min_message_bytes), out_(out_capacity) {}

  TcpConnection(TcpConnection&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)),
        connected_(o.connected_),
        error_(o.error_),
        reader_(std::move(o.reader_)),
        out_(std::move(o.out_)),
        out_head_(o.out_head_),
        out_tail_(o.out_tail_) {}
  TcpConnection& operator=(TcpConnection&&) = delete;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;
  ~TcpConnection() { close(); }

  /// Starts a non-blocking connect to `ep` (closing any previous socket). False when it failed at
  /// once (error() says why); else poll_connect() until kConnected or kFailed.
  bool connect(const TcpEndpoint& ep) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    detail::set_nodelay(fd_);
    const sockaddr_in sa = net::to_sockaddr(ep.addr, ep.port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) {
      connected_ = true;
      return true;
    }
    if (errno == EINPROGRESS) return true;
    error_ = errno;
    close();
    return false;
  }

  /// Completes a connect() without blocking (`wait_ms` > 0 waits that long for it).
  ConnectStatus poll_connect(int wait_ms = 0) noexcept {
    if (fd_ < 0) return ConnectStatus::kFailed;
    if (connected_) return ConnectStatus::kConnected;
    pollfd p{fd_, POLLOUT, 0};
    const int n = ::poll(&p, 1, wait_ms);
    if (n == 0) return ConnectStatus::kInProgress;
    int err = 0;
    socklen_t len = sizeof err;
    if (n < 0 || ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      error_ = n < 0 ? errno : err;
      close();
      return ConnectStatus::kFailed;
    }
    connected_ = true;
    return ConnectStatus::kConnected;
  }

  /// Takes over an accepted socket (the venue side).
  void adopt(int fd) noexcept {
    close();
    fd_ = fd;
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL, 0) | O_NONBLOCK);
    detail::set_nodelay(fd_);
    connected_ = true;
  }

  /// Frames `message` (SOFH in front) and sends it, or queues what the socket does not take.
  /// False when the output buffer is full or the socket failed (error() is then set).
  bool send_frame(std::span<const char> message) noexcept {
    if (!connected_) return false;
    if (out_.size() - out_tail_ < kSofhBytes + message.size()) compact();
    const std::size_t n =
        encode_frame(std::span<char>(out_.data() + out_tail_, out_.size() - out_tail_), message);
    if (n == 0) return false;
    out_tail_ += n;
    return flush();
  }

  /// Writes what is queued; false when the socket failed.
  bool flush() noexcept {
    while (connected_ && out_head_ < out_tail_) {
      const ssize_t n =
          ::send(fd_, out_.data() + out_head_, out_tail_ - out_head_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        out_head_ += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      error_ = n < 0 ? errno : EPIPE;
      connected_ = false;
      return false;
    }
    if (out_head_ == out_tail_) out_head_ = out_tail_ = 0;
    return connected_;
  }

  /// Reads what the socket has into the frame reader.
  ReadResult read() noexcept {
    if (fd_ < 0) return ReadResult{ReadStatus::kClosed, 0, 0};
    ReadResult r = reader_.read_from(fd_);
    if (r.status == ReadStatus::kError) error_ = r.error;
    return r;
  }

  /// The next whole frame's message, or false (see FrameReader::next()).
  bool next(std::span<const char>& message) noexcept { return reader_.next(message); }

  /// Closes the socket and forgets buffered bytes both ways.
  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    connected_ = false;
    reader_.reset();
    out_head_ = out_tail_ = 0;
  }

  FrameReader& reader() noexcept { return reader_; }
  [[nodiscard]] bool open() const noexcept { return fd_ >= 0; }
  [[nodiscard]] bool connected() const noexcept { return connected_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// errno of the last failure (connect, read or write), 0 if none.
  [[nodiscard]] int error() const noexcept { return error_; }
  /// Bytes queued and not yet taken by the socket.
  [[nodiscard]] std::size_t pending() const noexcept { return out_tail_ - out_head_; }

 private:
  void compact() noexcept {
    if (out_head_ == 0) return;
    std::memmove(out_.data(), out_.data() + out_head_, out_tail_ - out_head_);
    out_tail_ -= out_head_;
    out_head_ = 0;
  }

  int fd_ = -1;
  bool connected_ = false;
  int error_ = 0;
  FrameReader reader_;
  std::vector<char> out_;
  std::size_t out_head_ = 0;
  std::size_t out_tail_ = 0;
};

/// A listening socket for the venue side. Port 0 picks a free port (see port()).
class TcpListener {
 public:
  explicit TcpListener(const TcpEndpoint& ep, int backlog = 16)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in sa = net::to_sockaddr(ep.addr, ep.port);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(fd_, backlog) != 0) {
      const int e = errno;
      ::close(fd_);
      throw std::system_error(e, std::generic_category(), "listen on " + ep.url());
    }
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
      port_ = ntohs(bound.sin_port);
    }
  }
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  ~TcpListener() { ::close(fd_); }

  /// An accepted socket (hand it to TcpConnection::adopt), or -1 when none is waiting.
  int accept() noexcept {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd;
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

}  // namespace hft::session
