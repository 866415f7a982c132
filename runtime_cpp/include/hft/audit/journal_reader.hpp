// Reading an audit journal back: for recovery after a crash (the engine rebuilds its position and
// open orders from what it journaled) and for continuing a journal's numbering on restart.
//
// A process killed mid-write leaves at most a torn last record: the reader stops at the first
// record whose length runs past the end of the file or whose CRC does not match, and reports how
// many bytes it skipped, so the caller can tell a torn tail (expected after kill -9) from damage in
// the middle of a journal (a later file exists).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "hft/audit/journal_format.hpp"

namespace hft::audit {

/// One record as read back; `payload` points into the reader's buffer (valid during the callback).
struct RecordView {
  RecordType type;
  std::uint16_t flags;
  std::uint64_t seq;
  std::uint64_t ts_ns;
  std::span<const std::byte> payload;
};

struct ReadResult {
  std::uint64_t files = 0;
  std::uint64_t records = 0;
  std::uint64_t last_seq = 0;    ///< 0 when there is no record
  std::uint64_t last_index = 0;  ///< highest file index (by name), 0 when there is no file
  std::uint64_t bad_bytes = 0;   ///< bytes after the last good record of each file
  bool damaged = false;          ///< bad bytes in a file that is not the last one
};

/// The journal files of `path_prefix` (`<prefix>-NNNNNN.hftj`), in index order.
inline std::vector<std::filesystem::path> journal_files(const std::string& path_prefix) {
  namespace fs = std::filesystem;
  const fs::path prefix(path_prefix);
  const fs::path dir = prefix.has_parent_path() ? prefix.parent_path() : fs::path(".");
  const std::string stem = prefix.filename().string() + "-";
  std::vector<std::pair<std::uint64_t, fs::path>> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() != stem.size() + 11 || name.compare(0, stem.size(), stem) != 0 ||
        name.compare(name.size() - 5, 5, ".hftj") != 0) {
      continue;
    }
    const std::string digits = name.substr(stem.size(), 6);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    found.emplace_back(std::stoull(digits), it->path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  out.reserve(found.size());
  for (auto& [index, path] : found) out.push_back(std::move(path));
  return out;
}

/// Calls `on_record(const RecordView&)` for every good record of the journal, in order.
template <class F>
ReadResult read_journal(const std::string& path_prefix, F&& on_record) {
  ReadResult res;
  const auto files = journal_files(path_prefix);
  if (!files.empty()) {
    // By name, not by header: a file whose header is damaged still holds its index.
    const std::string name = files.back().filename().string();
    res.last_index = std::stoull(name.substr(name.size() - 11, 6));
  }
  for (std::size_t fi = 0; fi < files.size(); ++fi) {
    std::ifstream in(files[fi], std::ios::binary);
    const std::vector<char> raw((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
    const auto* b = reinterpret_cast<const std::byte*>(raw.data());
    const std::size_t size = raw.size();
    ++res.files;
    if (size < kFileHeaderSize || std::memcmp(b, kFileMagic.data(), kFileMagic.size()) != 0) {
      res.bad_bytes += size;
      res.damaged = res.damaged || fi + 1 < files.size();
      continue;
    }
    std::size_t at = kFileHeaderSize;
    while (at + kRecordHeaderSize + kRecordTrailerSize <= size) {
      std::uint32_t len = 0;
      std::memcpy(&len, b + at, 4);
      if (len > size - at - kRecordHeaderSize - kRecordTrailerSize) break;  // torn
      std::uint32_t crc = 0;
      std::memcpy(&crc, b + at + kRecordHeaderSize + len, 4);
      if (crc != crc32(std::span<const std::byte>(b + at, kRecordHeaderSize + len))) break;
      RecordView r{};
      std::uint16_t type = 0;
      std::memcpy(&type, b + at + 4, 2);
      r.type = static_cast<RecordType>(type);
      std::memcpy(&r.flags, b + at + 6, 2);
      std::memcpy(&r.seq, b + at + 8, 8);
      std::memcpy(&r.ts_ns, b + at + 16, 8);
      r.payload = std::span<const std::byte>(b + at + kRecordHeaderSize, len);
      on_record(static_cast<const RecordView&>(r));
      ++res.records;
      res.last_seq = r.seq;
      at += kRecordHeaderSize + len + kRecordTrailerSize;
    }
    if (at < size) {
      res.bad_bytes += size - at;
      res.damaged = res.damaged || fi + 1 < files.size();
    }
  }
  return res;
}

}  // namespace hft::audit
