#!/usr/bin/env python3
"""Order import speed on PostgreSQL: N members (`loyalty import customers`, as
bench/import_members.py generates them), then M orders of theirs (`loyalty import orders`, in
time order per member but interleaved across members, 2019–2026, two lines each), against the
ceiling — a plain `COPY` of the same orders file into a table of text columns. Reports orders
per second of each and their ratio, checks that every order arrived once and that balance =
ledger for every member; appends the table to the dated run log.

    python3 bench/import_orders.py --customers 10000 --orders 50000
    python3 bench/import_orders.py --customers 1000000 --orders 5000000 --no-build
"""

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

import import_members as members
import run as bench
from compare import append

FIELDS = ["orderId", "externalId", "occurredAt", "amount", "location", "channel", "items"]
START = dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc)
LOCATIONS = ["Harbour St", "Market Sq", "Airport"]
CHANNELS = ["dine-in", "takeaway", "delivery", "online"]


def order_of(j: int, n: int, spacing: int) -> list:
    """Order j of the generated file (member j mod n, its orders `spacing` days apart), as CSV
    cells."""
    i = j % n
    at = START + dt.timedelta(days=(j // n) * spacing + i % 30, minutes=(j * 37) % 600)
    cents = 800 + (j * 131) % 9000
    return [f"o-{j}", f"ext-{i}", at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{cents // 100}.{cents % 100:02d}", LOCATIONS[j % 3], CHANNELS[j % 4],
            f"item-{j % 40}:1:{cents // 200}.00;item-{(j * 7) % 40}:2"]


def write_orders(n: int, m: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"loyalty-orders-{n}-{m}.csv"
    with path.open("w") as f:
        f.write(",".join(FIELDS) + "\n")
        spacing = 2900 // max(1, -(-m // n))
        for j in range(m):
            f.write(",".join(order_of(j, n, spacing)) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--no-points", action="store_true", help="import the orders' history only (the members bring their balances)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--out", default=str(bench.BENCH / "log" / f"{dt.date.today()}.md"))
    args = ap.parse_args()
    if not args.no_build:
        bench.sh(["cargo", "build", "--release", "--bin", "loyalty"], capture=False)
    n, m, name = args.customers, args.orders, "loyalty_import_bench"
    member_file, order_file = members.write_file(n), write_orders(n, m)
    url = bench.db_url(args.admin_url, name)
    members.fresh_db(args.admin_url, name)
    env = bench.service_env(url)
    bench.sh([str(bench.BIN), "migrate"], env=env)
    t0 = time.time()
    bench.sh([str(bench.BIN), "import", "customers", str(member_file), "--restaurant", "bench"], env=env)
    members_s = time.time() - t0
    command = [str(bench.BIN), "import", "orders", str(order_file), "--restaurant", "bench", "--batch", str(args.batch), "--writers", str(args.writers)] + (["--no-points"] if args.no_points else [])
    t0 = time.time()
    out = bench.sh(command, env=env).stdout.strip()
    imported = time.time() - t0
    print(out)
    orders = int(members.scalar(url, "SELECT count(*) FROM visits WHERE restaurant_id = 'bench' AND order_id IS NOT NULL"))
    off = members.balance_off(url)
    copied = members.copy_seconds(url, order_file, FIELDS)
    rate, ceiling = m / imported, m / copied
    flags = f" --batch {args.batch} --writers {args.writers}" + (" --no-points" if args.no_points else "") + (" --no-build" if args.no_build else "")
    text = "\n".join([
        f"\n## Order import of {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC — N = {n:,} members, {m:,} orders\n",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}; PostgreSQL on the same machine, an empty migrated database.",
        f"Command: `python3 bench/import_orders.py --customers {n} --orders {m}{flags}`.", "",
        "| what | seconds | rows/s | ÷ COPY |", "|---|---|---|---|",
        f"| `loyalty import customers` (the members first) | {members_s:.1f} | {n / members_s:,.0f} | – |",
        f"| `loyalty import orders`{' --no-points' if args.no_points else ''} (ledger, visit, favourites, tier, tags per order) | {imported:.1f} | {rate:,.0f} | {rate / ceiling:.3f} |",
        f"| `COPY` of the same orders file into a table of text columns (the ceiling) | {copied:.1f} | {ceiling:,.0f} | 1 |", "",
        f"Orders written: {orders:,} of {m:,}; members whose balance differs from their ledger: {off}. The command said: {out}", ""])
    append(text, args.out)
    bench.sh(["psql", args.admin_url, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    bench.sh(["psql", args.admin_url, "-q", "-c", f"DROP DATABASE IF EXISTS {name}_keys WITH (FORCE)"])
    if orders != m or off:
        raise SystemExit("the import lost or miscounted orders")


if __name__ == "__main__":
    main()
