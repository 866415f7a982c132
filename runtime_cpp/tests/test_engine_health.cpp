#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "hft/engine/health.hpp"

namespace {

using hft::engine::HealthConfig;
using hft::engine::HealthServer;
using hft::engine::HealthState;
using hft::engine::KillControl;

/// One raw HTTP exchange on loopback; returns the whole response.
std::string http(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    ::shutdown(fd, SHUT_WR);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string get(std::uint16_t port, const std::string& path) {
  return http(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

std::string post(std::uint16_t port, const std::string& path, const std::string& auth,
                 const std::string& body) {
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!auth.empty()) req += "authorization:  " + auth + "\r\n";  // any case, extra space
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return http(port, req);
}

constexpr std::uint64_t kMs = 1'000'000;

TEST(EngineHealth, LivenessFollowsTheThreadsBeats) {
  HealthState s(HealthConfig{5000, 2000, false});
  const auto feed = s.add_thread("feed");
  const auto strat = s.add_thread("strategy");
  const std::uint64_t t0 = hft::engine::monotonic_ns();
  s.beat(feed, t0);
  s.beat(strat, t0);
  EXPECT_TRUE(s.livez(t0 + 1500 * kMs).ok);
  s.beat(feed, t0 + 2500 * kMs);
  const auto r = s.livez(t0 + 3000 * kMs);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("ok thread feed: beat 500 ms ago"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("fail thread strategy: beat 3000 ms ago"), std::string::npos) << r.text;
  s.beat(strat, t0 + 3000 * kMs);
  EXPECT_TRUE(s.livez(t0 + 3000 * kMs).ok);
  s.broken();
  EXPECT_FALSE(s.livez(t0 + 3000 * kMs).ok);
}

TEST(EngineHealth, StartupWaitsForTheBookAndTheFirstLogon) {
  HealthState s(HealthConfig{5000, 5000, true});
  EXPECT_FALSE(s.startupz().ok);
  s.snapshot_done();
  const auto r = s.startupz();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("fail session: first logon"), std::string::npos) << r.text;
  s.logged_on(true);
  s.logged_on(false);  // a later disconnect does not undo startup
  EXPECT_TRUE(s.startupz().ok);
  HealthState no_venue(HealthConfig{5000, 5000, false});
  no_venue.snapshot_done();
  EXPECT_TRUE(no_venue.startupz().ok);
}

TEST(EngineHealth, ReadinessNeedsFreshDataALogonAndAnArmedGate) {
  HealthState s(HealthConfig{1000, 5000, true});
  const std::uint64_t t0 = hft::engine::monotonic_ns();
  EXPECT_FALSE(s.readyz(t0).ok);
  s.snapshot_done();
  s.market_data(t0);
  s.logged_on(true);
  EXPECT_TRUE(s.readyz(t0 + 999 * kMs).ok) << s.readyz(t0 + 999 * kMs).text;
  const auto stale = s.readyz(t0 + 1500 * kMs);
  EXPECT_FALSE(stale.ok);
  EXPECT_NE(stale.text.find("fail market data: 1500 ms ago"), std::string::npos) << stale.text;
  s.market_data(t0 + 1500 * kMs);
  s.logged_on(false);
  EXPECT_FALSE(s.readyz(t0 + 1500 * kMs).ok);
  s.logged_on(true);
  s.risk_armed(false);
  EXPECT_FALSE(s.readyz(t0 + 1500 * kMs).ok);
  s.risk_armed(true);
  EXPECT_TRUE(s.readyz(t0 + 1500 * kMs).ok);
  s.draining();
  EXPECT_FALSE(s.readyz(t0 + 1500 * kMs).ok);
  EXPECT_TRUE(s.livez(t0 + 1500 * kMs).ok);  // draining is not dead
}

TEST(EngineHealth, ProbesOverHttp) {
  HealthState s(HealthConfig{60000, 60000, false});
  HealthServer server(s, 0, "127.0.0.1");
  auto r = get(server.port(), "/readyz");
  EXPECT_EQ(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0U) << r;
  EXPECT_NE(r.find("fail market data: none yet"), std::string::npos) << r;
  s.snapshot_done();
  s.market_data();
  r = get(server.port(), "/readyz");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << r;
  EXPECT_EQ(get(server.port(), "/startupz").rfind("HTTP/1.1 200", 0), 0U);
  EXPECT_EQ(get(server.port(), "/livez").rfind("HTTP/1.1 200", 0), 0U);
  EXPECT_EQ(get(server.port(), "/livez?verbose=1").rfind("HTTP/1.1 200", 0), 0U);
  EXPECT_EQ(get(server.port(), "/metrics").rfind("HTTP/1.1 404", 0), 0U);
  EXPECT_EQ(post(server.port(), "/livez", "", "").rfind("HTTP/1.1 405", 0), 0U);
  // No kill control configured: the endpoints do not exist.
  EXPECT_EQ(post(server.port(), "/kill", "Bearer x", "").rfind("HTTP/1.1 404", 0), 0U);
  EXPECT_EQ(http(server.port(), "nonsense\r\n\r\n").rfind("HTTP/1.1 400", 0), 0U);
  EXPECT_EQ(http(server.port(), "POST /kill HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0U);
}

TEST(EngineHealth, KillSwitchOverHttpNeedsTheToken) {
  HealthState s;
  std::atomic<int> kills{0};
  std::atomic<int> rearms{0};
  std::string last_reason;
  KillControl control{"t0ken-123",
                      [&](std::string_view reason) {
                        last_reason = std::string(reason);
                        s.risk_armed(false);
                        kills.fetch_add(1);
                      },
                      [&](std::string_view) {
                        s.risk_armed(true);
                        rearms.fetch_add(1);
                      }};
  HealthServer server(s, 0, "127.0.0.1", control);
  EXPECT_EQ(post(server.port(), "/kill", "", "x").rfind("HTTP/1.1 401", 0), 0U);
  EXPECT_EQ(post(server.port(), "/kill", "Basic dTpw", "x").rfind("HTTP/1.1 401", 0), 0U);
  EXPECT_EQ(post(server.port(), "/kill", "Bearer t0ken-12", "x").rfind("HTTP/1.1 403", 0), 0U);
  EXPECT_EQ(post(server.port(), "/kill", "Bearer t0ken-1234", "x").rfind("HTTP/1.1 403", 0), 0U);
  EXPECT_EQ(get(server.port(), "/kill").rfind("HTTP/1.1 405", 0), 0U);
  EXPECT_EQ(kills.load(), 0);
  const auto r = post(server.port(), "/kill", "Bearer t0ken-123", "runaway quoting");
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0U) << r;
  EXPECT_EQ(kills.load(), 1);
  EXPECT_EQ(last_reason, "runaway quoting");
  EXPECT_NE(get(server.port(), "/readyz").find("fail risk gate: armed"), std::string::npos);
  EXPECT_EQ(post(server.port(), "/rearm", "Bearer t0ken-123", "").rfind("HTTP/1.1 200", 0), 0U);
  EXPECT_EQ(rearms.load(), 1);
}

TEST(EngineHealth, ABodyArrivingLaterLeavesTheRequestLineIntact) {
  // The body comes in a second packet and is large enough to make the server's buffer grow: the
  // request line must be read from the grown buffer (an old copy once gave random 404s).
  HealthState s;
  std::atomic<int> kills{0};
  KillControl control{"tok",
                      [&](std::string_view reason) {
                        kills.fetch_add(reason == std::string(200, 'b') ? 1 : 100);
                      },  // the reason is cut at 200
                      [](std::string_view) {}};
  HealthServer server(s, 0, "127.0.0.1", control);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  const std::string head =
      "POST /kill HTTP/1.1\r\nAuthorization: Bearer tok\r\nContent-Length: 4000\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::string body(4000, 'b');
  ASSERT_EQ(::send(fd, body.data(), body.size(), MSG_NOSIGNAL), static_cast<ssize_t>(body.size()));
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out;
  EXPECT_EQ(kills.load(), 1);
}

TEST(EngineHealth, SecretComparisonIsExact) {
  EXPECT_TRUE(HealthServer::same_secret("abc", "abc"));
  EXPECT_FALSE(HealthServer::same_secret("abd", "abc"));
  EXPECT_FALSE(HealthServer::same_secret("ab", "abc"));
  EXPECT_FALSE(HealthServer::same_secret("abcd", "abc"));
  EXPECT_FALSE(HealthServer::same_secret("", "abc"));
}

}  // namespace
