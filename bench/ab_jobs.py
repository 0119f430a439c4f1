#!/usr/bin/env python3
"""A/B of the jobs of two builds on the same machine. Each build's database is seeded by its own
seed.sql and migrations (sealed at start where the build seals, then compacted) and kept
as a template; then in N rounds that alternate which build goes first, each build runs on a fresh
copy of its template (`CREATE DATABASE … TEMPLATE`, its key store copied alike): the dormancy
job's first run (it writes every label: the backfill), its second (the daily run: nothing left
to change) and the win-back campaign's enqueue (no SMTP, so enqueuing alone is timed). Reports
each job's seconds per build as the median of the rounds and new ÷ old with its spread
(lowest–highest round); appends the table to the dated run log.

    python3 bench/ab_jobs.py c1f6ad6 HEAD --repeat 3          # N = 1,000,000
    python3 bench/ab_jobs.py c1f6ad6 HEAD --customers 10000 --repeat 2

Builds as bench/ab.py does (a worktree and target directory per revision; HEAD is this
checkout's release build).
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time

import run as bench
from ab import build
from compare import append

# (label, job): run in this order on each fresh copy.
JOBS = [("dormancy: first run (writes every label)", "dormancy"), ("dormancy: daily run (nothing to change)", "dormancy"), ("win-back: enqueue", "win-back")]


def fresh_copy(admin, template, name):
    """Database `name` (and its key store `name_keys`, where the template has one) as a copy of
    `template`."""
    for suffix in ("", "_keys"):
        bench.sh(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}{suffix} WITH (FORCE)"])
    bench.sh(["psql", admin, "-q", "-c", f"CREATE DATABASE {name} TEMPLATE {template}"])
    has_keys = bench.sh(["psql", admin, "-At", "-c", f"SELECT count(*) FROM pg_database WHERE datname = '{template}_keys'"]).stdout.strip() == "1"
    if has_keys:
        bench.sh(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}_keys TEMPLATE {template}_keys"])


def run_jobs(binary, env):
    """Seconds and report of each of JOBS, in order."""
    scoped = "--restaurant" in bench.sh([str(binary), "jobs", "run", "--help"], env=env).stdout
    out = []
    for label, job in JOBS:
        t0 = time.time()
        report = json.loads(bench.sh([str(binary), "jobs", "run", job, *(["--restaurant", "bench"] if scoped else [])], env=env).stdout)
        out.append({"job": label, "seconds": time.time() - t0, "changed": report.get("changed", 0), "enqueued": report.get("enqueued", 0)})
    return out


def summarize(rounds):
    """Per job: each build's median seconds, new ÷ old median and spread, what it changed."""
    rows = []
    for i, (label, _) in enumerate(JOBS):
        old = [r["old"][i]["seconds"] for r in rounds]
        new = [r["new"][i]["seconds"] for r in rounds]
        ratios = [n / o for n, o in zip(new, old) if o]
        work = {side: rounds[-1][side][i]["changed"] + rounds[-1][side][i]["enqueued"] for side in ("old", "new")}
        rows.append({"job": label, "old_s": statistics.median(old), "new_s": statistics.median(new), "ratio": statistics.median(ratios),
                     "low": min(ratios), "high": max(ratios), "old_rounds": old, "new_rounds": new, "work": work})
    return rows


def markdown(results):
    lines = [f"\n## Jobs A/B of {results['old']} → {results['new']}, {results['date']} — N = {results['n']:,} customers, {results['repeat']} rounds\n",
             f"Machine: {os.cpu_count()} cores, {platform.platform()}; PostgreSQL on the same machine, each build on a fresh copy of its own seeded template per round.",
             f"Command: `{results['command']}`. Each cell is the median of the rounds (builds alternating which goes first); the ratio's spread is its lowest and highest round.", "",
             "| job | old s | new s | new ÷ old (spread) | rows written old / new | rounds old / new (s) |", "|---|---|---|---|---|---|"]
    for r in results["rows"]:
        rounds = " ".join(f"{s:.1f}" for s in r["old_rounds"]) + " / " + " ".join(f"{s:.1f}" for s in r["new_rounds"])
        lines.append(f"| {r['job']} | {r['old_s']:.2f} | {r['new_s']:.2f} | {r['ratio']:.2f} ({r['low']:.2f}–{r['high']:.2f}) | {r['work']['old']:,} / {r['work']['new']:,} | {rounds} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--no-build", action="store_true", help="use builds already made")
    ap.add_argument("--reuse-db", action="store_true", help="keep the templates if they hold N customers")
    ap.add_argument("--out", default=str(bench.ROOT / "bench" / "log" / f"{time.strftime('%Y-%m-%d', time.gmtime())}.md"))
    args = ap.parse_args()
    admin = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    sides = {}
    for side, rev in (("old", args.old), ("new", args.new)):
        binary, seed = build(rev, args.no_build)
        template = f"loyalty_abj_{side}_tpl"
        url = bench.db_url(admin, template) + "?sslmode=disable"
        bench.prepare_db(admin, url, bench.service_env(url), args.customers, args.reuse_db, name=template, binary=binary, seed=seed)
        sides[side] = (binary, template)
    rounds = []
    for n in range(args.repeat):
        this = {}
        for side in (("old", "new") if n % 2 == 0 else ("new", "old")):
            binary, template = sides[side]
            name = f"loyalty_abj_{side}"
            fresh_copy(admin, template, name)
            this[side] = run_jobs(binary, bench.service_env(bench.db_url(admin, name) + "?sslmode=disable"))
            print(side, this[side], flush=True)
        rounds.append(this)
    results = {"old": args.old, "new": args.new, "n": args.customers, "repeat": args.repeat, "rows": summarize(rounds),
               "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "command": " ".join(["python3", "bench/ab_jobs.py", *sys.argv[1:]])}
    append(markdown(results), args.out)


if __name__ == "__main__":
    main()
