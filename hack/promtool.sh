#!/usr/bin/env bash
# Provides Prometheus' promtool for the alert rule tests, or with the argument `prometheus` the
# Prometheus server for the test that evaluates the shipped rules and dashboard against the operator.
#
# Prints the path of the binary on stdout; progress goes to stderr.
#   1. PROMTOOL (PROMETHEUS for the server), when it names an executable, is used as is.
#   2. Otherwise `promtool` (`prometheus`) on PATH.
#   3. Otherwise both are taken out of Debian's `prometheus` package into a cache outside the
#      checkout, keyed by the package version, and reused on later runs. The package is
#      downloaded and unpacked, not installed: installing it would add a system user and start a
#      Prometheus server through its init script, and we want static binaries, nothing more.
set -euo pipefail

tool="${1:-promtool}"
case "$tool" in
  promtool) env_name=PROMTOOL ;;
  prometheus) env_name=PROMETHEUS ;;
  *) printf 'usage: %s [promtool|prometheus]\n' "$0" >&2; exit 2 ;;
esac

log() { printf '%s: %s\n' "$tool" "$*" >&2; }

named="${!env_name:-}"
if [[ -n "$named" ]]; then
  if [[ -x "$named" ]]; then
    log "using $env_name=$named"
    echo "$named"
    exit 0
  fi
  log "$env_name=$named is not executable; looking further"
fi

if on_path="$(command -v "$tool")"; then
  log "using $on_path from PATH"
  echo "$on_path"
  exit 0
fi

command -v apt-get >/dev/null || { log "not on PATH and no apt-get to fetch Debian's prometheus package; install $tool or set $env_name"; exit 1; }

candidate() { apt-cache policy prometheus 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" {print $2}'; }
version="$(candidate)"
if [[ -z "$version" ]]; then
  if [[ $EUID -ne 0 ]]; then
    log "Debian's package lists do not know 'prometheus' and only root may run apt-get update; install $tool or set $env_name"
    exit 1
  fi
  log "apt-get update (the package lists do not know 'prometheus' yet)"
  apt-get update -qq >&2
  version="$(candidate)"
  [[ -n "$version" ]] || { log "no 'prometheus' package in the configured Debian sources"; exit 1; }
fi

cache_root="${GPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpai-operator}/promtool"
dest="$cache_root/${version//[:+~]/_}"
if [[ -x "$dest/promtool" && -x "$dest/prometheus" ]]; then
  log "cached in $dest"
  echo "$dest/$tool"
  exit 0
fi

log "fetching Debian's prometheus $version and unpacking promtool and prometheus"
mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's sandbox user cannot write into a private temporary folder; the download is still verified
# against the signed package lists.
(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "prometheus=$version" >&2)
dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -x -C "$work" ./usr/bin/promtool ./usr/bin/prometheus
mv "$work/usr/bin/promtool" "$dest/promtool"
mv "$work/usr/bin/prometheus" "$dest/prometheus"
log "$("$dest/$tool" --version 2>&1 | awk 'NR == 1 {print $1, $3}') in $dest"
echo "$dest/$tool"
