//! Orders from the past: `recordOrder(occurredAt, location, channel)`. Orders recorded out of
//! order leave a member exactly as the same orders on time; a late order undoes an expiry it
//! would have prevented, once; times outside the window are refused and write nothing.

use chrono::{Duration, Months, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::{add_points, assert_ledger_matches, create_customer, on_both};

const ORDER: &str = "mutation($input: OrderInput!) { recordOrder(input: $input) { pointsEarned currentPoints } }";
const STATE: &str = "query($id: ID!) { customer(id: $id) {
    memberSince status loyaltyTier tags segments loyaltyPoints { current lifetime }
    visitStats { totalVisits firstVisit lastVisit totalSpent }
    preferences { favoriteItems { items { itemId orderCount } } }
    visits(first: 10) { items { amount orderId visitedAt location channel } } } }";

fn at(days_ago: i64) -> String {
    (Utc::now() - Duration::days(days_ago)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn order(phone: &str, id: &str, when: &str, amount: f64, item: &str) -> Value {
    json!({ "phone": phone, "orderId": id, "amount": amount, "occurredAt": when, "location": "Harbour St", "channel": "takeaway",
            "items": [{ "itemId": item, "quantity": 1, "price": amount }] })
}

/// A member's state without what differs by construction (ids; last activity: made now).
async fn state(app: &TestApp, id: &str) -> Value {
    let mut c = app.data(STATE, json!({ "id": id })).await["customer"].clone();
    for v in c["visits"]["items"].as_array_mut().unwrap() {
        let order = v["orderId"].as_str().unwrap().trim_start_matches(['A', 'B']).to_string();
        v["orderId"] = json!(order);
    }
    c
}

async fn orders_out_of_order_leave_the_member_as_on_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let on_time = create_customer(&app, "+14155550101", "Ann").await;
    let late = create_customer(&app, "+14155550102", "Bob").await;
    let days = [(at(20), 12.5, "soup"), (at(9), 980.0, "steak"), (at(3), 30.0, "soup")];
    for (n, (when, amount, item)) in days.iter().enumerate() {
        app.data(ORDER, json!({ "input": order("+14155550101", &format!("A{n}"), when, *amount, item) })).await;
    }
    for (n, (when, amount, item)) in days.iter().enumerate().rev() {
        app.data(ORDER, json!({ "input": order("+14155550102", &format!("B{n}"), when, *amount, item) })).await;
    }
    let (a, b) = (state(&app, &on_time).await, state(&app, &late).await);
    assert_eq!(a, b, "the same orders in another order give the same member");
    assert_eq!(a["visitStats"]["totalVisits"], 3);
    assert_eq!(a["loyaltyTier"], "SILVER");
    assert_eq!(a["visitStats"]["firstVisit"].as_str().unwrap()[..10], at(20)[..10], "the first visit is the oldest order's time");
    assert_eq!(a["visitStats"]["lastVisit"].as_str().unwrap()[..10], at(3)[..10]);
    assert_eq!(a["memberSince"].as_str().unwrap()[..10], at(20)[..10], "a member since their first order");
    assert_eq!(
        a["visits"]["items"][0],
        json!({ "amount": 30.0, "orderId": "2", "visitedAt": a["visitStats"]["lastVisit"], "location": "Harbour St", "channel": "takeaway" })
    );
    assert_ledger_matches(&app).await;
}

on_both!(orders_out_of_order_leave_the_member_as_on_time);

/// Ann, whose 500 points the expiry job (12 months) took after 13 idle months.
async fn expired_member(app: &TestApp) -> String {
    let ann = create_customer(app, "+14155550101", "Ann").await;
    add_points(app, &ann, 500).await;
    app.data("mutation { updateRestaurant(input: { pointsExpiryMonths: 12 }) { id } }", json!({})).await;
    let long_ago = app.instant_sql(Utc::now().checked_sub_months(Months::new(13)).unwrap());
    app.sql(&format!("UPDATE customers SET last_activity_at = {long_ago}")).await;
    app.sql(&format!("UPDATE restaurants SET expiry_started_at = {long_ago}")).await;
    let run = app.data("mutation { runJob(job: POINTS_EXPIRY) { run { changed } } }", json!({})).await;
    assert_eq!(run["runJob"]["run"]["changed"], 1);
    ann
}

async fn a_late_order_undoes_an_expiry_it_would_have_prevented_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = expired_member(&app).await;

    let out = app.data(ORDER, json!({ "input": order("+14155550101", "T-1", &at(2), 40.0, "soup") })).await["recordOrder"].clone();
    assert_eq!(out, json!({ "pointsEarned": 40, "currentPoints": 540 }), "the order two days ago means the balance never expired");
    let out = app.data(ORDER, json!({ "input": order("+14155550101", "T-2", &at(1), 10.0, "tea") })).await["recordOrder"].clone();
    assert_eq!(out["currentPoints"], 550, "undone once");
    let history = app.data("query($id: ID!) { customer(id: $id) { pointsHistory(first: 5) { items { kind points reason } } } }", json!({ "id": ann })).await;
    let kinds: Vec<(String, i64)> = history["customer"]["pointsHistory"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["points"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, [("EARN".into(), 10), ("EXPIRE".into(), 500), ("EARN".into(), 40), ("EXPIRE".into(), -500), ("EARN".into(), 500)]);
    let reason = history["customer"]["pointsHistory"]["items"][1]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("undone: order #T-1") && reason.contains("was recorded late"), "{reason}");
    let c = app.data("query($id: ID!) { customer(id: $id) { loyaltyPoints { current lifetime } } }", json!({ "id": ann })).await;
    assert_eq!(c["customer"]["loyaltyPoints"], json!({ "current": 550, "lifetime": 550 }), "lifetime counts the points once");
    assert_ledger_matches(&app).await;
}

on_both!(a_late_order_undoes_an_expiry_it_would_have_prevented_once);

/// Eight late orders covering the same expiry race each other and edits of the member's
/// profile: the expiry is undone once, every order counts, no edit is lost.
async fn racing_late_orders_undo_an_expiry_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = expired_member(&app).await;

    let edit = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
    let mut calls: Vec<(&str, Value)> = (0..8).map(|i| (ORDER, json!({ "input": order("+14155550101", &format!("R-{i}"), &at(2), 10.0, "soup") }))).collect();
    calls.extend((0..8).map(|i| (edit, json!({ "input": { "phone": "+14155550101", "name": format!("Ann {i}") } }))));
    let answers = futures_util::future::join_all(calls.iter().map(|(q, v)| app.gql(q, v.clone()))).await;
    assert!(answers.iter().all(|a| a.get("errors").is_none()), "{answers:?}");
    let c =
        app.data("query($id: ID!) { customer(id: $id) { name loyaltyPoints { current lifetime } visitStats { totalVisits } } }", json!({ "id": ann })).await;
    assert_eq!(c["customer"]["loyaltyPoints"], json!({ "current": 580, "lifetime": 580 }), "500 given back once, 8 orders of 10");
    assert_eq!(c["customer"]["visitStats"]["totalVisits"], 8);
    assert!(c["customer"]["name"].as_str().unwrap().starts_with("Ann "), "an edit's name stands: {c}");
    assert_ledger_matches(&app).await;
}

on_both!(racing_late_orders_undo_an_expiry_once);

async fn order_times_and_places_outside_the_rules_are_refused_and_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let future = (Utc::now() + Duration::hours(1)).to_rfc3339();
    for (change, field) in [
        (json!({ "occurredAt": future }), "occurredAt"),
        (json!({ "occurredAt": at(31) }), "occurredAt"),
        (json!({ "location": "x".repeat(101) }), "location"),
        (json!({ "channel": " " }), "channel"),
    ] {
        let mut input = order("+14155550101", "X-1", &at(1), 10.0, "soup");
        input.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let (code, message, err) = app.error(ORDER, json!({ "input": input })).await;
        assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some(field)), "{message}");
    }
    let (_, message, _) = app.error(ORDER, json!({ "input": order("+14155550101", "X-1", &at(31), 10.0, "soup") })).await;
    assert_eq!(message, "occurredAt: is more than 30 days ago; older orders are brought in with `loyalty import orders`");
    let c = app.data("query($id: ID!) { customer(id: $id) { visitStats { totalVisits } loyaltyPoints { current } } }", json!({ "id": ann })).await;
    assert_eq!(c["customer"], json!({ "visitStats": { "totalVisits": 0 }, "loyaltyPoints": { "current": 0 } }), "nothing written");
    let fine = app.data(ORDER, json!({ "input": order("+14155550101", "X-1", &at(1), 10.0, "soup") })).await;
    assert_eq!(fine["recordOrder"]["pointsEarned"], 10, "the order id was not used up by the refusals");
}

on_both!(order_times_and_places_outside_the_rules_are_refused_and_write_nothing);
