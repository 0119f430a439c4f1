//! Syncing the ledger and the orders by change (`ledgerChanges`, `orderChanges`): pages in the
//! order rows were written, up to the settled instant, so following `endCursor` sees every
//! entry and every change of an order once — also while members earn points concurrently — and
//! only the caller's restaurant.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::{both, create_customer};

const LEDGER: &str = "query($after: String, $since: DateTime, $first: Int = 100) {
  ledgerChanges(after: $after, since: $since, first: $first) { items { id customerId kind points } pageInfo { hasNextPage endCursor } settledAt } }";
const ORDERS: &str = "query($after: String, $since: DateTime, $first: Int = 100) {
  orderChanges(after: $after, since: $since, first: $first) { items { orderId customerId amount refunded } pageInfo { hasNextPage endCursor } } }";

/// Follows `endCursor` of `field` (`query`) from `after` until the last page, `first` a page:
/// the rows seen and the cursor to resume from.
async fn follow(app: &TestApp, key: &str, query: &str, field: &str, mut after: Value, first: i64) -> (Vec<Value>, Value) {
    let mut rows = Vec::new();
    loop {
        let (status, body) = app.gql_as(Some(key), query, json!({ "after": after, "first": first })).await;
        assert!(status == 200 && body.get("errors").is_none(), "{body:#}");
        let page = &body["data"][field];
        rows.extend(page["items"].as_array().unwrap().iter().cloned());
        after = page["pageInfo"]["endCursor"].clone();
        if page["pageInfo"]["hasNextPage"] == false {
            return (rows, after);
        }
    }
}

/// Makes every row written so far look written `secs` seconds ago (long committed).
async fn settle(app: &TestApp, secs: i64) {
    let at = app.instant_sql(Utc::now() - chrono::Duration::seconds(secs));
    app.sql(&format!("UPDATE point_transactions SET created_at = {at} WHERE created_at > {at}")).await;
    app.sql(&format!("UPDATE visits SET updated_at = {at} WHERE updated_at > {at}")).await;
}

both!(the_ledger_and_orders_sync_once_in_write_order, |app| async move {
    let admin = app.admin_key.clone();
    let ann = create_customer(&app, "+14155550111", "Ann").await;
    let bob = create_customer(&app, "+14155550112", "Bob").await;
    let order = "mutation($input: OrderInput!) { recordOrder(input: $input) { pointsEarned } }";
    app.data(order, json!({ "input": { "customerId": ann, "orderId": "S-1", "amount": 12 } })).await;
    app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 5) { currentPoints } }", json!({ "c": bob })).await;
    let other = app.create_key("elsewhere", "admin").await;
    let (_, eve) =
        app.gql_as(Some(&other), "mutation { upsertCustomer(input: { phone: \"+14155550119\", name: \"Eve\" }) { customer { id } } }", json!({})).await;
    let eve = eve["data"]["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    app.gql_as(Some(&other), order, json!({ "input": { "customerId": eve, "orderId": "S-1", "amount": 30 } })).await;

    let (rows, cursor) = follow(&app, &admin, LEDGER, "ledgerChanges", Value::Null, 1).await;
    assert!(rows.is_empty(), "nothing has settled yet: {rows:?}");
    assert!(cursor.is_null());
    settle(&app, 300).await;
    let (rows, cursor) = follow(&app, &admin, LEDGER, "ledgerChanges", Value::Null, 1).await;
    let seen: Vec<(&str, &str, i64)> =
        rows.iter().map(|r| (r["customerId"].as_str().unwrap(), r["kind"].as_str().unwrap(), r["points"].as_i64().unwrap())).collect();
    assert_eq!(seen, [(ann.as_str(), "EARN", 12), (bob.as_str(), "EARN", 5)], "pages of one, in write order; Eve's is another restaurant's");
    let (orders, order_cursor) = follow(&app, &admin, ORDERS, "orderChanges", Value::Null, 10).await;
    assert_eq!(orders, [json!({ "orderId": "S-1", "customerId": ann, "amount": 12.0, "refunded": 0.0 })]);

    // A refund writes a ledger entry and changes the order: each shows once it has settled.
    app.data("mutation { refundOrder(input: { orderId: \"S-1\", amount: 2 }) { refunded } }", json!({})).await;
    let (rows, cursor) = follow(&app, &admin, LEDGER, "ledgerChanges", cursor, 1).await;
    assert!(rows.is_empty(), "still settling: {rows:?}");
    settle(&app, 40).await;
    let (rows, _) = follow(&app, &admin, LEDGER, "ledgerChanges", cursor, 1).await;
    assert_eq!(rows.iter().map(|r| (r["kind"].as_str().unwrap(), r["points"].as_i64().unwrap())).collect::<Vec<_>>(), [("REFUND", -2)]);
    let (orders, _) = follow(&app, &admin, ORDERS, "orderChanges", order_cursor, 10).await;
    assert_eq!(orders, [json!({ "orderId": "S-1", "customerId": ann, "amount": 12.0, "refunded": 2.0 })], "the changed order again, once");
    let since = (Utc::now() - chrono::Duration::seconds(100)).to_rfc3339();
    let recent = app.data("query($s: DateTime) { ledgerChanges(since: $s) { items { kind } } }", json!({ "s": since })).await;
    assert_eq!(recent["ledgerChanges"]["items"], json!([{ "kind": "REFUND" }]), "since starts at an instant");

    let (theirs, _) = follow(&app, &other, ORDERS, "orderChanges", Value::Null, 10).await;
    assert_eq!(theirs.iter().map(|o| o["customerId"].as_str().unwrap()).collect::<Vec<_>>(), [eve.as_str()], "another restaurant syncs its own");
    for (vars, field) in [(json!({ "after": "nonsense" }), "after"), (json!({ "first": 0 }), "first"), (json!({ "first": 501 }), "first")] {
        let (code, _, err) = app.error(LEDGER, vars).await;
        assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some(field)));
    }
});

/// Members earn points from four clients while a fifth syncs the ledger: once the last write
/// has settled, the sync has seen every entry exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_synced_during_concurrent_writes_sees_each_entry_once() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(create_customer(&app, &format!("+1415555013{i}"), &format!("Writer {i}")).await);
    }
    let done = AtomicBool::new(false);
    let writers = async {
        let app = &app;
        join_all(members.iter().map(|id| async move {
            for _ in 0..40 {
                app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 1) { currentPoints } }", json!({ "c": id })).await;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }))
        .await;
        done.store(true, Ordering::SeqCst);
    };
    let mut seen = HashMap::<String, u32>::new();
    let syncer = async {
        let mut cursor = Value::Null;
        let mut rounds = 0;
        loop {
            let finished = done.load(Ordering::SeqCst);
            let (rows, next) = follow(&app, &app.admin_key, LEDGER, "ledgerChanges", cursor, 7).await;
            for r in rows {
                *seen.entry(r["id"].as_str().unwrap().to_string()).or_default() += 1;
            }
            cursor = next;
            if finished {
                // The last writes settle after the margin (12 s on PostgreSQL): one more page.
                rounds += 1;
                if rounds == 2 {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(13)).await;
            } else {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    futures_util::future::join(writers, syncer).await;
    assert_eq!(seen.len(), 160, "every entry");
    assert!(seen.values().all(|n| *n == 1), "none twice: {seen:?}");
}
