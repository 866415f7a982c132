// Reading a parameter overlay in the engine: the `best_params.yaml` that `hftc optimize` writes and
// `hftc build --params` takes, so an optimised parameter set goes live without a rebuild.
//
//   # comments anywhere
//   strategies:
//     mm:
//       params:
//         spread_bps: 0.7
//         inventory_limit: 2500
//   # or flow style:  params: {spread_bps: 0.7, inventory_limit: 2500}
//
// The engine takes this YAML subset only: block mappings indented with spaces, a flow mapping for
// `params`, plain or quoted keys, and numbers (integers, decimals, exponents) or true/false as
// values. Anything else (tabs, anchors, lists, strings as values, a duplicate key, an unknown top
// key) is refused with the line and column, so a hand-edited file never half-applies: the caller
// validates every value first (names and ranges, generated per strategy) and swaps all or nothing.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace hft::engine {

struct OverlayEntry {
  std::string strategy;
  std::string param;
  double value = 0;
  bool integral = false;  ///< written without a fraction or exponent (an int parameter's form)
  int line = 0;
  int col = 0;
};

struct OverlayResult {
  bool ok = false;
  std::vector<OverlayEntry> entries;
  std::string error;  ///< "FILE:LINE:COL: message" when !ok
};

namespace detail {

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Cuts a `# comment` that is not inside quotes.
inline std::string_view strip_comment(std::string_view s) noexcept {
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (i == 0 || s[i - 1] == ' ')) {
      return s.substr(0, i);
    }
  }
  return s;
}

inline bool plain_key(std::string_view k) noexcept {
  if (k.empty()) return false;
  for (const char c : k) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  }
  return true;
}

/// A key, plain or quoted; false when it is neither.
inline bool parse_key(std::string_view raw, std::string& out) {
  raw = trim(raw);
  if (raw.size() >= 2 && (raw.front() == '"' || raw.front() == '\'') && raw.back() == raw.front()) {
    out = std::string(raw.substr(1, raw.size() - 2));
    return plain_key(out);
  }
  out = std::string(raw);
  return plain_key(raw);
}

/// A number or true/false.
inline bool parse_value(std::string_view raw, double& value, bool& integral) {
  raw = trim(raw);
  if (raw == "true" || raw == "false") {
    value = raw == "true" ? 1.0 : 0.0;
    integral = true;
    return true;
  }
  if (raw.empty() || raw.size() > 64) return false;
  const std::string text(raw);
  errno = 0;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE) return false;
  // strtod takes inf, nan and hex floats, which YAML writes otherwise: digits, sign, '.', 'e' only.
  for (const char c : text) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.' ||
          c == 'e' || c == 'E')) {
      return false;
    }
  }
  integral = text.find_first_of(".eE") == std::string::npos;
  return true;
}

}  // namespace detail

/// Parses overlay text; `file` only names the source in the error.
inline OverlayResult parse_overlay(std::string_view text, std::string_view file = "<overlay>") {
  OverlayResult r;
  std::string strategy;
  int strategy_indent = -1;
  int params_indent = -1;
  bool in_strategies = false;
  bool in_params = false;
  bool seen_strategies = false;
  int line_no = 0;
  auto fail = [&](int line, int col, const std::string& msg) {
    r.ok = false;
    r.entries.clear();
    r.error =
        std::string(file) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg;
    return r;
  };
  auto add = [&](const std::string& param, std::string_view raw, int line, int col) -> bool {
    OverlayEntry e;
    e.strategy = strategy;
    e.param = param;
    e.line = line;
    e.col = col;
    if (!detail::parse_value(raw, e.value, e.integral)) return false;
    for (const auto& x : r.entries) {
      if (x.strategy == e.strategy && x.param == e.param) {
        r.error = "duplicate";
        return false;
      }
    }
    r.entries.push_back(std::move(e));
    return true;
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (line.find('\t') != std::string_view::npos)
      return fail(line_no, static_cast<int>(line.find('\t')) + 1,
                  "tab character: indent with spaces");
    line = detail::strip_comment(line);
    if (detail::trim(line).empty()) continue;
    if (line_no == 1 && line.substr(0, 3) == "---") continue;
    const int indent = static_cast<int>(line.find_first_not_of(' '));
    const std::string_view body = line.substr(static_cast<std::size_t>(indent));
    const std::size_t colon = body.find(':');
    if (colon == std::string_view::npos || (colon + 1 < body.size() && body[colon + 1] != ' ')) {
      return fail(line_no, indent + 1, "expected `key: value` or `key:`");
    }
    std::string key;
    if (!detail::parse_key(body.substr(0, colon), key)) {
      return fail(line_no, indent + 1, "a key is a plain name (letters, digits, _ - .)");
    }
    const std::string_view value = detail::trim(body.substr(colon + 1));
    const int vcol = indent + static_cast<int>(colon) + 3;
    if (indent == 0) {
      if (key != "strategies")
        return fail(line_no, 1, "unknown key `" + key + "`: an overlay holds `strategies:` only");
      if (seen_strategies) return fail(line_no, 1, "duplicate key `strategies`");
      if (!value.empty())
        return fail(line_no, vcol, "`strategies:` holds one mapping per strategy");
      seen_strategies = in_strategies = true;
      in_params = false;
      strategy_indent = -1;
      continue;
    }
    if (!in_strategies) return fail(line_no, indent + 1, "indented line outside `strategies:`");
    if (strategy_indent < 0 || indent == strategy_indent) {
      if (strategy_indent >= 0 && indent != strategy_indent)
        return fail(line_no, indent + 1, "inconsistent indentation");
      strategy_indent = indent;
      if (!value.empty()) return fail(line_no, vcol, "a strategy holds `params:`");
      for (const auto& e : r.entries) {
        if (e.strategy == key) return fail(line_no, indent + 1, "duplicate strategy `" + key + "`");
      }
      strategy = key;
      in_params = false;
      params_indent = -1;
      continue;
    }
    if (indent < strategy_indent) return fail(line_no, indent + 1, "inconsistent indentation");
    if (!in_params) {
      if (key != "params")
        return fail(line_no, indent + 1,
                    "unknown key `" + key + "`: a strategy holds `params:` only");
      in_params = true;
      params_indent = indent;
      if (value.empty()) continue;
      // Flow style: {a: 1, b: 2} on one line.
      if (value.front() != '{' || value.back() != '}') {
        return fail(line_no, vcol, "`params:` holds a mapping of parameter names to numbers");
      }
      std::string_view items = value.substr(1, value.size() - 2);
      std::size_t at = 0;
      while (!detail::trim(items).empty()) {
        const std::size_t comma = items.find(',');
        const std::string_view item = items.substr(0, comma);
        const std::size_t c = item.find(':');
        std::string name;
        const int icol = vcol + 1 + static_cast<int>(at);
        if (c == std::string_view::npos || !detail::parse_key(item.substr(0, c), name)) {
          return fail(line_no, icol, "expected `name: number` in the flow mapping");
        }
        if (!add(name, item.substr(c + 1), line_no, icol)) {
          return fail(line_no, icol,
                      r.error == "duplicate" ? "duplicate parameter `" + name + "`"
                                             : "the value of `" + name + "` is not a number");
        }
        if (comma == std::string_view::npos) break;
        items.remove_prefix(comma + 1);
        at += comma + 1;
      }
      in_params = true;
      continue;
    }
    if (indent <= params_indent) {
      return fail(line_no, indent + 1,
                  "unknown key `" + key + "`: a strategy holds `params:` only");
    }
    if (!add(key, value, line_no, vcol)) {
      return fail(line_no, vcol,
                  r.error == "duplicate" ? "duplicate parameter `" + key + "`"
                                         : "the value of `" + key + "` is not a number");
    }
  }
  if (!seen_strategies) return fail(1, 1, "an overlay starts with `strategies:`");
  r.ok = true;
  r.error.clear();
  return r;
}

/// Reads and parses a file (an unreadable file is an error like any other).
inline OverlayResult read_overlay(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    OverlayResult r;
    r.error = path + ": cannot read the parameter overlay";
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  if (s.size() > (1U << 20)) {
    OverlayResult r;
    r.error = path + ": larger than 1 MiB, not a parameter overlay";
    return r;
  }
  return parse_overlay(s, path);
}

}  // namespace hft::engine
