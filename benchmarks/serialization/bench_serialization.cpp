// BookDelta encode and decode, side by side: the hftc codec, a packed struct + memcpy (the
// floor), FlatBuffers (read with and without its Verifier) and Cap'n Proto, on the same 256
// random messages.
//
// Encode: message i (cycling through the 256) is written to the wire; the bytes must exist
// afterwards (a compiler barrier keeps them). hftc writes the 8-byte header and the block in
// place; the floor fills a #pragma pack(1) struct and memcpys it; FlatBuffers reuses one
// FlatBufferBuilder (Clear(), CreateBookDelta, Finish); Cap'n Proto builds into a preallocated,
// zeroed first segment (MallocMessageBuilder) and copies the segment table and the segment out,
// as writeMessage does.
//
// Decode: the bytes of each codec, encoded beforehand, are read field by field and every field
// is folded into a checksum. hftc: wrap_and_read_header, which checks the header and the
// length; FlatBuffers: GetRoot, without the Verifier (`flatbuffers`) and with it
// (`flatbuffers_verified`); Cap'n Proto: FlatArrayMessageReader with its default bounds and
// traversal checks.
//
// Each timing is `repeats` runs of `iterations` operations, the runs of the codecs interleaved;
// a run is timed in batches of 1000 and its figure is its median batch (ns/op), so a preemption
// on a busy machine does not move it. median = the median of the runs' figures; p99 = the 99th
// percentile of all the batches (ns/op), preemptions included. Before timing, every codec's
// encoding of every message is decoded and compared field by field with the source, and the
// decode checksums must agree; any failure makes the exit status 1.
//
// Prints JSON on stdout: {"results": [{name, unit, median, p99, target, baseline}, ...],
// "checksums": {...}, ...} where baseline is the memcpy figure of the same operation and target
// is 1.2x it (sizes: the packed size itself). A short table goes to stderr.
//
//   bench_serialization [--quick] [--iterations N] [--repeats R]
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "book_delta.capnp.h"
#include "book_delta_generated.h"
#include "fx_mm/book_delta.hpp"

namespace {

// ---- the message, as plain values ----------------------------------------------------------

struct Record {
  std::uint32_t instrument;
  std::uint64_t seq;
  std::uint64_t ts_exchange;
  std::uint8_t side;  // 1 buy, 2 sell: the same numbers in all three schemas
  std::int64_t price;
  std::int64_t qty;
  std::uint16_t order_count;
};

constexpr std::size_t kMessages = 256;  // power of two: i & (kMessages - 1)
constexpr std::size_t kSlot = 128;      // bytes per pre-encoded message, enough for every codec

std::vector<Record> make_records() {
  std::mt19937_64 rng(20240607);
  std::vector<Record> out(kMessages);
  std::uint64_t seq = 1'000'000 + (rng() % 1000);
  std::uint64_t ts = 1'700'000'000'000'000'000ULL;
  for (Record& r : out) {
    // Every field non-zero, so FlatBuffers stores all of them (it omits fields equal to the
    // default) and the encoded size is the same for every message.
    r.instrument = 1 + static_cast<std::uint32_t>(rng() % 5000);
    r.seq = ++seq;
    ts += 1 + rng() % 50'000;
    r.ts_exchange = ts;
    r.side = (rng() & 1) ? 1 : 2;
    r.price = 1'000'000'000LL + static_cast<std::int64_t>(rng() % 500'000'000);  // ~1.0 - 1.5
    r.qty = 1 + static_cast<std::int64_t>(rng() % 50'000'000'000LL);
    r.order_count = static_cast<std::uint16_t>(1 + rng() % 1000);
  }
  return out;
}

// ---- checksum ----------------------------------------------------------------------------

constexpr std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Every field contributes; the multiplies are independent, so the fold adds little latency.
inline std::uint64_t digest(std::uint32_t instrument, std::uint64_t seq, std::uint64_t ts,
                            std::uint8_t side, std::int64_t price, std::int64_t qty,
                            std::uint16_t order_count) {
  const std::uint64_t a = seq * 0x9E3779B97F4A7C15ULL + instrument;
  const std::uint64_t b = ts * 0xC2B2AE3D27D4EB4FULL + side;
  const std::uint64_t c = static_cast<std::uint64_t>(price) * 0x165667B19E3779F9ULL + order_count;
  const std::uint64_t d = static_cast<std::uint64_t>(qty) * 0xD6E8FEB86659FD93ULL;
  return (a ^ rotl(b, 17)) + (c ^ rotl(d, 31));
}

inline std::uint64_t fold(std::uint64_t h, std::uint64_t v) { return rotl(h, 5) ^ v; }

inline std::uint64_t digest(const Record& r) {
  return digest(r.instrument, r.seq, r.ts_exchange, r.side, r.price, r.qty, r.order_count);
}

// The bytes behind `p` are needed and memory is clobbered: stores before it cannot be dropped.
inline void keep_memory(const void* p) { asm volatile("" : : "r"(p) : "memory"); }
template <class T>
inline void keep(T v) {
  asm volatile("" : : "r"(v) : "memory");
}

// ---- the codecs ----------------------------------------------------------------------------

// Each codec: encode(record, out) -> bytes written into `out` (or exposed by the codec),
// decode(bytes, size) -> Record (all fields read).

struct HftcCodec {
  static constexpr const char* kName = "hftc";
  std::size_t encode(const Record& r, char* out, std::size_t cap, const char** data) {
    fx::mm::BookDelta m;
    m.wrap_and_apply_header(out, 0, cap)
        .instrument(r.instrument)
        .seq(r.seq)
        .ts_exchange(r.ts_exchange)
        .side_raw(r.side)
        .price(fx::mm::Price{r.price})
        .qty(fx::mm::Qty{r.qty})
        .order_count(r.order_count);
    *data = out;
    return m.ok() ? m.encoded_length() : 0;
  }
  bool decode(const char* p, std::size_t n, Record& r) const {
    fx::mm::BookDelta m;
    m.wrap_and_read_header(p, 0, n);
    r.instrument = m.instrument();
    r.seq = m.seq();
    r.ts_exchange = m.ts_exchange();
    r.side = m.side_raw();
    r.price = m.price().mantissa;
    r.qty = m.qty().mantissa;
    r.order_count = m.order_count();
    return m.ok();
  }
};

#pragma pack(push, 1)
struct BookDeltaPacked {
  std::uint16_t block_length, template_id, schema_id, version;
  std::uint32_t instrument;
  std::uint64_t seq;
  std::uint64_t ts_exchange;
  std::uint8_t side;
  std::int64_t price;
  std::int64_t qty;
  std::uint16_t order_count;
};
#pragma pack(pop)
static_assert(sizeof(BookDeltaPacked) ==
              fx::mm::wire::MessageHeader::kSize + fx::mm::BookDelta::kBlockLength);

struct MemcpyCodec {
  static constexpr const char* kName = "memcpy";
  std::size_t encode(const Record& r, char* out, std::size_t, const char** data) {
    BookDeltaPacked p;
    p.block_length = fx::mm::BookDelta::kBlockLength;
    p.template_id = fx::mm::BookDelta::kTemplateId;
    p.schema_id = fx::mm::kSchemaId;
    p.version = fx::mm::kSchemaVersion;
    p.instrument = r.instrument;
    p.seq = r.seq;
    p.ts_exchange = r.ts_exchange;
    p.side = r.side;
    p.price = r.price;
    p.qty = r.qty;
    p.order_count = r.order_count;
    std::memcpy(out, &p, sizeof p);
    *data = out;
    return sizeof p;
  }
  bool decode(const char* b, std::size_t n, Record& r) const {
    if (n < sizeof(BookDeltaPacked)) {
      r = Record{};
      return false;
    }
    BookDeltaPacked p;
    std::memcpy(&p, b, sizeof p);
    r.instrument = p.instrument;
    r.seq = p.seq;
    r.ts_exchange = p.ts_exchange;
    r.side = p.side;
    r.price = p.price;
    r.qty = p.qty;
    r.order_count = p.order_count;
    return true;
  }
};

struct FlatBuffersCodec {
  static constexpr const char* kName = "flatbuffers";
  flatbuffers::FlatBufferBuilder fbb{256};
  std::size_t encode(const Record& r, char*, std::size_t, const char** data) {
    fbb.Clear();
    const auto root = fx::mm::fbs::CreateBookDelta(fbb, r.instrument, r.seq, r.ts_exchange,
                                                   static_cast<fx::mm::fbs::Side>(r.side), r.price,
                                                   r.qty, r.order_count);
    fbb.Finish(root);
    *data = reinterpret_cast<const char*>(fbb.GetBufferPointer());
    return fbb.GetSize();
  }
  bool decode(const char* b, std::size_t, Record& r) const {
    const fx::mm::fbs::BookDelta* m = fx::mm::fbs::GetBookDelta(b);
    r.instrument = m->instrument();
    r.seq = m->seq();
    r.ts_exchange = m->ts_exchange();
    r.side = static_cast<std::uint8_t>(m->side());
    r.price = m->price();
    r.qty = m->qty();
    r.order_count = m->order_count();
    return true;
  }
};

// The same, but the buffer is checked first (flatbuffers::Verifier), as untrusted input must be;
// the hftc decode checks its header and length too.
struct FlatBuffersVerifiedCodec : FlatBuffersCodec {
  static constexpr const char* kName = "flatbuffers_verified";
  bool decode(const char* b, std::size_t n, Record& r) const {
    flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(b), n);
    if (!fx::mm::fbs::VerifyBookDeltaBuffer(verifier)) {
      r = Record{};
      return false;
    }
    return FlatBuffersCodec::decode(b, n, r);
  }
};

struct CapnpCodec {
  static constexpr const char* kName = "capnp";
  static constexpr std::size_t kScratchWords = 64;
  alignas(8) capnp::word scratch[kScratchWords]{};  // zeroed; the builder re-zeroes what it used
  std::size_t encode(const Record& r, char* out, std::size_t cap, const char** data) {
    capnp::MallocMessageBuilder builder(kj::arrayPtr(scratch, kScratchWords));
    auto m = builder.initRoot<fx::mm::capn::BookDelta>();
    m.setInstrument(r.instrument);
    m.setSeq(r.seq);
    m.setTsExchange(r.ts_exchange);
    m.setSide(static_cast<fx::mm::capn::Side>(r.side));
    m.setPrice(r.price);
    m.setQty(r.qty);
    m.setOrderCount(r.order_count);
    // The wire form of a one-segment message: segment count - 1, segment size in words, then
    // the segment (what capnp::writeMessage emits).
    const auto segments = builder.getSegmentsForOutput();
    if (segments.size() != 1) return 0;
    const std::size_t words = segments[0].size();
    const std::size_t n = 8 + words * sizeof(capnp::word);
    if (n > cap) return 0;
    const std::uint32_t table[2] = {0, static_cast<std::uint32_t>(words)};
    std::memcpy(out, table, sizeof table);
    std::memcpy(out + 8, segments[0].begin(), words * sizeof(capnp::word));
    *data = out;
    return n;
  }
  bool decode(const char* b, std::size_t n, Record& r) const {
    capnp::FlatArrayMessageReader reader(
        kj::arrayPtr(reinterpret_cast<const capnp::word*>(b), n / sizeof(capnp::word)));
    const auto m = reader.getRoot<fx::mm::capn::BookDelta>();
    r.instrument = m.getInstrument();
    r.seq = m.getSeq();
    r.ts_exchange = m.getTsExchange();
    r.side = static_cast<std::uint8_t>(m.getSide());
    r.price = m.getPrice();
    r.qty = m.getQty();
    r.order_count = m.getOrderCount();
    return true;
  }
};

// ---- timing ------------------------------------------------------------------------------

struct Stats {
  double median = 0;
  double p99 = 0;
};

struct Config {
  std::size_t iterations = 1'000'000;
  int repeats = 7;
};

constexpr std::size_t kBatch = 1000;

// Timings of one operation: the figure of each run (the median of its batch means, which a
// preemption on a busy machine does not move) and every batch mean.
struct Series {
  std::vector<double> runs;
  std::vector<double> batches;

  // One run of `iterations` operations (rounded down to whole batches), op(i) for a running i.
  template <class Op>
  void run(const Config& cfg, std::size_t& i, Op&& op) {
    const std::size_t count = std::max<std::size_t>(1, cfg.iterations / kBatch);
    std::vector<double> ns(count);
    for (std::size_t b = 0; b < count; ++b) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::size_t k = 0; k < kBatch; ++k) op(i++);
      const auto t1 = std::chrono::steady_clock::now();
      ns[b] = std::chrono::duration<double, std::nano>(t1 - t0).count() / kBatch;
    }
    batches.insert(batches.end(), ns.begin(), ns.end());
    std::nth_element(ns.begin(), ns.begin() + count / 2, ns.end());
    runs.push_back(ns[count / 2]);
  }

  Stats stats() const {
    std::vector<double> r = runs;
    std::vector<double> b = batches;
    std::sort(r.begin(), r.end());
    std::sort(b.begin(), b.end());
    return {r[r.size() / 2], b[std::min(b.size() - 1, b.size() * 99 / 100)]};
  }
};

int g_failures = 0;

void fail(const char* codec, const char* what, std::size_t index) {
  std::fprintf(stderr, "error: %s: %s (message %zu)\n", codec, what, index);
  ++g_failures;
}

bool same(const Record& a, const Record& b) {
  return a.instrument == b.instrument && a.seq == b.seq && a.ts_exchange == b.ts_exchange &&
         a.side == b.side && a.price == b.price && a.qty == b.qty && a.order_count == b.order_count;
}

// One codec's state: its encoding of every message, the checks, and its timings.
template <class Codec>
struct Bench {
  Codec codec;
  const std::vector<Record>& records;
  alignas(64) char out[512];
  std::vector<capnp::word> storage;  // kMessages slots of kSlot bytes, 8-byte aligned
  std::array<std::uint32_t, kMessages> sizes{};
  std::size_t size = 0;
  std::uint64_t checksum = 0;  // decode of the 256 messages, in order, once
  std::uint64_t sink = 0;      // the timed decode loop's checksum
  std::size_t i = 0;
  Series encode, decode;

  explicit Bench(const std::vector<Record>& recs)
      : records(recs), storage(kMessages * kSlot / sizeof(capnp::word)) {
    for (std::size_t k = 0; k < kMessages; ++k) {
      const char* data = nullptr;
      const std::size_t n = codec.encode(records[k], out, sizeof out, &data);
      if (n == 0 || n > kSlot) {
        fail(Codec::kName, "encode failed", k);
        continue;
      }
      if (k == 0) size = n;
      if (n != size) fail(Codec::kName, "encoded size varies between messages", k);
      std::memcpy(slot(k), data, n);
      sizes[k] = static_cast<std::uint32_t>(n);
    }
    // Correctness: every message decodes to its source, field for field.
    for (std::size_t k = 0; k < kMessages; ++k) {
      Record r{};
      if (!codec.decode(slot(k), sizes[k], r)) fail(Codec::kName, "decode failed", k);
      if (!same(r, records[k])) fail(Codec::kName, "decoded fields differ from the source", k);
      checksum = fold(checksum, digest(r));
    }
  }

  char* slot(std::size_t k) { return reinterpret_cast<char*>(storage.data()) + k * kSlot; }

  void encode_op(std::size_t j) {
    const char* data = nullptr;
    const std::size_t n = codec.encode(records[j & (kMessages - 1)], out, sizeof out, &data);
    keep_memory(data);
    keep(n);
  }

  void decode_op(std::size_t j) {
    const std::size_t k = j & (kMessages - 1);
    Record r;
    const bool ok = codec.decode(slot(k), sizes[k], r);
    sink = fold(sink, digest(r) + ok);
  }

  void warm_up(const Config& cfg) {
    const std::size_t n = std::max(kBatch, cfg.iterations / 10);
    for (std::size_t k = 0; k < n; ++k) encode_op(i++);
    for (std::size_t k = 0; k < n; ++k) decode_op(i++);
  }

  void run_once(const Config& cfg) {
    encode.run(cfg, i, [this](std::size_t j) { encode_op(j); });
    decode.run(cfg, i, [this](std::size_t j) { decode_op(j); });
    keep(sink);
  }
};

struct Outcome {
  const char* name;
  Stats encode;
  Stats decode;
  std::size_t size;
  std::uint64_t checksum;
};

template <class Codec>
Outcome outcome(const Bench<Codec>& b) {
  return {Codec::kName, b.encode.stats(), b.decode.stats(), b.size, b.checksum};
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

void usage() {
  std::fprintf(stderr, "usage: bench_serialization [--quick] [--iterations N] [--repeats R]\n");
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int a = 1; a < argc; ++a) {
    const std::string_view arg = argv[a];
    if (arg == "--quick") {
      cfg.iterations = 4000;
      cfg.repeats = 7;
    } else if (arg == "--iterations" && a + 1 < argc) {
      cfg.iterations = std::strtoull(argv[++a], nullptr, 10);
    } else if (arg == "--repeats" && a + 1 < argc) {
      cfg.repeats = std::atoi(argv[++a]);
    } else {
      usage();
      return 2;
    }
  }
  if (cfg.iterations < 1000 || cfg.repeats < 1) {
    std::fprintf(stderr, "error: --iterations must be >= 1000 and --repeats >= 1\n");
    return 2;
  }

  const std::vector<Record> records = make_records();
  std::uint64_t expected = 0;
  for (const Record& r : records) expected = fold(expected, digest(r));

  // The runs of the codecs are interleaved (repeat r of each, then repeat r + 1), so a
  // change of load on the machine hits all of them alike.
  auto hftc = std::make_unique<Bench<HftcCodec>>(records);
  auto raw = std::make_unique<Bench<MemcpyCodec>>(records);
  auto flat = std::make_unique<Bench<FlatBuffersCodec>>(records);
  auto flatv = std::make_unique<Bench<FlatBuffersVerifiedCodec>>(records);
  auto capn = std::make_unique<Bench<CapnpCodec>>(records);
  // The hftc encoding is the packed struct, byte for byte (little-endian, no padding).
  for (std::size_t k = 0; k < kMessages; ++k) {
    if (hftc->sizes[k] != raw->sizes[k] ||
        std::memcmp(hftc->slot(k), raw->slot(k), raw->sizes[k]) != 0) {
      fail("hftc", "encoding differs from the packed struct", k);
      break;
    }
  }
  hftc->warm_up(cfg);
  raw->warm_up(cfg);
  flat->warm_up(cfg);
  flatv->warm_up(cfg);
  capn->warm_up(cfg);
  for (int rep = 0; rep < cfg.repeats; ++rep) {
    hftc->run_once(cfg);
    raw->run_once(cfg);
    flat->run_once(cfg);
    flatv->run_once(cfg);
    capn->run_once(cfg);
  }
  const Outcome outcomes[] = {outcome(*hftc), outcome(*raw), outcome(*flat), outcome(*flatv),
                              outcome(*capn)};
  const Outcome& floor = outcomes[1];

  for (const Outcome& o : outcomes) {
    if (o.checksum != expected) fail(o.name, "decode checksum differs from the source's", 0);
  }

  std::printf("{\n  \"iterations\": %zu,\n  \"repeats\": %d,\n  \"results\": [", cfg.iterations,
              cfg.repeats);
  bool first = true;
  auto row = [&](const std::string& name, const char* unit, double median, double p99,
                 double target, double baseline) {
    std::printf(
        "%s\n    {\"name\": \"%s\", \"unit\": \"%s\", \"median\": %.2f, \"p99\": %.2f, "
        "\"target\": %.2f, \"baseline\": %.2f}",
        first ? "" : ",", name.c_str(), unit, median, p99, target, baseline);
    first = false;
  };
  for (const Outcome& o : outcomes) {
    const std::string n = o.name;
    row(n + ".encode", "ns", o.encode.median, o.encode.p99, 1.2 * floor.encode.median,
        floor.encode.median);
    row(n + ".decode", "ns", o.decode.median, o.decode.p99, 1.2 * floor.decode.median,
        floor.decode.median);
    const double size = static_cast<double>(o.size);
    const double floor_size = static_cast<double>(floor.size);
    row(n + ".size", "bytes", size, size, floor_size, floor_size);
  }
  std::printf("\n  ],\n  \"checksums\": {\"expected\": \"%s\"", hex(expected).c_str());
  for (const Outcome& o : outcomes)
    std::printf(", \"%s\": \"%s\"", o.name, hex(o.checksum).c_str());
  std::printf("},\n  \"failures\": %d\n}\n", g_failures);

  std::fprintf(stderr,
               "BookDelta, %zu iterations x %d repeats (median ns/op; p99 of 1000-op batches)\n",
               cfg.iterations, cfg.repeats);
  std::fprintf(stderr, "%-21s %10s %10s %10s %10s %6s %9s %9s\n", "codec", "encode", "enc p99",
               "decode", "dec p99", "bytes", "enc/floor", "dec/floor");
  for (const Outcome& o : outcomes) {
    std::fprintf(stderr, "%-21s %10.2f %10.2f %10.2f %10.2f %6zu %8.2fx %8.2fx\n", o.name,
                 o.encode.median, o.encode.p99, o.decode.median, o.decode.p99, o.size,
                 o.encode.median / floor.encode.median, o.decode.median / floor.decode.median);
  }
  keep(hftc->sink ^ raw->sink ^ flat->sink ^ flatv->sink ^ capn->sink);
  return g_failures == 0 ? 0 : 1;
}
