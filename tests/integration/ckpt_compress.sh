#!/usr/bin/env bash
# checkpoint.compress = "zstd" with real mpirun: every checkpoint has the `ckpt hash` of the
# uncompressed run's, verifies, exports the same model.safetensors, says its ratio in
# `ckpt inspect`; a run killed mid-way resumes from compressed checkpoints on another world
# size (resharding) bitwise exactly; compressed shards open with Python safetensors.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=24 --set checkpoint.every_steps=8 --set checkpoint.keep_last=5
      --set run.threads=1)

mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=plain >/dev/null
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=zstd --set checkpoint.compress=zstd > zstd.log
grep -q "ratio" zstd.log || fail "the save log does not report the compression ratio"
for s in 8 16 24; do
  d=$(printf 'step_%08d' $s)
  [ "$(cairn ckpt hash zstd/checkpoints/$d | cut -d' ' -f1)" = "$(cairn ckpt hash plain/checkpoints/$d | cut -d' ' -f1)" ] ||
    fail "ckpt hash of compressed $d differs from the uncompressed one"
  cairn ckpt verify zstd/checkpoints/$d >/dev/null || fail "compressed $d does not verify"
done
cairn ckpt diff zstd plain >/dev/null || fail "ckpt diff finds a difference"
# Captured first: `cairn ... | grep -q` fails under pipefail when grep exits before cairn
# has written the rest (SIGPIPE).
inspect=$(cairn ckpt inspect zstd)
grep -q "^compression   shuffle4-zstd" <<<"$inspect" || fail "ckpt inspect does not show the compression"
cairn ckpt export zstd zstd.safetensors && cairn ckpt export plain plain.safetensors
same_file zstd.safetensors plain.safetensors
want=$(cairn ckpt hash plain | cut -d' ' -f1)
pass "compressed checkpoints: same ckpt hash, verify, diff and export as uncompressed; $(grep -o 'ratio [0-9.]*' zstd.log | tail -1)"

# Killed at step 11 on 2 ranks (step 4 committed, compressed; 8 too if its background write
# finished in time), resumed on 1 rank and killed at step 17 (12 committed by 1 rank: the save
# of 16 waited for it), resumed on 4 ranks to the end.
K=(--set run.dir=killed --set checkpoint.compress=zstd --set checkpoint.every_steps=4)
status=0
CAIRN_KILL_AT=train.step@11 mpi 2 train "$TINY" "${SETS[@]}" "${K[@]}" >/dev/null 2>&1 || status=$?
[ $status -ne 0 ] || fail "the run was not killed at step 11"
status=0
CAIRN_KILL_AT=train.step@17 mpi 1 train "$TINY" "${SETS[@]}" "${K[@]}" > r1.log 2>&1 || status=$?
[ $status -ne 0 ] || fail "the run was not killed at step 17"
grep -q "resumed from .*step_0000000[48] at step [48] (saved on 2 rank(s), now 1)" r1.log || fail "did not resume from step 4 or 8"
mpi 4 train "$TINY" "${SETS[@]}" "${K[@]}" > r4.log
grep -q "resumed from .*step_0000001[26] at step 1[26] (saved on 1 rank(s), now 4)" r4.log || fail "did not resume from step 12 or 16"
[ "$(cairn ckpt hash killed | cut -d' ' -f1)" = "$want" ] || fail "resumed compressed run differs from the uninterrupted one"
pass "killed twice, resumed from compressed checkpoints 2 -> 1 -> 4 ranks, bitwise exact"

PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
if [ -x "$PY" ] && "$PY" -c "import safetensors" 2>/dev/null; then
  "$PY" - zstd/checkpoints/step_00000024/rank_00000-of-00002.safetensors <<'EOF' || fail "Python safetensors cannot read a compressed shard"
import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], framework="numpy") as f:
    meta = f.metadata()
    assert meta["format_version"] == "2", meta["format_version"]
    pieces = json.loads(meta["pieces"])
    assert all(p["codec"] == "shuffle4-zstd" for p in pieces)
    sizes = [f.get_tensor(p["name"]).nbytes for p in pieces]
print("python safetensors reads", len(sizes), "compressed pieces,", sum(sizes), "bytes")
EOF
  pass "compressed shard opens with Python safetensors"
fi
