#!/usr/bin/env python3
"""Benchmark harness: the loyalty service against PostgreSQL's own ceiling (pgbench) on a
seeded database, with wrk as the load generator. See BENCHMARKS.md for how to run it and the
recorded results.

    python3 bench/run.py              # N = 1,000,000 customers, 15 s per scenario
    python3 bench/run.py --quick      # N = 10,000, 3 s per scenario

Needs: PostgreSQL (TEST_DATABASE_URL or the local server), pgbench and psql, wrk
(`apt-get install wrk`), and cargo (it builds the release binary itself).
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = ROOT / "target" / "release" / "loyalty"
AREAS = ["415", "212", "312", "617", "213", "305", "404", "206", "512", "303"]


def phone_of(i: int) -> str:
    """The phone number seed.sql gives customer i."""
    return f"+1{AREAS[i % 10]}{200 + (i // 10) % 800}{i // 8000:04d}"


# ---------------------------------------------------------------- output parsing (unit-tested)

WRK_RESULT = re.compile(r"RESULT requests=(\d+) errors=(\d+) rps=([\d.]+) p50_us=(\d+) p99_us=(\d+)")
PGBENCH_TPS = re.compile(r"tps = ([\d.]+) \(without initial connection time\)")
PGBENCH_LAT = re.compile(r"latency average = ([\d.]+) ms")


def parse_wrk(output: str) -> dict:
    """The RESULT line our wrk script prints: requests, errors, rps, p50 and p99 in ms."""
    m = WRK_RESULT.search(output)
    if not m:
        raise ValueError(f"no RESULT line in wrk output:\n{output}")
    requests, errors, rps, p50, p99 = m.groups()
    return {"requests": int(requests), "errors": int(errors), "rps": float(rps), "p50_ms": int(p50) / 1000, "p99_ms": int(p99) / 1000}


def parse_pgbench(output: str) -> dict:
    """tps and average latency from pgbench's summary."""
    tps = PGBENCH_TPS.search(output)
    if not tps:
        raise ValueError(f"no tps line in pgbench output:\n{output}")
    lat = PGBENCH_LAT.search(output)
    return {"tps": float(tps.group(1)), "latency_ms": float(lat.group(1)) if lat else None}


def parse_vm_hwm(status: str) -> int:
    """Peak resident memory in KiB from /proc/PID/status."""
    m = re.search(r"VmHWM:\s+(\d+) kB", status)
    if not m:
        raise ValueError("no VmHWM in status")
    return int(m.group(1))


# ---------------------------------------------------------------- helpers

def sh(cmd, env=None, check=True, capture=True, timeout=None):
    print("$", cmd if isinstance(cmd, str) else shlex.join(cmd), flush=True)
    res = subprocess.run(cmd, shell=isinstance(cmd, str), env=env, text=True, capture_output=capture, timeout=timeout)
    if check and res.returncode != 0:
        raise SystemExit(f"command failed ({res.returncode}): {cmd}\n{res.stdout}\n{res.stderr}")
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


WRK_LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  errors = 0
  responses = 0
  math.randomseed(os.time() * 1000 + id)
end
local areas = {"415","212","312","617","213","305","404","206","512","303"}
function phone_of(i)
  return string.format("+1%s%d%04d", areas[(i % 10) + 1], 200 + math.floor(i / 10) % 800, math.floor(i / 8000))
end
N = __N__
-- seed.sql blocks customer i when (i * 9973) % 100 == 99; points go to the others.
function unblocked(i)
  if (i * 9973) % 100 == 99 then return i - 1 end
  return i
end
BODY = function() return __BODY__ end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer __KEY__"
function request()
  return wrk.format(nil, "__PATH__", nil, BODY())
end
function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end
function done(summary, latency, requests)
  local e, r = 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    r = r + t:get("responses")
  end
  io.write(string.format("RESULT requests=%d errors=%d rps=%.1f p50_us=%d p99_us=%d\n",
    r, e, summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99)))
end
"""


def lua_string(query: str, variables_lua: str = "'{}'") -> str:
    """A Lua expression building the JSON request body; `variables_lua` is a Lua expression for
    the variables object. Long brackets keep the query's JSON literal."""
    return "[[{\"query\":" + json.dumps(query) + ",\"variables\":]] .. " + variables_lua + " .. [[}]]"


SCENARIOS = [
    ("lookup by phone", "query($p:String!){customer(phone:$p){id name loyaltyTier loyaltyPoints{current}}}",
     "string.format('{\"p\":\"%s\"}', phone_of(math.random(2, N)))"),
    ("lookup by phone + contact", "query($p:String!){customer(phone:$p){id name phone email loyaltyTier}}",
     "string.format('{\"p\":\"%s\"}', phone_of(math.random(2, N)))"),
    ("list tier, page 1", "{customers(filter:{tier:GOLD},limit:50){items{id name loyaltyTier} hasNextPage}}", "'{}'"),
    ("list tier+tag, page 1", "{customers(filter:{tier:GOLD,tag:\"high-value\"},limit:50){items{id name loyaltyTier} hasNextPage}}", "'{}'"),
    ("list tier+tag, deep page (offset)", "query($pg:Int!){customers(filter:{tier:GOLD,tag:\"high-value\"},limit:50,page:$pg){items{id name loyaltyTier} hasNextPage}}",
     "string.format('{\"pg\":%d}', __DEEP__)"),
    ("list tier+tag, deep page (cursor)", "query($a:String!){customers(filter:{tier:GOLD,tag:\"high-value\"},limit:50,after:$a){items{id name loyaltyTier} hasNextPage endCursor}}",
     "'{\"a\":\"__CURSOR__\"}'"),
    ("search name fragment", "query($q:String!){customers(filter:{search:$q},limit:50){items{id name}}}",
     "string.format('{\"q\":\"%s\"}', ({'okafo','rossi','hadda','jense','morea','dubo'})[math.random(1,6)])"),
    ("add points (random)", "mutation($id:ID!){addPoints(customerId:$id,points:5){currentPoints}}",
     "string.format('{\"id\":\"%d\"}', unblocked(math.random(2, N)))"),
    ("redeem (hot customer)", "mutation{redeemPoints(customerId:\"1\",points:1){currentPoints}}", "'{}'"),
    ("loyalty stats", "{loyaltyStats{summary{totalCustomers totalRevenue avgOrderValue} tierDistribution{tier count}}}", "'{}'"),
    ("upcoming occasions (7 days)", "{upcomingOccasions(days:7){date customer{id}}}", "'{}'"),
]

# The embedded default: what a single restaurant on the SQLite file can expect (`--sqlite`).
SQLITE_SCENARIOS = [s for s in SCENARIOS if s[0] in ("lookup by phone", "list tier, page 1", "add points (random)")] + [
    ("record order (random)", "mutation($p:String!,$o:String!){recordOrder(input:{phone:$p,orderId:$o,amount:42.5}){pointsEarned}}",
     "string.format('{\"p\":\"%s\",\"o\":\"o%d-%d\"}', phone_of(unblocked(math.random(2, N))), id, math.random(1, 2000000000))"),
]

# The same questions asked of PostGraphile (the peer): a customer by phone, and the first 50
# gold customers newest first. PostGraphile exposes only unique constraints as lookup fields;
# the (restaurant_id, phone) unique index is reached through a condition, which uses it.
PEER_SCENARIOS = [
    # Phones are sealed at rest and found through a keyed blind index (HMAC) that only the
    # service can compute: the peer looks the same member (id = i, phone = phone_of(i)) up by
    # its primary key instead, one unique-index probe like the service's.
    ("lookup by phone", "query($i:BigInt!){allCustomers(condition:{restaurantId:\"bench\",rowId:$i},first:1){nodes{rowId name tier pointsCurrent}}}",
     "string.format('{\"i\":\"%d\"}', math.random(2, N))"),
    ("list tier, page 1", "{allCustomers(condition:{restaurantId:\"bench\",tier:\"gold\"},first:50,orderBy:ROW_ID_DESC){nodes{rowId name tier} pageInfo{hasNextPage}}}", "'{}'"),
]


def run_wrk(port, key, n, query, variables_lua, concurrency, duration, marks, path="/graphql"):
    """wrk against `path` with the query; `marks` fills __DEEP__ and __CURSOR__ placeholders."""
    body = lua_string(query, variables_lua)
    for mark, value in marks.items():
        body = body.replace(mark, str(value))
    script = WRK_LUA.replace("__N__", str(n)).replace("__KEY__", key).replace("__PATH__", path).replace("__BODY__", body)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    threads = min(2, concurrency)
    res = sh(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{duration}s", "--latency", "-s", f.name, f"http://127.0.0.1:{port}"])
    os.unlink(f.name)
    return parse_wrk(res.stdout)


# The member with id i (phone_of(i)) by primary key: its sealed phone cannot be matched in SQL
# without the index key, and the service's blind-index lookup is one unique-index probe too.
PGBENCH_LOOKUP = """\\set i random(2, {n})
SELECT id, name, tier, points_current FROM customers WHERE restaurant_id = 'bench' AND id = :i;
"""
PGBENCH_POINTS = """\\set i random(2, {n})
BEGIN;
UPDATE customers SET points_current = points_current + 5, points_lifetime = points_lifetime + 5, last_activity_at = now()
  WHERE id = :i AND restaurant_id = 'bench' AND status <> 'blocked' RETURNING points_current;
INSERT INTO point_transactions (restaurant_id, customer_id, kind, delta, balance_after, reason, actor, created_at)
  SELECT 'bench', id, 'earn', 5, points_current, 'pgbench', 'pgbench', now() FROM customers WHERE id = :i AND status <> 'blocked';
COMMIT;
"""


def run_pgbench(url, script, n, concurrency, duration):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script.format(n=n))
    res = sh(["pgbench", "-n", "-M", "prepared", "-c", str(concurrency), "-j", "2", "-T", str(duration), "-f", f.name, url])
    os.unlink(f.name)
    return parse_pgbench(res.stdout)


class SmtpSink:
    """A minimal SMTP server on loopback that counts messages (for the campaign figures)."""

    def __init__(self):
        self.count = 0
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        time.sleep(0.3)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", self.port))
        self.loop.run_forever()

    async def _session(self, reader, writer):
        writer.write(b"220 sink\r\n")
        while line := await reader.readline():
            cmd = line[:4].upper()
            if cmd == b"EHLO":
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif cmd == b"DATA":
                writer.write(b"354 go\r\n")
                while (l := await reader.readline()) not in (b".\r\n", b""):
                    pass
                self.count += 1
                writer.write(b"250 ok\r\n")
            elif cmd == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


def post(port, key, query):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    return json.loads(urllib.request.urlopen(req).read())


def wait_port(port, proc, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not listen on {port} within {timeout} s")


def start_peer(url):
    """PostGraphile 5 on Node 22 (npm packages in bench/peer, installed on first use)."""
    peer = BENCH / "peer"
    if not (peer / "node_modules" / ".bin" / "postgraphile").exists():
        sh(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(peer)], capture=False)
    port = free_port()
    node = peer / "node_modules" / ".bin" / "node"
    cli = peer / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    if not cli.exists():
        cli = peer / "node_modules" / ".bin" / "postgraphile"
    version = json.loads((peer / "node_modules" / "postgraphile" / "package.json").read_text())["version"]
    node_version = sh([str(node), "--version"]).stdout.strip()
    proc = subprocess.Popen([str(node), str(cli), "-P", "postgraphile/presets/amber", "-c", url, "-s", "public", "-p", str(port), "-n", "127.0.0.1"],
                            cwd=peer, env=dict(os.environ, GRAPHILE_ENV="production", NODE_ENV="production"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, "PostGraphile")
    return proc, port, f"PostGraphile {version} on Node {node_version.lstrip('v')}"


def customers_in(url):
    res = sh(["psql", url, "-At", "-c", "SELECT count(*) FROM customers WHERE restaurant_id = 'bench'"], check=False)
    return int(res.stdout.strip()) if res.returncode == 0 and res.stdout.strip().isdigit() else -1


# The seeded restaurant's postal address (no marketing email goes out without one): given to
# the restaurant the first `loyalty migrate` creates.
BENCH_ADDRESS = "Bench Bistro\\n1 Harbour Street\\nSpringfield"


def service_env(url):
    """The service's environment on `url`: a fixed master key, so that reruns with --reuse-db
    open what the last run sealed."""
    return dict(os.environ, DATABASE_URL=url, RUST_LOG="warn", LOYALTY_MASTER_KEY=os.environ.get("LOYALTY_MASTER_KEY", "b" * 64),
                LOYALTY_POSTAL_ADDRESS=BENCH_ADDRESS)


def prepare_db(admin, url, env, n, reuse, name="loyalty_bench", binary=BIN, seed=BENCH / "seed.sql"):
    """Seeds database `name` (at `url`) with N customers by `seed`, migrated by `binary` (unless
    `reuse` and it holds them); returns the seeding and sealing times."""
    timings = {"seed_s": None}
    if reuse and customers_in(url) == n:
        return timings
    sh(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    # The key store's own database (the service's default on PostgreSQL) goes with it.
    sh(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}_keys WITH (FORCE)"])
    sh(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"])
    sh([str(binary), "migrate"], env=env)
    t0 = time.time()
    sh(["psql", url, "-q", "-v", f"n={n}", "-f", str(seed)])
    timings["seed_s"] = time.time() - t0
    # seed.sql writes values in clear, as a version before encryption did: the next start
    # seals them (timed apart).
    t0 = time.time()
    sh([str(binary), "migrate"], env=env)
    timings["seal_s"] = time.time() - t0
    # Sealing rewrote every row: compact the tables, as members created by the service (sealed
    # as they are written) would have them, with fresh planner statistics.
    t0 = time.time()
    sh(["psql", url, "-q", "-c", "VACUUM (FULL, ANALYZE)"])
    timings["compact_s"] = time.time() - t0
    return timings


def admin_key(env, binary=BIN):
    return sh([str(binary), "keys", "create", "--restaurant", "bench", "--role", "admin", "--name", "bench"], env=env).stdout.strip()


def start_service(env, pool, binary=BIN):
    """`loyalty serve` on a free port, without rate limit or scheduler; returns (process, port)."""
    port = free_port()
    serve_env = dict(env, LOYALTY_BIND=f"127.0.0.1:{port}", LOYALTY_RATE_LIMIT="0", LOYALTY_SCHEDULER="false", LOYALTY_DB_POOL=str(pool))
    server = subprocess.Popen([str(binary), "serve"], env=serve_env, stdout=subprocess.PIPE, text=True)
    while "listening on" not in (server.stdout.readline() or "listening on"):
        pass
    return server, port


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=15, help="seconds per scenario")
    ap.add_argument("--concurrency", default="1,32,128", help="comma-separated connection counts")
    ap.add_argument("--quick", action="store_true", help="10,000 customers, 3 s per scenario")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--reuse-db", action="store_true", help="keep loyalty_bench if it holds N customers (for trying changes; recorded runs seed afresh)")
    ap.add_argument("--only", default="", help="run only scenarios whose name contains this text (no jobs, no peer unless it matches)")
    ap.add_argument("--no-peer", action="store_true", help="skip PostGraphile")
    ap.add_argument("--jobs-only", action="store_true", help="seed and run the jobs, no HTTP load, pgbench or peer (with --only: the jobs whose label contains it)")
    ap.add_argument("--sqlite", action="store_true", help="the embedded default: seed N (100,000 unless --customers) in PostgreSQL, copy it to a SQLite file with `loyalty migrate-data`, and run the SQLite scenarios (lookup, list, add points, record order) on it; no pgbench, peer or jobs")
    ap.add_argument("--pool", type=int, default=4, help="the service's database pool (LOYALTY_DB_POOL; its default on 2 cores is 4)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "log" / f"{time.strftime('%Y-%m-%d', time.gmtime())}.md"), help="the dated run log it appends to (default: bench/log/TODAY.md)")
    args = ap.parse_args()
    if args.sqlite and "--customers" not in sys.argv:
        args.customers = 100_000
    if args.quick:
        args.customers, args.duration = 10_000, 3
    n = args.customers
    levels = [int(c) for c in args.concurrency.split(",")]
    admin = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    # One URL for the service, pgbench and the peer; TLS is off for all three (on loopback it
    # only adds encryption, and node-pg would not negotiate it the way libpq and sqlx do).
    url = db_url(admin, "loyalty_bench")
    url += ("&" if "?" in url else "?") + "sslmode=disable"
    results = {"n": n, "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "command": " ".join(["python3", "bench/run.py", *sys.argv[1:]])}
    wanted = lambda name: not args.jobs_only and args.only.lower() in name.lower()

    if not args.no_build:
        sh(["cargo", "build", "--release", "--bin", "loyalty"], capture=False)
    env = service_env(url)
    results.update(prepare_db(admin, url, env, n, args.reuse_db))
    scenarios = SCENARIOS
    results["backend"] = "PostgreSQL"
    if args.sqlite:
        lite = Path(tempfile.gettempdir()) / "loyalty-bench.db"
        for suffix in ("", "-wal", "-shm", ".lock", ".keys", ".keys-wal", ".keys-shm"):
            Path(str(lite) + suffix).unlink(missing_ok=True)
        lite_url = f"sqlite://{lite}?mode=rwc"
        t0 = time.time()
        sh([str(BIN), "migrate-data", "--from", url, "--to", lite_url], env=env)
        results["copy_s"] = time.time() - t0
        env = dict(env, DATABASE_URL=lite_url)
        scenarios, args.no_peer, results["backend"] = SQLITE_SCENARIOS, True, "SQLite"
    key = admin_key(env)

    server, port = start_service(env, args.pool)
    try:
        matches = post(port, key, "{customers(filter:{tier:GOLD,tag:\"high-value\"},limit:50){totalCount}}")["data"]["customers"]["totalCount"]
        deep_page = max(1, min(matches // 50, 200))
        before = post(port, key, f"{{customers(filter:{{tier:GOLD,tag:\"high-value\"}},limit:50,page:{max(1, deep_page - 1)}){{endCursor}}}}")
        marks = {"__DEEP__": deep_page, "__CURSOR__": before["data"]["customers"]["endCursor"] or ""}
        results["deep_page"] = deep_page
        results["scenarios"] = []
        for name, query, variables in scenarios:
            if not wanted(name):
                continue
            for c in levels:
                r = run_wrk(port, key, n, query, variables, c, args.duration, marks)
                r.update(scenario=name, concurrency=c)
                print(r, flush=True)
                results["scenarios"].append(r)
        results["rss_kib"] = parse_vm_hwm(Path(f"/proc/{server.pid}/status").read_text())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    results["pgbench"] = []
    if args.sqlite:
        results.update(peer=[], peer_name=None, jobs=[], sink_messages=0, balance_mismatches=None)
        print(json.dumps(results, indent=2))
        write_markdown(results, Path(args.out))
        return
    # pgbench opens one server connection per client: stay below max_connections.
    max_clients = int(sh(["psql", url, "-At", "-c", "SHOW max_connections"]).stdout.strip()) - 20
    for name, script in [("lookup by phone", PGBENCH_LOOKUP), ("points update + ledger", PGBENCH_POINTS)]:
        if not (wanted(name) or wanted("add points") and name.startswith("points")):
            continue
        for c in levels:
            r = run_pgbench(url, script, n, min(c, max_clients), args.duration)
            r.update(scenario=name, concurrency=c, clients=min(c, max_clients))
            print(r, flush=True)
            results["pgbench"].append(r)

    results["peer"], results["peer_name"] = [], None
    if not args.no_peer and any(wanted(name) for name, _, _ in PEER_SCENARIOS):
        peer, peer_port, results["peer_name"] = start_peer(url)
        try:
            for name, query, variables in PEER_SCENARIOS:
                if not wanted(name):
                    continue
                for c in levels:
                    r = run_wrk(peer_port, key, n, query, variables, c, args.duration, {})
                    r.update(scenario=name, concurrency=c)
                    print("peer", r, flush=True)
                    results["peer"].append(r)
        finally:
            peer.terminate()
            peer.wait(timeout=30)

    results["jobs"], results["sink_messages"], results["balance_mismatches"] = [], 0, None
    if not args.only or args.jobs_only:
        balance = sh(["psql", url, "-At", "-c", "SELECT count(*) FROM customers c LEFT JOIN (SELECT customer_id, SUM(delta) AS s FROM point_transactions GROUP BY customer_id) t ON t.customer_id = c.id WHERE c.points_current <> COALESCE(t.s, 0)"]).stdout.strip()
        results["balance_mismatches"] = int(balance)
        sink = SmtpSink()
        mail_env = dict(env, SMTP_URL=f"smtp://127.0.0.1:{sink.port}", LOYALTY_MAIL_TIMEOUT_SECS="30")
        env = {k: v for k, v in env.items() if k != "SMTP_URL"}
        # Campaigns first run without SMTP, so enqueuing is timed alone (the rows stay pending);
        # the delivery job then sends them all, timed as messages per second.
        # A marketer's campaign to a rule segment every seeded member matches, written as the
        # service would (scheduled "now"); enqueued without SMTP, then a sample of its emails sent.
        campaign_sql = (
            "INSERT INTO segments (restaurant_id, name, description, rule, created_at) "
            "VALUES ('bench', 'everyone', 'bench: every member', '{\"minVisits\":0}', now()) ON CONFLICT DO NOTHING; "
            "INSERT INTO campaigns (restaurant_id, name, kind, state, audience_segment, subject, body_text, body_html, schedule_kind, next_run_at, created_at, updated_at) "
            "VALUES ('bench', 'bench campaign', 'custom', 'scheduled', 'everyone', 'Hi {{ first_name }}', "
            "'Hi {{ first_name }}, you have {{ points }} points.', '<p>Hi {{ first_name }}, you have <b>{{ points }}</b> points.</p>', 'now', now(), now(), now())"
        )
        sample = 50_000
        sample_env = dict(mail_env, LOYALTY_MAIL_MAX_PER_RUN=str(sample))
        steps = [("dormancy", "dormancy", env), ("dormancy (second run)", "dormancy", env),
                 ("birthday: enqueue", "birthday", env), ("win-back: enqueue", "win-back", env),
                 ("deliveries: send both campaigns", "deliveries", mail_env),
                 ("campaign to a rule segment of N: enqueue", "campaigns", env),
                 (f"campaign: send (first {sample:,})", "deliveries", sample_env)]
        for label, job, job_env in steps:
            if args.jobs_only and args.only.lower() not in label.lower():
                continue
            if job == "campaigns":
                sh(["psql", url, "-q", "-c", campaign_sql])
            t0 = time.time()
            out = sh([str(BIN), "jobs", "run", job, "--restaurant", "bench"], env=job_env).stdout
            report = json.loads(out)
            results["jobs"].append({"job": label, "seconds": time.time() - t0, **report})
        results["sink_messages"] = sink.count
    print(json.dumps(results, indent=2))
    write_markdown(results, Path(args.out))


def ratio_rows(r, reference):
    """Rows "scenario | connections | reference | service | ratio" for scenarios both ran."""
    rows = []
    for ref in reference:
        match = "add points (random)" if ref["scenario"].startswith("points") else ref["scenario"]
        svc = next((s for s in r["scenarios"] if s["scenario"] == match and s["concurrency"] == ref["concurrency"]), None)
        value = ref.get("tps", ref.get("rps"))
        ratio = f"{svc['rps'] / value:.2f}" if svc and value else "–"
        extra = f" | {ref['p99_ms']:.2f} | {ref['errors']}" if "p99_ms" in ref else f" | {ref.get('clients', ref['concurrency'])}"
        rows.append(f"| {ref['scenario']} | {ref['concurrency']} | {value:,.0f}{extra} | {svc['rps'] if svc else 0:,.0f} | {ratio} |")
    return rows


def write_markdown(r, out: Path):
    cores = os.cpu_count()
    mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    seeded = f"Seeding took {r['seed_s']:.1f} s." if r["seed_s"] is not None else "Database reused (not seeded by this run)."
    if r.get("seal_s") is not None:
        seeded += f" Sealing the seeded personal data (`loyalty migrate`) took {r['seal_s']:.1f} s, compacting the tables (`VACUUM (FULL, ANALYZE)`) {r.get('compact_s', 0):.1f} s."
    backend = r.get("backend", "PostgreSQL")
    title = f"\n## Run of {r['date']} — N = {r['n']:,} customers" + (f" on {backend}" if backend != "PostgreSQL" else "") + "\n"
    if "copy_s" in r:
        seeded += f" Copied to the SQLite file with `loyalty migrate-data` in {r['copy_s']:.1f} s."
    lines = [title,
             f"Machine: {cores} cores, {mem_gib} GiB, {platform.platform()}; service, PostgreSQL, the peer and wrk on the same machine.",
             f"Command: `{r['command']}`. {seeded}" + (f" Deep page = page {r['deep_page']} (offset {(r['deep_page'] - 1) * 50}; the cursor scenario asks for the same rows with `after`)." if r["scenarios"] else "")]
    if r["scenarios"]:
        lines.append("")
    if r["scenarios"]:
        lines += ["| scenario | connections | requests/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    for s in r["scenarios"]:
        lines.append(f"| {s['scenario']} | {s['concurrency']} | {s['rps']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['errors']} |")
    if r["pgbench"]:
        lines += ["", "| pgbench (same SQL, prepared) | connections | tps | pgbench clients | service req/s | ratio service ÷ pgbench |", "|---|---|---|---|---|---|"]
        lines += ratio_rows(r, r["pgbench"])
    if r["peer"]:
        lines += ["", f"| peer: {r['peer_name']} | connections | requests/s | p99 ms | errors | service req/s | ratio service ÷ peer |", "|---|---|---|---|---|---|---|"]
        lines += ratio_rows(r, r["peer"])
    if r["jobs"]:
        lines += ["", "| job | seconds | changed | enqueued | sent | failed |", "|---|---|---|---|---|---|"]
        for j in r["jobs"]:
            rate = f" ({j['sent'] / j['seconds']:,.0f} msg/s)" if j.get("sent") else ""
            lines.append(f"| {j['job']} | {j['seconds']:.1f} | {j.get('changed', 0):,} | {j.get('enqueued', 0):,} | {j.get('sent', 0):,}{rate} | {j.get('failed', 0)} |")
    tail = [f"Peak RSS of the service under load: {r['rss_kib'] / 1024:.0f} MiB."] if r["scenarios"] else []
    if r["balance_mismatches"] is not None:
        tail.append(f"Customers whose balance differs from their ledger after the run: {r['balance_mismatches']}. Messages received by the SMTP sink: {r['sink_messages']}.")
    lines.append("\n" + " ".join(tail) + "\n")
    with out.open("a") as f:
        f.write("\n".join(lines))
    print(f"appended to {out}")


if __name__ == "__main__":
    main()
