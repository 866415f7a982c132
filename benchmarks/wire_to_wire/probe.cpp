// Wire-to-wire probe: sits between a venue and the program under test on loopback and times, for
// each market-data packet, the packet's UDP send to the first TCP bytes the program sends back.
//
//   w2w_probe UDP_PORT FORWARD_PORT TCP_PORT UPSTREAM_PORT SECONDS GAP_US
//
// UDP_PORT: where the venue sends its market data. The packets are queued and forwarded, in
// order, to 127.0.0.1:FORWARD_PORT (the program's market-data port), one at a time: the next goes
// GAP_US after the previous one, and never while the previous one's answer is still awaited
// (at most 4 x GAP_US), so a burst from the venue (a descheduled sender) never puts two packets
// in flight. TCP_PORT: where the program connects (its order entry); with UPSTREAM_PORT > 0, the
// probe connects to 127.0.0.1:UPSTREAM_PORT (the venue's order entry) and relays both directions
// byte for byte, so the session is the venue's. A sample is the time from just before a packet's
// sendto() to the first bytes read from the program after it (a packet that makes no order gives
// no sample). Blocking poll() between events, so the probe leaves the CPUs to the program.
//
// Prints `ready` once listening, and at the end one JSON line:
//   {"packets": N, "samples": K, "p50_ns": ..., "p90_ns": ..., "p99_ns": ..., "min_ns": ...}
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <vector>

namespace {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "w2w_probe: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void no_delay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("TCP_NODELAY");
}

// Writes all of buf (blocking socket).
bool send_all(int fd, const char* buf, ssize_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    if (w <= 0) return false;
    buf += w;
    n -= w;
  }
  return true;
}

std::int64_t percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: w2w_probe UDP_PORT FORWARD_PORT TCP_PORT UPSTREAM_PORT SECONDS GAP_US\n");
    return 2;
  }
  const int udp_port = std::atoi(argv[1]);
  const int forward_port = std::atoi(argv[2]);
  const int tcp_port = std::atoi(argv[3]);
  const int upstream_port = std::atoi(argv[4]);
  const double seconds = std::atof(argv[5]);
  const auto gap_ns = static_cast<std::int64_t>(std::atof(argv[6]) * 1e3);

  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a = loopback(udp_port);
  if (udp < 0 || bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind UDP");
  const sockaddr_in forward = loopback(forward_port);
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  a = loopback(tcp_port);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener, 4) != 0) {
    die("listen TCP");
  }
  std::printf("ready\n");
  std::fflush(stdout);

  int program = -1;  // the program's connection
  int upstream = -1;
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 20);
  std::uint64_t packets = 0;
  std::int64_t last_send = 0;
  bool answered = true;
  std::vector<char> buf(1 << 16);
  const std::int64_t end = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  std::deque<std::string> queue;  // packets from the venue not forwarded yet
  while (now_ns() < end) {
    // Forward the next packet when it is due.
    if (!queue.empty()) {
      const std::int64_t since = now_ns() - last_send;
      if (last_send == 0 || (since >= gap_ns && (answered || since >= 4 * gap_ns))) {
        const std::string& p = queue.front();
        last_send = now_ns();
        if (sendto(udp, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&forward), sizeof forward) < 0 &&
            errno != ECONNREFUSED) {
          die("sendto");
        }
        queue.pop_front();
        answered = false;
        ++packets;
      }
    }
    pollfd fds[4];
    nfds_t n = 0;
    fds[n++] = {udp, POLLIN, 0};
    fds[n++] = {program >= 0 ? program : listener, POLLIN, 0};
    if (upstream >= 0) fds[n++] = {upstream, POLLIN, 0};
    // Wake for the next forward (or after 50 ms with nothing queued).
    std::int64_t wait_ns = 50'000'000;
    if (!queue.empty()) {
      wait_ns = std::max<std::int64_t>(0, last_send + (answered ? gap_ns : 4 * gap_ns) - now_ns());
    }
    const timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    if (ppoll(fds, n, &timeout, nullptr) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if ((fds[0].revents & POLLIN) != 0) {
      const ssize_t r = recv(udp, buf.data(), buf.size(), 0);
      if (r > 0) queue.emplace_back(buf.data(), static_cast<std::size_t>(r));
    }
    if ((fds[1].revents & POLLIN) != 0) {
      if (program < 0) {
        program = accept(listener, nullptr, nullptr);
        if (program < 0) die("accept");
        no_delay(program);
        if (upstream_port > 0) {
          upstream = socket(AF_INET, SOCK_STREAM, 0);
          const sockaddr_in u = loopback(upstream_port);
          if (upstream < 0 || connect(upstream, reinterpret_cast<const sockaddr*>(&u), sizeof u) != 0) {
            die("connect upstream");
          }
          no_delay(upstream);
        }
      } else {
        const ssize_t r = recv(program, buf.data(), buf.size(), 0);
        const std::int64_t t = now_ns();
        if (r <= 0) break;  // the program closed its side: done
        if (!answered && last_send != 0) {
          samples.push_back(t - last_send);
          answered = true;
        }
        if (upstream >= 0 && !send_all(upstream, buf.data(), r)) die("relay to upstream");
      }
    }
    if (n > 2 && (fds[2].revents & POLLIN) != 0) {
      const ssize_t r = recv(upstream, buf.data(), buf.size(), 0);
      if (r <= 0) break;  // the venue closed the session
      if (!send_all(program, buf.data(), r)) die("relay to the program");
    }
  }
  std::vector<std::int64_t> s = samples;
  const std::int64_t lo = s.empty() ? 0 : *std::min_element(s.begin(), s.end());
  std::printf("{\"packets\": %llu, \"samples\": %zu, \"p50_ns\": %lld, \"p90_ns\": %lld, \"p99_ns\": %lld, "
              "\"min_ns\": %lld}\n",
              static_cast<unsigned long long>(packets), samples.size(), static_cast<long long>(percentile(s, 50)),
              static_cast<long long>(percentile(s, 90)), static_cast<long long>(percentile(s, 99)),
              static_cast<long long>(lo));
  return 0;
}
