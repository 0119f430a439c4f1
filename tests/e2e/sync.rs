//! Syncing members by change (`customers(sort: UPDATED)`, `filter: { updatedSince }`): pages in
//! change order up to the settled instant, so following `endCursor` sees every change once —
//! also a change whose transaction commits after a later one (PostgreSQL's open transactions
//! hold the page back) — and only the caller's restaurant.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::{both, create_customer};

const SYNC: &str = "query($after: String, $since: DateTime) {
  customers(sort: UPDATED, limit: 2, after: $after, filter: { updatedSince: $since }) {
    items { id name loyaltyPoints { current } } hasNextPage endCursor } }";

/// Follows `endCursor` from `after` until the last page: the names seen and the cursor to
/// resume from (the last one handed out; an empty page hands out none).
async fn sync(app: &TestApp, key: Option<&str>, mut after: Value) -> (Vec<String>, Value) {
    let mut names = Vec::new();
    loop {
        let (status, body) = app.gql_as(Some(key.unwrap_or(&app.admin_key)), SYNC, json!({ "after": after })).await;
        assert!(status == 200 && body.get("errors").is_none(), "{body:#}");
        let page = &body["data"]["customers"];
        names.extend(page["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()));
        if !page["endCursor"].is_null() {
            after = page["endCursor"].clone();
        }
        if page["hasNextPage"] == false {
            return (names, after);
        }
    }
}

/// Stamps member `id` as changed `secs` seconds ago (what a write long committed looks like).
async fn changed_ago(app: &TestApp, id: &str, secs: i64) {
    let at = app.instant_sql(Utc::now() - chrono::Duration::seconds(secs));
    app.sql(&format!("UPDATE customers SET updated_at = {at} WHERE id = {id}")).await;
}

both!(sync_pages_changes_once_in_change_order, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let bob = create_customer(&app, "+14155550102", "Bob").await;
    let cy = create_customer(&app, "+14155550103", "Cy").await;
    for (id, ago) in [(&bob, 300), (&ann, 200), (&cy, 100)] {
        changed_ago(&app, id, ago).await;
    }
    let other = app.create_key("elsewhere", "admin").await;
    let (status, _) = app.gql_as(Some(&other), "mutation { upsertCustomer(input: { phone: \"+14155550109\", name: \"Eve\" }) { created } }", json!({})).await;
    assert_eq!(status, 200);
    app.sql(&format!("UPDATE customers SET updated_at = {} WHERE restaurant_id = 'elsewhere'", app.instant_sql(Utc::now() - chrono::Duration::seconds(50))))
        .await;

    let (names, cursor) = sync(&app, None, Value::Null).await;
    assert_eq!(names, ["Bob", "Ann", "Cy"], "least recently changed first, pages of 2; Eve is another restaurant's");
    let (names, cursor) = sync(&app, None, cursor).await;
    assert!(names.is_empty(), "nothing changed since: {names:?}");

    // A change just made has not settled: it shows once it has, after the cursor, once.
    app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 7) { currentPoints } }", json!({ "c": bob })).await;
    let (names, cursor) = sync(&app, None, cursor).await;
    assert!(names.is_empty(), "a change still settling is held back: {names:?}");
    changed_ago(&app, &bob, 40).await;
    let (names, cursor) = sync(&app, None, cursor).await;
    assert_eq!(names, ["Bob"]);
    let page = app.data(SYNC, json!({ "since": (Utc::now() - chrono::Duration::seconds(250)).to_rfc3339() })).await;
    let names: Vec<&str> = page["customers"]["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ann", "Cy"], "updatedSince starts the sync at an instant");
    assert_eq!(page["customers"]["items"][0]["loyaltyPoints"]["current"], 0);

    let (names, _) = sync(&app, Some(&other), Value::Null).await;
    assert_eq!(names, ["Eve"], "another restaurant syncs its own members only");
    let (code, _, err) = app.error("query($a: String) { customers(sort: NEWEST, after: $a) { items { id } } }", json!({ "a": cursor })).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("after")), "a sync cursor belongs to its order");
});

/// A write whose transaction opened before a later, committed change is not passed by the
/// sync: the page stops before the oldest open transaction began, and the held change shows
/// once it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_transaction_holds_the_sync_back() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let bob = create_customer(&app, "+14155550102", "Bob").await;
    for id in [&ann, &bob] {
        changed_ago(&app, id, 120).await;
    }
    let (names, cursor) = sync(&app, None, Value::Null).await;
    assert_eq!(names.len(), 2);

    let db = app.db().await;
    let held = db.begin().await.unwrap();
    held.execute_unprepared(&format!("UPDATE customers SET name = 'Ann (held)', updated_at = now() WHERE id = {ann}")).await.unwrap();
    app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 7) { currentPoints } }", json!({ "c": bob })).await;
    // Bob's change settles (the margin is 12 s) while Ann's transaction is still open.
    tokio::time::sleep(Duration::from_secs(13)).await;
    let (names, cursor) = sync(&app, None, cursor).await;
    assert!(names.is_empty(), "Bob's later change waits for Ann's open transaction: {names:?}");
    held.commit().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (names, _) = sync(&app, None, cursor).await;
    assert_eq!(names, ["Ann (held)", "Bob"], "both changes, in the order they were stamped");
}
