#!/usr/bin/env bash
# Provides Kyverno's admission controller and its CRDs for the peer benchmark (bench/peer.py).
#
# Prints the folder on stdout; progress goes to stderr. The folder holds
#   kyverno   the admission controller, github.com/kyverno/kyverno/cmd/kyverno, built from the Go
#             module in hack/kyverno/ (the version pinned there, go.sum committed);
#   crds/     the CustomResourceDefinitions that version ships (config/crds of the same module).
# It is a cache outside the checkout, keyed by version, and reused on later runs.
#
# Exit codes: 0 ready; 3 the Go toolchain is needed and absent (callers skip with the message);
# anything else a failed build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/kyverno"
module=github.com/kyverno/kyverno
version="$(awk -v m="$module" '($1 == m) {print $2; exit} ($1 == "require" && $2 == m) {print $3; exit}' "$src/go.mod")"

log() { printf 'kyverno: %s\n' "$*" >&2; }

[[ -n "$version" ]] || { log "no $module version pinned in $src/go.mod"; exit 1; }
cache_root="${GPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpai-operator}/kyverno"
dest="$cache_root/$version"
if [[ -x "$dest/kyverno" && -d "$dest/crds" ]]; then
  log "$version cached in $dest"
  echo "$dest"
  exit 0
fi

command -v go >/dev/null || {
  log "the Go toolchain is needed to build Kyverno $version (https://go.dev/dl/); none is on PATH"
  exit 3
}
mkdir -p "$dest"
tmp_bin="$dest/kyverno.tmp.$$"
tmp_crds="$dest/crds.tmp.$$"
trap 'rm -rf "$tmp_bin" "$tmp_crds"' EXIT

if [[ ! -d "$dest/crds" ]]; then
  module_dir="$(cd "$src" && go mod download -json "$module" | awk -F'"' '$2 == "Dir" {print $4}')"
  [[ -d "$module_dir/config/crds" ]] || { log "$module@$version has no config/crds"; exit 1; }
  mkdir -p "$tmp_crds"
  # Every CRD Kyverno's admission controller watches or writes: kyverno.io, policies.kyverno.io,
  # reports.kyverno.io and wgpolicyk8s.io.
  find "$module_dir/config/crds" -name '*.yaml' -exec cp {} "$tmp_crds/" \;
  chmod -R u+w "$tmp_crds"
  mv "$tmp_crds" "$dest/crds"
  log "CRDs: $(find "$dest/crds" -name '*.yaml' | wc -l) files from $module@$version/config/crds"
fi

if [[ ! -x "$dest/kyverno" ]]; then
  log "building the admission controller $version (first time only; many minutes on 2 cores)"
  start=$SECONDS
  (cd "$src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X $module/pkg/version.BuildVersion=$version" \
    -o "$tmp_bin" "$module/cmd/kyverno")
  mv "$tmp_bin" "$dest/kyverno"
  log "built in $((SECONDS - start)) s into $dest"
fi
echo "$dest"
