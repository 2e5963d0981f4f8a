#!/usr/bin/env bash
# The main job on the embedded default store (a filesystem store in ./.ckpt-store):
# make a small CRIU-like checkpoint, push it, pull it into another directory, and compare.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ckpt() { node "$repo/packages/cli/bin/ckpt.js" "$@"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

node "$repo/packages/bench/bin/gen-workload.mjs" sample --size 64MiB --seed 7 >/dev/null
echo "== a sample checkpoint: $(find sample -type f | wc -l) files, $(du -sh --apparent-size sample | cut -f1)"
echo "== ckpt push sample --model demo"
ckpt push sample --model demo
echo "== ckpt push sample --model demo   (again: nothing changed, only a manifest is written)"
ckpt push sample --model demo
echo "== ckpt ls demo"
ckpt ls demo
echo "== ckpt pull demo restored"
ckpt pull demo restored
echo "== ckpt verify demo"
ckpt verify demo
diff -r sample restored
echo "== restored/ is identical to sample/ (diff -r)"
