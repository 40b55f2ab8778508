#!/usr/bin/env bash
# Builds promtool and amtool from the Go module proxy into the same cache as
# the test servers, once. They check ops/prometheus-rules.yaml (check rules,
# test rules) and ops/alertmanager.yaml (check-config). A warm cache makes
# this a no-op; the stamp records the version built, so bumping a version
# below rebuilds.
set -euo pipefail

bin_dir="${SYRF_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/syrf-db-tools/bin}"
mkdir -p "$bin_dir"

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN=local
export GOTELEMETRY=off

# Prometheus publishes its Go module as v0.<minor>.<patch> for release v3.<minor>.<patch>.
prometheus_version="v0.316.0"
alertmanager_version="v0.35.0"

if ! command -v go >/dev/null 2>&1; then
  echo "install-ops-tools.sh: the Go toolchain is required to build promtool and amtool (https://go.dev/doc/install)" >&2
  exit 1
fi

build() { # name, module@version
  local name="$1" package="$2"
  if [[ -x "$bin_dir/$name" && -f "$bin_dir/$name.stamp" && "$(cat "$bin_dir/$name.stamp")" == "$package" ]]; then
    return 0
  fi
  echo "install-ops-tools.sh: building $name ($package) into $bin_dir" >&2
  local started=$SECONDS
  GOBIN="$bin_dir" go install -trimpath "$package"
  echo "$package" > "$bin_dir/$name.stamp"
  echo "install-ops-tools.sh: built $name in $((SECONDS - started)) s" >&2
}

build promtool "github.com/prometheus/prometheus/cmd/promtool@$prometheus_version"
build amtool "github.com/prometheus/alertmanager/cmd/amtool@$alertmanager_version"

echo "$bin_dir"
