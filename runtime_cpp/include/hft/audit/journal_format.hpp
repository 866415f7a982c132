// Audit journal file format: record types, payload layouts, file and record headers and the CRC.
// Shared by the writer (hft/audit/journal.hpp) and the reader (hft/audit/journal_reader.hpp), and
// specified for other readers in runtime_cpp/FORMATS.md section 7 (`hftc audit` is one).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace hft::audit {

/// What a record holds. Values are the file format: never renumber.
enum class RecordType : std::uint16_t {
  kMessage = 1,  ///< one schema message as encoded on the wire (header + body); flags: kInbound
  kRiskDecision = 2,  ///< RiskDecision below
  kSession = 3,       ///< SessionRecord below
  kParams = 4,        ///< parameter overlay applied or refused: ParamsRecord + UTF-8 text
  kKillSwitch = 5,    ///< KillSwitchRecord + UTF-8 reason text
  kMdGap = 6,         ///< MdGapRecord below
  kLost = 7,          ///< LostRecord: records the writer never received (ring full, oversize)
  kPosition = 8,      ///< PositionRecord: the engine's position, for reconciliation
  kNames = 9,         ///< NamesRecord + "code=name\n" lines: what the codes of a kind mean
};

/// kMessage flags.
enum MessageFlags : std::uint16_t {
  kOutbound = 0,  ///< sent by the engine
  kInbound = 1,   ///< received from the venue
};

/// Payload of kRiskDecision: one order (or cancel/replace) as the pre-trade gate judged it, with
/// the exposure the decision was taken against (so a review can show the maximum reached).
struct RiskDecision {
  std::uint64_t client_order_id;
  std::int64_t px_ticks;
  std::int64_t qty_lots;
  std::int64_t position_lots;     ///< filled position before the order
  std::int64_t worst_long_lots;   ///< position + open buys (+ the order, when a buy)
  std::int64_t worst_short_lots;  ///< -(position - open sells (- the order, when a sell)), >= 0
  std::int64_t notional;          ///< order notional in price-ticks x lots
  std::uint32_t instrument;
  std::uint16_t reason;   ///< 0 = accepted; else the gate's reject reason (see kNames, kind 1)
  std::uint8_t side;      ///< 0 = buy, 1 = sell
  std::uint8_t accepted;  ///< 1 = accepted
};
static_assert(sizeof(RiskDecision) == 64);

/// Session events (kSession).
enum class SessionEvent : std::uint8_t {
  kConnect = 0,
  kLogon = 1,
  kLogonRejected = 2,
  kLogout = 3,
  kDisconnect = 4,
  kReconnect = 5,
  kReconciled = 6,
  kRecovered = 7,  ///< state rebuilt from the journal at start; open_orders: those it left open
};
struct SessionRecord {
  std::uint8_t event;  ///< SessionEvent
  std::uint8_t pad = 0;
  std::uint16_t reason;       ///< logout / reject reason code, 0 otherwise
  std::uint32_t attempt;      ///< reconnect attempt number, 0 otherwise
  std::uint64_t open_orders;  ///< orders open (or unknown) at the event
};
static_assert(sizeof(SessionRecord) == 16);

/// kParams header; followed by "name=value" lines (applied) or the error text (refused).
struct ParamsRecord {
  std::uint8_t applied;  ///< 1 = new values in force, 0 = refused, old values kept
  std::uint8_t pad[7] = {};
};

/// kKillSwitch header; followed by a UTF-8 reason.
enum class KillAction : std::uint8_t { kEngaged = 0, kRearmed = 1 };
enum class KillSource : std::uint8_t {
  kSignal = 0,
  kFile = 1,
  kHttp = 2,
  kRisk = 3,
  kOperator = 4
};
struct KillSwitchRecord {
  std::uint8_t action;  ///< KillAction
  std::uint8_t source;  ///< KillSource
  std::uint8_t pad[6] = {};
  std::uint64_t orders_canceled;
};
static_assert(sizeof(KillSwitchRecord) == 16);

struct MdGapRecord {
  std::uint64_t expected_seq;
  std::uint64_t received_seq;
  std::uint32_t channel;
  std::uint32_t pad = 0;
};
static_assert(sizeof(MdGapRecord) == 24);

struct LostRecord {
  std::uint64_t ring_full;  ///< appends refused because the channel's ring was full
  std::uint64_t oversize;   ///< appends refused because the payload exceeded a slot
};

struct PositionRecord {
  std::int64_t
      position;       ///< mantissa: position = position x 10^qty_exponent (units of the reports)
  std::int64_t cash;  ///< mantissa: cash = cash x 10^cash_exponent (quote currency)
  std::uint32_t instrument;  ///< the venue's instrument id, as the messages carry it
  std::int8_t qty_exponent;
  std::int8_t cash_exponent;
  std::uint16_t pad = 0;
};
static_assert(sizeof(PositionRecord) == 24);

/// kNames header; followed by "code=name\n" lines for one kind of code.
enum class NameKind : std::uint8_t { kRiskReason = 1, kLogoutReason = 2, kRejectCode = 3 };
struct NamesRecord {
  std::uint8_t kind;  ///< NameKind
  std::uint8_t pad[7] = {};
};

// ---- file format ---------------------------------------------------------------------------

inline constexpr std::array<char, 8> kFileMagic{'H', 'F', 'T', 'J', 'R', 'N', 'L', '1'};
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::size_t kFileHeaderSize = 32;
inline constexpr std::size_t kRecordHeaderSize = 24;
inline constexpr std::size_t kRecordTrailerSize = 4;  // CRC-32

/// CRC-32 (IEEE 802.3, reflected, as zlib.crc32 computes it), incremental: pass the previous
/// result as `crc` to continue. Table-driven; runs on the writer thread only.
inline std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept {
  static constexpr auto kTable = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (const std::byte b : data)
    crc = kTable[(crc ^ static_cast<std::uint8_t>(b)) & 0xFFU] ^ (crc >> 8);
  return ~crc;
}

}  // namespace hft::audit
