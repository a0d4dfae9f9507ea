#!/usr/bin/env bash
# Any number of ranks W <= G gives the same bits, not only powers of two: with dropout on,
# G = 24 on W = 1, 2, 3, 4, 5, 6, 8, 12, 24 and G = 12 on W = 1, 3, 5, 7, 12 end with one
# `ckpt hash` each (and the same logged losses); the start-up line states the partial sums
# each rank sends. Blocks are uneven where W does not divide G (G = 24, W = 5: 5,5,5,5,4).
# Slow: 24 ranks on a 2-core machine.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=3 --set train.micro_batch=1 --set model.dropout=0.1
      --set run.threads=1 --set checkpoint.every_steps=0 --set train.eval_every=0 --set train.eval_batches=5)

check() {  # G, world sizes...
  local G=$1; shift
  local want="" want_losses="" w got
  for w in "$@"; do
    mpi "$w" train "$TINY" "${SETS[@]}" --set train.grad_accum="$G" --set run.dir=g$G-w$w > g$G-w$w.log
    got=$(cairn ckpt hash g$G-w$w | cut -d' ' -f1)
    [ -n "$got" ] || fail "G $G W $w: no hash"
    [ -n "$(losses g$G-w$w)" ] || fail "G $G W $w: no losses logged"
    if [ -z "$want" ]; then
      want=$got want_losses=$(losses g$G-w$w)
    else
      [ "$got" = "$want" ] || fail "G $G: W $w gives hash $got, W $1 gives $want"
      [ "$(losses g$G-w$w)" = "$want_losses" ] || fail "G $G: W $w logs other losses than W $1"
    fi
  done
  pass "G $G: W = $* give one hash, $want"
}

check 24 1 2 3 4 5 6 8 12 24
check 12 1 3 5 7 12

# The start-up line: one partial per rank at a power of two dividing G, 2-3 at G = 24, W = 5.
grep -q "gradient exchange: 8 ranks x 3 micro-batches, one partial sum per rank" g24-w8.log \
  || fail "W 8: start-up line: $(grep 'gradient exchange' g24-w8.log)"
grep -q "gradient exchange: 5 ranks x 4-5 micro-batches, 2-3 partial sums per rank (13 canonical subtrees in all).*3x the bytes of one partial per rank" g24-w5.log \
  || fail "W 5: start-up line: $(grep 'gradient exchange' g24-w5.log)"
pass "start-up lines state the partials"
