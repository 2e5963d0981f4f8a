#!/usr/bin/env bash
# The shell half of workflow.yml: moves one checkpoint directory between CI jobs through a ckpt
# store (a filesystem store that actions/cache carries from job to job and run to run).
#
#   ckpt-ci.sh pull <model> <dir>   the latest generation into <dir>; when the store has none
#                                   (a first run, an evicted cache) say so and succeed
#   ckpt-ci.sh push <dir> <model>   a new generation, then keep the newest $CKPT_KEEP (default 3)
#
# Environment: CKPT_STORE (the store URL), CKPT (the ckpt command, default `ckpt` on PATH).
# In a GitHub Actions step, `found=true|false` goes to $GITHUB_OUTPUT for later steps' `if:`.
set -euo pipefail
ckpt="${CKPT:-ckpt}"
: "${CKPT_STORE:?CKPT_STORE must name the store, e.g. file://\$GITHUB_WORKSPACE/.ckpt-store}"

output() { if [[ -n ${GITHUB_OUTPUT:-} ]]; then echo "$1" >>"$GITHUB_OUTPUT"; fi; }

case "${1:-}" in
pull)
  model="${2:?usage: ckpt-ci.sh pull <model> <dir>}"
  dir="${3:?usage: ckpt-ci.sh pull <model> <dir>}"
  # a cache miss leaves no store folder: here that is an empty store, while ckpt takes a missing
  # store for a misconfigured one (exit 2)
  if [[ $CKPT_STORE == file://* ]]; then mkdir -p "${CKPT_STORE#file://}"; fi
  set +e
  "$ckpt" pull "$model" "$dir"
  code=$?
  set -e
  case $code in
  0) output found=true ;;
  3)
    # exit 3: no generation of this model in the store, which a first run expects
    echo "ckpt-ci: no checkpoint of $model in the store yet" >&2
    output found=false
    ;;
  *) exit "$code" ;;
  esac
  ;;
push)
  dir="${2:?usage: ckpt-ci.sh push <dir> <model>}"
  model="${3:?usage: ckpt-ci.sh push <dir> <model>}"
  "$ckpt" push "$dir" --model "$model" --label "run=${GITHUB_RUN_ID:-local}" --label "sha=${GITHUB_SHA:-local}"
  # The cache is restored into each job's own workspace, so no other writer shares this copy of
  # the store: a zero grace period is safe, and the saved cache keeps only live generations' data.
  "$ckpt" gc --keep "${CKPT_KEEP:-3}" --grace 0s --force
  ;;
*)
  echo "usage: ckpt-ci.sh pull <model> <dir> | push <dir> <model>" >&2
  exit 2
  ;;
esac
