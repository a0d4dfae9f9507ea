#!/usr/bin/env bash
# Bad configs, unknown keys, missing or malformed data: one line, non-zero exit.
source "$(dirname "$0")/lib.bash"
run() { cairn train "$TINY" "${TINY_SETS[@]}" --set run.dir=run "$@"; }

expect_fail 1 "--set train.lrr: unknown config key" run --set train.lrr=1
{ cat "$TINY"; echo "every = 3"; } > extra.toml   # lands in [checkpoint], the last section
expect_fail 1 "extra.toml: unknown config key checkpoint.every" cairn train extra.toml "${TINY_SETS[@]}"
expect_fail 1 "train.lr must be a positive number (got -0.5)" run --set train.lr=-0.5
expect_fail 1 "train.steps must be an integer" run --set train.steps=many
expect_fail 1 "checkpoint.keep_last must be >= 2" run --set checkpoint.keep_last=1
# An error the --set caused names the --set, not the file (tiny.toml's min_lr is 3e-4).
expect_fail 1 "--set train.lr=1e-4 (on $TINY): train.min_lr must be in [0, train.lr] (got 0.0003 with train.lr = 0.0001)" \
  run --set train.lr=1e-4
expect_fail 2 "expected section.key=value" run --set train.lr
expect_fail 2 "unknown option --frobnicate" run --frobnicate
expect_fail 2 "unknown command 'trian'" cairn trian
expect_fail 1 "nope.toml: cannot open config file" cairn train nope.toml
printf '[run\ndir=1' > broken.toml
expect_fail 1 "broken.toml:1:" cairn train broken.toml

expect_fail 1 "no-such-dir/x_*.bin" run --set "data.train=no-such-dir/x_*.bin"
printf 'not a token shard at all, just text that is long enough to have a header? no.' > bad.bin
expect_fail 1 "bad.bin" run --set data.train=bad.bin
head -c 1100 "$DATA/train_000000.bin" > truncated.bin
expect_fail 1 "truncated.bin" run --set data.train=truncated.bin
# A shard with a token id >= vocab_size.
python3 - <<'PY'
import struct
hdr = [20240520, 1, 100] + [0] * 253
toks = [65] * 99 + [300]
open("big_token.bin", "wb").write(struct.pack("<256i", *hdr) + struct.pack("<100H", *toks))
PY
expect_fail 1 "big_token.bin" run --set data.train=big_token.bin
pass "every bad input gave a one-line error"

# --version: the version and the commit the binary was built from (a real commit of this repository).
v=$(cairn --version)
[[ $v =~ ^cairn\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\ ([0-9a-f]{12}|unknown)(-dirty)?, ]] || fail "cairn --version printed '$v'"
commit=${BASH_REMATCH[1]}
if [ "$commit" != unknown ] && git -C "$CAIRN_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$CAIRN_SOURCE_DIR" cat-file -e "$commit^{commit}" 2>/dev/null || fail "cairn --version names commit $commit, not in the repository"
fi
pass "cairn --version: $v"
