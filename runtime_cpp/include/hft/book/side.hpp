// Book side, shared by the L2 (price-level) and L3 (order-level) books.
#pragma once

#include <cstdint>

namespace hft {

/// Side of the book. The numeric values are part of the pre-decoded replay format used by the
/// benchmarks (bench/predecode_binance.py writes 0 for bids and 1 for asks), so keep them.
enum class Side : uint8_t { Bid = 0, Ask = 1 };

/// The other side of the book.
constexpr Side opposite(Side s) noexcept { return s == Side::Bid ? Side::Ask : Side::Bid; }

}  // namespace hft
