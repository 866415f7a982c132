// A small HTTP/1.1 server for an engine's side channels (metrics scrapes, health probes, the
// kill switch): one background thread, one connection at a time, `Connection: close`.
//
//   hft::net::HttpServer http(port, "0.0.0.0", [](const hft::net::HttpRequest& r) {
//     return hft::net::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
//   });
//
// Plain POSIX sockets; the thread polls the listening socket every 100 ms, so stop() returns
// promptly. Requests are read up to the end of the headers plus a Content-Length body (16 KiB
// at most); a malformed request gets 400 without reaching the handler. The handler runs on the
// server thread and must not block on the engine's hot path.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

namespace hft::net {

struct HttpRequest {
  std::string_view method;         ///< "GET", "POST", ...
  std::string_view path;           ///< without the query string
  std::string_view authorization;  ///< the Authorization header's value, or empty
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  static constexpr std::size_t kMaxRequest = 16384;

  /// Binds `bind_address:port` (port 0 picks a free port) and starts serving. Throws
  /// std::system_error when the socket cannot be bound; `what` names the server in messages.
  HttpServer(std::uint16_t port, const std::string& bind_address, HttpHandler handler,
             std::string_view what = "http")
      : handler_(std::move(handler)) {
    const std::string name(what);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), name + ": socket");
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, bind_address.c_str(), &addr.sin_addr) != 1) {
      ::close(fd_);
      throw std::system_error(EINVAL, std::generic_category(),
                              name + ": bad bind address " + bind_address);
    }
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      const int err = errno;
      ::close(fd_);
      throw std::system_error(
          err, std::generic_category(),
          name + ": cannot listen on " + bind_address + ":" + std::to_string(port));
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    try {
      thread_ = std::thread([this] { serve(); });
    } catch (...) {
      ::close(fd_);
      throw;
    }
  }

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer() { stop(); }

  /// Stops the thread and closes the socket; idempotent.
  void stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t requests() const noexcept {
    return requests_.load(std::memory_order_relaxed);
  }

  static std::string_view reason(int status) noexcept {
    switch (status) {
      case 200:
        return "OK";
      case 400:
        return "Bad Request";
      case 401:
        return "Unauthorized";
      case 403:
        return "Forbidden";
      case 404:
        return "Not Found";
      case 405:
        return "Method Not Allowed";
      case 503:
        return "Service Unavailable";
      default:
        return "Status";
    }
  }

 private:
  void serve() {
    while (!stop_.load(std::memory_order_relaxed)) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      handle(client);
      // Before close: a client that saw the end of the response sees the count.
      requests_.fetch_add(1, std::memory_order_relaxed);
      ::close(client);
    }
  }

  static std::string_view header(std::string_view head, std::string_view name) noexcept {
    std::size_t at = head.find("\r\n");
    while (at != std::string_view::npos && at + 2 < head.size()) {
      const std::size_t start = at + 2;
      const std::size_t end = head.find("\r\n", start);
      const std::string_view line =
          head.substr(start, end == std::string_view::npos ? head.npos : end - start);
      const std::size_t colon = line.find(':');
      if (colon == name.size()) {
        bool same = true;
        for (std::size_t i = 0; i < colon && same; ++i) {
          const char a = static_cast<char>(line[i] | 0x20);
          const char b = static_cast<char>(name[i] | 0x20);
          same = a == b;
        }
        if (same) {
          std::string_view v = line.substr(colon + 1);
          while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
          while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
          return v;
        }
      }
      at = end;
    }
    return {};
  }

  void handle(int client) {
    timeval tv{5, 0};  // generous: a loaded machine must not turn a slow probe into an error
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string request;
    char buf[2048];
    std::size_t head_end = std::string::npos;
    while ((head_end = request.find("\r\n\r\n")) == std::string::npos &&
           request.size() < kMaxRequest) {
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    if (head_end == std::string::npos) {
      respond(client, {400, "text/plain; charset=utf-8", "bad request\n"}, false);
      return;
    }
    // Offsets only until the body is read: appending to `request` may move its bytes.
    const std::string_view head0 = std::string_view(request).substr(0, head_end + 2);
    const std::size_t eol = head0.find("\r\n");
    const std::string_view line0 = head0.substr(0, eol);
    const std::size_t sp1 = line0.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line0.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
      respond(client, {400, "text/plain; charset=utf-8", "bad request\n"}, false);
      return;
    }
    std::size_t want = 0;
    const std::string_view cl = header(head0, "content-length");
    for (const char c : cl) {
      if (c < '0' || c > '9' || want > kMaxRequest) {
        respond(client, {400, "text/plain; charset=utf-8", "bad content length\n"}, false);
        return;
      }
      want = want * 10 + static_cast<std::size_t>(c - '0');
    }
    if (want > kMaxRequest) {
      respond(client, {400, "text/plain; charset=utf-8", "body too large\n"}, false);
      return;
    }
    while (request.size() < head_end + 4 + want) {
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    const std::string_view line = std::string_view(request).substr(0, eol);
    HttpRequest r;
    r.method = line.substr(0, sp1);
    r.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    // The absolute form (`POST http://host:port/kill`, as sent through a proxy) names the same
    // path.
    if (r.path.substr(0, 7) == "http://") {
      const std::size_t slash = r.path.find('/', 7);
      r.path = slash == std::string_view::npos ? std::string_view("/") : r.path.substr(slash);
    }
    r.path = r.path.substr(0, r.path.find('?'));
    r.authorization = header(std::string_view(request).substr(0, head_end + 2), "authorization");
    r.body = std::string_view(request).substr(head_end + 4, want);
    const HttpResponse resp = handler_(r);
    respond(client, resp, r.method == "HEAD");
  }

  static void respond(int client, const HttpResponse& r, bool head_only) {
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " ";
    head += reason(r.status);
    head += "\r\nContent-Type: ";
    head += r.content_type;
    head += "\r\nContent-Length: ";
    head += std::to_string(r.body.size());
    head += "\r\nConnection: close\r\n\r\n";
    if (send_all(client, head) && !head_only) send_all(client, r.body);
  }

  static bool send_all(int client, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(client, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  HttpHandler handler_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace hft::net
