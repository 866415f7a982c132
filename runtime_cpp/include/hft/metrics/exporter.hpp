// Background HTTP exporter for a metric registry: Prometheus text format 0.0.4.
//
//   hft::metrics::Registry reg;
//   hft::metrics::HttpExporter http(reg, 9100);          // starts listening and serving
//   ...                                                   // http.port() is the bound port
//   http.stop();                                          // or let the destructor do it
//
// Served by hft::net::HttpServer (one connection at a time, HTTP/1.1, `Connection: close`):
//   GET /metrics  -> 200, `text/plain; version=0.0.4; charset=utf-8`, the exposition, then
//                    (unless disabled) the standard process metrics, read at scrape time:
//                    process_cpu_seconds_total, process_virtual_memory_bytes,
//                    process_resident_memory_bytes, process_open_fds, process_max_fds,
//                    process_start_time_seconds
//   GET /healthz  -> 200, `ok\n`
//   other paths   -> 404; other methods -> 405; malformed requests -> 400.
// The exporter never touches the hot path: it only reads the registry's atomics.
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
#include "hft/net/http_server.hpp"

namespace hft::metrics {

class HttpExporter {
 public:
  /// Binds `bind_address:port` (port 0 picks a free port) and starts the server thread.
  /// Throws std::system_error if the socket cannot be bound.
  HttpExporter(const Registry& registry, std::uint16_t port,
               const std::string& bind_address = "0.0.0.0", bool process_metrics = true)
      : registry_(registry),
        process_metrics_(process_metrics),
        server_(
            port, bind_address, [this](const net::HttpRequest& r) { return handle(r); },
            "hft::metrics") {}

  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;
  ~HttpExporter() { stop(); }

  /// Stops the thread and closes the socket; idempotent.
  void stop() { server_.stop(); }

  [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
  [[nodiscard]] std::uint64_t requests() const noexcept { return server_.requests(); }

 private:
  net::HttpResponse handle(const net::HttpRequest& r) const {
    if (r.method != "GET" && r.method != "HEAD") return {405, kText, "method not allowed\n"};
    if (r.path == "/metrics") {
      net::HttpResponse out{200, "text/plain; version=0.0.4; charset=utf-8", {}};
      registry_.expose(out.body);
      if (process_metrics_) append_process_metrics(out.body);
      return out;
    }
    if (r.path == "/healthz") return {200, kText, "ok\n"};
    return {404, kText, "not found\n"};
  }

  static constexpr const char* kText = "text/plain; charset=utf-8";

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

  const Registry& registry_;
  bool process_metrics_;
  net::HttpServer server_;  // last: its thread calls handle(), which reads the members above
};

}  // namespace hft::metrics
