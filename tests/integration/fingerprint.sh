#!/usr/bin/env bash
# The determinism fingerprint (issue 13): every checkpoint records the build and machine that
# trained it (ckpt inspect shows it); a resume on the same build says nothing, a resume on
# another build or machine says in one warning what changed and continues correctly; a
# checkpoint without a fingerprint (older cairn) still resumes.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set run.threads=1 --set checkpoint.every_steps=2)
train() { cairn train "$TINY" "${SETS[@]}" "$@"; }
ck() { printf '%s/checkpoints/step_%08d' "$1" "$2"; }
branch() { cp -r base "$1"; rm -rf "$(ck "$1" 6)"; }  # resume step 4 -> 6 without replacing a save

train --set run.dir=ref --set train.steps=6 >/dev/null
want=$(cairn ckpt hash ref | cut -d' ' -f1)
train --set run.dir=base --set train.steps=6 >/dev/null
out=$(cairn ckpt inspect "$(ck base 4)")
for field in '"blas": "' '"cairn": "' '"commit": "' '"compiler": "' '"cpu_isa": "x86-64' '"device": "cpu"' '"flags": "'; do
  [[ "$out" == *"$field"* ]] || fail "ckpt inspect shows no fingerprint field $field: $out"
done
pass "ckpt inspect shows the fingerprint"

# Same build: silent.
branch same
train --set run.dir=same --set train.steps=6 --resume "$(ck same 4)" >/dev/null 2>err
[ ! -s err ] || fail "same build: unexpected warnings: $(cat err)"
[ "$(cairn ckpt hash same | cut -d' ' -f1)" = "$want" ] || fail "same build: resumed run differs"
pass "same build: silent, same bits"

# Another BLAS (a library update, stood for by the tests-only override): one line, exit 0.
branch blas
blas_now=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['state']['fingerprint']['blas'])" \
  "$(ck blas 4)/manifest.json")
CAIRN_TEST_FINGERPRINT_BLAS="OpenBLAS 9.9.9 (test)" train --set run.dir=blas --set train.steps=6 \
  --resume "$(ck blas 4)" >/dev/null 2>err
[ "$(cat err)" = "warning: resuming $(ck blas 4) with another build or machine than the one that saved it (blas: '$blas_now' -> 'OpenBLAS 9.9.9 (test)'): the run continues correctly, but no longer bit for bit as an uninterrupted run" ] \
  || fail "another BLAS: expected one warning naming it, got: $(cat err)"
[ "$(cairn ckpt hash blas | cut -d' ' -f1)" = "$want" ] || fail "another BLAS (same library really): resumed run differs"
pass "another BLAS: one warning naming it, the run continues"

# A checkpoint saved on another CPU and commit (its manifest edited): both named.
branch cpu
python3 - "$(ck cpu 4)/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["state"]["fingerprint"]["cpu_isa"] = "x86-64-v2 (built for x86-64-v2)"
m["state"]["fingerprint"]["commit"] = "000000000000"
json.dump(m, open(sys.argv[1], "w"))
PY
train --set run.dir=cpu --set train.steps=6 --resume "$(ck cpu 4)" >/dev/null 2>err
[ "$(grep -c . err)" -eq 1 ] || fail "another CPU: expected one line: $(cat err)"
grep -q "(commit: '000000000000' -> '[^']*'; cpu_isa: 'x86-64-v2 (built for x86-64-v2)' -> 'x86-64[^']*'): the run continues correctly" err \
  || fail "another CPU: commit and cpu_isa not named: $(cat err)"
pass "another CPU and commit: named in one warning"

# A checkpoint from before fingerprints: resumes, silently, to the same bits.
branch old
python3 - "$(ck old 4)/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["state"]["fingerprint"]
json.dump(m, open(sys.argv[1], "w"))
PY
cairn ckpt verify "$(ck old 4)" >/dev/null || fail "a checkpoint without a fingerprint does not verify"
train --set run.dir=old --set train.steps=6 --resume "$(ck old 4)" >/dev/null 2>err
[ ! -s err ] || fail "no fingerprint: unexpected warnings: $(cat err)"
[ "$(cairn ckpt hash old | cut -d' ' -f1)" = "$want" ] || fail "no fingerprint: resumed run differs"
pass "a checkpoint without a fingerprint resumes as before"
