//! Points expiry: switching the policy on expires nobody before a full period; a member idle
//! for the period gets one warning email (with consent), then loses the balance in one
//! `EXPIRE` row; reruns change nothing; another restaurant is untouched; balances equal ledgers.

use chrono::{Duration, Months, Utc};
use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::smtp::SmtpSink;
use crate::{add_points, assert_ledger_matches, on_both};

const RUN: &str = "mutation { runJob(job: POINTS_EXPIRY) { run { outcome changed enqueued skippedForConsent sent } } }";
const POINTS: &str = "query($id: ID!) { customer(id: $id) { loyaltyPoints { current expiring { points on } } } }";

async fn member(app: &TestApp, key: Option<&str>, phone: &str, name: &str, extra: serde_json::Value) -> String {
    let mut input = json!({ "phone": phone, "name": name });
    input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (_, body) = app.gql_as(key, "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }", json!({ "input": input })).await;
    body["data"]["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()
}

async fn idle_balances_expire_once_after_a_warning_and_never_retroactively(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url()), ("LOYALTY_MAIL_RETRY_SECS", "0")]).await;
    app.data("mutation { updateRestaurant(input: { timezone: \"UTC\" }) { id } }", json!({})).await;
    let ann = member(&app, Some(&app.admin_key), "+14155550101", "Ann", json!({ "email": "ann@example.com", "marketing": { "emailOptIn": true } })).await;
    let bob = member(&app, Some(&app.admin_key), "+14155550102", "Bob", json!({ "email": "bob@example.com" })).await;
    add_points(&app, &ann, 500).await;
    add_points(&app, &bob, 300).await;
    let other = app.create_key("elsewhere", "admin").await;
    let zed = member(&app, Some(&other), "+14155550109", "Zed", json!({})).await;
    app.gql_as(Some(&other), "mutation($id: ID!) { addPoints(customerId: $id, points: 70) { currentPoints } }", json!({ "id": zed })).await;
    let long_ago = Utc::now().checked_sub_months(Months::new(13)).unwrap();
    app.sql(&format!("UPDATE customers SET last_activity_at = {}", app.instant_sql(long_ago))).await;
    let off = app.data(POINTS, json!({ "id": ann })).await;
    assert_eq!(off["customer"]["loyaltyPoints"]["expiring"], serde_json::Value::Null, "no policy, no expiry");

    let on = app.data("mutation { updateRestaurant(input: { pointsExpiryMonths: 12 }) { pointsExpiryMonths expiryWarningDays } }", json!({})).await;
    assert_eq!(on["updateRestaurant"], json!({ "pointsExpiryMonths": 12, "expiryWarningDays": 30 }));
    let first = app.data(RUN, json!({})).await["runJob"]["run"].clone();
    assert_eq!((first["changed"].as_i64(), first["enqueued"].as_i64()), (Some(0), Some(0)), "switching on expires nobody, however idle: {first}");
    let expiring = app.data(POINTS, json!({ "id": ann })).await["customer"]["loyaltyPoints"]["expiring"].clone();
    let in_a_year = Utc::now().checked_add_months(Months::new(12)).unwrap().date_naive();
    assert_eq!(expiring["points"], 500);
    let on_day = expiring["on"].as_str().unwrap();
    assert!(on_day == in_a_year.to_string() || on_day == (in_a_year + Duration::days(1)).to_string(), "a full period from the switch: {on_day}");

    let started = |at: chrono::DateTime<Utc>| format!("UPDATE restaurants SET expiry_started_at = {} WHERE id = 'default'", app.instant_sql(at));
    let almost = Utc::now().checked_sub_months(Months::new(12)).unwrap() + Duration::days(20);
    app.sql(&started(almost)).await;
    let warned = app.data(RUN, json!({})).await["runJob"]["run"].clone();
    assert_eq!(
        (warned["changed"].as_i64(), warned["enqueued"].as_i64(), warned["skippedForConsent"].as_i64(), warned["sent"].as_i64()),
        (Some(0), Some(1), Some(1), Some(1)),
        "20 days ahead: a warning to Ann, none to Bob (no consent): {warned}"
    );
    let mail = sink.wait_for(1).await;
    assert_eq!(mail[0].to, vec!["ann@example.com"]);
    let subject = mail[0].parsed().subject().unwrap().to_string();
    assert!(subject.starts_with("Ann, your 500 points expire on "), "{subject}");
    let again = app.data(RUN, json!({})).await["runJob"]["run"].clone();
    assert_eq!((again["enqueued"].as_i64(), again["sent"].as_i64()), (Some(0), Some(0)), "one warning per expiry date");

    app.sql(&started(Utc::now().checked_sub_months(Months::new(13)).unwrap())).await;
    let expired = app.data(RUN, json!({})).await["runJob"]["run"].clone();
    assert_eq!(expired["changed"], 2, "{expired}");
    for (id, lost) in [(&ann, 500), (&bob, 300)] {
        let m = app
            .data(
                "query($id: ID!) { customer(id: $id) { loyaltyPoints { current lifetime expiring { points } } pointsHistory(first: 1) { items { kind points } } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(m["customer"]["loyaltyPoints"], json!({ "current": 0, "lifetime": lost, "expiring": null }));
        assert_eq!(m["customer"]["pointsHistory"]["items"], json!([{ "kind": "EXPIRE", "points": -lost }]), "one row");
    }
    assert_eq!(app.data(RUN, json!({})).await["runJob"]["run"]["changed"], 0, "a rerun writes nothing");
    let (_, theirs) = app.gql_as(Some(&other), POINTS, json!({ "id": zed })).await;
    assert_eq!(theirs["data"]["customer"]["loyaltyPoints"]["current"], 70, "another restaurant (no policy) keeps its points");
    assert_ledger_matches(&app).await;
}

on_both!(idle_balances_expire_once_after_a_warning_and_never_retroactively);

// Which events move the points-expiry clock: earning, redeeming and visits do; a profile
// change does not.
crate::both!(only_earning_redeeming_and_visits_restart_the_expiry_clock, |app| async move {
    let ann = member(&app, Some(&app.admin_key), "+14155550121", "Ann", json!({})).await;
    add_points(&app, &ann, 100).await;
    let earlier = Utc::now() - Duration::days(30);
    let rewind = format!("UPDATE customers SET last_activity_at = {} WHERE id = {ann}", app.instant_sql(earlier));
    app.sql(&rewind).await;
    let before = last_activity(&app, &ann).await;
    app.data("mutation { upsertCustomer(input: { phone: \"+14155550121\", name: \"Ann Lee\", email: \"ann@example.com\" }) { created } }", json!({})).await;
    assert_eq!(last_activity(&app, &ann).await, before, "a profile change is no activity");
    let events = [
        ("earning", "mutation($id: ID!) { addPoints(customerId: $id, points: 5) { currentPoints } }"),
        ("redeeming", "mutation($id: ID!) { redeemPoints(customerId: $id, points: 5) { currentPoints } }"),
        ("a visit", "mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 10) { visitId } }"),
    ];
    for (what, mutation) in events {
        app.sql(&rewind).await;
        app.data(mutation, json!({ "id": ann })).await;
        let after = last_activity(&app, &ann).await;
        assert!(after > before, "{what} moves the clock: {before} -> {after}");
    }
});

async fn last_activity(app: &TestApp, id: &str) -> chrono::DateTime<Utc> {
    let q = "query($id: ID!) { customer(id: $id) { lastActivity } }";
    app.data(q, json!({ "id": id })).await["customer"]["lastActivity"].as_str().unwrap().parse().unwrap()
}
