#!/usr/bin/env python3
"""What sealing personal data costs on the read path: two builds side by side in one run, each
on its own seeded PostgreSQL database, requests alternating between them.

    python3 bench/encryption_cost.py --base /tmp/loyalty-base --new target/release/loyalty

`--base` is a build from before encryption, `--new` one with it (its database is sealed by
`loyalty migrate` after seeding, which is timed). Scenarios: the harness's lookup and list,
and the same asking for the sealed fields (phone, email, date of birth), which the new build
must open. Prints a Markdown table (median of the rounds) for a run log in bench/log/
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BENCH, WRK_LUA, db_url, free_port, lua_string, parse_wrk, sh, wait_port  # noqa: E402

RANDOM_PHONE = "string.format('{\"p\":\"%s\"}', phone_of(math.random(2, N)))"
SCENARIOS = [
    ("lookup by phone", "query($p:String!){customer(phone:$p){id name loyaltyTier loyaltyPoints{current}}}", RANDOM_PHONE),
    ("lookup by phone + sealed fields", "query($p:String!){customer(phone:$p){id name phone email dateOfBirth loyaltyTier}}", RANDOM_PHONE),
    ("list tier, page 1", "{customers(filter:{tier:GOLD},limit:50){items{id name loyaltyTier} hasNextPage}}", "'{}'"),
    ("list tier, page 1 + sealed fields", "{customers(filter:{tier:GOLD},limit:50){items{id name phone email loyaltyTier} hasNextPage}}", "'{}'"),
]


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    admin = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    n = args.customers
    servers, notes = {}, []
    for label, binary in (("base", args.base), ("new", args.new)):
        name = f"loyalty_enc_{label}"
        url = db_url(admin, name)
        url += ("&" if "?" in url else "?") + "sslmode=disable"
        env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn", LOYALTY_MASTER_KEY="c" * 64)
        sh(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
        sh(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"])
        sh([binary, "migrate"], env=env)
        sh(["psql", url, "-q", "-v", f"n={n}", "-f", str(BENCH / "seed.sql")])
        t0 = time.time()
        sh([binary, "migrate"], env=env)
        if label == "new":
            notes.append(f"sealing the {n:,} seeded customers (`loyalty migrate`) took {time.time() - t0:.1f} s")
        key = sh([binary, "keys", "create", "--restaurant", "bench", "--role", "admin", "--name", "bench"], env=env).stdout.strip()
        port = free_port()
        serve_env = dict(env, LOYALTY_BIND=f"127.0.0.1:{port}", LOYALTY_RATE_LIMIT="0", LOYALTY_SCHEDULER="false", LOYALTY_DB_POOL="4")
        proc = subprocess.Popen([binary, "serve"], env=serve_env, stdout=subprocess.DEVNULL)
        wait_port(port, proc, f"{label} service")
        servers[label] = (proc, port, key)
    results = {(s[0], label): [] for s in SCENARIOS for label in servers}
    try:
        for _ in range(args.rounds):
            for scenario, query, variables in SCENARIOS:
                for label, (proc, port, key) in servers.items():
                    lua = WRK_LUA.replace("__N__", str(n)).replace("__KEY__", key).replace("__PATH__", "/graphql").replace("__BODY__", lua_string(query, variables))
                    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
                        f.write(lua)
                    target = f"http://127.0.0.1:{port}"
                    sh(["wrk", "-t2", f"-c{args.connections}", "-d2s", "-s", f.name, target])
                    before = cpu_ticks(proc.pid)
                    out = sh(["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "-s", f.name, target]).stdout
                    used = cpu_ticks(proc.pid) - before
                    os.unlink(f.name)
                    r = parse_wrk(out)
                    if r["errors"]:
                        raise SystemExit(f"{scenario} on {label}: {r['errors']} errors")
                    r["cpu_us"] = used * 1e6 / os.sysconf("SC_CLK_TCK") / max(r["requests"], 1)
                    results[(scenario, label)].append(r)
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait()
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    print(f"\nN = {n:,}, {args.connections} connections, {args.duration} s each, {args.rounds} rounds alternating; " + "; ".join(notes))
    print("\n| scenario | before: req/s | after: req/s | after / before | p99 before → after (ms) | CPU µs/request before → after |")
    print("|---|---|---|---|---|---|")
    for scenario, _, _ in SCENARIOS:
        b, a = results[(scenario, "base")], results[(scenario, "new")]
        print(f"| {scenario} | {med(b, 'rps'):,.0f} | {med(a, 'rps'):,.0f} | {med(a, 'rps') / med(b, 'rps'):.2f} | "
              f"{med(b, 'p99_ms'):.1f} → {med(a, 'p99_ms'):.1f} | {med(b, 'cpu_us'):.0f} → {med(a, 'cpu_us'):.0f} |")


if __name__ == "__main__":
    main()
