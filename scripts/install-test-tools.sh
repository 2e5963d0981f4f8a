#!/usr/bin/env bash
# Builds the Go test servers into $CKPT_TOOLS_DIR/bin (default ~/.cache/ckpt-tools/bin), where
# @ckpt/test-servers looks first. A tool whose stamp file names the pinned version is kept: MinIO
# takes 10+ minutes to build on 2 cores, so CI caches the directory between runs.
# Azurite needs nothing here: it is an npm dependency of @ckpt/test-servers (from the lockfile).
# With --bench it also installs the benchmark's reference tools (s5cmd, restic, azcopy), which no
# test needs, so `pnpm test` does not pay for them; `pnpm bench` passes the flag.
set -euo pipefail

with_bench=false
for arg in "$@"; do
  case $arg in
    --bench) with_bench=true ;;
    *) echo "usage: install-test-tools.sh [--bench]" >&2; exit 2 ;;
  esac
done

# MinIO publishes no semver tags to the module proxy: pin the pseudo-version of a commit.
MINIO='github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c'
FAKE_GCS='github.com/fsouza/fake-gcs-server@v1.56.1'
# Built from source rather than Debian's packages: Debian has no s5cmd, and its restic (0.14) is
# four years behind the current release, which is the peer worth measuring.
S5CMD='github.com/peak/s5cmd/v2@v2.3.0'
RESTIC='github.com/restic/restic/cmd/restic@v0.19.1'
# azcopy: built from its module where the proxy serves it. The Go module proxy answers 403 for
# every version of github.com/Azure/azure-storage-azcopy/v10 (and for its version list), so the
# fallback is Microsoft's own Linux build of the same release, shipped in an npm package.
AZCOPY_VERSION=10.32.2
AZCOPY="github.com/Azure/azure-storage-azcopy/v10@v$AZCOPY_VERSION"
AZCOPY_NPM="@azure-tools/azcopy-linux@$AZCOPY_VERSION"

tools_dir="${CKPT_TOOLS_DIR:-$HOME/.cache/ckpt-tools}"
bin_dir="$tools_dir/bin"
stamp_dir="$tools_dir/stamps"
mkdir -p "$bin_dir" "$stamp_dir"

go_bin="$(command -v go || true)"
if [[ -z $go_bin && -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go; fi
if [[ -z $go_bin ]]; then
  echo "install-test-tools: Go (>= 1.24) is needed to build MinIO, fake-gcs-server, s5cmd and restic; none found" >&2
  exit 1
fi

started=$SECONDS

# install <binary name> <module@version> [from-download]; returns non-zero when the build fails
# (explicitly: `set -e` does not apply inside a function called as an `if` condition)
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
  if [[ ${3:-} == from-download ]]; then
    # `go install m@v` reads the module's version list to look for a deprecation notice, and the
    # proxy refuses that list for some modules (403) while it serves the version itself; -mod=mod
    # because a module zip keeps vendor/modules.txt but not the vendored code
    local src
    src="$("$go_bin" mod download -json "${module%%/cmd/*}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    (cd "$src" && GOBIN="$bin_dir" GOFLAGS="-buildvcs=false -mod=mod" "$go_bin" install .) || return
  else
    GOBIN="$bin_dir" GOFLAGS=-buildvcs=false "$go_bin" install "$module" || return
  fi
  echo "$module" >"$stamp"
  echo "install-test-tools: $name built in $((SECONDS - t0)) s"
}

install minio "$MINIO"
install fake-gcs-server "$FAKE_GCS"
# azcopy from $AZCOPY, else from $AZCOPY_NPM (dist/bin/azcopy_linux_amd64); its Linux build
# loads libsecret (Debian's libsecret-1-0), installed when missing
install_azcopy() {
  local stamp="$stamp_dir/azcopy"
  if [[ -x "$bin_dir/azcopy" && -f $stamp && ( "$(<"$stamp")" == "$AZCOPY" || "$(<"$stamp")" == "$AZCOPY_NPM" ) ]]; then
    echo "install-test-tools: azcopy is $(<"$stamp") (cached)"
    return
  fi
  if install azcopy "$AZCOPY"; then return; fi
  echo "install-test-tools: the Go module proxy does not serve $AZCOPY; taking $AZCOPY_NPM from npm ..."
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$AZCOPY_NPM" >/dev/null && tar -xzf ./*.tgz package/dist/bin/azcopy_linux_amd64)
  command install -m 755 "$tmp/package/dist/bin/azcopy_linux_amd64" "$bin_dir/azcopy"
  rm -rf "$tmp"
  echo "$AZCOPY_NPM" >"$stamp"
  if ldd "$bin_dir/azcopy" | grep -q 'libsecret.*not found'; then
    echo "install-test-tools: azcopy needs libsecret: apt-get install -y libsecret-1-0"
    apt-get install -y -qq libsecret-1-0 >/dev/null
  fi
}

if $with_bench; then
  install s5cmd "$S5CMD" from-download
  install restic "$RESTIC"
  install_azcopy
fi

echo "install-test-tools: tools ready in $bin_dir ($((SECONDS - started)) s)"
