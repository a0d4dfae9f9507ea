#!/usr/bin/env bash
# BPE tokenizers end to end (data/tokenizer.h): `cairn data prepare --tokenizer` gives exactly
# the ids of Hugging Face `tokenizers` for four byte-level BPE tokenizers trained here (GPT-2,
# Llama 3, SmolLM2 and Qwen2 style pre-tokenizers; Qwen2's with its NFC normalizer) and of
# `tiktoken` for GPT-2's real ranks, on a multilingual text with emoji, numbers, whitespace
# runs, decomposed characters and invalid UTF-8
# (tests/integration/check_tokenizer.py). Then uint32 (version 2) shards train, `sample`
# round-trips a BPE prompt and its ids, and a changed tokenizer is refused on resume.
# Needs the Python environment of scripts/setup.sh (tokenizers, tiktoken, and openai-whisper
# for assets/gpt2.tiktoken, GPT-2's ranks offline): it fails, not skips, without them.
source "$(dirname "$0")/lib.bash"
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
CHECK="$CAIRN_SOURCE_DIR/tests/integration/check_tokenizer.py"
"$PY" -c "import tokenizers, tiktoken" || fail "no tokenizers/tiktoken in $PY; run scripts/setup.sh"
RANKS=$("$PY" -c "import importlib.util as u, os; print(os.path.join(os.path.dirname(u.find_spec('whisper').origin), 'assets', 'gpt2.tiktoken'))") \
  || fail "no openai-whisper (GPT-2's ranks) in $PY; run scripts/setup.sh"

mkdir tok
"$PY" "$CHECK" make tok
DOCS=(tok/doc1.txt tok/doc2.txt)
for name in gpt2 llama3 smollm2 qwen2big; do
  cairn data prepare "${DOCS[@]}" --tokenizer "tok/$name/tokenizer.json" --out "d_$name" --val-fraction 0 2>/dev/null
  "$PY" "$CHECK" compare "tok/$name/tokenizer.json" "d_$name" "${DOCS[@]}"
  same_file "tok/$name/tokenizer.json" "d_$name/tokenizer.json"
done
cp "$RANKS" tok/gpt2.tiktoken
cairn data prepare "${DOCS[@]}" --tokenizer tok/gpt2.tiktoken --out d_tiktoken --val-fraction 0 2>/dev/null
"$PY" "$CHECK" compare tok/gpt2.tiktoken d_tiktoken "${DOCS[@]}"
same_file tok/gpt2.tiktoken d_tiktoken/gpt2.tiktoken
expect_fail 1 "unknown tiktoken pattern 'cl100k'" cairn data prepare tok/doc2.txt --tokenizer tok/gpt2.tiktoken --pattern cl100k --out d_x
# Preparing byte-level data into the directory removes the tokenizer: it no longer applies.
cairn data prepare tok/doc1.txt --out d_tiktoken 2>/dev/null
[ ! -e d_tiktoken/gpt2.tiktoken ] || fail "a byte-level preparation left the old tokenizer beside its shards"
pass "byte-level re-preparation removes the stale tokenizer"

# uint32 shards (the qwen2big vocabulary holds id 70000) train; the run keeps the tokenizer.
cairn data prepare "${DOCS[@]}" --tokenizer tok/qwen2big/tokenizer.json --out big 2>/dev/null
BIG=(--set model.vocab_size=70001 --set "data.train=big/train_*.bin" --set "data.val=big/val_*.bin"
     --set run.dir=run --set run.threads=2 --set checkpoint.every_steps=2 --set train.eval_every=4)
cairn train "$TINY" "${BIG[@]}" --set train.steps=4 > log.txt 2>&1 || { cat log.txt; fail "training on uint32 shards"; }
same_file tok/qwen2big/tokenizer.json run/tokenizer.json
pass "uint32 shards train; run/tokenizer.json is the data's"

PROMPT=$'Grüße, мир 👍🏽 1234 <|big|>'
out=$(cairn sample run --prompt "$PROMPT" --tokens 5 --temperature 0)
[[ "$out" == "$PROMPT"* ]] || fail "sample output does not start with the prompt: $out"
ids=$(cairn sample run --prompt "$PROMPT" --tokens 0 --print-ids)
want=$("$PY" "$CHECK" ids tok/qwen2big/tokenizer.json "$PROMPT")
same_value "prompt ids" "$ids" "$want"
more=$(cairn sample run --prompt-ids "$want" --tokens 3 --temperature 0 --print-ids)
[[ "$more" == "$want",* ]] || fail "--prompt-ids $want gave $more"
pass "sample round-trips a BPE prompt: $ids"

# A changed tokenizer is changed data: resume refuses it, naming the tokenizer.
printf ' ' >> big/tokenizer.json
expect_fail 1 "tokenizer tokenizer.json" cairn train "$TINY" "${BIG[@]}" --set train.steps=6
pass "a changed tokenizer is refused on resume"
