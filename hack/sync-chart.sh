#!/usr/bin/env bash
# Copies what the chart ships from its one source in the repository:
#   crds/*.yaml      -> charts/gpai-operator/crds/         (Helm installs CRDs only from there)
#   policies/*.yaml  -> charts/gpai-operator/files/policies/ (defaultPolicy.pack reads them)
# A chart cannot reach outside its own folder, hence copies; tests/chart fails when they drift.
# Run it after `make crds` or after editing a policy pack.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$root/charts/gpai-operator"

sync() {  # source folder, destination folder, files in the destination that are the chart's own...
  local src=$1 dest=$2; shift 2
  mkdir -p "$dest"
  local f name keep
  for f in "$dest"/*.yaml; do
    [[ -e "$f" ]] || continue
    name="$(basename "$f")"
    keep=0
    for own in "$@"; do [[ "$name" == "$own" ]] && keep=1; done
    if [[ $keep -eq 0 && ! -e "$src/$name" ]]; then
      rm "$f"
      printf 'sync-chart: removed %s\n' "${f#"$root"/}" >&2
    fi
  done
  for f in "$src"/*.yaml; do
    [[ -e "$f" ]] || continue
    name="$(basename "$f")"
    if ! cmp -s "$f" "$dest/$name"; then
      cp "$f" "$dest/$name"
      printf 'sync-chart: updated %s\n' "${dest#"$root"/}/$name" >&2
    fi
  done
}

sync "$root/crds" "$chart/crds"
sync "$root/policies" "$chart/files/policies"
