#!/usr/bin/env bash
# Installs the real tools the infra tests check against, cached under ~/.cache:
#   - etcd and shellcheck from Debian (apt-get), when missing;
#   - kube-apiserver v1.34.x built from the Go module proxy (test/servers/tools/kube-apiserver);
#   - the Atlas operator's CRDs, read from its Go module in the module cache.
# A warm cache makes this a no-op. Prints the bin directory last.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${SYRF_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/syrf-db-tools/bin}"
mkdir -p "$bin_dir"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOTELEMETRY=off
export GOFLAGS="${GOFLAGS:-} -mod=mod"

missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if ((${#missing[@]} > 0)); then
  echo "install-infra-tools.sh: apt-get install ${missing[*]}" >&2
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >&2
fi

kube_stamp="$(cat "$here/tools/kube-apiserver/go.mod" "$here/tools/kube-apiserver/go.sum" | sha256sum | cut -c1-16)"
if [[ ! -x "$bin_dir/kube-apiserver" || "$(cat "$bin_dir/kube-apiserver.stamp" 2>/dev/null)" != "$kube_stamp" ]]; then
  echo "install-infra-tools.sh: building kube-apiserver ($kube_stamp) into $bin_dir (long on a cold cache)" >&2
  (cd "$here/tools/kube-apiserver" && nice -n 10 go build -trimpath -ldflags=-s -o "$bin_dir/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
  echo "$kube_stamp" > "$bin_dir/kube-apiserver.stamp"
fi

# The CRDs ship inside the operator's Go module; the release directory matches the module version.
atlas_module="github.com/mongodb/mongodb-atlas-kubernetes/v2"
atlas_version="v2.17.0"
atlas_release="v2.16.1"
if [[ ! -f "$bin_dir/atlas-crds/$atlas_version/atlas.mongodb.com_atlasdatabaseusers.yaml" ]]; then
  dir="$(go mod download -json "$atlas_module@$atlas_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$bin_dir/atlas-crds/$atlas_version"
  cp "$dir/releases/$atlas_release/deploy/crds/atlas.mongodb.com_atlasdatabaseusers.yaml" "$bin_dir/atlas-crds/$atlas_version/"
fi
ln -sfn "$atlas_version" "$bin_dir/atlas-crds/current"

echo "$bin_dir"
