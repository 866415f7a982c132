#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "hft/engine/ops.hpp"

namespace {

using hft::engine::KillSwitch;
using hft::engine::OpsOptions;
using hft::engine::parse_ops_flag;

TEST(EngineOps, ParsesTheContractFlags) {
  OpsOptions o;
  std::string err;
  EXPECT_TRUE(parse_ops_flag("--health-port", "8080", o, err));
  EXPECT_TRUE(parse_ops_flag("--params", "/etc/hftc/params/params.yaml", o, err));
  EXPECT_TRUE(parse_ops_flag("--journal", "/var/lib/hftc/journal/engine", o, err));
  EXPECT_TRUE(parse_ops_flag("--shutdown-deadline-ms", "20000", o, err));
  EXPECT_TRUE(parse_ops_flag("--md-stale-ms", "250", o, err));
  EXPECT_TRUE(parse_ops_flag("--kill-file", "/tmp/kill", o, err));
  EXPECT_TRUE(parse_ops_flag("--kill-token-file", "/run/token", o, err));
  EXPECT_TRUE(err.empty()) << err;
  EXPECT_EQ(*o.health_port, 8080);
  EXPECT_EQ(o.params_file, "/etc/hftc/params/params.yaml");
  EXPECT_EQ(o.shutdown_deadline_ms, 20000U);
  EXPECT_EQ(o.md_stale_ms, 250U);
  EXPECT_FALSE(parse_ops_flag("--metrics-port", "9100", o, err));  // the engine's own flag
  for (const char* bad : {"70000", "-1", "8o80", ""}) {
    err.clear();
    EXPECT_TRUE(parse_ops_flag("--health-port", bad, o, err));
    EXPECT_NE(err.find("--health-port takes a whole number"), std::string::npos) << bad;
  }
  err.clear();
  EXPECT_TRUE(parse_ops_flag("--params", "", o, err));
  EXPECT_EQ(err, "--params takes a path");
}

TEST(EngineOps, KillSwitchEngagesOnceAndTellsItsListener) {
  KillSwitch k;
  std::vector<std::string> events;
  k.on_change([&](bool engaged, KillSwitch::Source s, std::string_view why) {
    events.push_back(std::string(engaged ? "engaged" : "rearmed") + "/" + std::to_string(s) + "/" +
                     std::string(why));
  });
  EXPECT_FALSE(k.engaged());
  k.engage(KillSwitch::kHttp, "operator");
  k.engage(KillSwitch::kSignal, "again");  // already engaged: nothing
  EXPECT_TRUE(k.engaged());
  k.rearm(KillSwitch::kOperator, "all clear");
  k.rearm(KillSwitch::kOperator, "twice");
  EXPECT_FALSE(k.engaged());
  EXPECT_EQ(events, (std::vector<std::string>{"engaged/2/operator", "rearmed/4/all clear"}));
  EXPECT_EQ(k.engagements(), 1U);
}

struct Params {
  double spread = 0.5;
  long window = 20;
};

bool set(Params& p, const char* name, double v, const char*& why) {
  if (std::string_view(name) == "spread") {
    if (v < 0.1 || v > 2.0) {
      why = "spread is outside its range [0.1, 2.0]";
      return false;
    }
    p.spread = v;
    return true;
  }
  if (std::string_view(name) == "window") {
    p.window = static_cast<long>(v);
    return true;
  }
  why = "unknown parameter";
  return false;
}

TEST(EngineOps, OverlaysApplyAllOrNothing) {
  const Params current{};
  std::string err;
  auto ok = hft::engine::overlay_params(
      hft::engine::parse_overlay("strategies:\n  mm:\n    params: {spread: 0.7, window: 50}\n  "
                                 "other:\n    params: {x: 1}\n"),
      "mm", current, set, err);
  ASSERT_TRUE(ok.has_value()) << err;
  EXPECT_DOUBLE_EQ(ok->spread, 0.7);
  EXPECT_EQ(ok->window, 50);
  auto bad = hft::engine::overlay_params(
      hft::engine::parse_overlay(
          "strategies:\n  mm:\n    params:\n      window: 50\n      spread: 9\n"),
      "mm", current, set, err);
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(err, "line 5, column 15: spread: spread is outside its range [0.1, 2.0]");
  bad = hft::engine::overlay_params(
      hft::engine::parse_overlay("strategies:\n  other:\n    params: {x: 1}\n"), "mm", current, set,
      err);
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(err, "no parameters for strategy `mm` in the overlay");
  bad = hft::engine::overlay_params(hft::engine::parse_overlay("strategies: 3\n", "p.yaml"), "mm",
                                    current, set, err);
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(err.rfind("p.yaml:1:", 0), 0U) << err;
}

TEST(EngineOps, HousekeepingWatchesTheKillFileAndSighup) {
  const auto file =
      std::filesystem::temp_directory_path() / ("hft_kill_" + std::to_string(::getpid()));
  std::filesystem::remove(file);
  hft::engine::HealthState health;
  KillSwitch kill;
  int reloads = 0;
  hft::engine::Housekeeping hk(
      health, kill, file.string(), [&] { ++reloads; }, std::chrono::milliseconds(100),
      /*start=*/false);
  hk.tick();
  EXPECT_FALSE(kill.engaged());
  std::ofstream(file) << "stop";
  hk.tick();
  EXPECT_TRUE(kill.engaged());
  std::filesystem::remove(file);
  hk.tick();
  EXPECT_FALSE(kill.engaged());  // the file engaged it, so removing the file re-arms it
  kill.engage(KillSwitch::kHttp, "operator");
  hk.tick();
  EXPECT_TRUE(kill.engaged());  // not the file's to re-arm
  EXPECT_EQ(reloads, 0);
  std::raise(SIGHUP);
  hk.tick();
  EXPECT_EQ(reloads, 1);
  kill.rearm(KillSwitch::kOperator, "clear");
  std::raise(SIGUSR1);
  hk.tick();
  EXPECT_TRUE(kill.engaged());
  std::raise(SIGUSR2);
  hk.tick();
  EXPECT_FALSE(kill.engaged());
  hk.tick();
  EXPECT_EQ(reloads, 1);
  EXPECT_TRUE(health.livez().ok);
}

TEST(EngineOps, TokenFilesLoseTheirLineEnd) {
  const auto file =
      std::filesystem::temp_directory_path() / ("hft_token_" + std::to_string(::getpid()));
  std::ofstream(file) << "s3cret \r\nsecond line\n";
  EXPECT_EQ(hft::engine::read_first_line(file.string()), "s3cret");
  std::filesystem::remove(file);
  EXPECT_EQ(hft::engine::read_first_line(file.string()), "");
}

}  // namespace
