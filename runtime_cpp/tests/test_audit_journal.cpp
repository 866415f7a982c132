#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "hft/audit/journal.hpp"

namespace {

namespace fs = std::filesystem;
using hft::audit::Channel;
using hft::audit::Journal;
using hft::audit::JournalConfig;
using hft::audit::RecordType;

struct Rec {
  std::uint16_t type;
  std::uint16_t flags;
  std::uint64_t seq;
  std::uint64_t ts;
  std::vector<std::byte> payload;
};

struct File {
  std::uint64_t index;
  std::uint64_t first_seq;
  std::uint16_t schema_id;
  std::uint16_t schema_version;
  std::vector<Rec> records;
};

template <class T>
T get(const std::vector<std::byte>& b, std::size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}

/// A reader written from FORMATS.md section 7, independent of the writer's code.
File read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(raw.size());
  std::memcpy(b.data(), raw.data(), raw.size());
  File f{};
  EXPECT_GE(b.size(), hft::audit::kFileHeaderSize);
  EXPECT_EQ(std::memcmp(b.data(), "HFTJRNL1", 8), 0);
  EXPECT_EQ(get<std::uint16_t>(b, 8), hft::audit::kFormatVersion);
  f.schema_id = get<std::uint16_t>(b, 10);
  f.schema_version = get<std::uint16_t>(b, 12);
  f.index = get<std::uint64_t>(b, 16);
  f.first_seq = get<std::uint64_t>(b, 24);
  std::size_t at = hft::audit::kFileHeaderSize;
  while (at < b.size()) {
    const auto len = get<std::uint32_t>(b, at);
    EXPECT_LE(at + 28 + len, b.size());
    Rec r{get<std::uint16_t>(b, at + 4),
          get<std::uint16_t>(b, at + 6),
          get<std::uint64_t>(b, at + 8),
          get<std::uint64_t>(b, at + 16),
          {}};
    r.payload.assign(b.begin() + static_cast<std::ptrdiff_t>(at + 24),
                     b.begin() + static_cast<std::ptrdiff_t>(at + 24 + len));
    const auto crc = get<std::uint32_t>(b, at + 24 + len);
    EXPECT_EQ(crc, hft::audit::crc32(std::span<const std::byte>(b.data() + at, 24 + len)));
    f.records.push_back(std::move(r));
    at += 28 + len;
  }
  return f;
}

std::vector<File> read_all(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  std::vector<File> files;
  for (const auto& p : paths) files.push_back(read_file(p));
  return files;
}

fs::path fresh_dir(const std::string& name) {
  const auto dir =
      fs::temp_directory_path() / ("hft_audit_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(AuditJournal, Crc32IsZlibs) {
  EXPECT_EQ(hft::audit::crc32(bytes_of("123456789")), 0xCBF43926U);
  EXPECT_EQ(hft::audit::crc32(bytes_of("")), 0U);
  // Incremental = one shot.
  EXPECT_EQ(hft::audit::crc32(bytes_of("56789"), hft::audit::crc32(bytes_of("1234"))), 0xCBF43926U);
}

TEST(AuditJournal, RecordsComeBackInOrderWithTheirHeaders) {
  const auto dir = fresh_dir("order");
  {
    Journal j(JournalConfig{(dir / "engine").string(), 1 << 20,
                            hft::audit::FsyncPolicy::kEveryBatch, 1000, 256, 7, 2});
    Channel& c = j.channel();
    for (int i = 0; i < 100; ++i) {
      const std::string text = "message " + std::to_string(i);
      ASSERT_TRUE(c.append(RecordType::kMessage, bytes_of(text),
                           1000 + static_cast<std::uint64_t>(i),
                           static_cast<std::uint16_t>(i % 2)));
      if (i % 10 == 0) std::this_thread::yield();
    }
    hft::audit::RiskDecision d{};
    d.client_order_id = 42;
    d.reason = 3;
    ASSERT_TRUE(c.append_struct(RecordType::kRiskDecision, d, 5000));
    j.close();
    EXPECT_EQ(j.stats().written, 101U);
    EXPECT_EQ(j.stats().lost, 0U);
    EXPECT_EQ(j.stats().files, 1U);
  }
  const auto files = read_all(dir);
  ASSERT_EQ(files.size(), 1U);
  EXPECT_EQ(files[0].schema_id, 7);
  EXPECT_EQ(files[0].schema_version, 2);
  EXPECT_EQ(files[0].first_seq, 1U);
  ASSERT_EQ(files[0].records.size(), 101U);
  for (int i = 0; i < 100; ++i) {
    const Rec& r = files[0].records[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.seq, static_cast<std::uint64_t>(i) + 1);
    EXPECT_EQ(r.ts, 1000U + static_cast<std::uint64_t>(i));
    EXPECT_EQ(r.type, static_cast<std::uint16_t>(RecordType::kMessage));
    EXPECT_EQ(r.flags, i % 2);
    const std::string text(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
    EXPECT_EQ(text, "message " + std::to_string(i));
  }
  const Rec& last = files[0].records.back();
  ASSERT_EQ(last.payload.size(), sizeof(hft::audit::RiskDecision));
  EXPECT_EQ(get<std::uint64_t>(last.payload, 0), 42U);
  fs::remove_all(dir);
}

TEST(AuditJournal, RotatesBySizeWithoutSplittingARecord) {
  const auto dir = fresh_dir("rotate");
  {
    Journal j(JournalConfig{(dir / "j").string(), 2048, hft::audit::FsyncPolicy::kNever, 1000, 1024,
                            1, 1});
    Channel& c = j.channel();
    const std::string payload(100, 'x');
    for (int i = 0; i < 200; ++i) {
      while (!c.append(RecordType::kMessage, bytes_of(payload), 1)) std::this_thread::yield();
    }
    j.close();
  }
  const auto files = read_all(dir);
  ASSERT_GT(files.size(), 5U);
  std::uint64_t expect_seq = 1;
  std::size_t total = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].index, i + 1);
    EXPECT_EQ(files[i].first_seq, expect_seq);
    for (const Rec& r : files[i].records) EXPECT_EQ(r.seq, expect_seq++);
    total += files[i].records.size();
    EXPECT_LE(fs::file_size(dir / ("j-" + std::string(6 - std::to_string(i + 1).size(), '0') +
                                   std::to_string(i + 1) + ".hftj")),
              2048U);
  }
  EXPECT_EQ(total, 200U);
  fs::remove_all(dir);
}

TEST(AuditJournal, ManyProducersLoseNothingThatWasAcceptedAndCountWhatWasNot) {
  const auto dir = fresh_dir("threads");
  constexpr int kPerThread = 20000;
  std::array<std::uint64_t, 3> accepted{};
  {
    // A small ring so that some appends meet a full ring while the writer sleeps.
    Journal j(JournalConfig{(dir / "t").string(), 1ULL << 30, hft::audit::FsyncPolicy::kNever, 1000,
                            8, 1, 1});
    std::array<Channel*, 3> ch{&j.channel(), &j.channel(), &j.channel()};
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (std::uint64_t i = 0; i < kPerThread; ++i) {
          const std::uint64_t v[2] = {t, i};
          if (ch[t]->append(RecordType::kMessage, std::as_bytes(std::span(v)), i)) ++accepted[t];
        }
      });
    }
    for (auto& th : threads) th.join();
    j.close();
    const auto s = j.stats();
    EXPECT_EQ(s.lost + accepted[0] + accepted[1] + accepted[2], 3U * kPerThread);
  }
  const auto files = read_all(dir);
  std::map<std::uint64_t, std::vector<std::uint64_t>> seen;
  std::uint64_t lost = 0;
  for (const auto& f : files) {
    for (const Rec& r : f.records) {
      if (r.type == static_cast<std::uint16_t>(RecordType::kLost)) {
        lost += get<std::uint64_t>(r.payload, 0) + get<std::uint64_t>(r.payload, 8);
        continue;
      }
      seen[get<std::uint64_t>(r.payload, 0)].push_back(get<std::uint64_t>(r.payload, 8));
    }
  }
  for (std::uint64_t t = 0; t < 3; ++t) {
    EXPECT_EQ(seen[t].size(), accepted[t]);
    EXPECT_TRUE(std::is_sorted(seen[t].begin(), seen[t].end()))
        << "channel " << t << " out of order";
  }
  // Every refused append is accounted for in kLost records.
  EXPECT_EQ(lost, 3U * kPerThread - accepted[0] - accepted[1] - accepted[2]);
  fs::remove_all(dir);
}

TEST(AuditJournal, OversizePayloadsAreRefusedAndJournaledAsLost) {
  const auto dir = fresh_dir("oversize");
  {
    Journal j(JournalConfig{(dir / "o").string(), 1 << 20, hft::audit::FsyncPolicy::kNever, 1000,
                            16, 1, 1});
    Channel& c = j.channel();
    const std::string big(Channel::kMaxPayload + 1, 'b');
    EXPECT_FALSE(c.append(RecordType::kMessage, bytes_of(big), 1));
    EXPECT_TRUE(
        c.append(RecordType::kMessage, bytes_of(std::string(Channel::kMaxPayload, 'a')), 2));
    // Text longer than a slot is cut, the header kept.
    hft::audit::KillSwitchRecord k{};
    k.orders_canceled = 3;
    EXPECT_TRUE(c.append_with_text(RecordType::kKillSwitch, k, std::string(1000, 'r'), 3));
    j.close();
  }
  const auto files = read_all(dir);
  ASSERT_EQ(files.size(), 1U);
  std::uint64_t oversize = 0;
  std::size_t messages = 0;
  for (const Rec& r : files[0].records) {
    if (r.type == static_cast<std::uint16_t>(RecordType::kLost))
      oversize += get<std::uint64_t>(r.payload, 8);
    if (r.type == static_cast<std::uint16_t>(RecordType::kMessage)) ++messages;
    if (r.type == static_cast<std::uint16_t>(RecordType::kKillSwitch)) {
      EXPECT_EQ(r.payload.size(), Channel::kMaxPayload);
      EXPECT_EQ(get<std::uint64_t>(r.payload, 8), 3U);
    }
  }
  EXPECT_EQ(oversize, 1U);
  EXPECT_EQ(messages, 1U);
  fs::remove_all(dir);
}

TEST(AuditJournal, AnUncreatableFileIsAnErrorAtConstruction) {
  EXPECT_THROW(Journal(JournalConfig{"/nonexistent-dir/for/sure/j", 1 << 20,
                                     hft::audit::FsyncPolicy::kNever, 1000, 16, 1, 1}),
               std::system_error);
}

TEST(AuditJournal, ARestartContinuesAfterATornTailAndOverwritesNothing) {
  const auto dir = fresh_dir("restart");
  const std::string prefix = (dir / "r").string();
  {
    Journal j(JournalConfig{prefix, 1 << 20, hft::audit::FsyncPolicy::kNever, 1000, 16, 1, 1});
    Channel& c = j.channel();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.append(RecordType::kMessage, bytes_of("abc"), 1));
    j.close();
  }
  // A kill -9 in the middle of a write: half a record at the end of the file.
  const auto first = dir / "r-000001.hftj";
  const auto good_size = fs::file_size(first);
  std::ofstream(first, std::ios::binary | std::ios::app)
      << std::string("\x10\x00\x00\x00\x01\x00", 6);
  std::vector<std::uint64_t> seqs;
  const auto before = hft::audit::read_journal(
      prefix, [&](const hft::audit::RecordView& r) { seqs.push_back(r.seq); });
  EXPECT_EQ(before.records, 5U);
  EXPECT_EQ(before.last_seq, 5U);
  EXPECT_EQ(before.bad_bytes, 6U);
  EXPECT_FALSE(before.damaged);  // a torn tail of the last file, not damage
  {
    Journal j(JournalConfig{prefix, 1 << 20, hft::audit::FsyncPolicy::kNever, 1000, 16, 1, 1});
    EXPECT_EQ(j.current_file(), (dir / "r-000002.hftj").string());
    ASSERT_TRUE(j.channel().append(RecordType::kMessage, bytes_of("after"), 2));
    j.close();
  }
  EXPECT_EQ(fs::file_size(first), good_size + 6);  // untouched
  seqs.clear();
  const auto after = hft::audit::read_journal(
      prefix, [&](const hft::audit::RecordView& r) { seqs.push_back(r.seq); });
  EXPECT_EQ(after.files, 2U);
  EXPECT_EQ(after.records, 6U);
  EXPECT_TRUE(after.damaged);  // the torn record is now in the middle of the journal
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
  // A file that exists under the next name is never overwritten.
  std::ofstream(dir / "r-000003.hftj") << "keep me";
  {
    Journal j(JournalConfig{prefix, 1 << 20, hft::audit::FsyncPolicy::kNever, 1000, 16, 1, 1});
    EXPECT_EQ(j.current_file(), (dir / "r-000004.hftj").string());
  }
  std::ifstream in(dir / "r-000003.hftj");
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "keep me");
  fs::remove_all(dir);
}

}  // namespace
