#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "hft/metrics/exporter.hpp"
#include "hft/metrics/registry.hpp"
#include "hft/metrics/shm_metrics.hpp"

namespace {

using hft::metrics::HttpExporter;
using hft::metrics::MetricType;
using hft::metrics::Registry;
using hft::metrics::ShmMetrics;
using hft::metrics::ShmMetricsReader;

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

std::string unique_name(const char* base) {
  return std::string(base) + "_" + std::to_string(::getpid());
}

TEST(Metrics, ExpositionExactFormat) {
  Registry reg(8);
  auto msgs =
      reg.counter("hftc_messages_total", "Market-data messages decoded.", {{"pipeline", "fx"}});
  auto pos_eur = reg.gauge("hftc_position", "Signed position.",
                           {{"pipeline", "fx"}, {"instrument", "EURUSD"}});
  auto lat = reg.histogram("hftc_tick_to_order_latency_ns", "Tick-to-order latency, ns.",
                           {{"pipeline", "fx"}});
  auto pos_gbp = reg.gauge("hftc_position", "Signed position.",
                           {{"pipeline", "fx"}, {"instrument", "GBP\"USD"}});
  msgs.inc();
  msgs.inc(41);
  pos_eur.set(-2.5);
  pos_gbp.set(3);
  lat.record(5);           // le=10
  lat.record(10);          // le=10 (bounds are inclusive)
  lat.record(150);         // le=200
  lat.record(20'000'000);  // +Inf
  const std::string expected =
      "# HELP hftc_messages_total Market-data messages decoded.\n"
      "# TYPE hftc_messages_total counter\n"
      "hftc_messages_total{pipeline=\"fx\"} 42\n"
      "# HELP hftc_position Signed position.\n"
      "# TYPE hftc_position gauge\n"
      "hftc_position{pipeline=\"fx\",instrument=\"EURUSD\"} -2.5\n"
      "hftc_position{pipeline=\"fx\",instrument=\"GBP\\\"USD\"} 3\n"
      "# HELP hftc_tick_to_order_latency_ns Tick-to-order latency, ns.\n"
      "# TYPE hftc_tick_to_order_latency_ns histogram\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"10\"} 2\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"20\"} 2\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"50\"} 2\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"100\"} 2\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"200\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"500\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"1000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"2000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"5000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"10000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"20000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"50000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"100000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"200000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"500000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"1000000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"2000000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"5000000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"10000000\"} 3\n"
      "hftc_tick_to_order_latency_ns_bucket{pipeline=\"fx\",le=\"+Inf\"} 4\n"
      "hftc_tick_to_order_latency_ns_sum{pipeline=\"fx\"} 20000165\n"
      "hftc_tick_to_order_latency_ns_count{pipeline=\"fx\"} 4\n";
  EXPECT_EQ(reg.expose(), expected);
}

TEST(Metrics, UnlabelledGaugeSpecialValuesAndReRegistration) {
  Registry reg(4);
  auto g = reg.gauge("up", "Line one\\two\nthree");
  g.set(std::numeric_limits<double>::infinity());
  EXPECT_EQ(reg.expose(), "# HELP up Line one\\\\two\\nthree\n# TYPE up gauge\nup +Inf\n");
  g.set(std::numeric_limits<double>::quiet_NaN());
  EXPECT_NE(reg.expose().find("up NaN\n"), std::string::npos);
  g.set(1.0);
  g.add(0.25);
  EXPECT_DOUBLE_EQ(reg.gauge("up", "again").value(), 1.25);  // same series, same slot
  EXPECT_EQ(reg.size(), 1u);
  EXPECT_THROW(reg.counter("up", "other type"), std::invalid_argument);
  EXPECT_THROW(reg.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(reg.counter("x", "x", {{"le", "1"}}), std::invalid_argument);
  reg.counter("a", "a");
  reg.counter("b", "b");
  reg.counter("c", "c");
  EXPECT_THROW(reg.counter("d", "d"), std::length_error);
}

TEST(MetricsThreads, ConcurrentUpdatesSum) {
  Registry reg(8);
  auto c = reg.counter("hftc_orders_total", "Orders.", {{"pipeline", "fx"}});
  auto h = reg.histogram("hftc_tick_to_order_latency_ns", "Latency.", {{"pipeline", "fx"}});
  auto g = reg.gauge("hftc_pnl", "PnL.", {{"pipeline", "fx"}});
  constexpr std::uint64_t kN = 100'000;
  auto work = [&](std::uint64_t base) {
    for (std::uint64_t i = 0; i < kN; ++i) {
      c.inc();
      h.record(base + i % 1000);
      g.add(1.0);
    }
  };
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load(std::memory_order_relaxed)) {
      const std::string text = reg.expose();
      EXPECT_NE(text.find("hftc_orders_total"), std::string::npos);
    }
  });
  std::thread t1(work, 100);
  std::thread t2(work, 5000);
  t1.join();
  t2.join();
  done.store(true, std::memory_order_relaxed);
  reader.join();
  EXPECT_EQ(c.value(), 2 * kN);
  EXPECT_EQ(h.count(), 2 * kN);
  std::uint64_t expected_sum = 0;
  for (std::uint64_t i = 0; i < kN; ++i) expected_sum += (100 + i % 1000) + (5000 + i % 1000);
  EXPECT_EQ(h.sum(), expected_sum);
  EXPECT_DOUBLE_EQ(g.value(), 2.0 * kN);
}

TEST(MetricsThreads, HttpScrapeOverLoopback) {
  Registry reg(4);
  auto c = reg.counter("hftc_messages_total", "Messages.", {{"pipeline", "p"}});
  c.inc(7);
  HttpExporter http(reg, 0, "127.0.0.1");
  ASSERT_NE(http.port(), 0);
  const std::string metrics = http_get(http.port(), "/metrics");
  EXPECT_EQ(metrics.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << metrics;
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  const std::string body = reg.expose();
  const std::string got = metrics.substr(metrics.find("\r\n\r\n") + 4);
  EXPECT_EQ(got.substr(0, body.size()), body);
  EXPECT_NE(got.find("\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "),
            std::string::npos);
  EXPECT_NE(
      got.find("\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "),
      std::string::npos);
  EXPECT_NE(metrics.find("Content-Length: " + std::to_string(got.size()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("hftc_messages_total{pipeline=\"p\"} 7\n"), std::string::npos);
  const std::string health = http_get(http.port(), "/healthz");
  EXPECT_EQ(health.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(health.substr(health.size() - 3), "ok\n");
  EXPECT_EQ(http_get(http.port(), "/nope").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(http.requests(), 3u);
  HttpExporter bare(reg, 0, "127.0.0.1", false);
  const std::string plain = http_get(bare.port(), "/metrics");
  EXPECT_EQ(plain.substr(plain.find("\r\n\r\n") + 4), body);
  http.stop();
  http.stop();
  EXPECT_EQ(http_get(http.port(), "/metrics"), "");
}

TEST(Metrics, SharedMemoryRead) {
  const std::string name = unique_name("hft_metrics_test");
  {
    ShmMetrics shm(name, 8);
    auto c = shm.registry().counter("hftc_orders_total", "Orders.", {{"pipeline", "fx"}});
    auto g =
        shm.registry().gauge("hftc_pnl", "PnL.", {{"pipeline", "fx"}, {"instrument", "EURUSD"}});
    auto h =
        shm.registry().histogram("hftc_tick_to_order_latency_ns", "Latency.", {{"pipeline", "fx"}});
    c.inc(3);
    g.set(12.5);
    h.record(300);
    h.record(700);

    ShmMetricsReader reader(name);
    EXPECT_EQ(reader.size(), 3u);
    EXPECT_EQ(reader.expose(), shm.registry().expose());
    auto oc = reader.find("hftc_orders_total", "pipeline=\"fx\"");
    ASSERT_TRUE(oc.has_value());
    EXPECT_EQ(oc->type, MetricType::counter);
    EXPECT_EQ(oc->value, 3.0);
    c.inc();  // live: the reader sees later updates
    EXPECT_EQ(reader.find("hftc_orders_total", "pipeline=\"fx\"")->value, 4.0);
    EXPECT_EQ(reader.find("hftc_pnl", "pipeline=\"fx\",instrument=\"EURUSD\"")->value, 12.5);
    auto oh = reader.find("hftc_tick_to_order_latency_ns", "pipeline=\"fx\"");
    ASSERT_TRUE(oh.has_value());
    EXPECT_EQ(oh->value, 2.0);
    EXPECT_EQ(oh->sum, 1000u);
    EXPECT_FALSE(reader.find("hftc_orders_total").has_value());
  }
  EXPECT_THROW(ShmMetricsReader{name}, std::system_error);  // unlinked on close
}

}  // namespace
