#!/usr/bin/env bash
# Bounds before allocation (issue 13): a crafted manifest whose zstd piece claims to decode to
# 2^30 floats (4 GiB) is refused by `ckpt verify` and by resume with one line naming the
# piece, before anything is allocated for it. Run under a 1.5 GiB address-space limit: a
# reader that sized its buffer from the manifest would die of std::bad_alloc instead.
source "$(dirname "$0")/lib.bash"
cairn train "$TINY" "${TINY_SETS[@]}" --set run.dir=run --set train.steps=2 --set run.threads=1 \
  --set checkpoint.compress='"zstd"' >/dev/null
ck=run/checkpoints/step_00000002
python3 - "$ck" <<'PY'
# A consistent forgery: the manifest and the shard's own __metadata__ both say the pieces
# end at 2^30 (every other check passes), the stored bytes are untouched.
import json, struct, sys
ck = sys.argv[1]
mpath, spath = ck + "/manifest.json", ck + "/rank_00000-of-00001.safetensors"
m = json.load(open(mpath))
total = 1 << 30
old = m["layout"]["total"]
m["layout"]["total"] = total
for p in m["shards"][0]["pieces"]:
    assert p.get("codec") == "shuffle4-zstd"
    if p["end"] == old:
        p["end"] = total
raw = open(spath, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
pieces = json.loads(header["__metadata__"]["pieces"])
for p in pieces:
    if p["end"] == old:
        p["end"] = total
header["__metadata__"]["pieces"] = json.dumps(pieces, separators=(",", ":"))
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * ((-(8 + len(text))) % 64)
delta = len(text) - n
open(spath, "wb").write(struct.pack("<Q", len(text)) + text + data)
m["shards"][0]["bytes"] += delta
for p in m["shards"][0]["pieces"]:
    p["offset"] += delta
json.dump(m, open(mpath, "w"))
PY
name=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['shards'][0]['pieces'][0]['name'])" "$ck/manifest.json")
stored=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['shards'][0]['pieces'][0]['stored'])" "$ck/manifest.json")
want="$ck/manifest.json: piece '$name' range [0, 1073741824) with $stored stored bytes does not fit one 262144-float cell of the compression grid (manifest corrupt or not trustworthy)"
status=0; out=$( (ulimit -v 1500000; cairn ckpt verify "$ck") 2>&1) || status=$?
[ $status -eq 1 ] || fail "ckpt verify: exit $status, expected 1: $out"
[ "$out" = "FAILED  $want" ] || fail "ckpt verify: expected 'FAILED  $want', got: $out"
( ulimit -v 1500000; expect_fail 1 "$want" cairn train "$TINY" "${TINY_SETS[@]}" --set run.dir=run \
  --set train.steps=3 --set run.threads=1 --resume "$ck" )
pass "crafted zstd piece size refused before allocation by verify and resume"
