//! Rewards and vouchers at the POS, and corrections: a member redeems a reward, the POS checks
//! and uses the voucher once (also against concurrent terminals), an expired or used voucher is
//! refused with its code, a voided voucher gives the points back, an adjustment below zero is
//! refused, another restaurant reaches none of it — and every balance equals its ledger.

use serde_json::{Value, json};

use crate::{add_points, assert_ledger_matches, both, create_customer};

const CREATE: &str = "mutation($input: RewardInput!) { createReward(input: $input) { id name pointsCost kind minTier stock } }";
const REDEEM: &str = "mutation($c: ID!, $r: ID!, $k: String) { redeemReward(customerId: $c, rewardId: $r, idempotencyKey: $k) {
    replayed points { currentPoints redeemedPoints } voucher { code title kind itemId status usable expiresAt } } }";
const CHECK: &str = "query($code: String!) { voucher(code: $code) { code usable unusableBecause status kind percentOff itemId redeemedOrderId } }";
const USE: &str = "mutation($code: String!, $o: String!) { redeemVoucher(code: $code, orderId: $o) { status redeemedOrderId } }";

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

both!(a_reward_becomes_a_voucher_the_pos_uses_exactly_once, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &ann, 1_200).await;
    let dessert = app.data(CREATE, json!({ "input": { "name": "Free tiramisu", "pointsCost": 500, "kind": "FREE_ITEM", "itemId": "tiramisu", "minTier": "SILVER", "stock": 5 } })).await;
    let dessert_id = dessert["createReward"]["id"].as_str().unwrap().to_string();
    let vip = app.data(CREATE, json!({ "input": { "name": "VIP dinner", "pointsCost": 100, "kind": "PERCENT_OFF", "percentOff": 20, "minTier": "VIP" } })).await;
    let (c, _, err) = app.error(CREATE, json!({ "input": { "name": "Broken", "pointsCost": 100, "kind": "AMOUNT_OFF" } })).await;
    assert_eq!((c.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("amountOff")));
    let staff = app.create_key("default", "staff").await;
    let (_, body) = app.gql_as(Some(&staff), CREATE, json!({ "input": { "name": "x", "pointsCost": 1, "kind": "FREE_ITEM", "itemId": "x" } })).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "only admins manage the catalogue");

    let (c, message, _) = app.error(REDEEM, json!({ "c": ann, "r": vip["createReward"]["id"] })).await;
    assert_eq!(c, "REWARD_UNAVAILABLE", "{message}");
    let out = app.data(REDEEM, json!({ "c": ann, "r": dessert_id, "k": "app-1" })).await["redeemReward"].clone();
    assert_eq!(out["points"], json!({ "currentPoints": 700, "redeemedPoints": 500 }));
    assert_eq!((out["voucher"]["kind"].as_str(), out["voucher"]["itemId"].as_str(), out["voucher"]["usable"].as_bool()), (Some("FREE_ITEM"), Some("tiramisu"), Some(true)));
    let again = app.data(REDEEM, json!({ "c": ann, "r": dessert_id, "k": "app-1" })).await["redeemReward"].clone();
    assert_eq!((again["replayed"].as_bool(), &again["voucher"]["code"]), (Some(true), &out["voucher"]["code"]), "a retry issues nothing new");
    let code_ = out["voucher"]["code"].as_str().unwrap().to_string();

    let typed = code_.to_lowercase().replace('-', " ");
    let checked = app.data(CHECK, json!({ "code": typed })).await;
    assert_eq!(checked["voucher"]["usable"], true, "the POS may type it in any case: {checked}");
    let used = app.data(USE, json!({ "code": code_, "o": "pos-1" })).await;
    assert_eq!(used["redeemVoucher"], json!({ "status": "REDEEMED", "redeemedOrderId": "pos-1" }));
    let (c, _, _) = app.error(USE, json!({ "code": code_, "o": "pos-2" })).await;
    assert_eq!(c, "ALREADY_REDEEMED");
    let checked = app.data(CHECK, json!({ "code": code_ })).await;
    assert_eq!((checked["voucher"]["usable"].as_bool(), checked["voucher"]["unusableBecause"].as_str()), (Some(false), Some("already redeemed")));
    let (c, _, _) = app.error("mutation($c: String!) { voidVoucher(code: $c) { status } }", json!({ "c": code_ })).await;
    assert_eq!(c, "ALREADY_REDEEMED", "a used voucher cannot be voided");

    // Concurrent terminals: exactly one use succeeds.
    add_points(&app, &ann, 1_000).await;
    let second = app.data(REDEEM, json!({ "c": ann, "r": dessert_id })).await["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string();
    let tries = (0..8).map(|i| {
        let (app, code_) = (&app, second.clone());
        async move { app.gql(USE, json!({ "code": code_, "o": format!("terminal-{i}") })).await }
    });
    let results = futures_util::future::join_all(tries).await;
    let ok = results.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results.iter().filter(|b| b.get("errors").is_some()).all(|b| code(b) == Some("ALREADY_REDEEMED")));

    // Expired: refused with its code.
    let third = app.data(REDEEM, json!({ "c": ann, "r": dessert_id })).await["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string();
    app.sql(&format!("UPDATE vouchers SET expires_at = {} WHERE code = '{third}'", app.days_ago_sql(1))).await;
    let (c, _, _) = app.error(USE, json!({ "code": third, "o": "late" })).await;
    assert_eq!(c, "VOUCHER_EXPIRED");

    // Voided: the points come back, the stock too; using it then says so.
    add_points(&app, &ann, 500).await;
    let fourth = app.data(REDEEM, json!({ "c": ann, "r": dessert_id })).await["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string();
    let before = app.data("query($id: ID!) { customer(id: $id) { loyaltyPoints { current redeemed } } }", json!({ "id": ann })).await;
    let voided = app.data("mutation($c: String!) { voidVoucher(code: $c) { status } }", json!({ "c": fourth })).await;
    assert_eq!(voided["voidVoucher"]["status"], "VOIDED");
    let after = app.data("query($id: ID!) { customer(id: $id) { loyaltyPoints { current redeemed } } }", json!({ "id": ann })).await;
    assert_eq!(
        after["customer"]["loyaltyPoints"]["current"].as_i64().unwrap() - before["customer"]["loyaltyPoints"]["current"].as_i64().unwrap(),
        500,
        "the points came back"
    );
    let (c, _, _) = app.error(USE, json!({ "code": fourth, "o": "x" })).await;
    assert_eq!(c, "VOUCHER_VOIDED");
    let list = app.data("query($id: ID!) { vouchers(customerId: $id) { status } rewards { name stock } }", json!({ "id": ann })).await;
    assert_eq!(list["vouchers"].as_array().unwrap().len(), 4);
    assert_eq!(list["rewards"][1], json!({ "name": "Free tiramisu", "stock": 2 }), "three vouchers hold stock, the voided one gave its back");

    let token = app.data("mutation($id: ID!) { createMemberToken(customerId: $id) { token } }", json!({ "id": ann })).await["createMemberToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, mine) = app.gql_as(Some(&token), "{ me { vouchers { status usable } } }", json!({})).await;
    assert_eq!(mine["data"]["me"]["vouchers"].as_array().map(Vec::len), Some(4), "the member's app lists their vouchers: {mine}");

    // Another restaurant reaches none of it.
    let other = app.create_key("elsewhere", "admin").await;
    for (q, vars) in [
        (CHECK, json!({ "code": second })),
        (USE, json!({ "code": code_, "o": "x" })),
        ("mutation($c: String!) { voidVoucher(code: $c) { status } }", json!({ "c": third })),
        (REDEEM, json!({ "c": ann, "r": dessert_id })),
        ("query($id: ID!) { vouchers(customerId: $id) { code } }", json!({ "id": ann })),
        ("mutation($r: ID!) { updateReward(id: $r, input: { name: \"stolen\" }) { id } }", json!({ "r": dessert_id })),
    ] {
        let (_, body) = app.gql_as(Some(&other), q, vars).await;
        assert_eq!(code(&body), Some("NOT_FOUND"), "{q}: {body}");
    }
    let (_, body) = app.gql_as(Some(&other), "{ rewards { id } }", json!({})).await;
    assert_eq!(body["data"]["rewards"], json!([]));
    assert_ledger_matches(&app).await;
});

both!(adjustments_need_a_reason_and_never_go_below_zero, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &ann, 300).await;
    let q = "mutation($id: ID!, $p: Int!, $r: String!) { adjustPoints(customerId: $id, points: $p, reason: $r) { message currentPoints lifetimePoints } }";
    let down = app.data(q, json!({ "id": ann, "p": -100, "r": "Double-counted order #12" })).await;
    assert_eq!(down["adjustPoints"], json!({ "message": "Adjusted by -100 points", "currentPoints": 200, "lifetimePoints": 300 }));
    let (c, _, err) = app.error(q, json!({ "id": ann, "p": -500, "r": "too much" })).await;
    assert_eq!((c.as_str(), err["extensions"]["available"].as_i64()), ("INSUFFICIENT_POINTS", Some(200)));
    let (c, _, err) = app.error(q, json!({ "id": ann, "p": 50, "r": "  " })).await;
    assert_eq!((c.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("reason")));
    let up = app.data(q, json!({ "id": ann, "p": 50, "r": "Missed visit" })).await;
    assert_eq!(up["adjustPoints"]["currentPoints"], 250);
    let history = app.data("query($id: ID!) { customer(id: $id) { pointsHistory { kind points reason } } }", json!({ "id": ann })).await;
    assert_eq!(history["customer"]["pointsHistory"][0], json!({ "kind": "ADJUST", "points": 50, "reason": "Missed visit" }));
    assert_ledger_matches(&app).await;
});
