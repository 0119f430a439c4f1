//! Refunds and voids of orders: a refund takes back its share of points (never below zero,
//! reporting what could not be taken back), total spent and favourites; a second full refund
//! changes nothing; more than was charged is refused; a void removes the visit; tiers stay
//! unless the restaurant says otherwise; another restaurant reaches nothing — and every
//! balance equals its ledger.

use serde_json::{Value, json};

use crate::{assert_ledger_matches, both, create_customer};

const ORDER: &str = "mutation($input: OrderInput!) { recordOrder(input: $input) { pointsEarned tier } }";
const REFUND: &str = "mutation($input: RefundInput!) { refundOrder(input: $input) {
    refunded totalRefunded pointsReversed pointsNotRecovered currentPoints lifetimePoints tier visitRemoved replayed } }";
const MEMBER: &str = "query($id: ID!) { customer(id: $id) { loyaltyTier loyaltyPoints { current lifetime }
    visitStats { totalVisits totalSpent averageOrderValue } preferences { favoriteItems { items { itemId orderCount } } } } }";

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

both!(refunds_take_back_points_spend_and_favourites_once, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let first = json!({ "phone": "+14155550101", "orderId": "A-1", "amount": 45.99, "items": [{ "itemId": "burger", "quantity": 2 }, { "itemId": "fries" }] });
    assert_eq!(app.data(ORDER, json!({ "input": first })).await["recordOrder"]["pointsEarned"], 45);
    let second = json!({ "phone": "+14155550101", "orderId": "A-2", "amount": 20, "items": [{ "itemId": "burger" }] });
    app.data(ORDER, json!({ "input": second })).await;

    let partial = json!({ "orderId": "A-1", "amount": 10, "items": [{ "itemId": "fries" }], "refundId": "r-1" });
    let out = app.data(REFUND, json!({ "input": partial })).await["refundOrder"].clone();
    assert_eq!((out["pointsReversed"].as_i64(), out["currentPoints"].as_i64(), out["lifetimePoints"].as_i64()), (Some(9), Some(56), Some(56)), "{out}");
    let again = app.data(REFUND, json!({ "input": partial })).await["refundOrder"].clone();
    assert_eq!((again["replayed"].as_bool(), again["currentPoints"].as_i64()), (Some(true), Some(56)), "a retried refund changes nothing");
    let m = app.data(MEMBER, json!({ "id": ann })).await["customer"].clone();
    assert_eq!(m["visitStats"]["totalSpent"], 55.99);
    assert_eq!(m["preferences"]["favoriteItems"]["items"], json!([{ "itemId": "burger", "orderCount": 3 }]), "fries are gone");

    let (c, message, _) = app.error(REFUND, json!({ "input": { "orderId": "A-1", "amount": 40 } })).await;
    assert_eq!(c, "VALIDATION");
    assert!(message.contains("35.99 of 45.99"), "{message}");
    let (c, _, _) = app.error(REFUND, json!({ "input": { "orderId": "A-1", "amount": 1, "items": [{ "itemId": "pizza" }] } })).await;
    assert_eq!(c, "VALIDATION", "a line that is not on the order");
    let (c, _, _) = app.error(REFUND, json!({ "input": { "orderId": "nope" } })).await;
    assert_eq!(c, "NOT_FOUND");

    let full = app.data(REFUND, json!({ "input": { "orderId": "A-1" } })).await["refundOrder"].clone();
    assert_eq!((full["refunded"].as_f64(), full["totalRefunded"].as_f64(), full["pointsReversed"].as_i64()), (Some(35.99), Some(45.99), Some(36)), "{full}");
    let twice = app.data(REFUND, json!({ "input": { "orderId": "A-1" } })).await["refundOrder"].clone();
    assert_eq!((twice["replayed"].as_bool(), twice["currentPoints"].as_i64()), (Some(true), Some(20)), "refunding twice changes nothing");
    let m = app.data(MEMBER, json!({ "id": ann })).await["customer"].clone();
    assert_eq!((m["visitStats"]["totalSpent"].as_f64(), m["visitStats"]["totalVisits"].as_i64()), (Some(20.0), Some(2)), "a refund keeps the visit");
    assert_eq!(m["preferences"]["favoriteItems"]["items"], json!([{ "itemId": "burger", "orderCount": 1 }]));

    app.data("mutation($id: ID!) { redeemPoints(customerId: $id, points: 15) { currentPoints } }", json!({ "id": ann })).await;
    let void = app.data(REFUND, json!({ "input": { "orderId": "A-2", "void": true } })).await["refundOrder"].clone();
    assert_eq!(
        (void["pointsReversed"].as_i64(), void["pointsNotRecovered"].as_i64(), void["currentPoints"].as_i64(), void["visitRemoved"].as_bool()),
        (Some(5), Some(15), Some(0), Some(true)),
        "the balance never goes below zero; the rest is reported: {void}"
    );
    let m = app.data(MEMBER, json!({ "id": ann })).await["customer"].clone();
    assert_eq!((m["visitStats"]["totalVisits"].as_i64(), m["visitStats"]["totalSpent"].as_f64()), (Some(1), Some(0.0)));
    assert_eq!(m["preferences"]["favoriteItems"]["items"], json!([]));
    let history = app.data("query($id: ID!) { customer(id: $id) { pointsHistory(first: 1) { items { kind points reason } } } }", json!({ "id": ann })).await;
    let row = &history["customer"]["pointsHistory"]["items"][0];
    assert_eq!((row["kind"].as_str(), row["points"].as_i64()), (Some("REFUND"), Some(-5)));
    assert!(row["reason"].as_str().unwrap().contains("15 points not recovered"), "{row}");

    let other = app.create_key("elsewhere", "admin").await;
    let (_, body) = app.gql_as(Some(&other), REFUND, json!({ "input": { "orderId": "A-2" } })).await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "another restaurant's order is out of reach");
    assert_ledger_matches(&app).await;
});

both!(refunds_lower_a_tier_only_when_the_restaurant_says_so, |app| async move {
    let bob = create_customer(&app, "+14155550102", "Bob").await;
    let cat = create_customer(&app, "+14155550103", "Cat").await;
    for (phone, order) in [("+14155550102", "B-1"), ("+14155550103", "C-1")] {
        let out = app.data(ORDER, json!({ "input": { "phone": phone, "orderId": order, "amount": 3000 } })).await;
        assert_eq!(out["recordOrder"]["tier"], "GOLD");
    }
    let kept = app.data(REFUND, json!({ "input": { "orderId": "B-1" } })).await["refundOrder"].clone();
    assert_eq!((kept["lifetimePoints"].as_i64(), kept["tier"].as_str()), (Some(0), Some("GOLD")), "tiers are not lowered by default");
    app.data("mutation { updateRestaurant(input: { refundsLowerTier: true }) { refundsLowerTier } }", json!({})).await;
    let lowered = app.data(REFUND, json!({ "input": { "orderId": "C-1" } })).await["refundOrder"].clone();
    assert_eq!(lowered["tier"], "BRONZE");
    let m = app.data(MEMBER, json!({ "id": cat })).await["customer"].clone();
    assert_eq!(m["loyaltyTier"], "BRONZE");
    let m = app.data(MEMBER, json!({ "id": bob })).await["customer"].clone();
    assert_eq!(m["loyaltyTier"], "GOLD");
    assert_ledger_matches(&app).await;
});

// A full refund or a void takes back only what is left of its own order's lines: soup ordered
// on T-1 and T-2, T-1's soup refunded, then the rest of T-1 refunded in full and voided —
// T-2's soup stays a favourite.
both!(a_full_refund_or_void_takes_back_only_what_is_left_of_its_order, |app| async move {
    let ann = create_customer(&app, "+14155550131", "Ann").await;
    let t1 = json!({ "phone": "+14155550131", "orderId": "T-1", "amount": 20, "items": [{ "itemId": "soup" }, { "itemId": "bread" }] });
    let t2 = json!({ "phone": "+14155550131", "orderId": "T-2", "amount": 10, "items": [{ "itemId": "soup" }] });
    app.data(ORDER, json!({ "input": t1 })).await;
    app.data(ORDER, json!({ "input": t2 })).await;
    assert_eq!(favourites(&app, &ann).await, json!([{ "itemId": "soup", "orderCount": 2 }, { "itemId": "bread", "orderCount": 1 }]));
    app.data(REFUND, json!({ "input": { "orderId": "T-1", "amount": 5, "items": [{ "itemId": "soup" }], "refundId": "p-1" } })).await;
    assert_eq!(favourites(&app, &ann).await, json!([{ "itemId": "bread", "orderCount": 1 }, { "itemId": "soup", "orderCount": 1 }]));
    let (c, _, _) = app.error(REFUND, json!({ "input": { "orderId": "T-1", "amount": 1, "items": [{ "itemId": "soup" }], "refundId": "p-2" } })).await;
    assert_eq!(c, "VALIDATION", "T-1's soup was refunded already");
    app.data(REFUND, json!({ "input": { "orderId": "T-1" } })).await;
    assert_eq!(favourites(&app, &ann).await, json!([{ "itemId": "soup", "orderCount": 1 }]), "T-2's soup stays");
    app.data(REFUND, json!({ "input": { "orderId": "T-1", "void": true } })).await;
    assert_eq!(favourites(&app, &ann).await, json!([{ "itemId": "soup", "orderCount": 1 }]), "a void after a full refund takes nothing more");
    assert_ledger_matches(&app).await;
});

async fn favourites(app: &crate::harness::TestApp, id: &str) -> Value {
    app.data(MEMBER, json!({ "id": id })).await["customer"]["preferences"]["favoriteItems"]["items"].clone()
}
