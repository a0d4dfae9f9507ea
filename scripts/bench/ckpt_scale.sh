#!/usr/bin/env bash
# scripts/bench/ckpt_scale.sh — cairn's checkpoint code (save, commit, verify, resume with
# resharding) for the piece counts of LLaMA-2 7B and 70B at W = 64, 256 and 1024 simulated
# ranks: in-process thread ranks with a tiny payload (scripts/bench/ckpt_scale.cpp says what
# is real and what is scaled). Prints a markdown table per model for docs/scaling.md:
#   pieces            pieces in the checkpoint (all shards, all three buffers)
#   commit rank 0     CPU seconds of rank 0's thread inside commit() (the training thread's
#                     work at the commit: receiving records, manifest, hash, renames)
#   recv rank 0/max   bytes rank 0 / the busiest other rank receives in the commit
#   manifest          manifest.json bytes
#   verify            `ckpt verify`'s work (open with checksums + logical hash), one process
#   opens on resume   files one resuming rank of W' opens (strace: openat of the checkpoint's
#                     files), for W' = W/4, W, 4W (up to 1024)
# Usage: scripts/bench/ckpt_scale.sh [floats per buffer]   (default 8388608; ~5 min on 2 cores)
#        MODELS="70b" WORLDS="1024" to pick; DIR=<dir> for the checkpoints (default: a
#        directory under /dev/shm, removed afterwards, so the disk is not what is measured).
set -euo pipefail
cd "$(dirname "$0")/../.."
FLOATS=${1:-8388608}
MODELS=${MODELS:-7b 70b}
WORLDS=${WORLDS:-64 256 1024}
BUILD=${BUILD_DIR:-build}
command -v strace >/dev/null || { echo "ckpt_scale.sh: needs strace (apt-get install strace)" >&2; exit 1; }
[ -n "${BIN:-}" ] || [ -f "$BUILD/CMakeCache.txt" ] || BUILD_DIR=$BUILD scripts/build.sh >/dev/null
if [ -z "${BIN:-}" ]; then  # BIN=<binary> to run another build's
  cmake --build "$BUILD" --target bench_ckpt_scale >/dev/null
  BIN=$BUILD/bin/bench_ckpt_scale
fi
ROOT=${DIR:-$(mktemp -d /dev/shm/cairn-ckpt-scale.XXXXXX)}
[ -n "${DIR:-}" ] || trap 'rm -rf "$ROOT"' EXIT
CORES=$(nproc)
export OMP_NUM_THREADS=1

field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
human() { python3 -c '
import sys; b=float(sys.argv[1])
for u in ["B","KB","MB","GB"]:
    if b < 1000 or u == "GB": print(("%d %s" if u == "B" else "%.3g %s") % (b, u)); break
    b /= 1000' "$1"; }

echo "git $(git rev-parse --short HEAD), $FLOATS floats per buffer, $CORES cores, load $(cut -d' ' -f1 /proc/loadavg)"
for model in $MODELS; do
  echo
  echo "| model | W | pieces | commit rank 0 (CPU) | recv rank 0 | recv max other | manifest | verify | opens on resume (W' → opens) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  for W in $WORLDS; do
    run=$ROOT/$model-$W
    rm -rf "$run" && mkdir -p "$run"
    out=$("$BIN" save --model "$model" --world "$W" --dir "$run" --floats "$FLOATS")
    opens=""
    for Wp in $((W / 4)) "$W" $((W * 4)); do
      [ "$Wp" -le 1024 ] || continue
      # The middle rank: the same count as any other (every rank of W' owns a like range).
      trace=$run/strace.txt
      strace -f -qq -e trace=open,openat -o "$trace" \
        "$BIN" resume --model "$model" --world "$Wp" --rank $((Wp / 2)) --dir "$run" --floats "$FLOATS" >/dev/null
      n=$(grep -v ENOENT "$trace" | grep -c "$run/checkpoints/" || true)
      opens="$opens${opens:+, }$Wp → $n"
    done
    printf '| %s | %d | %s | %.3f s | %s | %s | %s | %.2f s | %s |\n' "$model" "$W" "$(field "$out" pieces)" \
      "$(field "$out" commit_rank0_cpu_s)" "$(human "$(field "$out" received_rank0_bytes)")" \
      "$(human "$(field "$out" received_max_other_bytes)")" "$(human "$(field "$out" manifest_bytes)")" \
      "$(field "$out" verify_s)" "$opens"
    rm -rf "$run"
  done
done
