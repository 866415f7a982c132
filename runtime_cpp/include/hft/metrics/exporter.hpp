// Background HTTP exporter for a metric registry: Prometheus text format 0.0.4.
//
//   hft::metrics::Registry reg;
//   hft::metrics::HttpExporter http(reg, 9100);          // starts listening and serving
//   ...                                                   // http.port() is the bound port
//   http.stop();                                          // or let the destructor do it
//
// Plain POSIX sockets, one connection at a time, HTTP/1.1 with `Connection: close`:
//   GET /metrics  -> 200, `text/plain; version=0.0.4; charset=utf-8`, the exposition, then
//                    (unless disabled) the standard process metrics, read at scrape time:
//                    process_cpu_seconds_total, process_virtual_memory_bytes,
//                    process_resident_memory_bytes, process_open_fds, process_max_fds,
//                    process_start_time_seconds
//   GET /healthz  -> 200, `ok\n`
//   other paths   -> 404; other methods -> 405; malformed requests -> 400.
// The thread polls the listening socket every 100 ms, so stop() returns promptly. The
// exporter never touches the hot path: it only reads the registry's atomics.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "hft/metrics/registry.hpp"

namespace hft::metrics {

class HttpExporter {
 public:
  /// Binds `bind_address:port` (port 0 picks a free port) and starts the server thread.
  /// Throws std::system_error if the socket cannot be bound.
  HttpExporter(const Registry& registry, std::uint16_t port,
               const std::string& bind_address = "0.0.0.0", bool process_metrics = true)
      : registry_(registry), process_metrics_(process_metrics) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "hft::metrics: socket");
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, bind_address.c_str(), &addr.sin_addr) != 1) {
      ::close(fd_);
      throw std::system_error(EINVAL, std::generic_category(),
                              "hft::metrics: bad bind address " + bind_address);
    }
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      const int err = errno;
      ::close(fd_);
      throw std::system_error(
          err, std::generic_category(),
          "hft::metrics: cannot listen on " + bind_address + ":" + std::to_string(port));
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

  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;
  ~HttpExporter() { stop(); }

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

 private:
  void serve() {
    std::string body;
    while (!stop_.load(std::memory_order_relaxed)) {
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, 100);
      if (ready <= 0) continue;
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      handle(client, body);
      requests_.fetch_add(
          1, std::memory_order_relaxed);  // before close: a client that saw EOF sees the count
      ::close(client);
    }
  }

  void handle(int client, std::string& body) {
    timeval tv{5, 0};  // generous: a loaded machine must not turn a slow scrape into an error
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string request;
    char buf[2048];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    const std::size_t eol = request.find("\r\n");
    const std::string_view line =
        std::string_view(request).substr(0, eol == std::string::npos ? 0 : eol);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
      respond(client, "400 Bad Request", "text/plain; charset=utf-8", "bad request\n");
      return;
    }
    const std::string_view method = line.substr(0, sp1);
    std::string_view path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));
    if (method != "GET" && method != "HEAD") {
      respond(client, "405 Method Not Allowed", "text/plain; charset=utf-8",
              "method not allowed\n");
    } else if (path == "/metrics") {
      body.clear();
      registry_.expose(body);
      if (process_metrics_) append_process_metrics(body);
      respond(client, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
              method == "HEAD" ? "" : body);
    } else if (path == "/healthz") {
      respond(client, "200 OK", "text/plain; charset=utf-8", "ok\n");
    } else {
      respond(client, "404 Not Found", "text/plain; charset=utf-8", "not found\n");
    }
  }

  /// The standard process collector's Linux series (the names client_golang and
  /// prometheus_client use): CPU time from getrusage; virtual and resident memory from
  /// /proc/self/statm; open descriptors from /proc/self/fd; the descriptor limit from
  /// getrlimit; the start time from /proc/self/stat and the boot time in /proc/stat.
  /// A series whose source is unreadable is omitted.
  static void append_process_metrics(std::string& out) {
    const auto series = [&out](std::string_view name, std::string_view type, std::string_view help,
                               double value) {
      out += "# HELP ";
      out += name;
      out += ' ';
      out += help;
      out += "\n# TYPE ";
      out += name;
      out += ' ';
      out += type;
      out += '\n';
      out += name;
      out += ' ';
      detail::append_double(out, value);
      out += '\n';
    };
    rusage ru{};
    if (::getrusage(RUSAGE_SELF, &ru) == 0) {
      const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
      series("process_cpu_seconds_total", "counter",
             "Total user and system CPU time spent in seconds.", cpu);
    }
    const long page = ::sysconf(_SC_PAGESIZE);
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      unsigned long long size = 0, resident = 0;
      const bool ok = std::fscanf(f, "%llu %llu", &size, &resident) == 2;
      std::fclose(f);
      if (ok && page > 0) {
        series("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
               static_cast<double>(size * static_cast<unsigned long long>(page)));
        series("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
               static_cast<double>(resident * static_cast<unsigned long long>(page)));
      }
    }
    if (DIR* dir = ::opendir("/proc/self/fd")) {
      std::uint64_t n = 0;
      while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') ++n;
      }
      ::closedir(dir);
      series("process_open_fds", "gauge", "Number of open file descriptors.",
             static_cast<double>(n > 0 ? n - 1 : 0));  // less the one reading the directory
    }
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
      series("process_max_fds", "gauge", "Maximum number of open file descriptors.",
             static_cast<double>(lim.rlim_cur));
    }
    if (const double start = process_start_time(); start > 0) {
      series("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.", start);
    }
  }

  /// Boot time (btime in /proc/stat) plus the process's start in clock ticks after boot
  /// (field 22 of /proc/self/stat, after the parenthesised command name); 0 if unreadable.
  static double process_start_time() {
    char buf[1024];
    std::FILE* f = std::fopen("/proc/self/stat", "r");
    if (f == nullptr) return 0;
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) return 0;
    // After ") " come fields 3 (state) onwards; the start time is field 22.
    unsigned long long start_ticks = 0;
    int field = 2;
    for (const char* q = p + 1; *q != '\0'; ++q) {
      if (*q != ' ') continue;
      if (++field == 22) {
        start_ticks = std::strtoull(q + 1, nullptr, 10);
        break;
      }
    }
    unsigned long long btime = 0;
    if (std::FILE* s = std::fopen("/proc/stat", "r")) {
      char line[256];
      while (std::fgets(line, sizeof line, s) != nullptr) {
        if (std::sscanf(line, "btime %llu", &btime) == 1) break;
      }
      std::fclose(s);
    }
    const long hz = ::sysconf(_SC_CLK_TCK);
    if (btime == 0 || hz <= 0) return 0;
    return static_cast<double>(btime) + static_cast<double>(start_ticks) / static_cast<double>(hz);
  }

  static void respond(int client, std::string_view status, std::string_view type,
                      std::string_view body) {
    std::string head = "HTTP/1.1 ";
    head += status;
    head += "\r\nContent-Type: ";
    head += type;
    head += "\r\nContent-Length: ";
    head += std::to_string(body.size());
    head += "\r\nConnection: close\r\n\r\n";
    if (send_all(client, head)) send_all(client, body);
  }

  static bool send_all(int client, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(client, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  const Registry& registry_;
  bool process_metrics_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace hft::metrics
