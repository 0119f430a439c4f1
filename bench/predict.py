#!/usr/bin/env python3
"""The predictive models' speed on PostgreSQL: N members (1,000,000 by default) and their visits
seeded by bench/predict_seed.sql, then in N rounds `loyalty model fit` (read every visit,
fit both models) and `loyalty jobs run model-fit` (the daily job: fit, then score and store
every member). Reports each as the median of the rounds with its spread, members per second,
and the fit's own figures (likelihood terms, the fit's milliseconds); appends the table to the
dated run log.

    python3 bench/predict.py                      # N = 1,000,000, 3 rounds
    python3 bench/predict.py --customers 10000 --repeat 2 --no-build
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import time

import run as bench
from compare import append


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--reuse-db", action="store_true", help="keep the seeded database when it holds N members")
    ap.add_argument("--out", default=str(bench.BENCH / "log" / f"{dt.date.today():%Y-%m-%d}.md"), help="the run log the table is appended to")
    args = ap.parse_args()
    if not args.no_build:
        bench.sh(["cargo", "build", "--release", "-p", "api"], capture=False)
    admin = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    url = bench.db_url(admin, "loyalty_predict")
    env = dict(bench.service_env(url), LOYALTY_RESTAURANT="bench")
    seed_s = None
    if not (args.reuse_db and bench.customers_in(url) == args.customers):
        for suffix in ("", "_keys"):
            bench.sh(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS loyalty_predict{suffix} WITH (FORCE)"])
        bench.sh(["psql", admin, "-q", "-c", "CREATE DATABASE loyalty_predict"])
        bench.sh([str(bench.BIN), "migrate"], env=env)
        t0 = time.time()
        bench.sh(["psql", url, "-q", "-v", f"n={args.customers}", "-f", str(bench.BENCH / "predict_seed.sql")])
        seed_s = time.time() - t0
    visits = int(bench.sh(["psql", url, "-At", "-c", "SELECT count(*) FROM visits"]).stdout.strip())
    fits, jobs, fit_ms, terms = [], [], [], None
    for _ in range(args.repeat):
        t0 = time.time()
        out = bench.sh([str(bench.BIN), "model", "fit", "--restaurant", "bench"], env=env).stdout
        fits.append(time.time() - t0)
        m = re.search(r"(\d+) likelihood terms, (\d+) ms", out)
        terms, fit_ms = int(m.group(1)), fit_ms + [int(m.group(2))]
        print(out, flush=True)
        t0 = time.time()
        report = json.loads(bench.sh([str(bench.BIN), "jobs", "run", "model-fit", "--restaurant", "bench"], env=env).stdout)
        jobs.append(time.time() - t0)
        print(report, flush=True)
    n = args.customers
    when = dt.datetime.now(dt.timezone.utc)
    cmd = "python3 bench/predict.py" + ("" if n == 1_000_000 else f" --customers {n}") + f" --repeat {args.repeat}"
    lines = [
        f"## Predictive models, {when:%Y-%m-%d %H:%M} UTC — N = {n:,} members, {visits:,} visits, {args.repeat} rounds",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}; PostgreSQL on the same machine.",
        f"Command: `{cmd}`" + (f" (seeding took {seed_s:.0f} s)" if seed_s else "") + ". Each cell is the median of the rounds (lowest–highest).",
        "",
        "| step | seconds | members/s |",
        "|---|---|---|",
        f"| `loyalty model fit` (read every visit, fit both models; {terms:,} likelihood terms; the fit itself {statistics.median(fit_ms) / 1000:.1f} s) "
        f"| {statistics.median(fits):.1f} ({min(fits):.1f}–{max(fits):.1f}) | {n / statistics.median(fits):,.0f} |",
        f"| `loyalty jobs run model-fit` (fit, then score and store every member) | {statistics.median(jobs):.1f} ({min(jobs):.1f}–{max(jobs):.1f}) "
        f"| {n / statistics.median(jobs):,.0f} |",
        "",
    ]
    append("\n" + "\n".join(lines), args.out)


if __name__ == "__main__":
    main()
