#!/usr/bin/env bash
# drain.sh: pushes every checkpoint still waiting for a push and waits for the pushes running now,
# until nothing is left (for llmux's ExecStop=, or before wiping the machine). A background push
# that started but has not taken its lock yet is no race: this pushes its checkpoint itself, and
# the late push finds nothing left to do. Exit 1 when a push failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shopt -s nullglob
status=0
while :; do
  for running in "$root"/.*.push.lock; do
    flock "$running" true
  done
  waiting=("$root"/.*.next)
  ((${#waiting[@]})) || break
  for next in "${waiting[@]}"; do
    key="${next##*/.}"
    key="${key%.next}"
    name="${key//%2F//}"
    "$here/push.sh" "${name//%25/%}" || status=1
  done
done
exit "$status"
