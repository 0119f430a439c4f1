#!/usr/bin/env bash
# CPU time the service spends per request (from /proc/PID/stat around a 10 s wrk run), for
# comparing two builds or settings where throughput on this shared VM is too noisy.
#
#   bench/cpu_per_request.sh API_KEY QUERY [LABEL]     # env: BIN, DATABASE_URL, RUST_LOG
#
# QUERY is a GraphQL query without variables (JSON-escaped), e.g.
#   '{customers(filter:{tier:GOLD},limit:50){items{id name loyaltyTier} hasNextPage}}'.
# Needs a seeded database (python3 bench/run.py --only x leaves one in loyalty_bench; create
# the key with `loyalty keys create --restaurant bench --role admin`).
set -euo pipefail
key=$1
query=$2
label=${3:-$query}
script=$(mktemp --suffix .lua)
cat >"$script" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
function request() return wrk.format(nil, "/graphql", nil, [[{"query":"$query"}]]) end
LUA
bin=${BIN:-target/release/loyalty}
port=7199
LOYALTY_BIND=127.0.0.1:$port LOYALTY_RATE_LIMIT=0 LOYALTY_SCHEDULER=false LOYALTY_DB_POOL=4 \
  RUST_LOG=${RUST_LOG:-warn} "$bin" serve >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$script"' EXIT
for _ in $(seq 1 50); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
wrk -t2 -c32 -d3s -s "$script" http://127.0.0.1:$port >/dev/null
before=$(awk '{print $14 + $15}' /proc/$pid/stat)
out=$(wrk -t2 -c32 -d10s -s "$script" http://127.0.0.1:$port)
after=$(awk '{print $14 + $15}' /proc/$pid/stat)
requests=$(echo "$out" | awk '/requests in/ {print $1}')
ticks=$(getconf CLK_TCK)
echo "$label: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s, $(( (after - before) * 1000000 / ticks / requests )) µs CPU per request"
