#!/usr/bin/env bash
# The main job on the embedded default store (a filesystem store in ./.ckpt-store):
# make a small CRIU-like checkpoint, push it, pull it into another directory, and compare.
# Everything stays in .demo/ at the top of the repository (replaced by the next run) to explore.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ckpt() { node "$repo/packages/cli/bin/ckpt.js" "$@"; }
work="$repo/.demo"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

node "$repo/packages/bench/bin/gen-workload.mjs" sample --size 64MiB --seed 7 >/dev/null
echo "== a sample checkpoint: $(find sample -type f | wc -l) files, $(du -sh --apparent-size sample | cut -f1)"
echo "== ckpt push sample --model demo"
ckpt push sample --model demo
echo "== ckpt push sample --model demo   (again: nothing changed, so nothing is written)"
ckpt push sample --model demo
echo "== ckpt ls demo"
ckpt ls demo
echo "== ckpt pull demo restored"
ckpt pull demo restored
echo "== ckpt verify demo"
ckpt verify demo
diff -r sample restored
echo "== restored/ is identical to sample/ (diff -r)"
echo "== left in .demo/ to explore: sample/, restored/ and the store .ckpt-store/, e.g."
echo "   cd .demo && npx -y pnpm@12.4.2 exec ckpt ls demo"
