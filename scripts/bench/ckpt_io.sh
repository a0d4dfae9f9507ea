#!/usr/bin/env bash
# scripts/bench/ckpt_io.sh — checkpoint I/O of the GPT-2 124M state (configs/gpt2-124m.toml:
# params + AdamW m + v, 1.49 GB), all measured side by side in one run on one file system:
#   1. the disk: dd write (bs=16M conv=fsync) of random data of the same size, cold dd read;
#   2. cairn save and load, sync and async, plain and zstd, 1 and 2 ranks: each run resumes
#      (cold page cache) from a 2-step checkpoint, trains 2 steps with a save after each;
#      the save of step 3 is the one measured (step 4's is the final, synchronous one);
#   3. PyTorch on a state of the same shapes (scripts/bench/torch_ckpt.py): torch.save/load,
#      torch.distributed.checkpoint save/load/async_save;
#   4. loads against the disk, alternating ROUNDS times: dd's cold read of the shard, cairn's
#      verified and unverified cold loads of it (1 rank), medians and the ratio to dd;
#   5. training overhead: 21 steps with no periodic save, async every 10, sync every 10
#      (one rank, 2 threads), the three alternating ROUNDS times (medians), peak RSS of each,
#      and the interval Young/Daly recommends (checkpoint.mtbf_hours = 24) from the first save.
# Prints markdown tables (docs/benchmarks.md). Takes ~25 minutes on 2 cores.
# Usage: scripts/bench/ckpt_io.sh   (CAIRN=path/to/cairn, OUT=dir on the file system to test,
#        ROUNDS=5 for parts 4 and 5 (default 3), KEEP=1 to keep the runs; needs ~40 GB free
#        there while it runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
CAIRN=${CAIRN:-build/bin/cairn}
OUT=${OUT:-runs/bench-ckpt}
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
[ -x "$CAIRN" ] || scripts/build.sh >/dev/null
[ -f data/demo/train_000000.bin ] || "$CAIRN" data prepare data/corpus.txt --out data/demo >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
rm -rf "$OUT" && mkdir -p "$OUT"
CFG=${CFG:-configs/gpt2-124m.toml}  # CFG=configs/tiny.toml: a quick check of the script itself
ROUNDS=${ROUNDS:-3}
SETS=(--set model.seq_len=64 --set train.micro_batch=2 --set train.grad_accum=2 --set run.log_every=100
      --set checkpoint.keep_last=2)

drop_cache() {  # evict files (or directories' files) from the page cache
  sync
  find "$@" -type f -print0 | xargs -0 -I{} dd if={} iflag=nocache count=0 status=none
}
run_cairn() {  # np args...
  local np=$1; shift
  if [ "$np" = 1 ]; then
    "$CAIRN" train "$CFG" "${SETS[@]}" --set run.threads=2 "$@"
  else
    mpirun --oversubscribe --bind-to none -np "$np" "$CAIRN" train "$CFG" "${SETS[@]}" --set run.threads=1 "$@"
  fi
}
# One field of the first metrics.jsonl record matching a filter, e.g. field run '"event":"resume"' seconds
field() {
  python3 - "$1/metrics.jsonl" "$2" "$3" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if all(r.get(k) == v for k, v in json.loads("{" + sys.argv[2] + "}").items()):
        print(r[sys.argv[3]]); break
EOF
}
dd_rate() { tail -1 | sed 's/.*, \([0-9.]* [kMG]B\/s\)$/\1/'; }
dd_gbps() {  # dd's "N bytes ... copied, S s, R MB/s" as GB/s, from bytes / seconds
  tail -1 | awk '{for (i = 1; i <= NF; i++) if ($i == "s,") s = $(i - 1); print $1 / s / 1e9}'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "# checkpoint I/O benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, OUT=$OUT ($(df -h "$OUT" | awk 'NR==2 {print $1}'))"

# 2a. Base states to load from (2 steps, final save synchronous, 1 rank).
for comp in none zstd; do
  run_cairn 1 --set train.steps=2 --set checkpoint.compress=$comp --set run.dir=$OUT/base-$comp > $OUT/base-$comp.log
done
BYTES=$(field $OUT/base-none '"event":"checkpoint"' logical_bytes)

# 1. The disk.
head -c "$BYTES" /dev/urandom > $OUT/rand.bin
cat $OUT/rand.bin > /dev/null
dd_w1=$(dd if=$OUT/rand.bin of=$OUT/dd.bin bs=16M conv=fsync 2>&1 | dd_rate)
drop_cache $OUT/dd.bin
dd_r1=$(dd if=$OUT/dd.bin of=/dev/null bs=16M 2>&1 | dd_rate)

# 2b. The matrix.
echo
echo "| compress | ranks | save | save GB/s (write) | save wall s | training stall s (waiting for the writer) | bytes on disk | ratio | load GB/s (cold, verify) | load s |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
for comp in none zstd; do
  for np in 1 2; do
    for mode in sync async; do
      d=$OUT/$comp-np$np-$mode
      drop_cache $OUT/base-$comp/checkpoints
      run_cairn $np --set train.steps=4 --set checkpoint.every_steps=1 --set checkpoint.compress=$comp \
        --set checkpoint.async=$([ $mode = async ] && echo true || echo false) --set run.dir=$d \
        --resume $OUT/base-$comp/checkpoints/step_00000002 > $d.log 2>&1
      c='"event":"checkpoint","step":3'
      printf '| %s | %s | %s | %.2f | %.2f | %.3f (%.3f) | %s | %.3f | %.2f | %.2f |\n' $comp $np $mode \
        "$(field $d "$c" gb_per_s)" "$(field $d "$c" seconds)" "$(field $d "$c" stall_s)" "$(field $d "$c" writer_wait_s)" \
        "$(field $d "$c" bytes)" "$(field $d "$c" ratio)" \
        "$(field $d '"event":"resume"' gb_per_s)" "$(field $d '"event":"resume"' seconds)"
    done
  done
done
for comp in none zstd; do  # load without the checksum pass, 1 rank
  d=$OUT/$comp-noverify
  drop_cache $OUT/base-$comp/checkpoints
  run_cairn 1 --set train.steps=3 --set checkpoint.verify=false --set checkpoint.compress=$comp --set run.dir=$d \
    --resume $OUT/base-$comp/checkpoints/step_00000002 > $d.log 2>&1
  printf 'load without verify (%s, 1 rank, cold): %.2f GB/s in %.2f s\n' $comp "$(field $d '"event":"resume"' gb_per_s)" \
    "$(field $d '"event":"resume"' seconds)"
done

# 3. PyTorch, same shapes.
echo
if [ -x "$PY" ]; then
  echo "| PyTorch $("$PY" -c 'import torch; print(torch.__version__)') | GB/s | seconds |"
  echo "|---|---:|---:|"
  "$PY" scripts/bench/torch_ckpt.py $OUT/base-none/checkpoints/step_00000002/manifest.json $OUT/torch --markdown
  rm -rf $OUT/torch
else
  echo "(no PyTorch at $PY: skipped)"
fi

# 1 again, after everything, to show the disk's drift.
dd_w2=$(dd if=$OUT/rand.bin of=$OUT/dd.bin bs=16M conv=fsync 2>&1 | dd_rate)
drop_cache $OUT/dd.bin
dd_r2=$(dd if=$OUT/dd.bin of=/dev/null bs=16M 2>&1 | dd_rate)
echo
echo "dd of $BYTES bytes: write (conv=fsync) $dd_w1 before, $dd_w2 after; cold read $dd_r1 before, $dd_r2 after"
rm -f $OUT/rand.bin $OUT/dd.bin

# 4. Loads against the disk's cold read of the same bytes, alternating.
SHARD=$OUT/base-none/checkpoints/step_00000002/rank_00000-of-00001.safetensors
dd_runs=""; ver_runs=""; nover_runs=""
for r in $(seq "$ROUNDS"); do
  drop_cache "$SHARD"
  dd_runs+=" $(dd if="$SHARD" of=/dev/null bs=16M 2>&1 | dd_gbps)"
  for verify in true false; do
    d=$OUT/load-$verify-$r
    drop_cache "$SHARD"
    run_cairn 1 --set train.steps=3 --set checkpoint.verify=$verify --set checkpoint.every_steps=0 --set run.dir=$d \
      --resume $OUT/base-none/checkpoints/step_00000002 > $d.log 2>&1
    g=$(field $d '"event":"resume"' gb_per_s)
    if [ $verify = true ]; then ver_runs+=" $g"; else nover_runs+=" $g"; fi
    rm -rf $d
  done
done
echo
echo "| cold read of the shard (step 2, 1 rank), $ROUNDS rounds alternating | median GB/s | runs | vs dd |"
echo "|---|---:|---|---:|"
dd_med=$(echo $dd_runs | median)
for row in "dd bs=16M:$dd_runs" "cairn load, verified (1 rank):$ver_runs" "cairn load, unverified (1 rank):$nover_runs"; do
  runs=${row#*:}; med=$(echo $runs | median)
  printf '| %s | %.2f | %s | %.0f%% |\n' "${row%%:*}" "$med" "$(printf '%.2f ' $runs)" "$(awk "BEGIN {print 100 * $med / $dd_med}")"
done

# 5. Training overhead, side by side, alternating.
declare -A walls
for r in $(seq "$ROUNDS"); do
  for how in none async sync; do
    d=$OUT/overhead-$how
    rm -rf $d
    every=$([ $how = none ] && echo 0 || echo 10)
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o $d.rss "$CAIRN" train "$CFG" "${SETS[@]}" --set run.threads=2 --set train.steps=21 \
      --set checkpoint.every_steps=$every --set checkpoint.async=$([ $how = async ] && echo true || echo false) \
      --set checkpoint.mtbf_hours=24 --set run.dir=$d --resume none > $d.log 2>&1
    walls[$how]+=" $(awk "BEGIN {print $(date +%s.%N) - $t0}")"
    grep '"split":"train"' $d/metrics.jsonl | tail -n +2 | sed 's/.*"ms":\([0-9.e+-]*\).*/\1/' >> $d.ms
    cp $d/metrics.jsonl $d.metrics-$r.jsonl
  done
done
echo
echo "| periodic saves ($ROUNDS rounds alternating) | median ms/step | tokens/s | stall per save s (step 10, 20; last round) | snapshot copy s | save start to commit s | save CPU s | process wall s, median (runs) | vs none | peak RSS MiB |"
echo "|---|---:|---:|---|---|---|---|---:|---:|---:|"
none_wall=$(echo ${walls[none]} | median)
for how in none async sync; do
  d=$OUT/overhead-$how
  ms=$(cat $d.ms | median)
  wall=$(echo ${walls[$how]} | median)
  pair() {  # field at steps 10 and 20
    printf "%.${2}f, %.${2}f" "$(field $d '"event":"checkpoint","step":10' $1)" "$(field $d '"event":"checkpoint","step":20' $1)"
  }
  stalls="-"; snaps="-"; secs="-"; cpu="-"
  if [ $how != none ]; then
    stalls=$(pair stall_s 3); snaps=$(pair snapshot_s 3); secs=$(pair seconds 2)
    cpu=$(pair cpu_s 2)
  fi
  printf '| %s | %.0f | %.1f | %s | %s | %s | %s | %.1f (%s) | %+.1f%% | %.0f |\n' $how "$ms" "$(awk "BEGIN {print 256 * 1000 / $ms}")" \
    "$stalls" "$snaps" "$secs" "$cpu" "$wall" "$(printf '%.1f ' ${walls[$how]})" \
    "$(awk "BEGIN {print 100 * ($wall - $none_wall) / $none_wall}")" "$(awk "BEGIN {print $(cat $d.rss) / 1024}")"
done
echo
for how in async sync; do echo "$how, MTBF 24 h: $(grep -o 'Young/Daly recommends.*' $OUT/overhead-$how.log)"; done
# The runs hold ~40 GB of checkpoints: removed unless KEEP=1.
if [ "${KEEP:-0}" = 1 ]; then echo; echo "(kept: $OUT)"; else rm -rf "$OUT"; fi
