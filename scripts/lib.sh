# Shared paths and helpers for bazaar's scripts. Sourced, never run.
# shellcheck shell=bash

BAZAAR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BAZAAR_DEPS="${BAZAAR_DEPS:-$BAZAAR_ROOT/.deps}"
BAZAAR_BUILD="${BAZAAR_BUILD:-$BAZAAR_ROOT/build}"
BAZAAR_KAFKA_VERSIONS=(4.1.1 4.1.0 4.0.1)   # first that resolves wins; 4.0.0 breaks librdkafka 2.0 groups
PG_BIN=/usr/lib/postgresql/15/bin

# Where scripts/run keeps its data and logs: outside the checkout, because PostgreSQL runs as
# `postgres` and a checkout under /root is closed to it; one folder per checkout.
default_run_dir() { echo "/var/tmp/bazaar-dev-$(printf '%s' "$BAZAAR_ROOT" | md5sum | cut -c1-8)"; }

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The Kafka lib folder fetched by setup, or empty when none is there yet.
kafka_libs() {
  local v
  for v in "${BAZAAR_KAFKA_VERSIONS[@]}"; do
    if [[ -f "$BAZAAR_DEPS/kafka-$v/.complete" ]]; then
      echo "$BAZAAR_DEPS/kafka-$v/libs"
      return 0
    fi
  done
  return 1
}

kafka_version_of() { basename "$(dirname "$1")" | sed 's/^kafka-//'; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A TCP port on loopback that nothing listens on now.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 30000))
    if ! port_open "$p" && ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# Waits until "$@" succeeds or $1 seconds pass.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Prints the comment block at the top of a script, without the comment marks.
usage() { sed -n '2,/^set -euo/p' "$1" | grep '^#' | sed 's/^# \{0,1\}//'; }

# Starts a private broker and database cluster on free ports in a new run folder, exports
# their settings, and arranges for them to stop when the script exits (keeping the folder
# when the script failed). Used by scripts/test and scripts/bench.
private_infra() {
  RUN="$(mktemp -d "/tmp/bazaar-$1.XXXXXX")"
  chmod 755 "$RUN"
  export BAZAAR_RUN_DIR="$RUN"
  export BAZAAR_KAFKA_PORT="$(free_port)"
  until BAZAAR_KAFKA_CONTROLLER_PORT="$(free_port)" && [[ $BAZAAR_KAFKA_CONTROLLER_PORT != "$BAZAAR_KAFKA_PORT" ]]; do :; done
  until BAZAAR_PG_PORT="$(free_port)" && [[ $BAZAAR_PG_PORT != "$BAZAAR_KAFKA_PORT" && $BAZAAR_PG_PORT != "$BAZAAR_KAFKA_CONTROLLER_PORT" ]]; do :; done
  export BAZAAR_KAFKA_CONTROLLER_PORT BAZAAR_PG_PORT
  status=1
  trap private_infra_down EXIT
  trap 'status=130; private_infra_down' INT TERM
  "$BAZAAR_ROOT/scripts/infra" up
  set -a
  # shellcheck disable=SC1091
  . "$RUN/env"
  set +a
}

private_infra_down() {
  trap - EXIT INT TERM
  "$BAZAAR_ROOT/scripts/infra" down || true
  if ((status == 0)); then rm -rf "$RUN"; else log "logs kept in $RUN"; fi
  exit "$status"
}
