//! End-to-end tests: each starts the `loyalty` binary against a fresh SQLite file or
//! PostgreSQL database and calls it over HTTP, the way a frontend does.

mod harness;
mod smtp;

pub mod access;
mod automations;
mod backup;
pub mod browser;
mod campaigns;
mod concurrency;
mod customers;
mod encryption;
mod expiry;
mod failover;
mod feedback;
mod first_run;
mod hostile;
mod http;
mod import;
mod import_orders;
mod insights;
mod late_orders;
mod marketing;
mod members;
mod migrate_data;
mod nested;
mod operations;
mod orders_and_notes;
mod paging;
mod points;
mod pos;
mod predict;
mod privacy;
mod projection;
mod readme;
mod refunds;
mod restaurants;
mod retention;
mod rewards;
mod rolling;
mod secrets;
mod segments;
mod shutdown;
mod spec;
mod sync;
mod sync_ledger;
mod visits;
mod webhook_faults;
mod webhook_personal;
mod webhooks;

use harness::TestApp;
use serde_json::{Value, json};

/// Fields most tests read back.
pub const CUSTOMER_FIELDS: &str = "id phone email name loyaltyTier status tags segments
    loyaltyPoints { current lifetime redeemed toNextTier }
    visitStats { totalVisits firstVisit lastVisit totalSpent averageOrderValue }
    referral { referralCode referralsCount referralRewards referredBy { id name } }";

/// Creates a customer and returns its id.
pub async fn create_customer(app: &TestApp, phone: &str, name: &str) -> String {
    let data = app
        .data(
            "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created customer { id } } }",
            json!({ "input": { "phone": phone, "name": name } }),
        )
        .await;
    assert_eq!(data["upsertCustomer"]["created"], true);
    data["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()
}

/// Reads a customer by id.
pub async fn customer(app: &TestApp, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} }} }}");
    app.data(&q, json!({ "id": id })).await["customer"].clone()
}

/// Adds points and returns the payload.
pub async fn add_points(app: &TestApp, id: &str, points: i64) -> Value {
    app.data(
        "mutation($id: ID!, $p: Int!) { addPoints(customerId: $id, points: $p) { currentPoints lifetimePoints tier replayed } }",
        json!({ "id": id, "p": points }),
    )
    .await["addPoints"]
        .clone()
}

/// Asserts that every customer's balances equal the sums of its ledger rows.
pub async fn assert_ledger_matches(app: &TestApp) {
    let db = app.db().await;
    assert_ledger_matches_on(&db).await;
    db.close().await.ok();
}

/// Asserts that every customer's balances in `db` equal the sums of its ledger rows.
pub async fn assert_ledger_matches_on(db: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = "SELECT c.id, c.points_current, c.points_lifetime, c.points_redeemed,
                      CAST(COALESCE(SUM(t.delta), 0) AS BIGINT) AS sum_all,
                      CAST(COALESCE(SUM(CASE WHEN t.kind = 'refund' THEN t.delta WHEN t.delta > 0 AND t.kind NOT IN ('redeem', 'expire') THEN t.delta ELSE 0 END), 0) AS BIGINT) AS sum_earned,
                      CAST(COALESCE(SUM(CASE WHEN t.kind = 'redeem' THEN -t.delta ELSE 0 END), 0) AS BIGINT) AS sum_redeemed
               FROM customers c LEFT JOIN point_transactions t ON t.customer_id = c.id
               GROUP BY c.id, c.points_current, c.points_lifetime, c.points_redeemed";
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("ledger query");
    for row in rows {
        let get = |c: &str| row.try_get::<i64>("", c).unwrap();
        assert_eq!(get("points_current"), get("sum_all"), "current = ledger sum for customer {}", get("id"));
        assert_eq!(get("points_lifetime"), get("sum_earned"), "lifetime = earned for customer {}", get("id"));
        assert_eq!(get("points_redeemed"), get("sum_redeemed"), "redeemed = ledger for customer {}", get("id"));
    }
}
