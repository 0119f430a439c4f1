#!/usr/bin/env python3
"""Figures that hold from run to run: the service, PostGraphile (the peer) and pgbench asked the
same questions on one seeded database, in N rounds that alternate who goes first (service, peer,
pgbench; then the reverse), after an uncounted warm-up run of each, so a busy moment of the
machine falls on both sides and no side is measured cold. Reports each
pair's median ratio and its spread (the lowest and highest round) and appends the table to the
dated run log; BENCHMARKS.md's summary cells are these medians.

    python3 bench/compare.py --repeat 5                  # N = 1,000,000, 32 connections, 15 s runs
    python3 bench/compare.py --quick --repeat 3          # 10,000 customers, 3 s runs
    python3 bench/compare.py --sqlite --repeat 5         # the embedded default against PostgreSQL, N = 100,000

Needs what bench/run.py needs (PostgreSQL, pgbench, psql, wrk, cargo, Node for the peer).
"""

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import run as bench

# The scenarios all three can be asked: (name, pgbench script or None).
PAIRS = [("lookup by phone", bench.PGBENCH_LOOKUP), ("list tier, page 1", None)]


def summarize(rounds):
    """Medians of rounds [{service: {rps, p99_ms}, peer: {rps}, pgbench: tps or None}]: the
    service's and peer's rates, the ratio service ÷ peer with its spread, and the service's share
    of pgbench's rate."""
    service = [r["service"]["rps"] for r in rounds]
    ratios = [r["service"]["rps"] / r["peer"]["rps"] for r in rounds if r["peer"]["rps"]]
    out = {
        "rounds": len(rounds),
        "service_rps": statistics.median(service),
        "service_p99_ms": statistics.median(r["service"]["p99_ms"] for r in rounds),
        "peer_rps": statistics.median(r["peer"]["rps"] for r in rounds),
        "ratio": statistics.median(ratios) if ratios else None,
        "ratio_low": min(ratios, default=None),
        "ratio_high": max(ratios, default=None),
        "pgbench_tps": None,
        "share": None,
    }
    tps = [r["pgbench"] for r in rounds if r.get("pgbench")]
    if tps:
        out["pgbench_tps"] = statistics.median(tps)
        out["share"] = statistics.median(r["service"]["rps"] / r["pgbench"] for r in rounds if r.get("pgbench"))
    return out


def order(round_no):
    """Who runs in which order in a round: alternately forwards and backwards."""
    sides = ["service", "peer", "pgbench"]
    return sides if round_no % 2 == 0 else sides[::-1]


def markdown(results, first="service", second="peer"):
    fmt = lambda v, spec: "–" if v is None else format(v, spec)
    lines = [f"\n## Alternating comparison of {results['date']} — N = {results['n']:,} customers, {results['repeat']} rounds of {results['duration']} s\n",
             f"Machine: {os.cpu_count()} cores, {platform.platform()}; {results['who']} and wrk on the same machine.",
             f"Command: `{results['command']}`. Each cell is the median of the rounds; the ratio's spread is its lowest and highest round.", "",
             f"| scenario | connections | {first} req/s | {first} p99 ms | {second} req/s | {first} ÷ {second} (spread) | pgbench tps | {first} ÷ pgbench |",
             "|---|---|---|---|---|---|---|---|"]
    for s in results["pairs"]:
        spread = f"{fmt(s['ratio'], '.2f')} ({fmt(s['ratio_low'], '.2f')}–{fmt(s['ratio_high'], '.2f')})"
        lines.append(f"| {s['scenario']} | {s['concurrency']} | {s['service_rps']:,.0f} | {s['service_p99_ms']:.2f} | {s['peer_rps']:,.0f} | {spread} | {fmt(s['pgbench_tps'], ',.0f')} | {fmt(s['share'], '.0%')} |")
    return "\n".join(lines) + "\n"


def two_sides(run, subject, reference, warmup, duration, repeat, label):
    """One warm-up run of each side, then `repeat` rounds alternating which goes first;
    `run(side, seconds)` measures one side. Rounds as `summarize` takes them (`subject` as the
    service, `reference` as the peer)."""
    run(subject, warmup), run(reference, warmup)
    rounds = []
    for i in range(repeat):
        got = {"pgbench": None}
        for side in ([subject, reference] if i % 2 == 0 else [reference, subject]):
            got["service" if side == subject else "peer"] = run(side, duration)
        print(label, i, got, flush=True)
        rounds.append(got)
    return rounds


def append(text, out):
    """Prints the table and appends it to the run log."""
    print(text)
    with Path(out).open("a") as f:
        f.write(text)
    print(f"appended to {out}")


def embedded(args, url, env):
    """`--sqlite`: the service on a SQLite copy of the seeded database against the service on
    PostgreSQL, scenario by scenario in alternating rounds."""
    lite = Path(tempfile.gettempdir()) / "loyalty-compare.db"
    for suffix in ("", "-wal", "-shm", ".lock", ".keys", ".keys-wal", ".keys-shm"):
        Path(str(lite) + suffix).unlink(missing_ok=True)
    lite_env = dict(env, DATABASE_URL=f"sqlite://{lite}?mode=rwc")
    bench.sh([str(bench.BIN), "migrate-data", "--from", url, "--to", lite_env["DATABASE_URL"]], env=env)
    sides = {}
    for name, side_env in (("sqlite", lite_env), ("postgres", env)):
        key = bench.admin_key(side_env)
        server, port = bench.start_service(side_env, args.pool)
        sides[name] = (server, port, key)
    results = {"n": args.customers, "repeat": args.repeat, "duration": args.duration, "who": "the service on SQLite, the service on PostgreSQL", "pairs": [],
               "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "command": " ".join(["python3", "bench/compare.py", *sys.argv[1:]])}
    try:
        for name, query, variables in bench.SQLITE_SCENARIOS:
            for c in [int(c) for c in args.concurrency.split(",")]:
                run = lambda side, seconds: bench.run_wrk(sides[side][1], sides[side][2], args.customers, query, variables, c, seconds, {})
                rounds = two_sides(run, "sqlite", "postgres", args.warmup, args.duration, args.repeat, f"{name} {c}")
                results["pairs"].append({"scenario": name, "concurrency": c, **summarize(rounds)})
    finally:
        for server, _, _ in sides.values():
            server.terminate()
            server.wait(timeout=30)
    append(markdown(results, "SQLite", "PostgreSQL"), args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="rounds per scenario (the medians need at least 5 for the summary table)")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=15, help="seconds per run")
    ap.add_argument("--concurrency", default="32", help="comma-separated connection counts")
    ap.add_argument("--warmup", type=int, default=10, help="seconds of an uncounted first run of the service and the peer per scenario")
    ap.add_argument("--quick", action="store_true", help="10,000 customers, 3 s per run")
    ap.add_argument("--sqlite", action="store_true", help="the embedded default against PostgreSQL: N = 100,000 (unless --customers) copied to a SQLite file, the service on each in alternating rounds (lookup, list, add points, record order)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--reuse-db", action="store_true", help="keep loyalty_bench if it holds N customers")
    ap.add_argument("--pool", type=int, default=4, help="the service's database pool")
    ap.add_argument("--out", default=str(bench.ROOT / "bench" / "log" / f"{time.strftime('%Y-%m-%d', time.gmtime())}.md"))
    args = ap.parse_args()
    if args.sqlite and "--customers" not in sys.argv:
        args.customers = 100_000
    if args.quick:
        args.customers = 10_000 if "--customers" not in sys.argv else args.customers
        args.duration = 3 if "--duration" not in sys.argv else args.duration
        args.warmup = 2 if "--warmup" not in sys.argv else args.warmup
    n, levels = args.customers, [int(c) for c in args.concurrency.split(",")]
    admin = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    url = bench.db_url(admin, "loyalty_bench")
    url += ("&" if "?" in url else "?") + "sslmode=disable"
    if not args.no_build:
        bench.sh(["cargo", "build", "--release", "--bin", "loyalty"], capture=False)
    env = bench.service_env(url)
    bench.prepare_db(admin, url, env, n, args.reuse_db)
    if args.sqlite:
        return embedded(args, url, env)
    key = bench.admin_key(env)
    server, port = bench.start_service(env, args.pool)
    peer, peer_port, peer_name = bench.start_peer(url)
    max_clients = int(bench.sh(["psql", url, "-At", "-c", "SHOW max_connections"]).stdout.strip()) - 20
    results = {"n": n, "repeat": args.repeat, "duration": args.duration, "who": f"service, PostgreSQL, the peer ({peer_name}), pgbench", "pairs": [],
               "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "command": " ".join(["python3", "bench/compare.py", *sys.argv[1:]])}
    queries = {name: (q, v) for name, q, v in bench.SCENARIOS}
    peer_queries = {name: (q, v) for name, q, v in bench.PEER_SCENARIOS}
    try:
        for name, script in PAIRS:
            for c in levels:
                rounds = []
                # A warm-up run of each side first, not counted: the peer's JIT and every
                # side's caches start warm (the peer got 40% faster over its first rounds).
                bench.run_wrk(port, key, n, *queries[name], c, args.warmup, {})
                bench.run_wrk(peer_port, key, n, *peer_queries[name], c, args.warmup, {})
                for i in range(args.repeat):
                    got = {"pgbench": None}
                    for side in order(i):
                        if side == "service":
                            got["service"] = bench.run_wrk(port, key, n, *queries[name], c, args.duration, {})
                        elif side == "peer":
                            got["peer"] = bench.run_wrk(peer_port, key, n, *peer_queries[name], c, args.duration, {})
                        elif script:
                            got["pgbench"] = bench.run_pgbench(url, script, n, min(c, max_clients), args.duration)["tps"]
                    print(name, c, i, got, flush=True)
                    rounds.append(got)
                results["pairs"].append({"scenario": name, "concurrency": c, **summarize(rounds)})
    finally:
        for proc in (server, peer):
            proc.terminate()
            proc.wait(timeout=30)
    append(markdown(results), args.out)


if __name__ == "__main__":
    main()
