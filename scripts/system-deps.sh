#!/usr/bin/env bash
# Install what the test suite needs beyond the Python venv, when it is missing:
#   1. Debian packages (apt-get, as root; otherwise prints the command to run);
#   2. command-line tools that need a Python environment of their own, each in a plain venv
#      under $HFTC_TOOLS_DIR (default .tools/ in the checkout), linked into $HFTC_TOOLS_DIR/bin.
# Safe to run again: it checks that each piece works, installs only what does not, and says
# what it did. `make test` puts $HFTC_TOOLS_DIR/bin first on the tests' PATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${HFTC_TOOLS_DIR:-$root/.tools}"
python="${PYTHON:-python3}"

packages=(g++ cmake ninja-build libgtest-dev libgmock-dev clang clang-format libclang-rt-14-dev libboost-dev
  python3-venv prometheus flatbuffers-compiler libflatbuffers-dev capnproto libcapnp-dev)
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
  echo "system-deps: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "system-deps: Debian packages present"
fi

# checkov lives in its own venv: its hcl2 fork clashes with python-hcl2 in the project's.
# A plain venv works with every pip and Python that Debian 12 ships (no pipx needed).
install_tool() {  # name, pip requirement
  local name="$1" requirement="$2" venv="$tools/$1"
  local version
  if version="$("$tools/bin/$name" --version 2>/dev/null)"; then
    echo "system-deps: $name present (${version%%$'\n'*})"
    return
  fi
  echo "system-deps: installing $name into $venv"
  # A half-built venv from an interrupted run fails the check above, so start it afresh.
  rm -rf "$venv"
  "$python" -m venv "$venv"
  local log
  log="$(mktemp)"
  if ! "$venv/bin/pip" install -q --disable-pip-version-check "$requirement" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "system-deps: pip could not install $requirement into $venv" >&2
    exit 1
  fi
  rm -f "$log"
  mkdir -p "$tools/bin"
  ln -sfn "$venv/bin/$name" "$tools/bin/$name"
  "$tools/bin/$name" --version >/dev/null
}
install_tool checkov checkov
