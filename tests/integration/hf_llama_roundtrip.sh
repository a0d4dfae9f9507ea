#!/usr/bin/env bash
# A random LlamaForCausalLM (grouped-query attention, tied and untied heads) saved by
# transformers -> `cairn ckpt import` of its directory -> logits within 1e-5 of transformers'
# -> a few training steps -> `ckpt export` to a directory -> LlamaForCausalLM.from_pretrained
# as it is -> logits within 1e-5 again (scripts/check_hf_llama_roundtrip.py). Skipped, visibly,
# without torch and transformers.
source "$(dirname "$0")/lib.bash"
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
[ -x "$PY" ] || { echo "SKIP: no Python environment at $PY (CAIRN_SETUP_TORCH=1 scripts/setup.sh creates it)"; exit 77; }
"$PY" "$CAIRN_SOURCE_DIR/scripts/check_hf_llama_roundtrip.py" "$CAIRN_BIN" "$WORK"
