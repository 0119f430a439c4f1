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
const USE: &str = "mutation($code: String!, $o: String!) { useVoucher(code: $code, orderId: $o) { replayed voucher { status redeemedOrderId } } }";

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

both!(a_reward_becomes_a_voucher_the_pos_uses_exactly_once, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &ann, 1_200).await;
    let dessert = app
        .data(
            CREATE,
            json!({ "input": { "name": "Free tiramisu", "pointsCost": 500, "kind": "FREE_ITEM", "itemId": "tiramisu", "minTier": "SILVER", "stock": 5 } }),
        )
        .await;
    let dessert_id = dessert["createReward"]["id"].as_str().unwrap().to_string();
    let vip =
        app.data(CREATE, json!({ "input": { "name": "VIP dinner", "pointsCost": 100, "kind": "PERCENT_OFF", "percentOff": 20, "minTier": "VIP" } })).await;
    let (c, _, err) = app.error(CREATE, json!({ "input": { "name": "Broken", "pointsCost": 100, "kind": "AMOUNT_OFF" } })).await;
    assert_eq!((c.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("amountOff")));
    let staff = app.create_key("default", "staff").await;
    let (_, body) = app.gql_as(Some(&staff), CREATE, json!({ "input": { "name": "x", "pointsCost": 1, "kind": "FREE_ITEM", "itemId": "x" } })).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "only admins manage the catalogue");

    let (c, message, _) = app.error(REDEEM, json!({ "c": ann, "r": vip["createReward"]["id"] })).await;
    assert_eq!(c, "REWARD_UNAVAILABLE", "{message}");
    let out = app.data(REDEEM, json!({ "c": ann, "r": dessert_id, "k": "app-1" })).await["redeemReward"].clone();
    assert_eq!(out["points"], json!({ "currentPoints": 700, "redeemedPoints": 500 }));
    assert_eq!(
        (out["voucher"]["kind"].as_str(), out["voucher"]["itemId"].as_str(), out["voucher"]["usable"].as_bool()),
        (Some("FREE_ITEM"), Some("tiramisu"), Some(true))
    );
    let again = app.data(REDEEM, json!({ "c": ann, "r": dessert_id, "k": "app-1" })).await["redeemReward"].clone();
    assert_eq!((again["replayed"].as_bool(), &again["voucher"]["code"]), (Some(true), &out["voucher"]["code"]), "a retry issues nothing new");
    let code_ = out["voucher"]["code"].as_str().unwrap().to_string();

    let typed = code_.to_lowercase().replace('-', " ");
    let checked = app.data(CHECK, json!({ "code": typed })).await;
    assert_eq!(checked["voucher"]["usable"], true, "the POS may type it in any case: {checked}");
    let used = app.data(USE, json!({ "code": code_, "o": "pos-1" })).await;
    assert_eq!(used["useVoucher"], json!({ "replayed": false, "voucher": { "status": "REDEEMED", "redeemedOrderId": "pos-1" } }));
    let retried = app.data(USE, json!({ "code": code_, "o": "pos-1" })).await;
    assert_eq!(retried["useVoucher"]["replayed"], true, "the same order again is a retry, not a second use: {retried}");
    let (c, _, _) = app.error(USE, json!({ "code": code_, "o": "pos-2" })).await;
    assert_eq!(c, "ALREADY_REDEEMED");
    let checked = app.data(CHECK, json!({ "code": code_ })).await;
    assert_eq!((checked["voucher"]["usable"].as_bool(), checked["voucher"]["unusableBecause"].as_str()), (Some(false), Some("ALREADY_REDEEMED")));
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
    let list = app.data("query($id: ID!) { customer(id: $id) { vouchers { items { status } } } rewards { items { name stock } } }", json!({ "id": ann })).await;
    assert_eq!(list["customer"]["vouchers"]["items"].as_array().unwrap().len(), 4);
    assert_eq!(list["rewards"]["items"][1], json!({ "name": "Free tiramisu", "stock": 2 }), "three vouchers hold stock, the voided one gave its back");

    let token = app.data("mutation($id: ID!) { createMemberToken(customerId: $id) { token } }", json!({ "id": ann })).await["createMemberToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, mine) = app.gql_as(Some(&token), "{ me { vouchers { items { status usable } } } }", json!({})).await;
    assert_eq!(mine["data"]["me"]["vouchers"]["items"].as_array().map(Vec::len), Some(4), "the member's app lists their vouchers: {mine}");

    // Another restaurant reaches none of it.
    let other = app.create_key("elsewhere", "admin").await;
    for (q, vars) in [
        (CHECK, json!({ "code": second })),
        (USE, json!({ "code": code_, "o": "x" })),
        ("mutation($c: String!) { voidVoucher(code: $c) { status } }", json!({ "c": third })),
        (REDEEM, json!({ "c": ann, "r": dessert_id })),
        ("query($id: ID!) { customer(id: $id) { vouchers { items { code } } } }", json!({ "id": ann })),
        ("mutation($r: ID!) { updateReward(id: $r, input: { name: \"stolen\" }) { id } }", json!({ "r": dessert_id })),
    ] {
        let (_, body) = app.gql_as(Some(&other), q, vars).await;
        assert_eq!(code(&body), Some("NOT_FOUND"), "{q}: {body}");
    }
    let (_, body) = app.gql_as(Some(&other), "{ rewards { items { id } } }", json!({})).await;
    assert_eq!(body["data"]["rewards"]["items"], json!([]));
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
    let history = app.data("query($id: ID!) { customer(id: $id) { pointsHistory { items { kind points reason } } } }", json!({ "id": ann })).await;
    assert_eq!(history["customer"]["pointsHistory"]["items"][0], json!({ "kind": "ADJUST", "points": 50, "reason": "Missed visit" }));
    assert_ledger_matches(&app).await;
});

async fn birthday_and_win_back_emails_carry_a_voucher_the_pos_redeems_once(backend: crate::harness::Backend) {
    use chrono::Utc;
    let sink = crate::smtp::SmtpSink::start().await;
    let app = crate::harness::TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url()), ("LOYALTY_MAIL_RETRY_SECS", "0")]).await;
    app.data(
        "mutation { updateRestaurant(input: { timezone: \"UTC\", winBackVoucherPercent: 15, benefitVoucherDays: 14 }) { winBackVoucherPercent } }",
        json!({}),
    )
    .await;
    let today = Utc::now().date_naive();
    let upsert = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
    let consent = json!({ "emailOptIn": true, "birthdayOffers": true, "specialOffers": true });
    let ann = app.data(upsert, json!({ "input": { "phone": "+14155550101", "name": "Ann", "email": "ann@example.com", "dateOfBirth": format!("1992-{}", today.format("%m-%d")), "marketing": consent } })).await;
    let ann = ann["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    add_points(&app, &ann, 3_000).await;
    let bob = app.data(upsert, json!({ "input": { "phone": "+14155550102", "name": "Bob", "email": "bob@example.com", "dateOfBirth": format!("1992-{}", today.format("%m-%d")), "marketing": consent } })).await;
    let bob = bob["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();

    let run = |job: &'static str| {
        let app = &app;
        async move { app.data("mutation($j: JobName!) { runJob(job: $j) { run { sent } } }", json!({ "j": job })).await["runJob"]["run"]["sent"].clone() }
    };
    assert_eq!(run("BIRTHDAY").await, 2);
    let mails = sink.wait_for(2).await;
    let text_of = |to: &str| mails.iter().find(|m| m.to == vec![to.to_string()]).unwrap().parsed().body_text(0).unwrap().replace("\r\n", "\n");
    let ann_text = text_of("ann@example.com");
    let vouchers = app.data("query($c: ID!) { customer(id: $c) { vouchers { items { code title percentOff status expiresAt } } } }", json!({ "c": ann })).await;
    let voucher = &vouchers["customer"]["vouchers"]["items"][0];
    assert_eq!((voucher["title"].as_str(), voucher["percentOff"].as_i64()), (Some("Birthday: 10% off"), Some(10)), "gold: 10% off: {vouchers}");
    let code_text = voucher["code"].as_str().unwrap().to_string();
    assert!(
        ann_text.contains(&format!(
            "10% off\nShow this code when you pay: {code_text}\nValid until {}",
            (today + chrono::Duration::days(14)).format("%A, %B %-d, %Y")
        )),
        "{ann_text}"
    );
    assert!(!text_of("bob@example.com").contains("Show this code"), "bronze has no discount, so no voucher");
    assert_eq!(
        app.data("query($c: ID!) { customer(id: $c) { vouchers { items { code } } } }", json!({ "c": bob })).await["customer"]["vouchers"]["items"],
        json!([])
    );

    let check = app.data(CHECK, json!({ "code": code_text })).await;
    assert_eq!((check["voucher"]["usable"].as_bool(), check["voucher"]["percentOff"].as_i64()), (Some(true), Some(10)));
    app.data(USE, json!({ "code": code_text, "o": "order-1" })).await;
    let again = app.gql(USE, json!({ "code": code_text, "o": "order-2" })).await;
    assert_eq!(code(&again), Some("ALREADY_REDEEMED"));

    app.sql(&format!("DELETE FROM email_deliveries WHERE customer_id = {ann}")).await;
    assert_eq!(run("BIRTHDAY").await, 1, "the email is written again (its row was removed)");
    let vouchers = app.data("query($c: ID!) { customer(id: $c) { vouchers { items { code } } } }", json!({ "c": ann })).await;
    assert_eq!(vouchers["customer"]["vouchers"]["items"].as_array().unwrap().len(), 1, "one birthday voucher a year, whatever reruns do");
    let resent = sink.wait_for(3).await;
    assert!(resent[2].parsed().body_text(0).unwrap().contains(&code_text), "the same code again");

    app.sql(&format!("UPDATE customers SET status = 'dormant' WHERE id = {bob}")).await;
    assert_eq!(run("WIN_BACK").await, 1);
    let bob_vouchers = app.data("query($c: ID!) { customer(id: $c) { vouchers { items { code title percentOff } } } }", json!({ "c": bob })).await;
    assert_eq!(bob_vouchers["customer"]["vouchers"]["items"][0]["title"], "Welcome back: 15% off");
    let win_back = sink.wait_for(4).await;
    assert!(win_back[3].parsed().body_text(0).unwrap().contains(bob_vouchers["customer"]["vouchers"]["items"][0]["code"].as_str().unwrap()));
    assert_ledger_matches(&app).await;
}

crate::on_both!(birthday_and_win_back_emails_carry_a_voucher_the_pos_redeems_once);
