// hft_journal_tool: write an audit journal from a text description (the journal's cost on the
// hot path is measured by bench/bench_journal.cpp).
//
//   hft_journal_tool write PREFIX SCHEMA_ID SCHEMA_VERSION < records
//       one record per line: TYPE FLAGS TS_NS HEX_PAYLOAD (TYPE as in FORMATS.md section 7;
//       an empty payload is "-"). Used by tests to produce journals with the runtime's own writer.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hft/audit/journal.hpp"

namespace {

int usage() {
  std::fprintf(stderr, "usage: hft_journal_tool write PREFIX SCHEMA_ID SCHEMA_VERSION < records\n");
  return 2;
}

bool parse_hex(const std::string& hex, std::vector<std::byte>& out) {
  out.clear();
  if (hex == "-") return true;
  if (hex.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    char* end = nullptr;
    const std::string two = hex.substr(i, 2);
    const long v = std::strtol(two.c_str(), &end, 16);
    if (end != two.c_str() + 2) return false;
    out.push_back(static_cast<std::byte>(v));
  }
  return true;
}

int write(const std::string& prefix, int schema_id, int schema_version) {
  hft::audit::JournalConfig cfg;
  cfg.path_prefix = prefix;
  cfg.fsync = hft::audit::FsyncPolicy::kNever;
  cfg.schema_id = static_cast<std::uint16_t>(schema_id);
  cfg.schema_version = static_cast<std::uint16_t>(schema_version);
  hft::audit::Journal journal(cfg);
  hft::audit::Channel& ch = journal.channel();
  std::string line;
  std::vector<std::byte> payload;
  int line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::istringstream in(line);
    unsigned type = 0, flags = 0;
    std::uint64_t ts = 0;
    std::string hex;
    if (!(in >> type >> flags >> ts >> hex) || !parse_hex(hex, payload)) {
      std::fprintf(stderr, "line %d: expected TYPE FLAGS TS_NS HEX\n", line_no);
      return 1;
    }
    while (!ch.append(static_cast<hft::audit::RecordType>(type), payload, ts,
                      static_cast<std::uint16_t>(flags))) {
      if (payload.size() > hft::audit::Channel::kMaxPayload) {
        std::fprintf(stderr, "line %d: payload larger than %zu bytes\n", line_no,
                     hft::audit::Channel::kMaxPayload);
        return 1;
      }
      std::this_thread::yield();  // ring full: let the writer drain
    }
  }
  journal.close();
  const auto s = journal.stats();
  std::printf("records=%llu files=%llu bytes=%llu\n", static_cast<unsigned long long>(s.written),
              static_cast<unsigned long long>(s.files), static_cast<unsigned long long>(s.bytes));
  return s.write_errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string cmd = argv[1];
  try {
    if (cmd == "write" && argc == 5) return write(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hft_journal_tool: %s\n", e.what());
    return 1;
  }
  return usage();
}
