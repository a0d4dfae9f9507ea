#!/usr/bin/env bash
# scripts/bench/exchange.sh — the gradient exchange of GPT-2 124M (the canonical reduce-scatter,
# scripts/bench/exchange_bench.cpp) at W = 2, 3, 4, 6, 8 ranks with G = 24 micro-batches, side
# by side with the code before any-W (commit $OLD: one partial per rank, powers of two dividing
# G only), the two run alternately (new, old, new, old, ...) so they share the machine's noise.
# Prints a markdown table: partials per rank, MB the busiest rank sends, ms per exchange
# (median over every iteration of every repeat; each iteration's time is the slowest rank's).
# Usage: scripts/bench/exchange.sh [repeats] [iterations]      (defaults 2 and 5; ~5 min on
#        2 cores; needs up to ~11 GB of free memory at W = 6, and skips a size without it)
#        OLD=<commit> to compare with another commit; WORLDS="2 4" to pick sizes; G=<n>.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEATS=${1:-2}
ITERS=${2:-5}
OLD=${OLD:-7aaa5f7}  # main just before any-W (10ca858)
G=${G:-24}
WORLDS=${WORLDS:-2 3 4 6 8}
OUT=${OUT:-runs/bench-exchange}
CORES=$(nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# This tree's bench.
[ -f build/CMakeCache.txt ] || scripts/build.sh >/dev/null
cmake --build build --target bench_exchange >/dev/null
NEW=build/bin/bench_exchange

# The old commit's libraries with the same driver and the old-API adapter.
OLD_SRC=$OUT/old-$OLD/src OLD_BUILD=$OUT/old-$OLD/build
if [ ! -x "$OLD_BUILD/bin/bench_exchange" ]; then
  rm -rf "$OLD_SRC" && mkdir -p "$OLD_SRC"
  git archive "$OLD" | tar -x -C "$OLD_SRC"
  cp scripts/bench/exchange_bench.cpp scripts/bench/exchange_old.cpp "$OLD_SRC/scripts/bench/"
  cat >> "$OLD_SRC/CMakeLists.txt" <<'EOF'
add_executable(bench_exchange EXCLUDE_FROM_ALL scripts/bench/exchange_bench.cpp scripts/bench/exchange_old.cpp)
target_link_libraries(bench_exchange PRIVATE cairn_model cairn_comm)
EOF
  cmake -S "$OLD_SRC" -B "$OLD_BUILD" -DCAIRN_CUDA=OFF "${launcher[@]}" >/dev/null
  cmake --build "$OLD_BUILD" --target bench_exchange -j "$CORES" >/dev/null
fi
OLDBIN=$OLD_BUILD/bin/bench_exchange

log=$OUT/exchange.log
if [ -z "${TABLE_ONLY:-}" ]; then  # TABLE_ONLY=1: print the table of the last run's log again
echo "# exchange bench $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD) vs $OLD, $CORES cores," \
     "load $(cut -d' ' -f1-3 /proc/loadavg), G = $G, $REPEATS repeats x $ITERS iterations"
: > "$log"
run() {  # tag binary W
  local line
  line=$(mpirun --oversubscribe --bind-to none -np "$3" "$2" "$G" "$ITERS" 2>&1 | grep "^W ") || true
  echo "$1 $line" | tee -a "$log"
}
for w in $WORLDS; do
  for _ in $(seq "$REPEATS"); do
    run new "$NEW" "$w"
    run old "$OLDBIN" "$w"
  done
done
fi

# Median over every iteration of every repeat, per (code, W).
echo
echo "| W | code | partials per rank (max) | MB sent by the busiest rank | ms per exchange (median) | iterations |"
echo "|---:|---|---:|---:|---:|---|"
for w in $WORLDS; do
  for tag in new old; do
    lines=$(grep "^$tag W $w G" "$log" || true)
    if [ -z "$lines" ] || ! grep -q "ms per exchange" <<<"$lines"; then
      echo "| $w | $tag | $(grep -o 'not supported.*\|skipped.*' <<<"$lines" | head -1) | | | |"
      continue
    fi
    parts=$(grep -o 'partials per rank <= [0-9]*' <<<"$lines" | head -1 | grep -o '[0-9]*$')
    mb=$(grep -o 'sends [0-9.]* MB' <<<"$lines" | head -1 | grep -o '[0-9.]*')
    all=$(sed 's/.*ms per exchange:\([0-9 ]*\);.*/\1/' <<<"$lines" | tr ' ' '\n' | grep . | sort -n)
    median=$(awk '{v[NR] = $1} END {printf "%.0f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}' <<<"$all")
    echo "| $w | $tag | $parts | $mb | $median | $(tr '\n' ' ' <<<"$all")|"
  done
done
