//! Moving from the embedded SQLite file to PostgreSQL: `loyalty migrate-data` copies the demo
//! restaurant (with its emails, a merge's referrals and a job run), shows progress, verifies
//! counts and balances, and the PostgreSQL service then answers exports identical to the
//! SQLite ones and keeps working (new rows get new ids).

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::{add_points, assert_ledger_matches};

async fn exports(app: &TestApp, ids: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let text = app.cli(&["export-customer", id, "--restaurant", "default"]).await;
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        doc.as_object_mut().unwrap().remove("exportedAt");
        out.push(doc);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_restaurant_moves_from_sqlite_to_postgresql_with_identical_exports() {
    let lite = TestApp::spawn(Backend::Sqlite).await;
    lite.cli(&["demo-data"]).await;
    lite.data("mutation { runJob(job: DORMANCY) { run { outcome } } }", json!({})).await;
    let listed = lite.data("{ customers(limit: 100) { items { id } } }", json!({})).await;
    let ids: Vec<String> = listed["customers"]["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 24);
    let (source, target) = (lite.db_url.clone(), TestApp::empty(Backend::Postgres).await);

    let (ok, out, progress) = lite.cli_result(&["migrate-data", "--from", &source, "--to", &target.db_url]).await;
    assert!(ok, "{progress}");
    assert!(out.contains("verified"), "{out}");
    assert!(progress.contains("customers: 24/24") && progress.contains("point_transactions: "), "progress per table: {progress}");
    let (ok, _, err) = lite.cli_result(&["migrate-data", "--from", &source, "--to", &target.db_url]).await;
    assert!(!ok && err.contains("already holds"), "never into a database with data: {err}");

    let mut pg = target;
    let key = lite.admin_key.clone();
    pg.start_service(&key).await;
    let (moved, kept) = (exports(&pg, &ids).await, exports(&lite, &ids).await);
    for (a, b) in moved.iter().zip(&kept) {
        assert!(a == b, "the export of customer {} differs on PostgreSQL", b["customer"]["id"]);
    }
    let stats = "{ loyaltyStats { summary { totalCustomers totalPointsIssued totalRevenue } } }";
    assert_eq!(pg.data(stats, json!({})).await, lite.data(stats, json!({})).await);
    let after = add_points(&pg, &ids[0], 25).await;
    assert_eq!(after["replayed"], false, "writes work: the id sequences are past the copied rows");
    let created = pg.data("mutation { upsertCustomer(input: { phone: \"+14155550999\", name: \"New On Pg\" }) { customer { id } } }", json!({})).await;
    assert!(!ids.contains(&created["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()), "a new customer gets a new id");
    assert_ledger_matches(&pg).await;
}
