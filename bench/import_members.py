#!/usr/bin/env python3
"""Import speed on PostgreSQL: `loyalty import customers` of a generated CSV of N members into
an empty, migrated database, against the ceiling — a plain `COPY` of the same file into a table
of text columns in the same database. Reports members per second of each and their ratio, and
checks that every member arrived with balance = ledger; appends the table to the dated run log.

    python3 bench/import_members.py --customers 100000
    python3 bench/import_members.py --customers 1000000 --no-build

Members are like bench/seed.sql's (phones `run.phone_of(i)`): half with an email and consent,
an opening balance and lifetime points, some with allergies.
"""

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

import run as bench
from compare import append

FIELDS = ["externalId", "phone", "name", "email", "dateOfBirth", "memberSince", "points", "lifetimePoints", "emailOptIn", "birthdayOffers", "allergies"]


def row_of(i: int) -> list:
    """Member i of the generated file, as CSV cells."""
    opted = i % 2 == 0
    points = (i * 37) % 5000
    return [f"ext-{i}", bench.phone_of(i), f"Member {i}", f"member{i}@example.com" if opted else "", f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            f"{2015 + i % 10}-{1 + i % 12:02d}-01", str(points), str(points + (i * 13) % 3000), "true" if opted else "", "true" if opted else "",
            "nuts;shellfish" if i % 7 == 0 else ""]


def write_file(n: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"loyalty-import-{n}.csv"
    with path.open("w") as f:
        f.write(",".join(FIELDS) + "\n")
        for i in range(n):
            f.write(",".join(row_of(i)) + "\n")
    return path


def fresh_db(admin: str, name: str):
    for suffix in ("", "_keys"):
        bench.sh(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}{suffix} WITH (FORCE)"])
    bench.sh(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"])


def scalar(url: str, sql: str) -> str:
    return bench.sh(["psql", url, "-At", "-c", sql]).stdout.strip()


def balance_off(url: str) -> int:
    """How many members' balances differ from the sum of their ledger."""
    return int(scalar(url, "SELECT count(*) FROM customers c WHERE points_current <> "
                           "(SELECT COALESCE(SUM(delta), 0) FROM point_transactions t WHERE t.customer_id = c.id)"))


def copy_seconds(url: str, path: Path, fields: list) -> float:
    """Seconds a plain `COPY` of the CSV file `path` takes into a new table of text columns."""
    columns = ", ".join(f'"{f}" text' for f in fields)
    bench.sh(["psql", url, "-q", "-c", f"CREATE TABLE copy_ceiling ({columns})"])
    t0 = time.time()
    bench.sh(["psql", url, "-q", "-c", f"\\copy copy_ceiling FROM '{path}' WITH (FORMAT csv, HEADER true)"])
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--out", default=str(bench.BENCH / "log" / f"{dt.date.today()}.md"))
    args = ap.parse_args()
    if not args.no_build:
        bench.sh(["cargo", "build", "--release", "--bin", "loyalty"], capture=False)
    n, name = args.customers, "loyalty_import_bench"
    path = write_file(n)
    url = bench.db_url(args.admin_url, name)
    fresh_db(args.admin_url, name)
    env = bench.service_env(url)
    bench.sh([str(bench.BIN), "migrate"], env=env)
    t0 = time.time()
    out = bench.sh([str(bench.BIN), "import", "customers", str(path), "--restaurant", "bench", "--batch", str(args.batch)], env=env).stdout.strip()
    imported = time.time() - t0
    print(out)
    members = int(scalar(url, "SELECT count(*) FROM customers WHERE restaurant_id = 'bench'"))
    off = balance_off(url)
    copied = copy_seconds(url, path, FIELDS)
    rate, ceiling = n / imported, n / copied
    text = "\n".join([
        f"\n## Import of {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC — N = {n:,} members\n",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}; PostgreSQL on the same machine, an empty migrated database.",
        f"Command: `python3 bench/import_members.py --customers {n}{' --no-build' if args.no_build else ''}` (batch {args.batch}).", "",
        "| what | seconds | members/s | ÷ COPY |", "|---|---|---|---|",
        f"| `loyalty import customers` (sealed, ledger, audit, labels) | {imported:.1f} | {rate:,.0f} | {rate / ceiling:.3f} |",
        f"| `COPY` of the same file into a table of text columns (the ceiling) | {copied:.1f} | {ceiling:,.0f} | 1 |", "",
        f"Members written: {members:,} of {n:,}; whose balance differs from their ledger: {off}. The command said: {out}", ""])
    append(text, args.out)
    if members != n or off:
        raise SystemExit("the import lost or miscounted members")


if __name__ == "__main__":
    main()
