#!/usr/bin/env bash
# Installs what the local "services" profile needs on a Debian machine, without Docker.
#
#   * Debian packages: PostgreSQL, Redis, Mosquitto, Prometheus, Alertmanager, plus a Java
#     runtime and Maven for the Kafka broker (only the missing ones; `apt-get update` runs at
#     most once, and only when something is missing).
#   * The Apache Kafka broker jars, fetched from Maven Central by deploy/local/kafka/pom.xml into
#     a cache folder (default: <repo>/.cache/kafka/libs). A stamp file holding the pom's SHA-256
#     makes a second run a no-op; a changed pom fetches again.
#
# Idempotent: run it as often as you like. Needs root for apt (or sudo when not root).
#
# Usage: deploy/local/install.sh [--kafka-libs DIR] [--skip-apt]
#   KAFKA_LIBS_DIR=DIR works too. The Python side (chainwatch.services) looks in the default
#   folder unless told otherwise.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$REPO_ROOT/deploy/local/kafka/pom.xml"
KAFKA_LIBS_DIR="${KAFKA_LIBS_DIR:-$REPO_ROOT/.cache/kafka/libs}"
SKIP_APT=0
# The PostgreSQL major version of the cluster the services profile runs (CHAINWATCH_POSTGRES__CLUSTER).
PG_VERSION="${PG_VERSION:-15}"

# Debian package -> a command (or file) that proves it is installed. The server's initdb, not
# pg_ctlcluster: fresh machines ship postgresql-common and the psql client without a server.
PACKAGES=(
  "postgresql-$PG_VERSION:/usr/lib/postgresql/$PG_VERSION/bin/initdb"
  "redis-server:/usr/bin/redis-server"
  "mosquitto:/usr/sbin/mosquitto"
  "mosquitto-clients:/usr/bin/mosquitto_pub"
  "prometheus:/usr/bin/prometheus"
  "prometheus-alertmanager:/usr/bin/prometheus-alertmanager"
  "default-jre-headless:java"
  "maven:mvn"
)

log() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --kafka-libs) KAFKA_LIBS_DIR="$2"; shift 2 ;;
    --skip-apt) SKIP_APT=1; shift ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
done

have() {
  # A path is checked as a file, a bare name is looked up on PATH (and in the sbin folders,
  # which are not on a non-root PATH).
  if [[ "$1" == /* ]]; then [[ -x "$1" ]]; else PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; fi
}

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "root is needed to run: $* (run this script as root or install sudo)"
  fi
}

install_packages() {
  local missing=() entry pkg probe
  for entry in "${PACKAGES[@]}"; do
    pkg="${entry%%:*}"; probe="${entry#*:}"
    if have "$probe"; then log "ok: $pkg"; else missing+=("$pkg"); fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all Debian packages present"
    return
  fi
  log "installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  # On a systemd host the packages start their own daemons on the default ports; chainwatch
  # then reports them as "external" and leaves them alone. Say so rather than stop them.
  if [[ -d /run/systemd/system ]]; then
    log "note: systemd may have started redis-server/mosquitto/postgresql on their default ports;"
    log "      chainwatch will use them as external services (stop them to let chainwatch manage its own)"
  fi
}

fetch_kafka() {
  [[ -f "$POM" ]] || die "missing $POM"
  local stamp="$KAFKA_LIBS_DIR/.pom.sha256" want have_hash=""
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  [[ -f "$stamp" ]] && have_hash="$(cat "$stamp")"
  if [[ "$have_hash" == "$want" ]] && compgen -G "$KAFKA_LIBS_DIR/kafka_2.13-*.jar" >/dev/null; then
    log "ok: Kafka broker jars in $KAFKA_LIBS_DIR (pom unchanged)"
    return
  fi
  have mvn || die "mvn not found (drop --skip-apt or install maven)"
  log "fetching Kafka broker jars with Maven into $KAFKA_LIBS_DIR"
  # Fetch into a sibling folder and swap it in, so an interrupted run never leaves a
  # half-filled folder that looks complete.
  local tmp="$KAFKA_LIBS_DIR.partial"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Maven 3.8 prints stray colour codes even in batch mode; strip them (pipefail keeps its status).
  mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1 \
    | sed -e 's/\x1b\[[0-9;]*m//g'
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "Maven ran but no kafka_2.13 jar arrived in $tmp"
  printf '%s\n' "$want" >"$tmp/.pom.sha256"
  rm -rf "$KAFKA_LIBS_DIR"
  mv "$tmp" "$KAFKA_LIBS_DIR"
  log "ok: $(find "$KAFKA_LIBS_DIR" -name '*.jar' | wc -l) jars in $KAFKA_LIBS_DIR"
}

if [[ $SKIP_APT -eq 1 ]]; then log "skipping Debian packages (--skip-apt)"; else install_packages; fi
fetch_kafka
log "done; start the services with: make up"
