#!/usr/bin/env bash
# scripts/bench/disk_io.sh — which way of writing and reading a checkpoint-sized file is fastest
# on this disk: write-call size, writer threads, O_DIRECT, posix_fadvise, sync_file_range,
# io_uring (scripts/bench/io_bench.cpp; methods alternate round by round, medians reported).
# Usage: scripts/bench/disk_io.sh  (OUT=dir on the file system to test, default runs/bench-io;
#        BYTES=file size, default the 124M state's 1484977408; ROUNDS=3; ONLY=substring)
# Needs liburing-dev for the io_uring rows (scripts/setup.sh installs it); without it they are left out.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/bench-io}
BIN=${BIN_DIR:-build}/io_bench
mkdir -p "$OUT" "$(dirname "$BIN")"
uring=()
if echo '#include <liburing.h>' | ${CXX:-g++} -x c++ -fsyntax-only - 2>/dev/null; then uring=(-DIO_BENCH_URING -luring); fi
${CXX:-g++} -O2 -std=c++17 -o "$BIN" scripts/bench/io_bench.cpp -lxxhash -lpthread "${uring[@]}"
echo "# io_bench $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), OUT=$OUT ($(df -h "$OUT" | awk 'NR==2 {print $1}'))$([ ${#uring[@]} -gt 0 ] || echo ', no liburing')"
"$BIN" --dir "$OUT" --bytes "${BYTES:-1484977408}" --rounds "${ROUNDS:-3}" ${ONLY:+--only "$ONLY"}
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
