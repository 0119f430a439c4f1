#!/usr/bin/env bash
# Instructions the service executes per request, counted by valgrind's callgrind: the same
# figure for the same binary and load whatever else the machine is doing, so two builds (or a
# change) compare exactly where req/s on a shared 2-core VM moves by ±10 %. Also writes the
# profile (callgrind.out.*, read with callgrind_annotate --inclusive=yes) for where they go.
#
#   bench/instructions.sh API_KEY QUERY [LABEL]   # env: BIN, DATABASE_URL, REQUESTS (2000), OUT
#
# API_KEY: `loyalty keys create --restaurant bench --role admin` on that database.
#
# QUERY is a GraphQL query without variables (JSON-escaped), as for bench/cpu_per_request.sh;
# the database is a seeded one (python3 bench/run.py leaves loyalty_bench). Counting starts
# after the key cache has loaded and a warm-up of 200 requests and stops after REQUESTS more, sent by 4 connections.
set -euo pipefail
key=$1
query=$2
label=${3:-$query}
requests=${REQUESTS:-2000}
bin=${BIN:-target/release/loyalty}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/loyalty_bench?sslmode=disable}
export LOYALTY_MASTER_KEY=${LOYALTY_MASTER_KEY:-$(printf 'b%.0s' $(seq 1 64))}  # bench/run.py's key
out=${OUT:-$(mktemp -d)}
port=7198
body=$(mktemp)
printf '{"query":"%s"}' "$query" >"$body"
LOYALTY_BIND=127.0.0.1:$port LOYALTY_RATE_LIMIT=0 LOYALTY_SCHEDULER=false LOYALTY_DB_POOL=4 RUST_LOG=warn,api::startup=info \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out.%p" \
  "$bin" serve >"$out/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$body"' EXIT
for _ in $(seq 1 600); do curl -sf -o /dev/null http://127.0.0.1:$port/readyz && break; sleep 0.5; done
# Four keep-alive connections, as a POS's would be (the client's own work is not counted).
send() {
  python3 - "$1" "$port" "$key" "$body" <<'PY'
import http.client, sys, threading
n, port, key, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], open(sys.argv[4], "rb").read()
def client(count):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(count):
        conn.request("POST", "/graphql", body, {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        data = response.read()
        assert response.status == 200 and b'"errors"' not in data, data[:300]
failed = []
def run(count):
    try:
        client(count)
    except Exception as e:
        failed.append(e)
threads = [threading.Thread(target=run, args=(n // 4,)) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
sys.exit(f"requests failed: {failed[0]}" if failed else 0)
PY
}
# The customer keys load in the background after start: counting starts once they have.
for _ in $(seq 1 1200); do grep -q "customer keys" "$out/service.log" && break; sleep 0.5; done
send 200
callgrind_control -i on "$pid" >/dev/null
send "$requests"
callgrind_control -i off "$pid" >/dev/null
# The profile is written when the service exits (a dump request waits for an idle process).
kill -TERM "$pid"
wait "$pid" || true
total=$(callgrind_annotate "$out/callgrind.out.$pid" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$label: $((total / requests)) instructions per request ($requests requests; profile in $out)"
