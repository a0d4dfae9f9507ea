#!/usr/bin/env bash
# Checkpoint shards open with the Python safetensors package, and `ckpt export` loads into
# Hugging Face GPT2LMHeadModel with logits equal to cairn's within fp32 tolerance
# (scripts/check_hf_export.py). Skipped, visibly, when the Python packages are missing.
source "$(dirname "$0")/lib.bash"
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
[ -x "$PY" ] || { echo "SKIP: no Python environment at $PY (scripts/setup.sh creates it)"; exit 77; }
mpi 2 train "$TINY" "${TINY_SETS[@]}" --set run.dir=run --set train.steps=10 --set run.threads=1 >/dev/null
"$PY" "$CAIRN_SOURCE_DIR/scripts/check_hf_export.py" "$CAIRN_BIN" run
