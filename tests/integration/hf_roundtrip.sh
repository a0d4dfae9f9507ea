#!/usr/bin/env bash
# A random GPT2LMHeadModel saved by transformers -> `cairn ckpt import` of its directory ->
# logits equal to transformers' (also from a two-shard save's directory and index, and with a
# shorter seq_len, cropping the position table) -> a few training steps -> `ckpt export` to a
# directory -> from_pretrained(DIR) as it is -> logits equal again
# (scripts/check_hf_roundtrip.py). Skipped, visibly, without torch and transformers.
source "$(dirname "$0")/lib.bash"
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
[ -x "$PY" ] || { echo "SKIP: no Python environment at $PY (CAIRN_SETUP_TORCH=1 scripts/setup.sh creates it)"; exit 77; }
"$PY" "$CAIRN_SOURCE_DIR/scripts/check_hf_roundtrip.py" "$CAIRN_BIN" "$WORK"
