//! Spec endpoints 4 and 5: tiers, redemption, idempotency and concurrency.

use serde_json::json;

use crate::{add_points, assert_ledger_matches, both, create_customer, customer};

const REDEEM: &str = "mutation($id: ID!, $p: Int!, $key: String) { redeemPoints(customerId: $id, points: $p, idempotencyKey: $key) {
    message currentPoints lifetimePoints redeemedPoints tier discount replayed } }";

both!(tiers_upgrade_at_the_thresholds_and_never_drop, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let steps = [(999, "BRONZE"), (1, "SILVER"), (1_499, "SILVER"), (1, "GOLD"), (2_499, "GOLD"), (1, "PLATINUM"), (4_999, "PLATINUM"), (1, "VIP")];
    let mut lifetime = 0;
    for (points, tier) in steps {
        lifetime += points;
        let out = add_points(&app, &id, points).await;
        assert_eq!(out["tier"], tier, "at {lifetime} lifetime points");
        assert_eq!(out["lifetimePoints"], lifetime);
    }
    let out = app.data(REDEEM, json!({ "id": id, "p": 9_000 })).await["redeemPoints"].clone();
    assert_eq!(out["tier"], "VIP", "redemption never lowers the tier");
    assert_eq!(out["currentPoints"], 1_000);
    assert_eq!(out["redeemedPoints"], 9_000);
    assert_eq!(out["discount"], 90.0, "100 points = $1");
    assert_eq!(out["message"], "Redeemed 9000 points");
    let c = customer(&app, &id).await;
    assert_eq!(c["loyaltyTier"], "VIP");
    assert_eq!(c["loyaltyPoints"]["toNextTier"], json!(null));
    assert_ledger_matches(&app).await;
});

both!(add_points_reports_like_the_spec, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let out = app
        .data(
            "mutation($id: ID!) { addPoints(customerId: $id, points: 100, reason: \"Purchase - Order #12345\") { message currentPoints lifetimePoints tier customer { loyaltyPoints { current } } } }",
            json!({ "id": id }),
        )
        .await["addPoints"]
        .clone();
    assert_eq!(out["message"], "Added 100 points");
    assert_eq!(out["currentPoints"], 100);
    assert_eq!(out["customer"]["loyaltyPoints"]["current"], 100);
    let history =
        app.data("query($id: ID!) { customer(id: $id) { pointsHistory { items { kind points balanceAfter reason actor } } } }", json!({ "id": id })).await;
    assert_eq!(
        history["customer"]["pointsHistory"]["items"],
        json!([{ "kind": "EARN", "points": 100, "balanceAfter": 100, "reason": "Purchase - Order #12345", "actor": "key:1:first admin key" }])
    );
});

both!(bad_point_requests_are_refused_and_change_nothing, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &id, 300).await;
    let (code, message, err) = app.error(REDEEM, json!({ "id": id, "p": 301 })).await;
    assert_eq!(code, "INSUFFICIENT_POINTS");
    assert_eq!(message, "insufficient points: 300 available, 301 requested");
    assert_eq!(err["extensions"]["available"], 300);
    for (mutation, points) in [("addPoints", 0), ("addPoints", -5), ("addPoints", 1_000_001), ("redeemPoints", 0), ("redeemPoints", -1)] {
        let q = format!("mutation($id: ID!, $p: Int!) {{ {mutation}(customerId: $id, points: $p) {{ currentPoints }} }}");
        let (code, _, err) = app.error(&q, json!({ "id": id, "p": points })).await;
        assert_eq!(code, "VALIDATION", "{mutation} {points}");
        assert_eq!(err["extensions"]["field"], "points");
    }
    let (code, _, _) = app.error(REDEEM, json!({ "id": "424242", "p": 1 })).await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _, _) = app.error("mutation($id: ID!) { addPoints(customerId: $id, points: 5, reason: $r) { currentPoints } }", json!({ "id": id })).await;
    assert_eq!(code, "VALIDATION", "undeclared variable");
    let c = customer(&app, &id).await;
    assert_eq!(c["loyaltyPoints"], json!({ "current": 300, "lifetime": 300, "redeemed": 0, "toNextTier": 700 }));
    assert_ledger_matches(&app).await;
});

both!(blocked_customers_cannot_earn_or_redeem, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &id, 300).await;
    app.data("mutation { upsertCustomer(input: { phone: \"+14155550101\", status: BLOCKED }) { created } }", json!({})).await;
    let (code, _, _) = app.error(REDEEM, json!({ "id": id, "p": 10 })).await;
    assert_eq!(code, "CUSTOMER_BLOCKED");
    let (code, _, _) = app.error("mutation($id: ID!) { addPoints(customerId: $id, points: 5) { currentPoints } }", json!({ "id": id })).await;
    assert_eq!(code, "CUSTOMER_BLOCKED");
    assert_eq!(customer(&app, &id).await["loyaltyPoints"]["current"], 300);
});

both!(idempotency_keys_make_retries_safe, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let add = "mutation($id: ID!, $p: Int!, $key: String) { addPoints(customerId: $id, points: $p, reason: \"Order 1\", idempotencyKey: $key) { transactionId currentPoints replayed } }";
    let first = app.data(add, json!({ "id": id, "p": 100, "key": "order-1" })).await["addPoints"].clone();
    let retry = app.data(add, json!({ "id": id, "p": 100, "key": "order-1" })).await["addPoints"].clone();
    assert_eq!(first["replayed"], false);
    assert_eq!(retry["replayed"], true);
    assert_eq!(retry["transactionId"], first["transactionId"]);
    assert_eq!(retry["currentPoints"], 100);
    let (code, _, _) = app.error(add, json!({ "id": id, "p": 200, "key": "order-1" })).await;
    assert_eq!(code, "IDEMPOTENCY_CONFLICT", "same key, other arguments");
    let (code, _, _) = app.error(REDEEM, json!({ "id": id, "p": 50, "key": "order-1" })).await;
    assert_eq!(code, "IDEMPOTENCY_CONFLICT", "same key, other operation");

    let (code, _, _) = app.error(REDEEM, json!({ "id": id, "p": 500, "key": "redeem-1" })).await;
    assert_eq!(code, "INSUFFICIENT_POINTS");
    add_points(&app, &id, 400).await;
    let ok = app.data(REDEEM, json!({ "id": id, "p": 500, "key": "redeem-1" })).await;
    assert_eq!(ok["redeemPoints"]["replayed"], false, "a failed request does not use up its key");
    assert_eq!(ok["redeemPoints"]["currentPoints"], 0);
    assert_eq!(customer(&app, &id).await["loyaltyPoints"]["lifetime"], 500);
    assert_ledger_matches(&app).await;
});

both!(concurrent_redemptions_never_overdraw, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &id, 1_000).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move { app.gql(REDEEM, json!({ "id": id, "p": 100 })).await })
        })
        .collect();
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        let body = t.await.unwrap();
        match body["errors"][0]["extensions"]["code"].as_str() {
            None => ok += 1,
            Some("INSUFFICIENT_POINTS") => refused += 1,
            Some(other) => panic!("unexpected error {other}: {body}"),
        }
    }
    assert_eq!((ok, refused), (10, 40));
    let c = customer(&app, &id).await;
    assert_eq!(c["loyaltyPoints"], json!({ "current": 0, "lifetime": 1000, "redeemed": 1000, "toNextTier": 1500 }));
    assert_ledger_matches(&app).await;
});

both!(concurrent_additions_and_retries_lose_nothing, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let app = std::sync::Arc::new(app);
    let add = "mutation($id: ID!, $key: String) { addPoints(customerId: $id, points: 7, idempotencyKey: $key) { currentPoints } }";
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let (app, id) = (app.clone(), id.clone());
            // 40 distinct additions, and 20 retries of one keyed request sent at once.
            let key = if i < 40 { None } else { Some("same-request".to_string()) };
            tokio::spawn(async move { app.data(add, json!({ "id": id, "key": key })).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let c = customer(&app, &id).await;
    assert_eq!(c["loyaltyPoints"]["current"], 41 * 7, "40 additions + the keyed one once");
    assert_ledger_matches(&app).await;
});
