//! Retention: the daily `retention` job purges idempotency keys, job runs and finished
//! deliveries past the restaurant's windows and nothing else (a retry inside the window is
//! still answered from its key; pending emails and the audit trail stay), and erases members
//! inactive longer than the restaurant's policy, with a dry run first and an audit entry each.
//! Another restaurant's rows are never touched.

use serde_json::{Value, json};

use crate::create_customer;
use crate::harness::{Backend, TestApp};
use crate::on_both;

const KEYED: &str =
    "mutation($id: ID!, $k: String!) { addPoints(customerId: $id, points: 10, reason: \"visit\", idempotencyKey: $k) { currentPoints replayed } }";
const RETAIN: &str = "mutation($dry: Boolean!) { runJob(job: RETENTION, dryRun: $dry) { run { outcome purged erased } recipients { customerId name } } }";

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.db().await;
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap().unwrap();
    let n = row.try_get_by_index::<i64>(0).unwrap();
    db.close().await.ok();
    n
}

async fn delivery(app: &TestApp, restaurant: &str, customer: &str, status: &str, days_ago: i64) {
    let at = app.days_ago_sql(days_ago);
    app.sql(&format!(
        "INSERT INTO email_deliveries (restaurant_id, customer_id, campaign, period_key, email, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ('{restaurant}', {customer}, 'birthday', '{status}-{days_ago}', 'x@example.com', '{status}', 0, {at}, {at}, {at})"
    ))
    .await;
}

async fn retention_purges_only_what_is_past_its_window_and_erases_the_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let theirs = app.create_key("other", "admin").await;
    let ann = create_customer(&app, "+14155550301", "Ann Old").await;
    let bob = create_customer(&app, "+14155550302", "Bob Recent").await;
    app.data(KEYED, json!({ "id": ann, "k": "pos-old" })).await;
    app.data(KEYED, json!({ "id": bob, "k": "pos-new" })).await;
    let (_, body) = app
        .gql_as(Some(&theirs), "mutation { upsertCustomer(input: { phone: \"+14155550399\", name: \"Their Guest\" }) { customer { id } } }", json!({}))
        .await;
    let guest = body["data"]["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    app.gql_as(Some(&theirs), KEYED, json!({ "id": guest, "k": "pos-old" })).await;
    const ORDER: &str = "mutation { recordOrder(input: { phone: \"+14155550302\", orderId: \"A1\", amount: 5 }) { pointsEarned currentPoints } }";
    app.data(ORDER, json!({})).await;
    app.sql(&format!("UPDATE idempotency_keys SET created_at = {} WHERE key IN ('pos-old', 'order:A1')", app.days_ago_sql(31))).await;
    app.data("mutation { runJob(job: DORMANCY) { run { outcome } } }", json!({})).await;
    app.data("mutation { runJob(job: DORMANCY) { run { outcome } } }", json!({})).await;
    app.sql(&format!("UPDATE job_runs SET started_at = {} WHERE id = (SELECT MIN(id) FROM job_runs)", app.days_ago_sql(100))).await;
    delivery(&app, "default", &ann, "sent", 500).await;
    delivery(&app, "default", &ann, "pending", 500).await;
    delivery(&app, "default", &bob, "sent", 10).await;
    delivery(&app, "other", &guest, "sent", 500).await;
    let audit_before = count(&app, "SELECT COUNT(*) FROM audit_log").await;

    let dry = app.data(RETAIN, json!({ "dry": true })).await;
    assert_eq!(dry["runJob"]["run"]["purged"], 4, "two keys, one run, one sent delivery: {dry}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM idempotency_keys").await, 4, "a dry run deletes nothing");
    let done = app.data(RETAIN, json!({ "dry": false })).await;
    assert_eq!(done["runJob"]["run"], json!({ "outcome": "SUCCEEDED", "purged": 4, "erased": 0 }));
    let (code, message, _) = app.error(ORDER, json!({})).await;
    assert_eq!(code, "INVALID_STATE", "an order recorded before the window is still recorded once: {message}");
    assert!(message.contains("order A1 was already recorded"), "{message}");
    assert_eq!(app.data(RETAIN, json!({ "dry": false })).await["runJob"]["run"]["purged"], 0, "a rerun finds nothing more");

    let retry = app.data(KEYED, json!({ "id": bob, "k": "pos-new" })).await;
    assert_eq!(retry["addPoints"], json!({ "currentPoints": 10, "replayed": true }), "inside the window a retry is answered from its key");
    let late = app.data(KEYED, json!({ "id": ann, "k": "pos-old" })).await;
    assert_eq!(late["addPoints"], json!({ "currentPoints": 20, "replayed": false }), "after the window it is a new request");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM idempotency_keys WHERE restaurant_id = 'other'").await, 1, "another restaurant keeps its keys");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM email_deliveries WHERE status = 'pending'").await, 1, "pending emails are never purged");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM email_deliveries WHERE restaurant_id = 'default' AND status = 'sent'").await, 1, "the recent one stays");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM email_deliveries WHERE restaurant_id = 'other'").await, 1);
    assert!(count(&app, "SELECT COUNT(*) FROM audit_log").await >= audit_before, "the audit trail is kept");

    let (code, _, err) = app.error("mutation { updateRestaurant(input: { deliveryRetentionDays: 30 }) { id } }", json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("deliveryRetentionDays")));
    let (code, _, _) = app.error("mutation { updateRestaurant(input: { eraseInactiveAfterMonths: 2 }) { id } }", json!({})).await;
    assert_eq!(code, "VALIDATION");
    let set = app
        .data("mutation { updateRestaurant(input: { eraseInactiveAfterMonths: 12 }) { eraseInactiveAfterMonths idempotencyRetentionDays } }", json!({}))
        .await;
    assert_eq!(set["updateRestaurant"], json!({ "eraseInactiveAfterMonths": 12, "idempotencyRetentionDays": 30 }));
    let long_ago = app.days_ago_sql(400);
    app.sql(&format!(
        "UPDATE customers SET last_activity_at = {long_ago}, updated_at = {long_ago}, member_since = {long_ago} WHERE id IN ({ann}, {guest}, {bob})"
    ))
    .await;
    // Bob changed his profile since: that is activity for retention (not for points).
    app.data("mutation { upsertCustomer(input: { phone: \"+14155550302\", email: \"bob@example.com\" }) { created } }", json!({})).await;
    let dry = app.data(RETAIN, json!({ "dry": true })).await;
    assert_eq!(dry["runJob"]["recipients"], json!([{ "customerId": ann, "name": "Ann Old" }]), "only ours, only the inactive");
    assert_eq!(app.data(RETAIN, json!({ "dry": false })).await["runJob"]["run"]["erased"], 1);
    assert_eq!(app.data(RETAIN, json!({ "dry": false })).await["runJob"]["run"]["erased"], 0, "erased once");
    let ann_now = app.data("query($id: ID!) { customer(id: $id) { name phone loyaltyPoints { current } } }", json!({ "id": ann })).await;
    assert_eq!(ann_now["customer"]["name"], "Erased customer");
    assert_eq!(ann_now["customer"]["loyaltyPoints"]["current"], 20, "points stay, as with eraseCustomer");
    let audit = app.data("query($id: ID!) { auditLog(customerId: $id, action: CUSTOMER_ERASED) { items { actor } } }", json!({ "id": ann })).await;
    assert_eq!(audit["auditLog"]["items"], json!([{ "actor": "job:retention" }]));
    let bob_now: Value = app.data("query($id: ID!) { customer(id: $id) { name } }", json!({ "id": bob })).await;
    assert_eq!(bob_now["customer"]["name"], "Bob Recent");
    let (_, body) = app.gql_as(Some(&theirs), "query($id: ID!) { customer(id: $id) { name } }", json!({ "id": guest })).await;
    assert_eq!(body["data"]["customer"]["name"], "Their Guest", "another restaurant's policy (off) decides for its members");
}

on_both!(retention_purges_only_what_is_past_its_window_and_erases_the_inactive);
