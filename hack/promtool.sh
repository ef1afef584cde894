#!/usr/bin/env bash
# Provides Prometheus' promtool for the alert rule tests.
#
# Prints the path of the binary on stdout; progress goes to stderr.
#   1. PROMTOOL, when it names an executable, is used as is.
#   2. Otherwise `promtool` on PATH.
#   3. Otherwise promtool is taken out of Debian's `prometheus` package into a cache outside the
#      checkout, keyed by the package version, and reused on later runs. The package is
#      downloaded and unpacked, not installed: installing it would add a system user and start a
#      Prometheus server through its init script, and we want one static binary, nothing more.
set -euo pipefail

log() { printf 'promtool: %s\n' "$*" >&2; }

if [[ -n "${PROMTOOL:-}" ]]; then
  if [[ -x "$PROMTOOL" ]]; then
    log "using PROMTOOL=$PROMTOOL"
    echo "$PROMTOOL"
    exit 0
  fi
  log "PROMTOOL=$PROMTOOL is not executable; looking further"
fi

if on_path="$(command -v promtool)"; then
  log "using $on_path from PATH"
  echo "$on_path"
  exit 0
fi

command -v apt-get >/dev/null || { log "not on PATH and no apt-get to fetch Debian's prometheus package; install promtool or set PROMTOOL"; exit 1; }

candidate() { apt-cache policy prometheus 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" {print $2}'; }
version="$(candidate)"
if [[ -z "$version" ]]; then
  if [[ $EUID -ne 0 ]]; then
    log "Debian's package lists do not know 'prometheus' and only root may run apt-get update; install promtool or set PROMTOOL"
    exit 1
  fi
  log "apt-get update (the package lists do not know 'prometheus' yet)"
  apt-get update -qq >&2
  version="$(candidate)"
  [[ -n "$version" ]] || { log "no 'prometheus' package in the configured Debian sources"; exit 1; }
fi

cache_root="${GPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpai-operator}/promtool"
dest="$cache_root/${version//[:+~]/_}"
if [[ -x "$dest/promtool" ]]; then
  log "cached in $dest"
  echo "$dest/promtool"
  exit 0
fi

log "fetching Debian's prometheus $version and unpacking promtool"
mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's sandbox user cannot write into a private temporary folder; the download is still verified
# against the signed package lists.
(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "prometheus=$version" >&2)
dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -x -C "$work" ./usr/bin/promtool
mv "$work/usr/bin/promtool" "$dest/promtool"
log "promtool $("$dest/promtool" --version 2>&1 | awk 'NR == 1 {print $3}') in $dest"
echo "$dest/promtool"
