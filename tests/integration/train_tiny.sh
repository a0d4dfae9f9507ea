#!/usr/bin/env bash
# cairn train configs/tiny.toml drives the loss clearly down on the shipped corpus, writes
# config.toml, metrics.jsonl and model.safetensors, and cairn sample prints text from it.
source "$(dirname "$0")/lib.bash"

cairn train "$TINY" "${TINY_SETS[@]}" --set run.dir=run --set train.steps=60 --set run.threads=2 > log.txt
cat log.txt
[ -f run/config.toml ] && [ -f run/model.safetensors ] || fail "run outputs missing"
first=$(losses run | head -1); last=$(losses run | tail -1)
python3 -c "import sys; f,l=$first,$last; sys.exit(0 if l < f - 1.5 else 1)" || fail "loss did not drop clearly: $first -> $last"
grep -q '"split":"val"' run/metrics.jsonl || fail "no validation loss in metrics.jsonl"
pass "loss $first -> $last"

out=$(cairn sample run --prompt "GNU " --tokens 80 --seed 3)
echo "$out"
[ "${#out}" -ge 80 ] || fail "sample printed too little"
again=$(cairn sample run --prompt "GNU " --tokens 80 --seed 3)
[ "$out" = "$again" ] || fail "sampling with the same seed differs"
pass "sample"
