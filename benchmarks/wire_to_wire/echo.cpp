// The floor of the wire-to-wire benchmark: a bare UDP -> TCP echo. For every datagram it receives
// it writes one 64-byte message (about an order's frame) on its TCP connection. Like the engine's
// market-data loop it busy-polls a non-blocking UDP socket on one thread, and its TCP socket has
// TCP_NODELAY, so the difference to the engine is the engine's own work.
//
//   w2w_echo UDP_PORT TCP_PORT SECONDS
//
// Binds 127.0.0.1:UDP_PORT, connects to 127.0.0.1:TCP_PORT, runs SECONDS, then closes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

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
  std::fprintf(stderr, "w2w_echo: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: w2w_echo UDP_PORT TCP_PORT SECONDS\n");
    return 2;
  }
  const int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in a = loopback(std::atoi(argv[1]));
  if (udp < 0 || bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind UDP");
  const int tcp = socket(AF_INET, SOCK_STREAM, 0);
  a = loopback(std::atoi(argv[2]));
  if (tcp < 0 || connect(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  const int one = 1;
  if (setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("TCP_NODELAY");
  std::array<char, 2048> in{};
  std::array<char, 64> out{};
  std::uint64_t echoed = 0;
  const std::int64_t end = now_ns() + static_cast<std::int64_t>(std::atof(argv[3]) * 1e9);
  for (std::uint64_t spins = 0;; ++spins) {
    const ssize_t r = recv(udp, in.data(), in.size(), 0);
    if (r > 0) {
      std::memcpy(out.data(), in.data(), static_cast<std::size_t>(r) < out.size() ? static_cast<std::size_t>(r) : out.size());
      if (send(tcp, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) die("send");
      ++echoed;
      continue;
    }
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) die("recv");
    if ((spins & 1023) == 0 && now_ns() >= end) break;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::fprintf(stderr, "w2w_echo: %llu packets echoed\n", static_cast<unsigned long long>(echoed));
  close(tcp);
  return 0;
}
