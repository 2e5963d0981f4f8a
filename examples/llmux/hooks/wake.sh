#!/usr/bin/env bash
# llmux `wake` hook: wake.sh <ckpt-model> <container> <health-url> [-- <cold-start command…>]
#
# Leaves the model serving, fastest way first:
#   1. the container is already running: wait for its health endpoint;
#   2. restore this host's newest checkpoint (one a background push may still be uploading);
#   3. else pull the latest checkpoint from the store (`ckpt pull`, verified) and restore it;
#   4. else, or when a restore fails, cold-start with the command after `--`.
# Exit 0 once the health endpoint answers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hook=wake
usage="usage: wake.sh <ckpt-model> <container> <health-url> [-- <cold-start command…>]"
model="${1:?$usage}"
container="${2:?$usage}"
health="${3:?$usage}"
shift 3
if [[ ${1:-} == -- ]]; then shift; fi
cold=("$@")
model_paths "$model"
mkdir -p "$root"
start="$(now_ms)"
restore_timeout="${CKPT_RESTORE_TIMEOUT:-60}"
cold_timeout="${CKPT_COLD_TIMEOUT:-300}"

healthy_within() {
  local deadline=$(($(now_ms) + $1 * 1000))
  until curl -fsS -m 2 -o /dev/null "$health" 2>/dev/null; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.2
  done
}

# podman restores an archive into a new container with the old name and ID: the checkpointed
# (exited) container must go first. Nothing started here keeps the lock's descriptor: a process
# that outlives the hook must not hold the model's lock if the hook is killed.
restore() {
  "$podman_cmd" rm -f --ignore "$container" >&2 9>&-
  if "$podman_cmd" container restore --import "$1" --tcp-established --file-locks >&2 9>&- &&
    healthy_within "$restore_timeout"; then
    log "restored from $1 in $(($(now_ms) - start)) ms"
    return 0
  fi
  log "restore from $1 failed"
  return 1
}

if [[ "$("$podman_cmd" container inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" == true ]] &&
  healthy_within "$restore_timeout"; then
  exit 0
fi

exec 9>"$lock"
flock 9
restored=false
if [[ -f $next/checkpoint.tar ]]; then
  restore "$next/checkpoint.tar" && restored=true
elif [[ -f $dir/checkpoint.tar ]]; then
  restore "$dir/checkpoint.tar" && restored=true
else
  pulled="$(now_ms)"
  if "$ckpt_cmd" pull "$model" "$dir" --quiet 9>&-; then
    log "pulled in $(($(now_ms) - pulled)) ms"
    restore "$dir/checkpoint.tar" && restored=true
  else
    code=$?
    # 3: the store has no checkpoint of this model yet; anything else is worth a look in the log.
    ((code == 3)) && log "no checkpoint in the store" || log "pull failed (exit $code)"
  fi
fi
flock -u 9
[[ $restored == true ]] && exit 0

if ((${#cold[@]} == 0)); then
  log "nothing to restore and no cold-start command"
  exit 1
fi
"$podman_cmd" rm -f --ignore "$container" >&2 9>&-
"${cold[@]}" >&2 9>&-
if healthy_within "$cold_timeout"; then
  log "cold-started in $(($(now_ms) - start)) ms"
  exit 0
fi
log "cold start did not become healthy within ${cold_timeout} s"
exit 1
