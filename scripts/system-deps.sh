#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when they are missing.
# Needs root (as in CI); otherwise prints what to install.
set -euo pipefail
packages=(g++ cmake ninja-build libgtest-dev libgmock-dev clang clang-format libclang-rt-14-dev libboost-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
