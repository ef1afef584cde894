#!/usr/bin/env bash
# Provides kube-apiserver, kube-controller-manager and etcd binaries for the integration tests and
# the demo.
#
# Prints the folder that holds them (the layout setup-envtest produces) on stdout;
# progress goes to stderr.
#   1. KUBEBUILDER_ASSETS, when it points at a folder with all three binaries, is used as is.
#   2. Otherwise they are built from the Go modules under hack/control-plane/ into a cache
#      outside the checkout, keyed by version, and reused on later runs. kube-apiserver and
#      kube-controller-manager are two main packages of one module (one go.sum, one build cache).
# Concurrent runs (several checkouts sharing the cache) take turns on a lock where flock(1) exists,
# and every build writes to a temporary name of its own before an atomic rename.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/control-plane"
required() {  # the version a go.mod requires of a module: go.mod, module path
  awk -v m="$2" '$1 == m {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' "$1"
}
k8s_version="$(required "$src/kubernetes/go.mod" k8s.io/kubernetes)"
etcd_version="$(required "$src/etcd/go.mod" go.etcd.io/etcd/server/v3)"
binaries=(kube-apiserver kube-controller-manager etcd)

log() { printf 'control-plane: %s\n' "$*" >&2; }

has_all() {  # folder
  local name
  for name in "${binaries[@]}"; do [[ -x "$1/$name" ]] || return 1; done
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if has_all "$KUBEBUILDER_ASSETS"; then
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of ${binaries[*]}; building instead"
fi

cache_root="${GPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpai-operator}/control-plane"
dest="$cache_root/kube-$k8s_version-etcd-$etcd_version"
mkdir -p "$dest"
if has_all "$dest"; then
  log "cached in $dest"
  echo "$dest"
  exit 0
fi

if command -v flock >/dev/null; then
  exec {lock}>"$dest/.build.lock"
  flock "$lock"  # another run may be building the same binaries: wait for it, then reuse them
fi

build() {  # module folder, ldflags, name:package... (the package's folder in the module)
  local dir=$1 ldflags=$2 pair name; shift 2
  local missing=() packages=()
  for pair in "$@"; do
    name=${pair%%:*}
    if [[ -x "$dest/$name" ]]; then
      log "$name: cached in $dest"
    else
      missing+=("$name"); packages+=("${pair#*:}")
    fi
  done
  ((${#missing[@]})) || return 0
  command -v go >/dev/null || { log "the Go toolchain is needed to build ${missing[*]} (or set KUBEBUILDER_ASSETS)"; exit 1; }
  log "${missing[*]}: building (first time only; several minutes on 2 cores)"
  local start=$SECONDS tmp
  tmp="$(mktemp -d "$dest/.build.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: the trap must remove this build's folder
  trap "rm -rf '$tmp'" EXIT
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${packages[@]}")
  for name in "${missing[@]}"; do mv -f "$tmp/$name" "$dest/$name"; done
  rm -rf "$tmp"
  trap - EXIT
  log "${missing[*]}: built in $((SECONDS - start)) s"
}

minor="${k8s_version#v1.}"; minor="${minor%%.*}"
vpkg=k8s.io/component-base/version
build "$src/kubernetes" "-s -w \
  -X $vpkg.gitVersion=$k8s_version -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor \
  -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z" \
  kube-apiserver:./kube-apiserver kube-controller-manager:./kube-controller-manager
build "$src/etcd" "-s -w" etcd:.

echo "$dest"
