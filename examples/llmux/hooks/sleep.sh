#!/usr/bin/env bash
# llmux `sleep` hook: sleep.sh <ckpt-model> <container>
#
# Checkpoints the container into an archive, publishes it for the next wake on this host, and
# hands the upload to a background push (push.sh) so the model switch does not wait for it.
# Frees the GPU either way: when the checkpoint fails, the container is stopped (the next wake
# restores an older checkpoint or cold-starts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hook=sleep
model="${1:?usage: sleep.sh <ckpt-model> <container>}"
container="${2:?usage: sleep.sh <ckpt-model> <container>}"
model_paths "$model"
mkdir -p "$root"
start="$(now_ms)"

# A fresh directory per checkpoint: podman writes the archive in place, not atomically, and a push
# or a restore may be reading the previous archive right now.
staging="$(mktemp -d "${export_prefix}XXXXXX")"
trap 'rm -rf "$staging"' EXIT
# --export: the archive carries what a restore on another host needs besides CRIU's images
#   (config.dump and spec.dump to recreate the container, the root filesystem's changes);
#   a checkpoint kept in container storage can only be restored on this host.
# --compress none: podman compresses with zstd by default, and a compressed archive differs
#   throughout after any change, so ckpt could neither deduplicate it against the previous
#   generation nor skip its zero pages.
# --tcp-established, --file-locks: vLLM's server holds open client connections and file locks
#   (torch compile caches); CRIU refuses to dump either without them.
if ! "$podman_cmd" container checkpoint --export "$staging/checkpoint.tar" --compress none \
  --tcp-established --file-locks "$container" >&2; then
  log "checkpoint failed: stopping $container to free the GPU"
  "$podman_cmd" stop "$container" >&2
  exit 0
fi
exported="$(now_ms)"

# Publish: the newest checkpoint replaces one that no push has taken yet (only the newest matters).
(
  flock 9
  rm -rf "$next"
  mv "$staging" "$next"
) 9>"$lock"
trap - EXIT

case "${CKPT_PUSH:-background}" in
background)
  # setsid and no inherited descriptors: llmux waits for the hook's output to close, and must not
  # wait for the push; the push must not die with the hook's process group.
  setsid "$here/push.sh" "$model" </dev/null >>"$push_log" 2>&1 &
  ;;
foreground)
  # the GPU is free either way: a failed push leaves the checkpoint local, and the switch goes on
  "$here/push.sh" "$model" >&2 || log "push failed: the checkpoint stays local until the next sleep"
  ;;
off) ;;
*)
  log "CKPT_PUSH must be background, foreground or off"
  exit 2
  ;;
esac
log "checkpointed in $((exported - start)) ms, hook took $(($(now_ms) - start)) ms (push: ${CKPT_PUSH:-background})"
