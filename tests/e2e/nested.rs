//! Nested fields load through DataLoaders: a page of customers with all its history costs a
//! constant number of SQL statements, whatever the page size. And the query limits.

use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::{create_customer, on_both};

const PAGE: &str = "{ customers(limit: 50, sort: NAME) { totalCount items {
    id name tags segments
    notes { items { note } }
    preferences { favoriteItems { items { itemId orderCount } } }
    specialOccasions { items { name } }
    referral { referredBy { name } referrals(first: 100) { items { name } } }
    pointsHistory(first: 3) { items { points kind } }
    visits(first: 2) { items { amount orderId } }
} } }";

async fn sql_statements(app: &TestApp) -> u64 {
    let (status, body) = app.get("/debug/sql-queries").await;
    assert_eq!(status, 200);
    body.trim().parse().unwrap()
}

/// Adds `n` members with points, orders, notes, an occasion and a segment, referred by the
/// first member.
async fn add_members(app: &TestApp, from: usize, n: usize, code: &str) {
    for i in from..from + n {
        let phone = format!("+1415555{:04}", 1000 + i);
        let id = app
            .data(
                "mutation($p: String!, $n: String!, $c: String) { upsertCustomer(input: { phone: $p, name: $n, referralCode: $c, segments: [\"regulars\"] }) { customer { id } } }",
                json!({ "p": phone, "n": format!("Member {i:03}"), "c": code }),
            )
            .await["upsertCustomer"]["customer"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        for order in 0..4 {
            app.data(
                "mutation($p: String!, $o: String!) { recordOrder(input: { phone: $p, orderId: $o, amount: 12.5, items: [{ itemId: \"soup\" }] }) { pointsEarned } }",
                json!({ "p": phone, "o": format!("{i}-{order}") }),
            )
            .await;
        }
        app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"likes soup\") { id } }", json!({ "id": id })).await;
        app.data("mutation($id: ID!) { addSpecialOccasion(customerId: $id, name: \"Promotion\", date: \"2020-03-01\") { id } }", json!({ "id": id })).await;
    }
}

async fn a_page_costs_the_same_statements_at_any_size(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_COUNT_QUERIES", "true")]).await;
    let first = create_customer(&app, "+14155550001", "Aaron First").await;
    let code =
        app.data("query($id: ID!) { customer(id: $id) { referral { referralCode } } }", json!({ "id": first })).await["customer"]["referral"]["referralCode"]
            .as_str()
            .unwrap()
            .to_string();
    add_members(&app, 0, 4, &code).await;

    let before = sql_statements(&app).await;
    let small = app.data(PAGE, json!({})).await;
    let small_cost = sql_statements(&app).await - before;
    assert_eq!(small["customers"]["totalCount"], 5);

    add_members(&app, 4, 45, &code).await;
    let before = sql_statements(&app).await;
    let large = app.data(PAGE, json!({})).await;
    let large_cost = sql_statements(&app).await - before;
    assert_eq!(large["customers"]["totalCount"], 50);
    assert_eq!(small_cost, large_cost, "5 customers cost {small_cost} statements, 50 cost {large_cost}");
    assert!(large_cost <= 12, "a page costs {large_cost} statements");

    let items = large["customers"]["items"].as_array().unwrap();
    let aaron = &items[0];
    assert_eq!(aaron["referral"]["referrals"]["items"].as_array().unwrap().len(), 49);
    assert_eq!(aaron["pointsHistory"]["items"].as_array().unwrap().len(), 3, "referral bonuses, newest 3");
    let member = &items[1];
    assert_eq!(member["name"], "Member 000");
    assert_eq!(member["pointsHistory"]["items"], json!([{ "points": 12, "kind": "EARN" }, { "points": 12, "kind": "EARN" }, { "points": 12, "kind": "EARN" }]));
    assert_eq!(member["visits"]["items"], json!([{ "amount": 12.5, "orderId": "0-3" }, { "amount": 12.5, "orderId": "0-2" }]));
    assert_eq!(member["preferences"]["favoriteItems"]["items"], json!([{ "itemId": "soup", "orderCount": 4 }]));
    assert_eq!(member["referral"]["referredBy"]["name"], "Aaron First");
    assert_eq!(member["notes"]["items"], json!([{ "note": "likes soup" }]));
    assert_eq!(member["segments"], json!(["new-customer", "regulars"]));
}

async fn limits_are_enforced_with_clear_errors(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_MAX_QUERY_COMPLEXITY", "40"), ("LOYALTY_INTROSPECTION", "false")]).await;
    let deep = format!("{{ customers {{ items {{ {}name{} }} }} }}", "referral { referredBy { ".repeat(6), " } }".repeat(6));
    let (code, message, _) = app.error(&deep, json!({})).await;
    assert_eq!(code, "TOO_COMPLEX");
    assert!(message.to_lowercase().contains("nested too deep"), "{message}");
    let wide = format!("{{ customers {{ items {{ {} }} }} }}", (0..45).map(|i| format!("f{i}: name")).collect::<Vec<_>>().join(" "));
    let (code, message, _) = app.error(&wide, json!({})).await;
    assert_eq!(code, "TOO_COMPLEX");
    assert!(message.to_lowercase().contains("complex"), "{message}");
    let introspection = app.gql("{ __schema { types { name } } }", json!({})).await;
    assert!(introspection["data"]["__schema"].is_null(), "introspection can be turned off: {introspection}");
    let (code, _, err) = app.error("{ customers(limit: 1000) { page } }", json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("limit")));
}

on_both!(a_page_costs_the_same_statements_at_any_size);
on_both!(limits_are_enforced_with_clear_errors);
