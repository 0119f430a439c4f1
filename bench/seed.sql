-- Seeds :n customers of restaurant 'bench' with realistic spreads (psql variables: n).
-- Deterministic: customer i gets phone +1 AAA EEE LLLL with AAA = area[i % 10],
-- EEE = 200 + (i / 10) % 800, LLLL = i / 8000 (see phone_of in run.py and the wrk scripts).
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE bench_area (k int PRIMARY KEY, code text);
INSERT INTO bench_area VALUES (0,'415'),(1,'212'),(2,'312'),(3,'617'),(4,'213'),(5,'305'),(6,'404'),(7,'206'),(8,'512'),(9,'303');
CREATE TEMP TABLE bench_seed AS
SELECT i,
       ((i::bigint * 2654435761) % 1000003) / 1000003.0 AS u,
       ((i::bigint * 40503) % 999983) / 999983.0 AS v,
       ((i::bigint * 9973) % 100) AS p,
       ((i::bigint * 7919) % 18000)::int AS dob_off,
       ((i::bigint * 104729) % 12000)::int AS ann_off
FROM generate_series(1, :n) AS i;

INSERT INTO customers (id, restaurant_id, name, birth_md, anniversary_md,
    tier, points_current, points_lifetime, points_redeemed, member_since, total_visits, first_visit_at, last_visit_at,
    total_spent_cents, email_opt_in, sms_opt_in, push_opt_in, special_offers,
    birthday_offers, anniversary_offers, referral_code, referrals_count, referral_rewards, rating_total, review_count,
    status, last_activity_at, created_at, updated_at)
SELECT s.i, 'bench',
    (ARRAY['Ava','Liam','Maya','Noah','Zoe','Ethan','Priya','Lucas','Sofia','Omar','Hana','Diego','Mia','Leo','Nora','Ivan','Lena','Kai','Rosa','Sami'])[1 + s.i % 20]
      || ' ' || (ARRAY['Nguyen','Garcia','Smith','Okafor','Kim','Rossi','Muller','Silva','Khan','Haddad','Ito','Novak','Lopez','Brown','Costa','Dubois','Jensen','Moreau','Patel','Chen'])[1 + (s.i / 20) % 20],
    EXTRACT(MONTH FROM date '1955-01-01' + s.dob_off) * 100 + EXTRACT(DAY FROM date '1955-01-01' + s.dob_off),
    CASE WHEN s.p < 30 THEN EXTRACT(MONTH FROM date '1990-01-01' + s.ann_off) * 100 + EXTRACT(DAY FROM date '1990-01-01' + s.ann_off) END,
    CASE WHEN l.lifetime >= 10000 THEN 'vip' WHEN l.lifetime >= 5000 THEN 'platinum' WHEN l.lifetime >= 2500 THEN 'gold'
         WHEN l.lifetime >= 1000 THEN 'silver' ELSE 'bronze' END,
    l.lifetime - l.redeemed, l.lifetime, l.redeemed,
    now() - make_interval(days => (s.i % 1500)),
    l.visits,
    CASE WHEN l.visits > 0 THEN now() - make_interval(days => (s.i % 1500)) END,
    CASE WHEN l.visits > 0 THEN now() - make_interval(days => floor(s.v * 400)::int) END,
    l.visits * (1500 + floor(s.u * 9000)::int),
    s.p < 60, s.p < 40, s.p < 20, s.p < 50, s.p < 55, s.p < 25,
    'BNC' || upper(to_hex(s.i)),
    0, 0, 0, 0,
    CASE WHEN s.p = 99 THEN 'blocked' WHEN l.visits > 0 AND floor(s.v * 400) > 90 THEN 'dormant' ELSE 'active' END,
    now(), now(), now()
FROM bench_seed s
JOIN bench_area a ON a.k = s.i % 10
CROSS JOIN LATERAL (SELECT floor(15000 * power(s.u, 3))::bigint AS lifetime,
                           floor(floor(15000 * power(s.u, 3)) * s.v * 0.5)::bigint AS redeemed,
                           floor(40 * power(s.v, 2))::int AS visits) l;

-- Their personal values, in clear: the service seals them (and writes their blind indexes) at start.
INSERT INTO customer_personal (customer_id, restaurant_id, phone, email, date_of_birth, anniversary, dietary_restrictions, allergies)
SELECT s.i, 'bench',
    '+1' || a.code || (200 + (s.i / 10) % 800)::text || lpad((s.i / 8000)::text, 4, '0'),
    'member' || s.i || '@example.com',
    (date '1955-01-01' + s.dob_off)::text,
    CASE WHEN s.p < 30 THEN (date '1990-01-01' + s.ann_off)::text END,
    CASE WHEN s.p % 7 = 0 THEN '["vegetarian"]' ELSE '[]' END,
    CASE WHEN s.p % 11 = 0 THEN '["peanuts"]' ELSE '[]' END
FROM bench_seed s
JOIN bench_area a ON a.k = s.i % 10;

SELECT setval(pg_get_serial_sequence('customers', 'id'), :n);

-- The ledger sums to every balance: one earn and (when any) one redemption per customer.
INSERT INTO point_transactions (restaurant_id, customer_id, kind, delta, balance_after, reason, actor, created_at)
SELECT 'bench', id, 'earn', points_lifetime, points_lifetime, 'seed', 'bench', now() - interval '1 day'
FROM customers WHERE restaurant_id = 'bench' AND points_lifetime > 0;
INSERT INTO point_transactions (restaurant_id, customer_id, kind, delta, balance_after, reason, actor, created_at)
SELECT 'bench', id, 'redeem', -points_redeemed, points_current, 'seed', 'bench', now()
FROM customers WHERE restaurant_id = 'bench' AND points_redeemed > 0;

-- Tags and segments as the rules would set them.
INSERT INTO customer_labels (customer_id, kind, name, restaurant_id)
SELECT id, 'tag', 'high-value', 'bench' FROM customers WHERE total_visits > 0 AND total_spent_cents / total_visits > 5000
UNION ALL SELECT id, 'tag', 'frequent-visitor', 'bench' FROM customers WHERE total_visits > 20
UNION ALL SELECT id, 'tag', 'dormant', 'bench' FROM customers WHERE status = 'dormant'
UNION ALL SELECT id, 'segment', 'vip', 'bench' FROM customers WHERE tier = 'vip'
UNION ALL SELECT id, 'segment', 'high-value', 'bench' FROM customers WHERE total_visits > 0 AND total_spent_cents / total_visits > 5000;

-- One hot customer for the redemption scenario.
UPDATE customers SET points_current = points_current + 1000000000, points_lifetime = points_lifetime + 1000000000, tier = 'vip' WHERE id = 1;
INSERT INTO point_transactions (restaurant_id, customer_id, kind, delta, balance_after, reason, actor, created_at)
SELECT 'bench', 1, 'earn', 1000000000, points_current, 'seed: hot customer', 'bench', now() FROM customers WHERE id = 1;
COMMIT;
-- Vacuumed and analyzed like a production table (hint bits, visibility map, statistics),
-- so the first scenarios do not pay for the bulk load.
VACUUM ANALYZE;
