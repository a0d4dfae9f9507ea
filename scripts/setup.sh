#!/usr/bin/env bash
# scripts/setup.sh — install everything cairn needs to build and test, from Debian packages.
# Idempotent: packages already present are left alone. Works as root or through sudo.
# Usage: scripts/setup.sh            (build + test dependencies)
#        CAIRN_SETUP_PYTHON=0 scripts/setup.sh   (skip the optional Python packages)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev          # CPU matrix products (single-threaded tiles)
  libtomlplusplus-dev    # config parser
  nlohmann-json3-dev     # manifests, safetensors headers
  libxxhash-dev          # per-piece checksums (xxh3-64)
  libssl-dev             # SHA-256 of the logical state
  libzstd-dev            # checkpoint compression
  libgtest-dev libgmock-dev libbenchmark-dev
  openmpi-bin libopenmpi-dev
  python3 python3-numpy
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi
