#!/usr/bin/env bash
# Provides kube-apiserver and etcd binaries for the integration tests and the demo.
#
# Prints the folder that holds them (the layout setup-envtest produces) on stdout;
# progress goes to stderr.
#   1. KUBEBUILDER_ASSETS, when it points at a folder with both binaries, is used as is.
#   2. Otherwise both are built from the Go modules under hack/control-plane/ into a cache
#      outside the checkout, keyed by version, and reused on later runs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/control-plane"
k8s_version="$(awk '$1 == "k8s.io/kubernetes" {print $2; exit} $1 == "require" && $2 == "k8s.io/kubernetes" {print $3; exit}' "$src/kube-apiserver/go.mod")"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit} $1 == "require" && $2 == "go.etcd.io/etcd/server/v3" {print $3; exit}' "$src/etcd/go.mod")"

log() { printf 'control-plane: %s\n' "$*" >&2; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if [[ -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks kube-apiserver or etcd; building instead"
fi

cache_root="${GPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpai-operator}/control-plane"
dest="$cache_root/kube-$k8s_version-etcd-$etcd_version"
mkdir -p "$dest"

build() {  # name, module folder, extra go build args...
  local name=$1 dir=$2; shift 2
  if [[ -x "$dest/$name" ]]; then
    log "$name: cached in $dest"
    return
  fi
  command -v go >/dev/null || { log "the Go toolchain is needed to build $name (or set KUBEBUILDER_ASSETS)"; exit 1; }
  log "$name: building (first time only; several minutes on 2 cores)"
  local start=$SECONDS
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -o "$dest/$name.tmp" "$@" .)
  mv "$dest/$name.tmp" "$dest/$name"
  log "$name: built in $((SECONDS - start)) s"
}

minor="${k8s_version#v1.}"; minor="${minor%%.*}"
vpkg=k8s.io/component-base/version
build kube-apiserver "$src/kube-apiserver" -ldflags "-s -w \
  -X $vpkg.gitVersion=$k8s_version -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor \
  -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z"
build etcd "$src/etcd" -ldflags "-s -w"

echo "$dest"
