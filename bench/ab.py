#!/usr/bin/env python3
"""A/B of two builds on the same machine: every HTTP scenario of bench/run.py asked of the OLD
and the NEW build in N rounds that alternate which goes first, each build on its own database
seeded the same way (by its own seed.sql and migrations), after an uncounted warm-up run of
each. Reports new ÷ old per scenario as the median of the rounds with its spread, and the
lowest median, so "no scenario got slower" is one command. Appends to the dated run log.

    python3 bench/ab.py b3d5b14 HEAD --repeat 4                  # N = 1,000,000, 32 connections, 15 s runs
    python3 bench/ab.py b3d5b14 HEAD --quick --repeat 3 --only lookup

A revision is built in a git worktree under /tmp with its own target directory
(target/ab-REV); HEAD means this checkout's own release build.
"""

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import run as bench
from compare import append, summarize, two_sides


def build(rev, no_build):
    """The release binary and seed script of `rev` (HEAD: this checkout's)."""
    if rev == "HEAD":
        if not no_build:
            bench.sh(["cargo", "build", "--release", "--bin", "loyalty"], capture=False)
        return bench.BIN, bench.BENCH / "seed.sql"
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=bench.ROOT, capture_output=True, text=True, check=True).stdout.strip()
    tree, target = Path(f"/tmp/ab-{sha}"), bench.ROOT / "target" / f"ab-{sha}"
    if not tree.exists():
        bench.sh(["git", "-C", str(bench.ROOT), "worktree", "add", "-f", str(tree), sha])
    binary = target / "release" / "loyalty"
    if not (no_build and binary.exists()):
        subprocess.run(["cargo", "build", "--release", "--bin", "loyalty"], cwd=tree, env=dict(os.environ, CARGO_TARGET_DIR=str(target)), check=True)
    return binary, tree / "bench" / "seed.sql"


def markdown(results):
    lines = [f"\n## A/B of {results['old']} → {results['new']}, {results['date']} — N = {results['n']:,} customers, {results['repeat']} rounds of {results['duration']} s\n",
             f"Machine: {os.cpu_count()} cores, {platform.platform()}; both builds, PostgreSQL and wrk on the same machine, each build on its own database seeded alike.",
             f"Command: `{results['command']}`. Each cell is the median of the rounds (builds alternating which goes first); the ratio's spread is its lowest and highest round.", "",
             "| scenario | connections | old req/s | new req/s | new p99 ms | new ÷ old (spread) | errors old / new |", "|---|---|---|---|---|---|---|"]
    for s in results["pairs"]:
        lines.append(f"| {s['scenario']} | {s['concurrency']} | {s['peer_rps']:,.0f} | {s['service_rps']:,.0f} | {s['service_p99_ms']:.2f} | {s['ratio']:.2f} ({s['ratio_low']:.2f}–{s['ratio_high']:.2f}) | {s['errors_old']} / {s['errors_new']} |")
    lowest = min(results["pairs"], key=lambda s: s["ratio"])
    lines += ["", f"Lowest median: {lowest['scenario']} at {lowest['ratio']:.2f}×."]
    return "\n".join(lines) + "\n"


def marks_for(port, key):
    """The deep page and the cursor before it, as bench/run.py finds them."""
    filt = "filter:{tier:GOLD,tag:\"high-value\"},limit:50"
    matches = bench.post(port, key, f"{{customers({filt}){{totalCount}}}}")["data"]["customers"]["totalCount"]
    deep = max(1, min(matches // 50, 200))
    before = bench.post(port, key, f"{{customers({filt},page:{max(1, deep - 1)}){{endCursor}}}}")
    return {"__DEEP__": deep, "__CURSOR__": before["data"]["customers"]["endCursor"] or ""}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--concurrency", default="32")
    ap.add_argument("--only", default="", help="only scenarios whose name contains this text")
    ap.add_argument("--quick", action="store_true", help="10,000 customers, 3 s runs")
    ap.add_argument("--no-build", action="store_true", help="use builds already made")
    ap.add_argument("--pool", type=int, default=4)
    ap.add_argument("--out", default=str(bench.ROOT / "bench" / "log" / f"{time.strftime('%Y-%m-%d', time.gmtime())}.md"))
    args = ap.parse_args()
    if args.quick:
        args.customers = 10_000 if "--customers" not in sys.argv else args.customers
        args.duration = 3 if "--duration" not in sys.argv else args.duration
        args.warmup = 2 if "--warmup" not in sys.argv else args.warmup
    admin = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    sides = {}
    for side, rev in (("old", args.old), ("new", args.new)):
        binary, seed = build(rev, args.no_build)
        name = f"loyalty_ab_{side}"
        url = bench.db_url(admin, name) + "?sslmode=disable"
        env = bench.service_env(url)
        bench.prepare_db(admin, url, env, args.customers, False, name=name, binary=binary, seed=seed)
        key = bench.admin_key(env, binary)
        server, port = bench.start_service(env, args.pool, binary)
        sides[side] = (server, port, key)
    marks = {side: marks_for(port, key) for side, (_, port, key) in sides.items()}
    results = {"old": args.old, "new": args.new, "n": args.customers, "repeat": args.repeat, "duration": args.duration, "pairs": [],
               "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "command": " ".join(["python3", "bench/ab.py", *sys.argv[1:]])}
    try:
        for name, query, variables in bench.SCENARIOS:
            if args.only.lower() not in name.lower():
                continue
            for c in [int(c) for c in args.concurrency.split(",")]:
                run = lambda side, seconds: bench.run_wrk(sides[side][1], sides[side][2], args.customers, query, variables, c, seconds, marks[side])
                rounds = two_sides(run, "new", "old", args.warmup, args.duration, args.repeat, f"{name} {c}")
                errors = {side: sum(r[k]["errors"] for r in rounds) for side, k in (("old", "peer"), ("new", "service"))}
                results["pairs"].append({"scenario": name, "concurrency": c, **summarize(rounds), "errors_old": errors["old"], "errors_new": errors["new"]})
    finally:
        for server, _, _ in sides.values():
            server.terminate()
            server.wait(timeout=30)
    append(markdown(results), args.out)


if __name__ == "__main__":
    main()
