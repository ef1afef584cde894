#!/usr/bin/env bash
# Provides other projects' CustomResourceDefinitions (OpenReports, PolicyReport, Prometheus
# Operator, cert-manager) for the integration tests, from the Go modules that publish them.
#
# Prints the folder that holds the CRD files on stdout; progress goes to stderr.
#   1. GPAI_THIRD_PARTY_CRDS, when it names a folder of *.yaml files, is used as is.
#   2. Otherwise each module pinned in hack/third-party-crds.txt is downloaded with
#      `go mod download` (the Go module proxy, Go's module cache), its hash checked against the
#      pinned one, and the listed files copied into a cache outside the checkout, keyed by the pins.
#      Later runs reuse that folder without the network.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pins="$here/third-party-crds.txt"

log() { printf 'third-party-crds: %s\n' "$*" >&2; }

if [[ -n "${GPAI_THIRD_PARTY_CRDS:-}" ]]; then
  if compgen -G "$GPAI_THIRD_PARTY_CRDS/*.yaml" >/dev/null; then
    log "using GPAI_THIRD_PARTY_CRDS=$GPAI_THIRD_PARTY_CRDS"
    echo "$GPAI_THIRD_PARTY_CRDS"
    exit 0
  fi
  log "GPAI_THIRD_PARTY_CRDS=$GPAI_THIRD_PARTY_CRDS holds no *.yaml; fetching instead"
fi

cache_root="${GPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpai-operator}/third-party-crds"
key="$(grep -v '^[[:space:]]*\(#\|$\)' "$pins" | sha256sum | cut -c1-16)"
dest="$cache_root/$key"
if [[ -f "$dest/.complete" ]]; then
  log "cached in $dest"
  echo "$dest"
  exit 0
fi

command -v go >/dev/null || { log "the Go toolchain is needed to download the CRDs (or set GPAI_THIRD_PARTY_CRDS)"; exit 1; }
mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/.tmp.XXXXXX")"
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

# `go mod download` of module@version outside any module: run it in an empty folder.
field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p"; }
while read -r module version hash files; do
  [[ -z "$module" || "$module" == \#* ]] && continue
  log "$module@$version"
  json="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module@$version")" || {
    log "go mod download $module@$version failed:"; printf '%s\n' "$json" >&2; exit 1; }
  error="$(field Error <<<"$json")"
  [[ -z "$error" ]] || { log "$module@$version: $error"; exit 1; }
  got="$(field Sum <<<"$json")"
  [[ "$got" == "$hash" ]] || { log "$module@$version has hash $got, pinned $hash: refusing it"; exit 1; }
  dir="$(field Dir <<<"$json")"
  for file in $files; do
    [[ -f "$dir/$file" ]] || { log "$module@$version has no $file"; exit 1; }
    install -m 0644 "$dir/$file" "$work/$(basename "$file")"
  done
done <"$pins"

touch "$work/.complete"
rm -rf "$dest"
mv "$work" "$dest"
trap - EXIT
log "$(find "$dest" -name '*.yaml' | wc -l) CRD files in $dest"
echo "$dest"
