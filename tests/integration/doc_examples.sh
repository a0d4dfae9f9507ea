#!/usr/bin/env bash
# Every command in README.md, docs/*.md (```bash blocks) and scripts/slurm/train.sbatch's
# usage lines runs as written. The commands are extracted from the files, so a doc edit that
# breaks one fails here; each must be listed in `plan` below, so a new command cannot go
# untested unnoticed (the few that cannot run here are listed with the reason and the test
# that covers them instead).
#
# Where they run: a stand-in repository ($WORK/repo: build/bin/cairn, scripts/ and
# data/corpus.txt are the real ones) in which configs/*.toml are the shipped files with the
# model shrunk and the steps cut (n_layer 1, n_head 2, n_kv_head 1, n_embd 32, ffn_dim <= 64,
# seq_len <= 32, vocab_size <= 256, steps <= 2, eval_batches 1). Every other key, grad_accum and micro_batch included,
# is the shipped value, so a world size a shipped config cannot run fails here as it would for
# a user.
# Each file's commands run in order in one shell, like a user following the page: README's
# as they are, as root (this test runs as root in CI); docs/running.md's with its own exports.
# Stand-ins for what a machine here lacks: `sbatch` runs the job at once with SLURM's
# environment from the #SBATCH lines and its options (scontrol is recorded, as in
# slurm_sbatch.sh); OpenMPI's ssh is a script that runs each "node"'s daemon on this machine
# (node1, node2, ... with their own TMPDIR); /shared (the cluster's shared file system) is
# $WORK/shared; gpt2/ (a save_pretrained directory) is an export of a stand-in GPT-2.
source "$(dirname "$0")/lib.bash"
command -v mpirun >/dev/null && [ "${CAIRN_WITH_MPI:-TRUE}" = TRUE ] || { echo "SKIP: no MPI"; exit 77; }
SRC=$CAIRN_SOURCE_DIR

# ---- the commands, as the files give them ------------------------------------------------
# One record per command: FILE<TAB>COMMAND, NUL-terminated; continuation lines joined, a
# heredoc kept whole, comments (` # ...`) dropped.
extract() {
  python3 - "$SRC" <<'PY'
import os, re, sys
src = sys.argv[1]

def strip_comment(line):
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()

def commands(lines):
    out, cur, heredoc = [], "", None
    for raw in lines:
        if heredoc:
            cur += "\n" + raw
            if raw.strip() == heredoc:
                out.append(cur); cur, heredoc = "", None
            continue
        line = strip_comment(raw.strip())
        if not line:
            continue
        cur = f"{cur} {line}".strip() if cur else line
        if cur.endswith("\\"):
            cur = cur[:-1].rstrip()
            continue
        m = re.search(r"<<'?(\w+)'?", cur)
        if m:
            heredoc = m.group(1); continue
        out.append(cur); cur = ""
    return out

files = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
for f in files:
    text = open(os.path.join(src, f), encoding="utf-8").read()
    for block in re.findall(r"^```(?:bash|sh)\n(.*?)^```", text, re.S | re.M):
        for c in commands(block.splitlines()):
            sys.stdout.write(f"{f}\t{c}\0")
# The batch script's usage lines: "#   sbatch ..." in its opening comment.
sbatch = "scripts/slurm/train.sbatch"
for line in open(os.path.join(src, sbatch), encoding="utf-8"):
    if line.startswith("#SBATCH"):
        break
    m = re.match(r"#\s+((?:\w+=\S+\s+)*sbatch\s.*)", line)
    if m:
        sys.stdout.write(f"{sbatch}\t{strip_comment(m.group(1))}\0")
PY
}

# ---- what each command needs -------------------------------------------------------------
# plan COMMAND -> "run" | "fresh DIR" (remove DIR first: the command starts that run anew) |
# "status N" (must exit N) | "skip REASON"; a run may end in " expect:TEXT", a line its
# output must hold (the world size it ran at).
plan() {
  case $1 in
    "scripts/demo.sh") echo "skip minutes of training; the demo is the README's own check (it ends in a bitwise comparison)" ;;
    "scripts/test.sh") echo "skip the whole suite, this test included" ;;
    "build/bin/cairn data prepare data/corpus.txt --out data/demo" | "build/bin/cairn train configs/tiny.toml" | \
    "build/bin/cairn sample runs/demo --prompt \"This License\" --tokens 200" | "build/bin/cairn ckpt hash runs/demo" | \
    "build/bin/cairn train configs/demo.toml --set train.lr=1e-3 --set run.dir=runs/lr1e-3" | \
    "build/bin/cairn ckpt export runs/ft ft/" | "build/bin/cairn --version" | "scripts/scaling_on_paper.py "*) echo run ;;
    *"/.cache/cairn/venv/bin/python - <<'EOF'"*) echo run ;;  # README's "Train on your own text"
    "build/bin/cairn data prepare data/corpus.txt --tokenizer tokenizer.json --out data/mine" | \
    "build/bin/cairn sample runs/mine --prompt \"This License\" --tokens 20" | "build/bin/cairn ckpt export runs/mine mine/") echo run ;;
    "build/bin/cairn train configs/tiny.toml --set model.vocab_size=2048 "*) echo "fresh runs/mine" ;;
    "mpirun --allow-run-as-root --oversubscribe -np 3 build/bin/cairn train configs/demo.toml") echo "fresh runs/demo expect:cairn: 3 rank(s)" ;;
    "build/bin/cairn ckpt diff runs/demo runs/lr1e-3") echo "status 3" ;;
    "build/bin/cairn ckpt import gpt2/ --config configs/gpt2-124m.toml --out runs/ft") echo "fresh runs/ft" ;;
    "build/bin/cairn train runs/ft/config.toml --set train.lr=1e-4 --set train.min_lr=1e-5") echo run ;;
    "build/bin/cairn train configs/demo.toml --set run.tensorboard=true") echo "fresh runs/demo" ;;
    "tensorboard --logdir runs/") echo "skip a server that runs until stopped; integration.tensorboard reads the event files with tensorboard's own loader" ;;
    "build/bin/cairn train configs/demo.toml") echo "fresh runs/demo" ;;
    "build/bin/cairn train configs/llama-tiny.toml") echo "fresh runs/llama-tiny" ;;
    "build/bin/cairn ckpt export runs/llama-tiny llama-tiny-hf/") echo run ;;
    "mpirun -np 4 --bind-to none build/bin/cairn train configs/demo.toml") echo "fresh runs/demo expect:cairn: 4 rank(s)" ;;
    "export "*) echo run ;;
    "mpirun -H node1:4,node2:4 -np 8 "*) echo "fresh $WORK/shared/runs/gpt2 expect:cairn: 8 rank(s)" ;;
    "cat > hosts <<EOF"*) echo run ;;
    "mpirun --hostfile hosts -np 8 --map-by ppr:4:node "*) echo "run expect:already done" ;;  # the same job, resumed
    "mpirun -H node1:2 --bind-to none build/bin/cairn train ... --resume auto") echo "run expect:already done" ;;
    "scripts/netns_cluster.sh "*) echo "skip needs root and network namespaces; the integration.slow_multinode_* tests drive scripts/netns_cluster.sh (up, mpirun, kill, cut, slow, down)" ;;
    "scripts/run_resilient.sh --max-restarts 10 -- mpirun -np 4 --bind-to none build/bin/cairn train configs/demo.toml --set run.dir=runs/demo") echo "fresh runs/demo expect:cairn: 4 rank(s)" ;;
    "sbatch scripts/slurm/train.sbatch") echo "fresh runs/cairn expect:cairn: 4 rank(s) x 8 thread(s)" ;;
    "CONFIG=configs/demo.toml RUN_DIR=/shared/runs/demo sbatch "*"scripts/slurm/train.sbatch") echo "fresh $WORK/shared/runs/demo expect:cairn: 2 rank(s)" ;;
    "cairn train configs/tiny.toml --set run.device=cuda" | "mpirun -np 4 cairn train configs/demo.toml --set run.device=cuda" | \
    "scripts/gpu_check.sh" | "scripts/gpu_bundle.sh gpu-bundle" | "scripts/gpu_check.sh --prebuilt gpu-bundle.tar.xz "*)
      echo "skip needs a GPU: scripts/gpu_check.sh runs these on a lent one (docs/gpu.md); integration.gpu_check_no_gpu and slow_gpu_check_selftest check the script here" ;;
    "CAIRN_SETUP_TORCH=1 scripts/setup.sh") echo "skip installs packages (root, network); CI runs it (.ci/run)" ;;
    "scripts/bench/"* | "PARTS="*" scripts/bench/throughput.sh "* | "ROUNDS="*" scripts/bench/ckpt_io.sh"* | *"/venv/bin/python scripts/bench/"*)
      echo "skip a benchmark: minutes to hours, and its numbers are docs/benchmarks.md's" ;;
    *) echo unplanned ;;
  esac
}

# ---- the stand-in repository -------------------------------------------------------------
REPO=$WORK/repo
mkdir -p "$REPO/build/bin" "$REPO/configs" "$REPO/data" "$WORK/bin" "$WORK/shared/data/gpt2" "$WORK/nodes"
ln -s "$CAIRN_BIN" "$REPO/build/bin/cairn"
ln -s "$SRC/scripts" "$REPO/scripts"
ln -s "$SRC/data/corpus.txt" "$REPO/data/corpus.txt"
ln -s "$REPO" "$WORK/shared/cairn"
for c in "$SRC"/configs/*.toml; do
  awk '/^n_layer =/ {$0 = "n_layer = 1"} /^n_head =/ {$0 = "n_head = 2"} /^n_embd =/ {$0 = "n_embd = 32"}
       /^seq_len =/ && $3 > 32 {$0 = "seq_len = 32"} /^vocab_size =/ && $3 > 256 {$0 = "vocab_size = 256"}
       /^steps =/ && $3 > 2 {$0 = "steps = 2"}
       /^n_kv_head =/ {$0 = "n_kv_head = 1"} /^ffn_dim =/ && $3 > 64 {$0 = "ffn_dim = 64"}
       /^eval_batches =/ {$0 = "eval_batches = 1"} {print}' "$c" > "$REPO/configs/${c##*/}"
  grep -q '^grad_accum =' "$REPO/configs/${c##*/}" || fail "$c has no grad_accum"
done
# GPT-2 tokenized shards on the shared file system: byte-level ids are valid GPT-2 ids.
cp "$DATA"/train_*.bin "$WORK/shared/data/gpt2/"
# A save_pretrained directory of the stand-in GPT-2 shape, for the fine-tuning example.
cairn train "$REPO/configs/gpt2-124m.toml" --set "data.train=$DATA/train_*.bin" --set train.steps=1 \
  --set run.dir="$WORK/gpt2-src" >/dev/null
cairn ckpt export "$WORK/gpt2-src" "$REPO/gpt2/" >/dev/null

# OpenMPI's ssh for -H/--hostfile: each named node's daemon runs here, with its own TMPDIR and
# shared-memory directory (the nodes share this machine's hostname, which names the segments).
cat > "$WORK/bin/fake-ssh" <<EOF
#!/bin/sh
while [ \$# -gt 0 ] && [ "\${1#-}" != "\$1" ]; do shift; done
mkdir -p "$WORK/nodes/\$1" && export TMPDIR="$WORK/nodes/\$1" OMPI_MCA_btl_vader_backing_directory="$WORK/nodes/\$1"
shift && exec sh -c "\$*"
EOF
printf '#!/bin/sh\necho "$@" >> %s/scontrol.calls\n' "$WORK" > "$WORK/bin/scontrol"
# sbatch [--nodes=N] [--ntasks-per-node=M] SCRIPT: runs the job now, as SLURM would start it
# (options over #SBATCH lines; output appended to --output), and exits with its status.
cat > "$WORK/bin/sbatch" <<'EOF'
#!/usr/bin/env bash
script=${!#}
declare -A o=([nodes]=1 [ntasks-per-node]=1 [cpus-per-task]=1 [job-name]=sbatch [output]=slurm-%j.out)
while read -r opt; do o[${opt%%=*}]=${opt#*=}; done < <(sed -n 's/^#SBATCH --\([^ ]*\).*/\1/p' "$script")
for a in "${@:1:$#-1}"; do a=${a#--}; o[${a%%=*}]=${a#*=}; done
id=$((4200 + $(cat "$SBATCH_JOBS" 2>/dev/null | wc -l))); echo "$id" >> "$SBATCH_JOBS"
out=${o[output]//%x/${o[job-name]}}; out=${out//%j/$id}
echo "Submitted batch job $id"
# The allocation's slots and a root user, as SLURM would allow them.
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
status=0
SLURM_JOB_ID=$id SLURM_JOB_NAME=${o[job-name]} SLURM_NTASKS=$((o[nodes] * o[ntasks-per-node])) \
  SLURM_CPUS_PER_TASK=${o[cpus-per-task]} SLURM_SUBMIT_DIR=$PWD bash "$script" >> "$out" 2>&1 || status=$?
cat "$out"  # the job's log, for the test to read
exit $status
EOF
chmod +x "$WORK/bin/"*
export PATH=$WORK/bin:$PATH SBATCH_JOBS=$WORK/sbatch.jobs OMP_NUM_THREADS=1

# ---- run them ----------------------------------------------------------------------------
# README's commands must work as root as written: no OpenMPI root or oversubscription
# settings from the environment (lib.bash sets the root ones for the other tests).
unset OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_rmaps_base_oversubscribe
export OMPI_MCA_plm_rsh_agent=$WORK/bin/fake-ssh
ran=0 skipped=0 prev=""
declare -A done_in
extract > "$WORK/commands.txt"
cd "$REPO"
while IFS=$'\t' read -r -d '' file cmd; do
  how=$(plan "$cmd")
  case $how in
    unplanned) fail "$file: a command this test does not know: '$cmd' (add it to plan() in $0)" ;;
    skip*) echo "skip ($file): $cmd -- ${how#skip }"; skipped=$((skipped + 1)); continue ;;
  esac
  if [ -n "${done_in[$cmd]:-}" ]; then echo "ran ($file): $cmd -- as in ${done_in[$cmd]}"; continue; fi
  run=${cmd//\/shared\//$WORK/shared/}
  if [[ $run == *" ... "* ]]; then  # "... " stands for the previous command's text after the same word
    word=${run%% ...*}; word=${word##* }
    [[ $prev == *" $word "* ]] || fail "$file: cannot expand '...' in '$cmd' from '$prev'"
    run="${run%% ...*} ${prev#* "$word" } ${run#* ... }"
  elif [[ $run == *" ..." ]]; then
    word=${run% ...}; word=${word##* }
    run="${run% ...} ${prev#* "$word" }"
  else
    [[ $run == mpirun* || $run == *cairn\ train* ]] && prev=$run
  fi
  want=0 expect=""
  [[ $how == *" expect:"* ]] && expect=${how#* expect:} how=${how%% expect:*}
  case $how in fresh*) rm -rf "${how#fresh }" ;; status*) want=${how#status } ;; esac
  echo "run ($file): $run"
  status=0 t0=$SECONDS
  eval "$run" < /dev/null > "$WORK/out.log" 2>&1 || status=$?  # in this shell: a page's exports hold for its later commands
  [ "$status" = "$want" ] || fail "$file: '$cmd' exited $status (expected $want): $(tail -5 "$WORK/out.log")"
  [ -z "$expect" ] || grep -qF "$expect" "$WORK/out.log" || fail "$file: '$cmd' did not say '$expect': $(head -5 "$WORK/out.log")"
  echo "  ($((SECONDS - t0)) s)"
  ran=$((ran + 1))
  done_in[$cmd]=$file
done < "$WORK/commands.txt"
[ "$ran" -ge 20 ] || fail "only $ran commands ran: did the extraction break? $(tr '\0' '\n' < "$WORK/commands.txt")"
pass "$ran documented commands ran as written ($skipped listed as not runnable here, with the reason)"
