#!/usr/bin/env bash
# scripts/setup.sh — install everything cairn needs to build and test, from Debian packages.
# Idempotent: packages already present are left alone. Works as root or through sudo.
# Usage: scripts/setup.sh                       build and test dependencies, plus a Python
#                                               environment with numpy, safetensors,
#                                               tensorboard, matplotlib, tokenizers and
#                                               tiktoken, and GPT-2's BPE ranks (below)
#        CAIRN_SETUP_TORCH=1 scripts/setup.sh   also torch and transformers (several GB) for
#                                               the Hugging Face round-trip checks
#        CAIRN_SETUP_PYTHON=0 scripts/setup.sh  no Python environment (those tests then skip)
#        CAIRN_SETUP_FUZZ=1 scripts/setup.sh    also clang, its sanitizer/libFuzzer runtime and
#                                               libomp (~200 MB) for the harnesses in tests/fuzz/
#                                               and the TSan build (scripts/test.sh --sanitize
#                                               thread sets it)
# The Python environment lives in $CAIRN_VENV (default ~/.cache/cairn/venv), shared by every
# clone on the machine.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev          # vector math; the GEMM fallback without OpenBLAS
  libtomlplusplus-dev    # config parser
  nlohmann-json3-dev     # manifests, safetensors headers
  libxxhash-dev          # per-piece checksums (xxh3-64)
  libssl-dev             # SHA-256 of the logical state
  libzstd-dev            # checkpoint compression
  libpcre2-dev           # BPE pre-tokenizer regexes (Unicode classes, JIT): data/tokenizer_regex.cpp
  libutf8proc-dev        # the NFC normalizer of Qwen2-style tokenizer.json files: data/tokenizer.cpp
  liburing-dev           # io_uring rows of scripts/bench/disk_io.sh (checkpoint I/O experiments)
  libprotobuf-dev protobuf-compiler  # TensorBoard event files (run.tensorboard)
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-openmp-dev # CPU matrix products: one single-threaded sgemm per output tile
  openmpi-bin libopenmpi-dev
  python3 python3-venv time
)
[ "${CAIRN_SETUP_FUZZ:-0}" = 1 ] && packages+=(clang libclang-rt-14-dev libomp-dev)

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

# Python environment for the interoperability tests (optional: they skip without it).
if [ "${CAIRN_SETUP_PYTHON:-1}" = 1 ]; then
  venv=${CAIRN_VENV:-$HOME/.cache/cairn/venv}
  py_packages=(numpy safetensors tensorboard matplotlib tokenizers tiktoken)
  [ "${CAIRN_SETUP_TORCH:-0}" = 1 ] && py_packages+=(torch transformers)
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || { echo "setup: could not create $venv" >&2; exit 1; }
  missing_py=()
  for p in "${py_packages[@]}"; do "$venv/bin/python" -c "import $p" 2>/dev/null || missing_py+=("$p"); done
  if [ "${#missing_py[@]}" -eq 0 ]; then
    echo "setup: Python environment $venv has ${py_packages[*]}"
  else
    echo "setup: installing ${missing_py[*]} into $venv"
    "$venv/bin/python" -m pip install -q "${missing_py[@]}" \
      || echo "setup: warning: pip could not install ${missing_py[*]}; the Python interop tests will be skipped" >&2
  fi
  # GPT-2's real BPE ranks for the tokenizer tests, offline: openai-whisper's source package
  # ships them as whisper/assets/gpt2.tiktoken (tiktoken itself downloads them at run time).
  # --no-deps: only that file is needed, not whisper's torch/numba stack; nothing imports it.
  if ! "$venv/bin/python" -c "import importlib.util as u, sys; sys.exit(u.find_spec('whisper') is None)" 2>/dev/null; then
    echo "setup: installing openai-whisper (--no-deps, for assets/gpt2.tiktoken) into $venv"
    "$venv/bin/python" -m pip install -q --no-deps openai-whisper \
      || echo "setup: warning: pip could not install openai-whisper; the GPT-2 ranks tests will fail" >&2
  fi
fi
