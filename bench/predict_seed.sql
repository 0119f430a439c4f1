-- Seeds :n members of restaurant 'bench' and their visits for the predictive models' benchmark
-- (bench/predict.py): member i first came 1 to 720 days ago and came back 0 to 11 times
-- (a quarter of members never, a few often), the repeat visits spread up to a last visit a
-- member-specific way through that span; spend 12 to 62 dollars a visit. About 4.5 visits per
-- member. Deterministic. No personal values: the models read only visits.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE predict_seed AS
SELECT i,
       ((i::bigint * 2654435761) % 1000003) / 1000003.0 AS u,
       ((i::bigint * 40503) % 999983) / 999983.0 AS v,
       ((i::bigint * 7919) % 1009) / 1009.0 AS w
FROM generate_series(1, :n) AS i;

INSERT INTO customers (id, restaurant_id, name, tier, points_current, points_lifetime, points_redeemed, member_since, total_visits,
    total_spent_cents, email_opt_in, sms_opt_in, push_opt_in, special_offers, birthday_offers, anniversary_offers, referral_code,
    referrals_count, referral_rewards, rating_total, review_count, status, last_activity_at, created_at, updated_at)
SELECT i, 'bench', 'Member ' || i, 'bronze', 0, 0, 0, now() - make_interval(days => 1 + floor(v * 720)::int), 0, 0,
    false, false, false, false, false, false, 'PRD' || upper(to_hex(i)), 0, 0, 0, 0, 'active', now(), now(), now()
FROM predict_seed;
SELECT setval(pg_get_serial_sequence('customers', 'id'), :n);

INSERT INTO visits (restaurant_id, customer_id, amount_cents, visited_at, refunded_cents)
SELECT 'bench', s.i, 1200 + ((s.i * 31 + k * 17) % 5000),
       now() - make_interval(days => m.f - floor(m.f * k * s.w / greatest(m.n, 1))::int), 0
FROM predict_seed s
CROSS JOIN LATERAL (SELECT 1 + floor(s.v * 720)::int AS f, floor(12 * power(s.u, 2))::int AS n) m
CROSS JOIN LATERAL generate_series(0, m.n) AS k;
COMMIT;
VACUUM ANALYZE customers;
VACUUM ANALYZE visits;
