# Shared by the llmux hooks (sourced, not run). Everything is configurable from the environment
# llmux runs with (a systemd unit's Environment=, say):
#
#   CKPT_STORE          where checkpoints go: s3://bucket/prefix?region=…, file:///mnt/ckpt, …
#   CKPT_LLMUX_ROOT     local checkpoint directories (default /var/lib/llmux/ckpt)
#   CKPT_PUSH           background (default) | foreground | off: how sleep.sh pushes
#   CKPT, PODMAN        the commands to run (default: ckpt and podman on PATH)
#
# Per model, CKPT_LLMUX_ROOT holds:
#   <model>/checkpoint.tar        the last checkpoint published: what ckpt pushes and pulls
#   .<model>.next/checkpoint.tar  a newer checkpoint that no push has taken yet (at most one)
#   .<model>.lock                 flock: held while a hook renames or reads these directories
#   .<model>.push.lock            flock: held by the model's one background push
#   .<model>.push.log             what background pushes printed
#   .<model>.push.pid             the process id of the `ckpt push` running now
# so a checkpoint is never written where a push or a restore is reading.

root="${CKPT_LLMUX_ROOT:-/var/lib/llmux/ckpt}"
ckpt_cmd="${CKPT:-ckpt}"
podman_cmd="${PODMAN:-podman}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The model's local file names. A model name may hold a slash once ckpt accepts Hugging Face
# names (facebook/opt-125m): it is %-encoded here so each model stays one file name.
model_paths() {
  local key="${1//%/%25}"
  key="${key//\//%2F}"
  dir="$root/$key"
  next="$root/.$key.next"
  lock="$root/.$key.lock"
  push_lock="$root/.$key.push.lock"
  push_log="$root/.$key.push.log"
  push_pid="$root/.$key.push.pid"
  old="$root/.$key.old"
  export_prefix="$root/.$key.export-"
}

log() { printf '%s %s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "${hook:-hook}" "${model:-}" "$*" >&2; }

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }
