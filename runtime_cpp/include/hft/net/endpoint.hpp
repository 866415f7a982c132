// `scheme://HOST:PORT` for the runtime's sockets (udp:// market data, tcp:// order entry): one
// parser, so every URL a generated program takes is read and refused the same way. Order entry
// also takes a DNS name (a venue behind a Kubernetes Service), resolved when the URL is parsed.
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace hft::net {

/// Parses `SCHEME://HOST:PORT` (SCHEME as given, e.g. "udp://"; HOST a dotted IPv4 address, or
/// with `resolve` also a DNS name, looked up once here (blocking: call it at start); PORT
/// 0..65535). On failure returns false and sets `why`; `host`, `port` and `addr` are set on
/// success.
inline bool parse_ipv4_url(std::string_view url, std::string_view scheme, std::string& host,
                           std::uint16_t& port, in_addr& addr, std::string& why,
                           bool resolve = false) {
  if (url.substr(0, scheme.size()) != scheme) {
    why =
        std::string("expected ").append(scheme).append("HOST:PORT, got '").append(url).append("'");
    return false;
  }
  const std::string_view rest = url.substr(scheme.size());
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    why = std::string("'").append(url).append("' has no HOST:PORT");
    return false;
  }
  const std::string_view digits = rest.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
      value > 65535) {
    why = std::string("port '").append(digits).append("' of '").append(url).append(
        "' is not in 0..65535");
    return false;
  }
  host = std::string(rest.substr(0, colon));
  if (::inet_pton(AF_INET, host.c_str(), &addr) != 1) {
    if (!resolve) {
      why = std::string("host '").append(host).append("' is not an IPv4 address");
      return false;
    }
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (rc != 0 || found == nullptr) {
      why = std::string("host '").append(host).append("' does not resolve to an IPv4 address: ");
      why.append(rc != 0 ? ::gai_strerror(rc) : "no address");
      return false;
    }
    addr = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
    ::freeaddrinfo(found);
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

/// The socket address of an IPv4 address and port.
inline sockaddr_in to_sockaddr(in_addr addr, std::uint16_t port) noexcept {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr = addr;
  return sa;
}

}  // namespace hft::net
