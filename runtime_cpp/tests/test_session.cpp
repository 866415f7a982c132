#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <thread>

#include "hft/session/session.hpp"
#include "hft/session/tcp.hpp"

namespace {

using namespace hft::session;

constexpr std::uint64_t kMs = 1'000'000;

TEST(Session, ClientLogonReconcileThenActive) {
  Session s(Role::kClient, SessionConfig{100 * kMs, 3});
  s.on_connected(0);
  EXPECT_EQ(s.state(), State::kAwaitingLogon);
  EXPECT_EQ(s.next_seq(0), 1u);  // our Logon
  EXPECT_EQ(s.on_receive(Kind::kLogon, 1, kMs), Verdict::kLoggedOn);
  EXPECT_EQ(s.state(), State::kReconciling);
  EXPECT_EQ(s.on_receive(Kind::kApplication, 2, kMs), Verdict::kDeliver);  // a reconcile report
  EXPECT_EQ(s.on_receive(Kind::kHeartbeat, 3, kMs), Verdict::kReconcileDone);
  EXPECT_EQ(s.state(), State::kActive);
  EXPECT_EQ(s.on_receive(Kind::kHeartbeat, 4, kMs), Verdict::kConsumed);
  EXPECT_EQ(s.next_seq(2 * kMs), 2u);
  EXPECT_EQ(s.counters().logons, 1u);
  EXPECT_EQ(s.counters().heartbeats_received, 2u);
}

TEST(Session, AnyOtherSeqThanExpectedIsAGap) {
  Session s(Role::kClient, SessionConfig{});
  s.on_connected(0);
  EXPECT_EQ(s.on_receive(Kind::kLogon, 2, 0), Verdict::kSequenceGap);
  EXPECT_EQ(s.state(), State::kClosed);
  s.on_connected(0);  // a new connection starts at 1 again
  EXPECT_EQ(s.on_receive(Kind::kLogon, 1, 0), Verdict::kLoggedOn);
  EXPECT_EQ(s.on_receive(Kind::kHeartbeat, 2, 0), Verdict::kReconcileDone);
  EXPECT_EQ(s.on_receive(Kind::kApplication, 2, 0), Verdict::kSequenceGap);
  EXPECT_EQ(s.counters().sequence_gaps, 2u);
}

TEST(Session, ServerWantsLogonFirst) {
  Session s(Role::kServer, SessionConfig{});
  s.on_connected(0);
  EXPECT_EQ(s.on_receive(Kind::kApplication, 1, 0), Verdict::kProtocolError);
  s.on_connected(0);
  EXPECT_EQ(s.on_receive(Kind::kLogon, 1, 0), Verdict::kLoggedOn);
  EXPECT_EQ(s.state(), State::kAwaitingLogon) << "the server checks the credentials first";
  s.accept_logon();
  EXPECT_EQ(s.state(), State::kActive);
  EXPECT_EQ(s.on_receive(Kind::kApplication, 2, 0), Verdict::kDeliver);
  EXPECT_EQ(s.on_receive(Kind::kLogon, 3, 0), Verdict::kProtocolError);
}

TEST(Session, LogoutBothWays) {
  Session a(Role::kClient, SessionConfig{});
  a.on_connected(0);
  a.on_receive(Kind::kLogon, 1, 0);
  EXPECT_EQ(a.on_receive(Kind::kLogout, 2, 0), Verdict::kAnswerLogout);
  EXPECT_EQ(a.state(), State::kClosed);
  Session b(Role::kClient, SessionConfig{});
  b.on_connected(0);
  b.on_receive(Kind::kLogon, 1, 0);
  b.on_receive(Kind::kHeartbeat, 2, 0);
  b.next_logout_seq(0);
  EXPECT_EQ(b.state(), State::kLoggingOut);
  EXPECT_EQ(b.on_receive(Kind::kApplication, 3, 0), Verdict::kDeliver);  // crossed our Logout
  EXPECT_EQ(b.on_receive(Kind::kLogout, 4, 0), Verdict::kLogoutDone);
}

TEST(Session, HeartbeatsAndDeadPeer) {
  Session s(Role::kClient, SessionConfig{100 * kMs, 3});
  s.on_connected(0);
  EXPECT_FALSE(s.heartbeat_due(500 * kMs)) << "no heartbeats before the logon answer";
  s.next_seq(0);
  s.on_receive(Kind::kLogon, 1, 10 * kMs);
  s.on_receive(Kind::kHeartbeat, 2, 10 * kMs);
  EXPECT_FALSE(s.heartbeat_due(99 * kMs));
  EXPECT_TRUE(s.heartbeat_due(100 * kMs));
  s.next_heartbeat_seq(100 * kMs);
  EXPECT_FALSE(s.heartbeat_due(150 * kMs));
  EXPECT_FALSE(s.check_dead(309 * kMs));
  EXPECT_TRUE(s.check_dead(310 * kMs));
  EXPECT_FALSE(s.check_dead(900 * kMs)) << "counted once";
  EXPECT_EQ(s.counters().dead_peers, 1u);
  EXPECT_EQ(s.counters().heartbeats_sent, 1u);
}

TEST(Session, BackoffDoublesUpToItsBoundAndResets) {
  Backoff b(100 * kMs, 1000 * kMs);
  EXPECT_EQ(b.fail(0), 100 * kMs);
  EXPECT_FALSE(b.due(99 * kMs));
  EXPECT_TRUE(b.due(100 * kMs));
  EXPECT_EQ(b.fail(0), 200 * kMs);
  EXPECT_EQ(b.fail(0), 400 * kMs);
  EXPECT_EQ(b.fail(0), 800 * kMs);
  EXPECT_EQ(b.fail(0), 1000 * kMs);
  EXPECT_EQ(b.fail(0), 1000 * kMs);
  b.reset();
  EXPECT_EQ(b.next_delay(), 100 * kMs);
}

TEST(SessionTcp, ParsesUrls) {
  std::string why;
  const auto ep = parse_tcp_url("tcp://127.0.0.1:9000", why);
  ASSERT_TRUE(ep) << why;
  EXPECT_EQ(ep->port, 9000);
  EXPECT_EQ(ep->url(), "tcp://127.0.0.1:9000");
  EXPECT_FALSE(parse_tcp_url("udp://127.0.0.1:1", why));
  EXPECT_FALSE(parse_tcp_url("tcp://127.0.0.1:", why));
  EXPECT_FALSE(parse_tcp_url("tcp://127.0.0.1:70000", why));
  EXPECT_NE(why.find("0..65535"), std::string::npos);
  // A DNS name (a venue behind a Service) is resolved once, here; localhost needs no DNS server.
  const auto named = parse_tcp_url("tcp://localhost:80", why);
  ASSERT_TRUE(named) << why;
  EXPECT_EQ(named->addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_EQ(named->url(), "tcp://localhost:80");
}

TEST(SessionTcp, FramesBothWaysOverLoopback) {
  std::string why;
  auto ep = *parse_tcp_url("tcp://127.0.0.1:0", why);
  TcpListener listener(ep);
  ep.port = listener.port();
  ASSERT_NE(ep.port, 0);
  TcpConnection client(8);
  ASSERT_TRUE(client.connect(ep));
  TcpConnection server(8);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server.connected() && std::chrono::steady_clock::now() < deadline) {
    const int fd = listener.accept();
    if (fd >= 0) server.adopt(fd);
    client.poll_connect(1);
  }
  ASSERT_TRUE(server.connected());
  while (client.poll_connect(1) == ConnectStatus::kInProgress) {
  }
  ASSERT_TRUE(client.connected());
  const std::string big(60000, 'z');
  for (int i = 0; i < 4; ++i) {  // may be more than the socket takes at once: the rest queues
    ASSERT_TRUE(client.send_frame(std::span<const char>(big.data(), big.size())));
    ASSERT_TRUE(client.send_frame(std::span<const char>("message#", 8)));
  }
  int got = 0;
  std::size_t bytes = 0;
  std::span<const char> msg;
  while (got < 8 && std::chrono::steady_clock::now() < deadline) {
    client.flush();
    server.read();
    while (server.next(msg)) {
      ++got;
      bytes += msg.size();
    }
  }
  EXPECT_EQ(got, 8);
  EXPECT_EQ(bytes, 4 * (big.size() + 8));
  EXPECT_EQ(client.pending(), 0u);
  ASSERT_TRUE(server.send_frame(std::span<const char>("answer!!", 8)));
  while (!client.next(msg) && std::chrono::steady_clock::now() < deadline) client.read();
  EXPECT_EQ(std::string(msg.begin(), msg.end()), "answer!!");
  server.close();
  ReadResult r;
  do {
    r = client.read();
  } while (r.status == ReadStatus::kOk && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(r.status, ReadStatus::kClosed);
}

TEST(SessionTcp, ConnectToAClosedPortFails) {
  std::string why;
  auto ep = *parse_tcp_url("tcp://127.0.0.1:0", why);
  {
    TcpListener l(ep);
    ep.port = l.port();
  }  // closed again: nothing listens there now
  TcpConnection c(8);
  ConnectStatus st = ConnectStatus::kFailed;
  if (c.connect(ep)) {
    do {
      st = c.poll_connect(100);
    } while (st == ConnectStatus::kInProgress);
  }
  EXPECT_EQ(st, ConnectStatus::kFailed);
  EXPECT_EQ(c.error(), ECONNREFUSED);
}

}  // namespace
