#!/usr/bin/env bash
# Bad launches fail fast with one clear message (printed once) and no hang.
source "$(dirname "$0")/lib.bash"
T="timeout 120"

out=$($T mpirun --oversubscribe -np 3 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" --set run.dir=r3 2>&1) && fail "np 3 should fail"
[ "$(printf '%s\n' "$out" | grep -c 'must be a power of two')" -eq 1 ] || fail "np 3: expected the message once: $out"
pass "np 3 refused"

out=$($T mpirun --oversubscribe -np 2 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" --set run.dir=r2 --set train.grad_accum=3 2>&1) \
  && fail "np 2 with grad_accum 3 should fail"
[ "$(printf '%s\n' "$out" | grep -c 'divides grad_accum')" -eq 1 ] || fail "grad_accum 3: expected the message once: $out"
pass "np 2, grad_accum 3 refused"

out=$($T mpirun --oversubscribe -np 1 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" --set run.dir=rm \
      : -np 1 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" --set run.dir=rm --set train.lr=1e-3 2>&1) \
  && fail "mismatched configs should fail"
case "$out" in *"ranks were started with different configs (rank 1 differs from rank 0)"*) ;; *) fail "mismatch: $out" ;; esac
pass "mismatched configs refused"
