// Umbrella header for the hftc C++ runtime.
#pragma once

#include "hft/clock.hpp"
#include "hft/cpu.hpp"
#include "hft/pool.hpp"
#include "hft/shm_ring.hpp"
#include "hft/spsc_ring.hpp"
#include "hft/thread.hpp"

#if __has_include("hft/histogram.hpp")
#include "hft/histogram.hpp"
#endif
#if __has_include("hft/book/l2_book.hpp")
#include "hft/book/l2_book.hpp"
#endif
#if __has_include("hft/book/l3_book.hpp")
#include "hft/book/l3_book.hpp"
#endif
