//! Spec endpoint 6 and the auto-tagging rules.

use serde_json::json;

use crate::{both, create_customer, customer};

const VISIT: &str = "mutation($id: ID!, $amount: Money!, $key: String) { recordVisit(customerId: $id, orderAmount: $amount, idempotencyKey: $key) {
    amount replayed customer { status tags visitStats { totalVisits firstVisit lastVisit totalSpent averageOrderValue } } } }";

both!(visits_update_statistics, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let first = app.data(VISIT, json!({ "id": id, "amount": 45.99 })).await["recordVisit"].clone();
    assert_eq!(first["amount"], 45.99);
    let stats = &first["customer"]["visitStats"];
    assert_eq!(stats["totalVisits"], 1);
    assert_eq!(stats["firstVisit"], stats["lastVisit"]);
    assert_eq!(first["customer"]["tags"], json!(["new-customer"]));
    let second = app.data(VISIT, json!({ "id": id, "amount": "12.50" })).await["recordVisit"].clone();
    let stats = &second["customer"]["visitStats"];
    assert_eq!(stats["totalVisits"], 2);
    assert_eq!(stats["totalSpent"], 58.49);
    assert_eq!(stats["averageOrderValue"], 29.25, "29.245 rounds half up");
    assert_eq!(stats["firstVisit"], first["customer"]["visitStats"]["firstVisit"]);
    let c = customer(&app, &id).await;
    assert_eq!(c["loyaltyPoints"]["current"], 0, "a visit alone earns no points");
});

both!(bad_amounts_are_refused, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    for amount in [json!(-1), json!(1.999), json!("abc"), json!("1e3"), json!(true), json!(1_000_000.01)] {
        let (code, message, _) = app.error(VISIT, json!({ "id": id, "amount": amount })).await;
        assert_eq!(code, "VALIDATION", "{amount}: {message}");
    }
    let (code, _, _) = app.error(VISIT, json!({ "id": "999", "amount": 1 })).await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(customer(&app, &id).await["visitStats"]["totalVisits"], 0);
});

both!(visit_retries_count_once, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    app.data(VISIT, json!({ "id": id, "amount": 10, "key": "v1" })).await;
    let retry = app.data(VISIT, json!({ "id": id, "amount": 10, "key": "v1" })).await;
    assert_eq!(retry["recordVisit"]["replayed"], true);
    assert_eq!(customer(&app, &id).await["visitStats"]["totalVisits"], 1);
});

both!(high_value_and_frequent_visitor_boundaries, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let tags = |v: &serde_json::Value| v["recordVisit"]["customer"]["tags"].clone();
    let out = app.data(VISIT, json!({ "id": id, "amount": 50 })).await;
    assert_eq!(tags(&out), json!(["new-customer"]), "exactly $50.00 is not high-value");
    let out = app.data(VISIT, json!({ "id": id, "amount": 50.02 })).await;
    assert_eq!(tags(&out), json!(["high-value", "new-customer"]), "average $50.01");
    let mut last = out;
    for _ in 0..18 {
        last = app.data(VISIT, json!({ "id": id, "amount": 50.01 })).await;
    }
    assert_eq!(last["recordVisit"]["customer"]["visitStats"]["totalVisits"], 20);
    assert!(!tags(&last).as_array().unwrap().contains(&json!("frequent-visitor")), "20 visits is not frequent");
    let out = app.data(VISIT, json!({ "id": id, "amount": 50.01 })).await;
    assert_eq!(tags(&out), json!(["frequent-visitor", "high-value", "new-customer"]));
});

both!(dormancy_follows_the_last_visit, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    app.data(VISIT, json!({ "id": id, "amount": 20 })).await;
    let touch = "mutation { upsertCustomer(input: { phone: \"+14155550101\" }) { customer { status tags } } }";
    for (days, dormant) in [(89, false), (90, false), (91, true)] {
        app.sql(&format!("UPDATE customers SET last_visit_at = {t}, first_visit_at = {t} WHERE id = {id}", t = app.days_ago_sql(days))).await;
        let c = app.data(touch, json!({})).await["upsertCustomer"]["customer"].clone();
        assert_eq!(c["status"], if dormant { "DORMANT" } else { "ACTIVE" }, "{days} days");
        assert_eq!(c["tags"], if dormant { json!(["dormant"]) } else { json!([]) }, "{days} days");
    }
    let dormant = app.data("{ customers(filter: { status: DORMANT, tag: \"dormant\" }) { totalCount } }", json!({})).await;
    assert_eq!(dormant["customers"]["totalCount"], 1);
    let back = app.data(VISIT, json!({ "id": id, "amount": 20 })).await;
    assert_eq!(back["recordVisit"]["customer"]["status"], "ACTIVE", "a visit wakes a dormant customer");
    assert_eq!(back["recordVisit"]["customer"]["tags"], json!([]));
});
