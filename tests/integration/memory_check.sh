#!/usr/bin/env bash
# Memory before allocation (issue 13): a model or batch that cannot fit is refused with one
# line saying what each rank needs and what the node has, before the run directory is
# created or touched; every start logs the estimate.
source "$(dirname "$0")/lib.bash"
run() { cairn train "$TINY" "${TINY_SETS[@]}" --set run.threads=1 "$@"; }
GPT3=(--set model.n_layer=96 --set model.n_head=96 --set model.n_embd=12288 --set model.seq_len=2048
      --set model.vocab_size=50257)

# What every start logs.
run --set run.dir=small --set train.steps=2 > small.log
grep -q "^memory per rank: parameters .* MiB + gradients .* + AdamW state .* + activations .* + checkpoint staging .* = .*; host memory available: .* for 1 rank(s)$" small.log \
  || fail "no memory estimate in the start-up log: $(head -3 small.log)"

# A 175B shape: one line, exit 1, no run directory.
refuse() {  # dir, the estimate text, then train options
  local dir=$1 need=$2; shift 2
  local out status=0
  out=$(run --set run.dir="$dir" "$@" 2>&1) || status=$?
  [ $status -eq 1 ] || fail "$dir: exit $status, expected 1: $out"
  [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] || fail "$dir: expected one line: $out"
  [[ "$out" =~ ^"error: this run does not fit in memory: each of the 1 rank(s) on this node needs $need, and the node has "[0-9.]+" "(GiB|MiB)" available ("(MemAvailable|cgroup memory limit)"); reduce train.micro_batch or model.seq_len (activations), use a smaller model, or spread the ranks over more nodes"$ ]] \
    || fail "$dir: unexpected message: $out"
}
refuse gpt3 "parameters 650.45 GiB + gradients 1951.36 GiB + AdamW state 1300.91 GiB + activations 509.09 GiB + checkpoint staging 1951.36 GiB = 6363.17 GiB" "${GPT3[@]}"
[ ! -e gpt3 ] || fail "the refused run created its run directory"
pass "175B shape refused before the run directory exists"

# seq_len 100000 on an existing run: refused, and the run directory is untouched.
before=$(cd small && find . -type f -exec sha256sum {} + | sort)
refuse small "parameters 12.3 MiB + gradients 37.0 MiB + AdamW state 24.7 MiB + activations 299.34 GiB + checkpoint staging 37.0 MiB = 299.45 GiB" \
  --set model.seq_len=100000
[ "$(cd small && find . -type f -exec sha256sum {} + | sort)" = "$before" ] || fail "the refused run changed its run directory"
pass "seq_len 100000 refused, existing run directory untouched"

# Under mpirun every rank checks; the message is printed once.
if [ "${CAIRN_WITH_MPI:-TRUE}" = "TRUE" ] && command -v mpirun >/dev/null; then
  out=$(timeout 120 mpirun --oversubscribe --bind-to none -np 2 "$CAIRN_BIN" train "$TINY" "${TINY_SETS[@]}" \
        --set run.threads=1 --set run.dir=gpt3mpi "${GPT3[@]}" 2>&1) && fail "np 2: should fail"
  [ "$(printf '%s\n' "$out" | grep -c 'this run does not fit in memory: each of the 2 rank(s)')" -eq 1 ] \
    || fail "np 2: expected the message once: $out"
  [ ! -e gpt3mpi ] || fail "np 2: the refused run created its run directory"
  pass "np 2: refused once, no run directory"
fi
