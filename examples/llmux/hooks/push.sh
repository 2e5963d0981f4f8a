#!/usr/bin/env bash
# push.sh <ckpt-model>: pushes the model's newest local checkpoint, then any newer one that a
# sleep published meanwhile, until none is left. Started by sleep.sh; safe to start any time.
#
# One push per model at a time (push.lock): a second sleep while a push runs only publishes its
# checkpoint and returns; the running push takes it next. Pushes never read a directory that is
# being written, and ckpt commits a generation atomically (its manifest is written last), so a
# pull anywhere sees the previous generation or this one, never a part of it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hook=push
model="${1:?usage: push.sh <ckpt-model>}"
model_paths "$model"

exec 8>"$push_lock"
if ! flock -n 8; then
  log "a push of this model is running: it takes the new checkpoint when it is done"
  exit 0
fi
exec 9>"$lock"
status=0
while :; do
  flock 9
  if [[ ! -d $next ]]; then
    # Let go of the push lock before the model lock: a sleep that publishes after this check
    # (it needs the model lock) then finds no push running and starts one.
    flock -u 8
    exit "$status"
  fi
  rm -rf "$old"
  if [[ -e $dir ]]; then mv "$dir" "$old"; fi
  mv "$next" "$dir"
  flock -u 9
  rm -rf "$old"
  start="$(now_ms)"
  "$ckpt_cmd" push "$dir" --model "$model" --label "host=$(uname -n)" --quiet 8>&- 9>&- &
  echo $! >"$push_pid"
  if wait $!; then
    log "pushed in $(($(now_ms) - start)) ms"
    status=0
  else
    # The checkpoint stays local (a wake here restores it); the next sleep pushes a newer one.
    log "push failed (exit $?) after $(($(now_ms) - start)) ms"
    status=1
  fi
  rm -f "$push_pid"
done
