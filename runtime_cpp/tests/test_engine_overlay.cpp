#include <gtest/gtest.h>

#include <string>

#include "hft/engine/overlay.hpp"

namespace {

using hft::engine::parse_overlay;

TEST(EngineOverlay, ReadsWhatHftcOptimizeWrites) {
  // The exact shape of hftc.params_overlay.overlay_yaml.
  const auto r = parse_overlay(
      "# Chosen by hftc optimize (study `s`, trial 7: pnl 12.5).\n"
      "#\n"
      "strategies:\n"
      "  mm:\n"
      "    params:\n"
      "      spread_bps: 0.7\n"
      "      inventory_limit: 2500\n"
      "      risk_factor: 1.0e-05\n",
      "best_params.yaml");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.entries.size(), 3U);
  EXPECT_EQ(r.entries[0].strategy, "mm");
  EXPECT_EQ(r.entries[0].param, "spread_bps");
  EXPECT_DOUBLE_EQ(r.entries[0].value, 0.7);
  EXPECT_FALSE(r.entries[0].integral);
  EXPECT_EQ(r.entries[1].param, "inventory_limit");
  EXPECT_DOUBLE_EQ(r.entries[1].value, 2500);
  EXPECT_TRUE(r.entries[1].integral);
  EXPECT_DOUBLE_EQ(r.entries[2].value, 1e-5);
  EXPECT_EQ(r.entries[2].line, 8);
  EXPECT_EQ(r.entries[2].col, 20);
}

TEST(EngineOverlay, FlowStyleQuotedKeysAndSeveralStrategies) {
  const auto r = parse_overlay(
      "---\n"
      "strategies:\n"
      "    a:\n"
      "        params: {x: 1, \"y\": -2.5e3}   # trailing comment\n"
      "    'b':\n"
      "        params:\n"
      "            flag: true\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.entries.size(), 3U);
  EXPECT_EQ(r.entries[1].strategy, "a");
  EXPECT_EQ(r.entries[1].param, "y");
  EXPECT_DOUBLE_EQ(r.entries[1].value, -2500);
  EXPECT_EQ(r.entries[2].strategy, "b");
  EXPECT_DOUBLE_EQ(r.entries[2].value, 1.0);
}

struct Bad {
  const char* text;
  const char* error;
};

TEST(EngineOverlay, RefusesWithLineAndColumn) {
  const Bad cases[] = {
      {"strategies:\n  mm:\n    params:\n\tx: 1\n", "f:4:1: tab character"},
      {"params:\n", "f:1:1: unknown key `params`"},
      {"strategies:\n  mm:\n    params:\n      x: fast\n",
       "f:4:10: the value of `x` is not a number"},
      {"strategies:\n  mm:\n    params:\n      x: .inf\n",
       "f:4:10: the value of `x` is not a number"},
      {"strategies:\n  mm:\n    params:\n      x: 0x10\n",
       "f:4:10: the value of `x` is not a number"},
      {"strategies:\n  mm:\n    params:\n      x: 1e999\n",
       "f:4:10: the value of `x` is not a number"},
      {"strategies:\n  mm:\n    params:\n      x: 1\n      x: 2\n",
       "f:5:10: duplicate parameter `x`"},
      {"strategies:\n  mm:\n    params:\n      - x\n", "f:4:7: expected `key: value`"},
      {"strategies:\n  mm:\n    params: [1, 2]\n", "f:3:13: `params:` holds a mapping"},
      {"strategies:\n  mm:\n    defaults:\n", "f:3:5: unknown key `defaults`"},
      {"strategies:\n  mm:\n    params: {x: 1, x: 2}\n", "duplicate parameter `x`"},
      {"# nothing\n", "f:1:1: an overlay starts with `strategies:`"},
      {"strategies:\n  mm: 3\n", "f:2:7: a strategy holds `params:`"},
      {"strategies:\n  m&m:\n", "f:2:3: a key is a plain name"},
      {"strategies:\n  mm:\n    params:\n      x: &a 1\n", "not a number"},
  };
  for (const Bad& b : cases) {
    const auto r = parse_overlay(b.text, "f");
    EXPECT_FALSE(r.ok) << b.text;
    EXPECT_TRUE(r.entries.empty());
    EXPECT_NE(r.error.find(b.error), std::string::npos) << "got: " << r.error << "\nfor:\n"
                                                        << b.text;
  }
}

TEST(EngineOverlay, AMissingFileIsAnError) {
  const auto r = hft::engine::read_overlay("/nonexistent/best_params.yaml");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("cannot read"), std::string::npos);
}

}  // namespace
