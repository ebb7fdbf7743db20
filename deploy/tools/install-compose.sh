#!/usr/bin/env bash
# Install the Docker Compose CLI plugin (`docker compose`) from source, pinned by the Go tools
# module in deploy/tools/compose/ (go.mod + go.sum, `tool github.com/docker/compose/v5/cmd`).
#
# Why from source: these machines reach package registries only (no Docker engine, no GitHub
# release downloads), and the `docker` client here has no compose plugin. The Go module proxy
# serves Compose's source; go.sum pins every module it builds from.
#
# Usage: deploy/tools/install-compose.sh [--force]
#   Skips when `docker compose version` already works (and, for a plugin this script built,
#   reports the version pinned in go.mod), unless --force is given.
#   COMPOSE_PLUGIN_DIR  where the plugin goes (default: ${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins;
#                       /usr/local/lib/docker/cli-plugins installs it for every user).
# Needs: go >= the `go` line of deploy/tools/compose/go.mod. Cold build ~1 min on 2 cores
# (downloads ~550 MB of module sources into GOMODCACHE); a warm rebuild takes ~2 s.
set -euo pipefail

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
  *) echo "install-compose: unknown argument: $1 (use --force or --help)" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module_dir="$here/compose"
compose_module="github.com/docker/compose/v5"

version="$(awk -v m="$compose_module" '$1 == m { print $2; exit }' "$module_dir/go.mod")"
if [[ -z "$version" ]]; then
  echo "install-compose: $compose_module is not required by $module_dir/go.mod" >&2
  exit 1
fi
plugin_dir="${COMPOSE_PLUGIN_DIR:-${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins}"
target="$plugin_dir/docker-compose"

# Skip when `docker compose` works, unless it is a plugin this script built earlier from an
# older pin (then go.mod was bumped and it is rebuilt). Someone else's plugin (Docker Desktop,
# a distribution package) is left alone whatever its version.
if [[ $force -eq 0 ]] && command -v docker >/dev/null 2>&1 \
    && installed="$(docker compose version --short 2>/dev/null)"; then
  if [[ "v${installed#v}" == "$version" || ! -x "$target" ]]; then
    echo "install-compose: already installed: Docker Compose ${installed} (pinned: $version)"
    exit 0
  fi
  echo "install-compose: $target is ${installed}, the pin is $version: rebuilding"
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-compose: 'go' is not on PATH; install Go (see the go line of $module_dir/go.mod)" >&2
  exit 1
fi

mkdir -p "$plugin_dir"
tmp="$(mktemp "$plugin_dir/.docker-compose.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

echo "install-compose: building Docker Compose $version into $target"
start=$SECONDS
# -mod=readonly: go.mod/go.sum are the pin and must already be complete (a missing go.sum
# entry is an error, never a silent re-resolution). CGO off gives the same static binary
# upstream ships and needs no C compiler.
(
  cd "$module_dir"
  CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath \
      -ldflags "-s -w -X $compose_module/internal.Version=$version" \
      -o "$tmp" "$compose_module/cmd"
)
chmod 0755 "$tmp"
mv -f "$tmp" "$target"
trap - EXIT
echo "install-compose: built in $((SECONDS - start)) s"

if command -v docker >/dev/null 2>&1 && docker compose version; then
  exit 0
fi
# No docker client, or one that does not search $plugin_dir: the plugin also runs standalone.
echo "install-compose: 'docker compose' does not find it; run $target directly" >&2
"$target" version
