#!/usr/bin/env bash
# scripts/bench/throughput.sh — cairn vs PyTorch eager on the CPU, side by side.
#
# For each shape, runs cairn and the PyTorch baseline (scripts/bench/torch_gpt2.py, or for a
# model.arch = "llama" config transformers' LlamaForCausalLM, scripts/bench/torch_llama.py)
# alternately (A B A B ...,
# REPEATS times, same thread count), and prints the median ms/step over steps 2..N of each
# run, then the median over runs; tokens/s; achieved GFLOP/s (6 x parameters + attention,
# per token); the ratio cairn/PyTorch in tokens/s; and the peak RSS of each (GNU time).
# Also the machine's sgemm rate (PyTorch's MKL matmul at the same thread count) so the
# achieved fraction of peak can be stated, and cairn at -np 2 x 1 thread vs -np 1 x 2.
#
# Usage: scripts/bench/throughput.sh [REPEATS=3] [STEPS=5]
#   PARTS="b4 b8 demo llama np profile" (default: all): which tables to produce — 124M at B=4 T=64,
#   124M at B=8 T=256, the demo config, SmolLM2-135M (Llama) at B=4 T=64, 1 vs 2 ranks, the
#   per-op profiles
#   PYTHON=... (default ~/.cache/cairn/venv/bin/python; CAIRN_SETUP_TORCH=1 scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEATS=${1:-3}; STEPS=${2:-5}; THREADS=2
PARTS=" ${PARTS:-b4 b8 demo llama np profile} "
part() { [[ "$PARTS" == *" $1 "* ]]; }
PYTHON=${PYTHON:-$HOME/.cache/cairn/venv/bin/python}
CAIRN=build/bin/cairn
[ -x $CAIRN ] || scripts/build.sh >/dev/null
[ -f data/demo/train_000000.bin ] || $CAIRN data prepare data/corpus.txt --out data/demo >/dev/null
"$PYTHON" -c "import torch" || { echo "throughput.sh: PyTorch not found for $PYTHON" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
cairn_ms() { grep '"split":"train"' "$1/metrics.jsonl" | tail -n +2 | sed 's/.*"ms":\([0-9.e+-]*\).*/\1/' | median; }
calc() { awk "BEGIN {printf \"%.${2:-1}f\", $1}"; }

# FLOPs per token: 6 x (parameters, the LM head included, position embedding excluded)
# + 12 x n_layer x n_embd x T for attention scores and values. Llama: q and o C x C, k and v
# n_kv_head/n_head of that, gate, up and down C x ffn_dim, an untied head counted once more.
flops_per_token() {  # config T
  awk -v T="$2" -F' *= *' '/^arch/{A=$2} /^n_layer/{L=$2} /^n_head/{H=$2} /^n_kv_head/{KV=$2} /^n_embd/{C=$2}
    /^ffn_dim/{F=$2} /^vocab_size/{V=$2} /^tie_embeddings/{U=($2 == "false")}
    END {Vp=int((V+63)/64)*64
         if (A ~ /llama/) { if (!KV) KV=H; N=Vp*C*(1+U) + L*(2*C*C + 2*C*C*KV/H + 3*C*F + 2*C) + C }
         else N=Vp*C + L*(12*C*C + 13*C) + 2*C
         printf "%.0f", 6*N + 12*L*C*T}' "$1"
}
torch_baseline() {  # config -> the PyTorch script for its model.arch
  if grep -q '^arch = "llama"' "$1"; then echo scripts/bench/torch_llama.py; else echo scripts/bench/torch_gpt2.py; fi
}

sgemm=$("$PYTHON" - <<PY
import time, torch
torch.set_num_threads($THREADS)
a, b = torch.randn(2048, 768), torch.randn(768, 3072)
best = 0
for _ in range(5):
    t = time.perf_counter(); a @ b; best = max(best, 2 * 2048 * 768 * 3072 / (time.perf_counter() - t) / 1e9)
print(f"{best:.1f}")
PY
)
echo "machine: $(nproc) cores; sgemm peak (PyTorch/MKL, $THREADS threads, 2048x768x3072): $sgemm GFLOP/s"
echo

bench() {  # label config T micro_batch grad_accum
  local label=$1 config=$2 T=$3 mb=$4 G=$5
  local tokens=$((T * mb * G)) fpt; fpt=$(flops_per_token "$config" "$T")
  local c_ms=() t_ms=() c_rss=() t_rss=()
  for r in $(seq 1 "$REPEATS"); do
    /usr/bin/time -f "%M" -o $out/rss $CAIRN train "$config" --set run.dir=$out/c-$T-$mb-$G-$r --set model.seq_len=$T \
      --set train.micro_batch=$mb --set train.grad_accum=$G --set train.steps=$STEPS --set run.threads=$THREADS \
      --set checkpoint.every_steps=0 --set train.eval_every=0 --set data.val= --set "data.train=data/demo/train_*.bin" \
      --resume none >/dev/null
    c_ms+=("$(cairn_ms $out/c-$T-$mb-$G-$r)"); c_rss+=("$(cat $out/rss)")
    /usr/bin/time -f "%M" -o $out/rss "$PYTHON" "$(torch_baseline "$config")" --config "$config" --seq-len $T \
      --micro-batch $mb --grad-accum $G --steps $STEPS --threads $THREADS > $out/t$r.json
    t_ms+=("$("$PYTHON" -c "import json; print(json.load(open('$out/t$r.json'))['median_ms'])")"); t_rss+=("$(cat $out/rss)")
  done
  local cm tm cr tr
  cm=$(printf '%s\n' "${c_ms[@]}" | median); tm=$(printf '%s\n' "${t_ms[@]}" | median)
  cr=$(printf '%s\n' "${c_rss[@]}" | median); tr=$(printf '%s\n' "${t_rss[@]}" | median)
  printf '| %-22s | %-7s | %8.0f | %8.1f | %6s | %5s | %6.0f MB |\n' "$label" cairn "$cm" "$(calc "$tokens*1000/$cm")" \
    "$(calc "$fpt*$tokens/$cm/1e6")" "$(calc "$fpt*$tokens/$cm/1e6/$sgemm*100" 0)%" "$(calc "$cr/1024" 0)"
  printf '| %-22s | %-7s | %8.0f | %8.1f | %6s | %5s | %6.0f MB |\n' "" PyTorch "$tm" "$(calc "$tokens*1000/$tm")" \
    "$(calc "$fpt*$tokens/$tm/1e6")" "$(calc "$fpt*$tokens/$tm/1e6/$sgemm*100" 0)%" "$(calc "$tr/1024" 0)"
  printf '| %-22s | ratio cairn/PyTorch tokens/s: **%s** (per-run ms: cairn %s; PyTorch %s) |\n' "" \
    "$(calc "$tm/$cm" 2)" "${c_ms[*]}" "${t_ms[*]}"
}

echo "| shape | who | ms/step | tokens/s | GFLOP/s | of peak | peak RSS |"
echo "|---|---|---:|---:|---:|---:|---:|"
part b4 && bench "124M B=4 T=64" configs/gpt2-124m.toml 64 4 1
part b8 && bench "124M B=8 T=256" configs/gpt2-124m.toml 256 8 1
part demo && bench "demo (4L 128C) B=32 T=64" configs/demo.toml 64 4 8
part llama && bench "SmolLM2-135M B=4 T=64" configs/smollm2-135m.toml 64 4 1
if part np; then

# Data parallelism on one machine: 1 rank x 2 threads vs mpirun -np 2 x 1 thread per rank,
# the same global batch (grad_accum 2 x micro_batch 2; the same bits), alternately.
echo
echo "| cairn 124M B=4 T=64, same global batch | ms/step | tokens/s | per-run ms |"
echo "|---|---:|---:|---|"
np1=() np2=()
common=(--set model.seq_len=64 --set train.micro_batch=2 --set train.grad_accum=2 --set train.steps=$STEPS
        --set checkpoint.every_steps=0 --set train.eval_every=0 --set data.val= --set "data.train=data/demo/train_*.bin"
        --resume none)
for r in $(seq 1 "$REPEATS"); do
  $CAIRN train configs/gpt2-124m.toml --set run.dir=$out/np1-$r --set run.threads=2 "${common[@]}" >/dev/null
  np1+=("$(cairn_ms $out/np1-$r)")
  mpirun -np 2 --oversubscribe --bind-to none $CAIRN train configs/gpt2-124m.toml --set run.dir=$out/np2-$r \
    --set run.threads=1 "${common[@]}" >/dev/null
  np2+=("$(cairn_ms $out/np2-$r)")
done
m1=$(printf '%s\n' "${np1[@]}" | median); m2=$(printf '%s\n' "${np2[@]}" | median)
printf '| 1 rank x 2 threads | %.0f | %.1f | %s |\n' "$m1" "$(calc "256000/$m1")" "${np1[*]}"
printf '| 2 ranks x 1 thread (mpirun) | %.0f | %.1f | %s |\n' "$m2" "$(calc "256000/$m2")" "${np2[*]}"
echo "ratio 2 ranks / 1 rank in tokens/s: $(calc "$m1/$m2" 2)"
fi

if part profile; then
# Where cairn's time goes: one run per shape with run.profile = true (every kernel call timed).
for shape in "64 4" "256 8"; do
  set -- $shape
  echo
  echo "per-op profile, cairn 124M B=$2 T=$1 (run.profile = true, $THREADS threads):"
  $CAIRN train configs/gpt2-124m.toml --set run.dir=$out/prof-$1 --set model.seq_len=$1 --set train.micro_batch=$2 \
    --set train.grad_accum=1 --set train.steps=$STEPS --set run.threads=$THREADS --set run.profile=true \
    --set checkpoint.every_steps=0 --set train.eval_every=0 --set data.val= --set "data.train=data/demo/train_*.bin" \
    --resume none 2>&1 | sed -n '/^profile over/,/\[other\]/p'
done
fi
