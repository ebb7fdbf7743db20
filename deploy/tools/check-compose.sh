#!/usr/bin/env bash
# Validate deploy/docker-compose.yml (and the Prometheus/Alertmanager configs it mounts) without
# a Docker engine: `docker compose config -q` parses, interpolates and schema-checks the file.
# Exits non-zero, saying why, when anything is invalid or the compose plugin is missing
# (deploy/tools/install-compose.sh installs it; `make system-deps` runs that).
#
# Usage: deploy/tools/check-compose.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
compose_file="$repo/deploy/docker-compose.yml"
env_file="$repo/deploy/local/services.env"

fail() { printf 'check-compose: FAILED: %s\n' "$*" >&2; exit 1; }

if ! command -v docker >/dev/null 2>&1 || ! docker compose version >/dev/null 2>&1; then
  fail "'docker compose' is not available; run deploy/tools/install-compose.sh (make system-deps)"
fi

if ! docker compose --env-file "$env_file" -f "$compose_file" config -q; then
  fail "$compose_file is invalid (docker compose config -q, see above)"
fi
echo "check-compose: $compose_file is valid ($(docker compose version --short))"

# The configs the compose file mounts, with the same tools `make up` installs (Debian's
# prometheus and prometheus-alertmanager packages); skipped where those are not installed.
docker_dir="$repo/deploy/docker"
if command -v promtool >/dev/null 2>&1; then
  if ! out="$(promtool check config "$docker_dir/prometheus/prometheus.yml" 2>&1)"; then
    printf '%s\n' "$out" >&2
    fail "$docker_dir/prometheus/prometheus.yml is invalid (promtool check config)"
  fi
  echo "check-compose: prometheus.yml and its rules are valid"
else
  echo "check-compose: promtool not installed; prometheus.yml not checked"
fi
if command -v amtool >/dev/null 2>&1; then
  if ! out="$(amtool check-config "$docker_dir/alertmanager/alertmanager.yml" 2>&1)"; then
    printf '%s\n' "$out" >&2
    fail "$docker_dir/alertmanager/alertmanager.yml is invalid (amtool check-config)"
  fi
  echo "check-compose: alertmanager.yml is valid"
else
  echo "check-compose: amtool not installed; alertmanager.yml not checked"
fi
