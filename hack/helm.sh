#!/usr/bin/env bash
# Provides a Helm 3 binary for the chart tests.
#
# Prints the path of the binary on stdout; progress goes to stderr.
#   1. HELM, when it names an executable Helm 3, is used as is.
#   2. Otherwise `helm` on PATH, when it is Helm 3.
#   3. Otherwise helm.sh/helm/v3/cmd/helm is built from the Go module in hack/helm/ (the
#      version pinned there, go.sum committed) into a cache outside the checkout, keyed by
#      version, and reused on later runs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/helm"
helm_version="$(awk '$1 == "helm.sh/helm/v3" {print $2; exit}' "$src/go.mod")"

log() { printf 'helm: %s\n' "$*" >&2; }

is_helm3() { [[ -x "$1" ]] && [[ "$("$1" version --template '{{.Version}}' 2>/dev/null)" == v3.* ]]; }

if [[ -n "${HELM:-}" ]]; then
  if is_helm3 "$HELM"; then
    log "using HELM=$HELM"
    echo "$HELM"
    exit 0
  fi
  log "HELM=$HELM is not an executable Helm 3; looking further"
fi

if on_path="$(command -v helm)" && is_helm3 "$on_path"; then
  log "using $on_path from PATH"
  echo "$on_path"
  exit 0
fi

[[ -n "$helm_version" ]] || { log "no helm.sh/helm/v3 version pinned in $src/go.mod"; exit 1; }
cache_root="${GPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpai-operator}/helm"
dest="$cache_root/$helm_version"
if [[ -x "$dest/helm" ]]; then
  log "cached in $dest"
  echo "$dest/helm"
  exit 0
fi

command -v go >/dev/null || { log "the Go toolchain is needed to build helm (or put Helm 3 on PATH, or set HELM)"; exit 1; }
mkdir -p "$dest"

# The same version stamps as Helm's own Makefile: the version `helm version` prints, and the
# Kubernetes version `helm template` and `helm lint` assume (from the client-go it is built with).
client_go="$(cd "$src" && go list -m -f '{{.Version}}' k8s.io/client-go)"   # v0.34.2
k8s_minor="$(cut -d. -f2 <<<"$client_go")"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

log "building $helm_version (first time only; a few minutes on 2 cores)"
start=$SECONDS
tmp="$dest/helm.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp" helm.sh/helm/v3/cmd/helm)
mv "$tmp" "$dest/helm"
log "built in $((SECONDS - start)) s into $dest"
echo "$dest/helm"
