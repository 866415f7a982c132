// The order-entry session's logon secret, read from where the schema says (an order gateway's
// `credentials: {env: NAME}` or `{file: PATH}`), never from the command line or the schema.
//
// Read once at start-up (and again at each reconnect), never on the hot path. One trailing
// newline (`\n` or `\r\n`) is dropped, so `echo secret > file` and k8s secret mounts both work;
// an unset variable, an unreadable or empty file, or a secret holding NUL is an error whose text
// names the reference but never the secret.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace hft::oms {

enum class CredentialSource { kEnv, kFile };

struct SecretResult {
  bool ok = false;
  std::string secret;  ///< when ok
  std::string error;   ///< when not ok: what is wrong with the reference (never the secret)
};

/// Reads the secret `name` (an environment variable or a file path) refers to.
inline SecretResult read_secret(CredentialSource source, const std::string& name) {
  SecretResult r;
  std::string value;
  if (source == CredentialSource::kEnv) {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) {
      r.error = "environment variable " + name + " is not set";
      return r;
    }
    value = v;
  } else {
    std::ifstream in(name, std::ios::binary);
    if (!in) {
      r.error = "cannot read credentials file " + name + ": " + std::strerror(errno);
      return r;
    }
    value.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  const std::string_view what =
      source == CredentialSource::kEnv ? "environment variable " : "credentials file ";
  if (value.empty()) {
    r.error = std::string(what) + name + " is empty";
    return r;
  }
  if (value.find('\0') != std::string::npos) {
    r.error = std::string(what) + name + " holds a NUL byte";
    return r;
  }
  r.ok = true;
  r.secret = std::move(value);
  return r;
}

}  // namespace hft::oms
