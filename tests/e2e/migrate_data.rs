//! Moving from the embedded SQLite file to PostgreSQL: `loyalty migrate-data` copies the demo
//! restaurant (with its emails, a merge's referrals and a job run), shows progress, verifies
//! counts and balances, and the PostgreSQL service then answers exports identical to the
//! SQLite ones and keeps working (new rows get new ids).

use sea_orm::{ConnectionTrait, DbBackend, Statement};
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

/// Into a key store of its own (`LOYALTY_KEYSTORE_URL`, as the deployment guide recommends): a
/// move that fails half-way is undone, one left half-done (killed) is undone by the next run,
/// and the service on the target opens every member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_into_a_separate_key_store_opens_every_member_and_a_failed_one_is_undone() {
    let lite = TestApp::spawn(Backend::Sqlite).await;
    lite.cli(&["demo-data"]).await;
    let target = TestApp::empty(Backend::Postgres).await;
    let name = target.db_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let keys_db = format!("{name}_vault");
    crate::harness::admin_sql(&format!("CREATE DATABASE {keys_db}")).await;
    let keys_url = crate::harness::with_database(&target.db_url, &keys_db);
    let env = [("LOYALTY_KEYSTORE_URL", keys_url.as_str())];
    let args = ["migrate-data", "--from", &lite.db_url, "--to", &target.db_url];

    let (ok, _, err) = target.cli_with(&["migrate"], &env).await;
    assert!(ok, "{err}");
    target.sql("ALTER TABLE audit_log ADD CONSTRAINT refuse_all CHECK (id < 0)").await;
    let (ok, _, err) = lite.cli_with(&args, &env).await;
    assert!(!ok && err.contains("undoing what it copied"), "fails on the last table: {err}");
    target.sql("ALTER TABLE audit_log DROP CONSTRAINT refuse_all").await;
    let count = |sql: &'static str, url: String| async move {
        let db = sea_orm::Database::connect(&url).await.unwrap();
        let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) FROM customers", target.db_url.clone()).await, 0, "the failed move left no customer");
    assert_eq!(count("SELECT COUNT(*) FROM customer_keys", keys_url.clone()).await, 0, "and no key");

    let (ok, out, err) = lite.cli_with(&args, &env).await;
    assert!(ok && out.contains("the sealed values of all 24 customers open"), "{out} {err}");
    target.sql("INSERT INTO service_settings (key, value) VALUES ('migrate_data_in_progress', 'killed')").await;
    let (ok, out, err) = lite.cli_with(&args, &env).await;
    assert!(ok && err.contains("undoing it first") && out.contains("verified"), "a move left half-done is undone and done again: {out} {err}");
    let (ok, _, err) = lite.cli_with(&args, &env).await;
    assert!(!ok && err.contains("already holds"), "never into a database with data: {err}");

    let mut pg = target;
    pg.start_service_with(&lite.admin_key, &env).await;
    let page = pg.data("{ customers(limit: 100) { items { phone email } } }", json!({})).await;
    let items = page["customers"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 24);
    assert!(items.iter().all(|c| c["phone"].as_str().is_some_and(|p| p.starts_with('+'))), "every member opens: {page}");
    drop(pg);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    crate::harness::admin_sql(&format!("DROP DATABASE IF EXISTS {keys_db} WITH (FORCE)")).await;
}
