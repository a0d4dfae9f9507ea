#!/usr/bin/env bash
# README's list of config keys is exactly what `cairn train --help-config` prints: a key added,
# renamed or re-documented in src/train/config.cpp without the README fails here.
source "$(dirname "$0")/lib.bash"

readme="$(dirname "$0")/../../README.md"
cairn train --help-config | tail -n +2 >from_binary.txt
# The fenced block that follows "The full list" in README.md.
awk '/The full list/ {seen=1} seen && /^```$/ {n++; next} seen && n == 1 {print}' "$readme" >from_readme.txt
[ -s from_readme.txt ] || fail "no config block after 'The full list' in README.md"
diff -u from_readme.txt from_binary.txt >config.diff ||
  fail "README.md's config list differs from 'cairn train --help-config' (replace the block with its output):
$(cat config.diff)"
pass "README lists exactly the $(wc -l <from_binary.txt) config keys cairn knows"
