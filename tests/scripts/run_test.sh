#!/usr/bin/env bash
# scripts/run as an operator meets it, on ports of its own: a taken port is refused with the
# process that holds it; a service killed later is named and started again; SIGTERM stops
# everything it started.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
# Settings of the test run's own broker and databases must not leak into this one.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^BAZAAR_' | grep -vx 'BAZAAR_BUILD\|BAZAAR_DEPS\|BAZAAR_JOBS')
run_dir="$(mktemp -d /tmp/bazaar-runtest.XXXXXX)"
chmod 755 "$run_dir"
export BAZAAR_RUN_DIR="$run_dir"
export BAZAAR_KAFKA_PORT="$(free_port)" BAZAAR_KAFKA_CONTROLLER_PORT="$(free_port)"
export BAZAAR_PG_PORT="$(free_port)" BAZAAR_EDGE_PORT="$(free_port)"
base=""
for _ in $(seq 100); do  # eight free ports in a row for the admin servers
  b=$((20000 + RANDOM % 30000)); ok=1
  for k in $(seq 0 7); do if port_open $((b + k)); then ok=0; break; fi; done
  ((ok)) && { base=$b; break; }
done
[[ -n "$base" ]] || fail "no free port range"
export BAZAAR_ADMIN_PORT_BASE="$base"
holder_pid="" run_pid=""
cleanup() {
  [[ -n "$holder_pid" ]] && kill "$holder_pid" 2>/dev/null || true
  [[ -n "$run_pid" ]] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null || true
  "$root/scripts/infra" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

# 1. A taken port: refused before anything starts, naming the process that holds it.
python3 -m http.server "$BAZAAR_EDGE_PORT" --bind 127.0.0.1 >/dev/null 2>&1 &
holder_pid=$!
wait_for 10 port_open "$BAZAAR_EDGE_PORT" || fail "the port holder did not start"
set +e
out="$(timeout 120 "$root/scripts/run" 2>&1)"
code=$?
set -e
((code != 0)) || fail "scripts/run started although port $BAZAAR_EDGE_PORT was taken"
grep -q "port $BAZAAR_EDGE_PORT (the public API) is in use by users:((\"python3\"" <<<"$out" ||
  fail "the refusal does not name the port and its process: $out"
grep -q "bazaar is running" <<<"$out" && fail "it said running with a taken port"
kill "$holder_pid"; wait "$holder_pid" 2>/dev/null || true; holder_pid=""

# 2. A normal start, then a service killed: named with its log, started again.
log_file="$run_dir/run.log"
"$root/scripts/run" >"$log_file" 2>&1 &
run_pid=$!
wait_for 240 grep -q "bazaar is running" "$log_file" || { cat "$log_file"; fail "it did not start"; }
payment_admin=$((base + 2))  # catalog, inventory, payment: the third admin port
curl -fsS "http://127.0.0.1:$payment_admin/health/ready" >/dev/null || fail "payment not ready"
pid="$(ss -Hltnp "sport = :$payment_admin" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
[[ -n "$pid" ]] || fail "no payment process found"
kill -KILL "$pid"
wait_for 60 grep -q "payment exited with status" "$log_file" || { cat "$log_file"; fail "the death was not reported"; }
wait_for 60 grep -q "payment is ready again" "$log_file" || { cat "$log_file"; fail "payment was not started again"; }
curl -fsS "http://127.0.0.1:$payment_admin/health/ready" >/dev/null || fail "payment not ready after its restart"
new_pid="$(ss -Hltnp "sport = :$payment_admin" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
[[ "$new_pid" != "$pid" ]] || fail "the same process answers"

# 3. SIGTERM stops everything it started.
kill -TERM "$run_pid"
wait_for 90 bash -c "! kill -0 $run_pid 2>/dev/null" || fail "scripts/run did not stop"
run_pid=""
grep -q "stopped" "$log_file" || fail "no stop reported"
for k in $(seq 0 6); do port_open $((base + k)) && fail "a service still listens on $((base + k))"; done
echo "1 passed, 0 failed"
