// Umbrella header of the native backtest engine (semantics: hft/backtest/README.md).
#pragma once

#include "hft/backtest/engine.hpp"
#include "hft/backtest/stats.hpp"
#include "hft/backtest/tape.hpp"
#include "hft/backtest/types.hpp"
