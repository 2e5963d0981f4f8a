#!/usr/bin/env bash
# Measures the sleep hook's latency as llmux sees it (until the hook exits and its output closes),
# with the push in the foreground and in the background, on the stand-in podman and a filesystem
# store in a temp directory:   examples/llmux/measure.sh [size, default 256MiB] [rounds, default 3]
# Run `pnpm build` first. Prints a Markdown table.
set -euo pipefail
example="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$example/../.." && pwd)"
size="${1:-256MiB}"
rounds="${2:-3}"
work="$(mktemp -d)"
trap 'PODMAN_STANDIN_ROOT="$work/podman" "$work/bin/podman" rm -f --ignore llmux-bench >/dev/null 2>&1; rm -rf "$work"' EXIT
mkdir "$work/bin"
ln -s "$example/standin/podman" "$work/bin/podman"
ln -s "$repo/packages/cli/bin/ckpt.js" "$work/bin/ckpt"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
export PATH="$work/bin:$PATH" CKPT_STORE="file://$work/store" CKPT_LLMUX_ROOT="$work/llmux" \
  CKPT_STATE_DIR="$work/state" PODMAN_STANDIN_ROOT="$work/podman" PODMAN_STANDIN_SIZE="$size"
health="http://127.0.0.1:$port/health"
wake() { "$example/hooks/wake.sh" bench llmux-bench "$health" -- podman run -d --name llmux-bench -p "$port:8000" img >/dev/null 2>&1; }
ms() { date +%s%3N; }

wake
echo "| round | push | sleep hook (ms) | of which checkpoint (ms) | push (ms) |"
echo "| ----: | ---- | --------------: | -----------------------: | --------: |"
for round in $(seq "$rounds"); do
  for mode in foreground background; do
    : >"$work/llmux/.bench.push.log"
    start="$(ms)"
    out="$(CKPT_PUSH=$mode "$example/hooks/sleep.sh" bench llmux-bench 2>&1)"
    hook=$(($(ms) - start))
    # the background push, or drain.sh when it took the checkpoint before that push started
    out+="$("$example/hooks/drain.sh" 2>&1)"
    out+="$(cat "$work/llmux/.bench.push.log")"
    checkpoint="$(grep -o 'checkpointed in [0-9]* ms' <<<"$out" | grep -o '[0-9]*')"
    push="$(grep -o 'pushed in [0-9]* ms' <<<"$out" | grep -o '[0-9]*')"
    echo "| $round | $mode | $hook | $checkpoint | $push |"
    wake
  done
done
