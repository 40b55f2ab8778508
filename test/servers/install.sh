#!/usr/bin/env bash
# Builds the Go servers the tests need (FerretDB, fake-gcs-server, actionlint)
# from the Go module proxy into a cache, once. A warm cache makes this a no-op.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${SYRF_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/syrf-db-tools/bin}"
mkdir -p "$bin_dir"

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN=local
export GOTELEMETRY=off

if ! command -v go >/dev/null 2>&1; then
  echo "install.sh: the Go toolchain is required to build the test servers (https://go.dev/doc/install)" >&2
  exit 1
fi

# Rebuild when the pinned module changes: the stamp records what was built.
build() { # name, stamp, command...
  local name="$1" stamp="$2"; shift 2
  if [[ -x "$bin_dir/$name" && -f "$bin_dir/$name.stamp" && "$(cat "$bin_dir/$name.stamp")" == "$stamp" ]]; then
    return 0
  fi
  echo "install.sh: building $name ($stamp) into $bin_dir" >&2
  "$@"
  echo "$stamp" > "$bin_dir/$name.stamp"
}

ferret_stamp="$(cat "$here/ferretdb/go.mod" "$here/ferretdb/main.go" | sha256sum | cut -c1-16)"
build ferretdb-test "$ferret_stamp" \
  bash -c "cd '$here/ferretdb' && go build -trimpath -o '$bin_dir/ferretdb-test' ."

fakegcs_version="v1.56.1"
build fake-gcs-server "$fakegcs_version" \
  env GOBIN="$bin_dir" go install "github.com/fsouza/fake-gcs-server@$fakegcs_version"

if [[ -f "$here/tools/actionlint/go.mod" ]]; then
  actionlint_stamp="$(sha256sum "$here/tools/actionlint/go.mod" | cut -c1-16)"
  build actionlint "$actionlint_stamp" \
    bash -c "cd '$here/tools/actionlint' && go build -trimpath -o '$bin_dir/actionlint' github.com/rhysd/actionlint/cmd/actionlint"
fi

echo "$bin_dir"
