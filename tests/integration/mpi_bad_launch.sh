#!/usr/bin/env bash
# Bad launches fail fast with one clear message (printed once) and no hang.
source "$(dirname "$0")/lib.bash"
T="timeout 120"

out=$($T mpirun --oversubscribe -np 5 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" --set run.dir=r5 2>&1) && fail "np 5 > grad_accum 4 should fail"
[ "$(printf '%s\n' "$out" | grep -c 'cannot train on 5 ranks with train.grad_accum = 4: every rank needs at least one micro-batch, so the world size must be at most grad_accum')" -eq 1 ] \
  || fail "np 5: expected the message once: $out"
pass "np 5 with grad_accum 4 refused"

out=$($T mpirun --oversubscribe -np 1 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" --set run.dir=rm \
      : -np 1 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" --set run.dir=rm --set train.lr=1e-3 2>&1) \
  && fail "mismatched configs should fail"
case "$out" in *"ranks were started with different configs (rank 1 differs from rank 0)"*) ;; *) fail "mismatch: $out" ;; esac
pass "mismatched configs refused"
