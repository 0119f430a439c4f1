"""Checks the harness's own output parsing (run by .ci/run; the benchmark itself is not)."""

import unittest

import run


class Parsing(unittest.TestCase):
    def test_wrk_result_line(self):
        out = "Running 3s test\n  2 threads\nRESULT requests=1200 errors=3 rps=400.5 p50_us=1500 p99_us=9100\n"
        self.assertEqual(run.parse_wrk(out), {"requests": 1200, "errors": 3, "rps": 400.5, "p50_ms": 1.5, "p99_ms": 9.1})

    def test_wrk_without_result_fails(self):
        with self.assertRaises(ValueError):
            run.parse_wrk("nothing here")

    def test_pgbench_summary(self):
        out = "latency average = 1.102 ms\ninitial connection time = 12.3 ms\ntps = 29031.482 (without initial connection time)\n"
        self.assertEqual(run.parse_pgbench(out), {"tps": 29031.482, "latency_ms": 1.102})

    def test_peak_rss(self):
        self.assertEqual(run.parse_vm_hwm("VmPeak:\t  1000 kB\nVmHWM:\t   53248 kB\n"), 53248)

    def test_phones_match_the_seed(self):
        self.assertEqual(run.phone_of(1), "+12122000000")
        self.assertEqual(run.phone_of(8000 * 3 + 10 * 5 + 2), "+13122050003")

    def test_lua_body_is_valid_json_after_concatenation(self):
        body = run.lua_string('query($p:String!){customer(phone:$p){id}}', "'{}'")
        self.assertEqual(body, '[[{"query":"query($p:String!){customer(phone:$p){id}}","variables":]] .. \'{}\' .. [[}]]')

    def test_ratios_pair_each_reference_with_the_same_scenario_and_connections(self):
        r = {"scenarios": [{"scenario": "lookup by phone", "concurrency": 32, "rps": 8000.0},
                           {"scenario": "add points (random)", "concurrency": 32, "rps": 2000.0}]}
        pgbench = [{"scenario": "lookup by phone", "concurrency": 32, "tps": 40000.0, "clients": 32},
                   {"scenario": "points update + ledger", "concurrency": 128, "tps": 4000.0, "clients": 80},
                   {"scenario": "points update + ledger", "concurrency": 32, "tps": 4000.0, "clients": 32}]
        self.assertEqual(run.ratio_rows(r, pgbench), [
            "| lookup by phone | 32 | 40,000 | 32 | 8,000 | 0.20 |",
            "| points update + ledger | 128 | 4,000 | 80 | 0 | – |",
            "| points update + ledger | 32 | 4,000 | 32 | 2,000 | 0.50 |",
        ])
        peer = [{"scenario": "lookup by phone", "concurrency": 32, "rps": 4000.0, "p99_ms": 30.0, "errors": 0}]
        self.assertEqual(run.ratio_rows(r, peer), ["| lookup by phone | 32 | 4,000 | 30.00 | 0 | 8,000 | 2.00 |"])


if __name__ == "__main__":
    unittest.main()


class Alternating(unittest.TestCase):
    def test_medians_and_spread(self):
        import compare

        rounds = [
            {"service": {"rps": 600, "p99_ms": 9}, "peer": {"rps": 300}, "pgbench": 3000},
            {"service": {"rps": 500, "p99_ms": 12}, "peer": {"rps": 250}, "pgbench": 2500},
            {"service": {"rps": 900, "p99_ms": 8}, "peer": {"rps": 300}, "pgbench": 3000},
        ]
        s = compare.summarize(rounds)
        self.assertEqual((s["service_rps"], s["peer_rps"], s["service_p99_ms"]), (600, 300, 9))
        self.assertEqual((s["ratio"], s["ratio_low"], s["ratio_high"]), (2.0, 2.0, 3.0))
        self.assertEqual((s["pgbench_tps"], s["share"]), (3000, 0.2))

    def test_rounds_alternate_who_goes_first(self):
        import compare

        self.assertEqual(compare.order(0), ["service", "peer", "pgbench"])
        self.assertEqual(compare.order(1), ["pgbench", "peer", "service"])

    def test_a_scenario_without_pgbench(self):
        import compare

        s = compare.summarize([{"service": {"rps": 10, "p99_ms": 1}, "peer": {"rps": 5}, "pgbench": None}])
        self.assertEqual((s["ratio"], s["pgbench_tps"], s["share"]), (2.0, None, None))


class AB(unittest.TestCase):
    def test_the_table_names_the_lowest_median(self):
        import ab

        row = lambda name, ratio: {"scenario": name, "concurrency": 32, "peer_rps": 100, "service_rps": 100 * ratio, "service_p99_ms": 5,
                                   "ratio": ratio, "ratio_low": ratio, "ratio_high": ratio, "errors_old": 0, "errors_new": 0}
        text = ab.markdown({"old": "a", "new": "b", "n": 10, "repeat": 3, "duration": 3, "date": "d", "command": "c",
                            "pairs": [row("lookup", 1.02), row("list", 0.97)]})
        self.assertIn("| lookup | 32 | 100 | 102 | 5.00 | 1.02 (1.02–1.02) | 0 / 0 |", text)
        self.assertIn("Lowest median: list at 0.97×.", text)

    def test_two_sides_alternate_after_a_warm_up(self):
        import compare

        calls = []
        run = lambda side, seconds: calls.append((side, seconds)) or {"rps": 1, "p99_ms": 1, "errors": 0}
        rounds = compare.two_sides(run, "new", "old", 2, 5, 2, "x")
        self.assertEqual(calls, [("new", 2), ("old", 2), ("new", 5), ("old", 5), ("old", 5), ("new", 5)])
        self.assertEqual(len(rounds), 2)

    def test_jobs_ab_takes_medians_per_job(self):
        import ab_jobs

        side = lambda *secs: [{"job": label, "seconds": s, "changed": 5, "enqueued": 0} for (label, _), s in zip(ab_jobs.JOBS, secs)]
        rounds = [{"old": side(10, 4, 6), "new": side(5, 2, 6)}, {"old": side(12, 4, 6), "new": side(7, 3, 3)}, {"old": side(11, 4, 6), "new": side(6, 2, 4)}]
        rows = ab_jobs.summarize(rounds)
        self.assertEqual((rows[0]["old_s"], rows[0]["new_s"]), (11, 6))
        self.assertAlmostEqual(rows[0]["ratio"], 6 / 11)
        self.assertEqual((rows[2]["low"], rows[2]["high"]), (0.5, 1.0))
        text = ab_jobs.markdown({"old": "a", "new": "b", "n": 10, "repeat": 3, "date": "d", "command": "c", "rows": rows})
        self.assertIn("| win-back: enqueue | 6.00 | 4.00 | 0.67 (0.50–1.00) | 5 / 5 | 6.0 6.0 6.0 / 6.0 3.0 4.0 |", text)
