#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when they are missing.
# Needs root (as in CI); otherwise prints what to install.
set -euo pipefail
packages=(g++ cmake ninja-build libgtest-dev libgmock-dev clang clang-format libclang-rt-14-dev libboost-dev
  prometheus pipx flatbuffers-compiler libflatbuffers-dev capnproto libcapnp-dev)
packages+=(postgresql)  # a real server for the shared-study test of hftc optimize
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# checkov lives in its own environment: its hcl2 fork clashes with python-hcl2 in ours.
if ! command -v checkov >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/usr/local/bin pipx install --quiet checkov >/dev/null
  else
    pipx install --quiet checkov >/dev/null
  fi
fi
