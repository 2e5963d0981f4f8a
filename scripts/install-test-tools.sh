#!/usr/bin/env bash
# Builds the Go test servers into $CKPT_TOOLS_DIR/bin (default ~/.cache/ckpt-tools/bin), where
# @ckpt/test-servers looks first. A tool whose stamp file names the pinned version is kept: MinIO
# takes 10+ minutes to build on 2 cores, so CI caches the directory between runs.
# Azurite needs nothing here: it is an npm dependency of @ckpt/test-servers (from the lockfile).
set -euo pipefail

# MinIO publishes no semver tags to the module proxy: pin the pseudo-version of a commit.
MINIO='github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c'
FAKE_GCS='github.com/fsouza/fake-gcs-server@v1.56.1'

tools_dir="${CKPT_TOOLS_DIR:-$HOME/.cache/ckpt-tools}"
bin_dir="$tools_dir/bin"
stamp_dir="$tools_dir/stamps"
mkdir -p "$bin_dir" "$stamp_dir"

go_bin="$(command -v go || true)"
if [[ -z $go_bin && -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go; fi
if [[ -z $go_bin ]]; then
  echo "install-test-tools: Go (>= 1.24) is needed to build MinIO and fake-gcs-server; none found" >&2
  exit 1
fi

started=$SECONDS

# install <binary name> <module@version>
install() {
  local name=$1 module=$2
  local stamp="$stamp_dir/$name"
  if [[ -x "$bin_dir/$name" && -f $stamp && "$(<"$stamp")" == "$module" ]]; then
    echo "install-test-tools: $name is $module (cached)"
    return
  fi
  local t0=$SECONDS
  echo "install-test-tools: building $module ..."
  rm -f "$stamp"
  GOBIN="$bin_dir" GOFLAGS=-buildvcs=false "$go_bin" install "$module"
  echo "$module" >"$stamp"
  echo "install-test-tools: $name built in $((SECONDS - t0)) s"
}

install minio "$MINIO"
install fake-gcs-server "$FAKE_GCS"

echo "install-test-tools: test servers ready in $bin_dir ($((SECONDS - started)) s)"
