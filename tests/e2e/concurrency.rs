//! Shared counters under racing callers and a concurrent edit of the same row: no write puts
//! back a column it did not change, so an edit never undoes what the racing callers counted
//! (docs/architecture.md lists every such counter and what serialises it).

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::{add_points, both, create_customer};

// Twelve members redeem a reward with six in stock while an admin edits its description
// twelve times: exactly six vouchers, the stock ends at zero.
both!(editing_a_reward_while_members_redeem_it_never_oversells, |app| async move {
    let created = app
        .data("mutation { createReward(input: { name: \"Dessert\", pointsCost: 10, kind: FREE_ITEM, itemId: \"cake\", stock: 6 }) { id } }", json!({}))
        .await;
    let reward = created["createReward"]["id"].as_str().unwrap().to_string();
    let mut members = Vec::new();
    for i in 0..12 {
        let id = create_customer(&app, &format!("+1415555{:04}", 5000 + i), &format!("Member {i}")).await;
        add_points(&app, &id, 100).await;
        members.push(id);
    }
    let redeem = "mutation($c: ID!, $r: ID!) { redeemReward(customerId: $c, rewardId: $r) { voucher { code } } }";
    let edit = "mutation($r: ID!, $d: String!) { updateReward(id: $r, input: { description: $d }) { id } }";
    let redeems = members.iter().map(|c| app.gql(redeem, json!({ "c": c, "r": reward })));
    let edits = (0..12).map(|i| app.gql(edit, json!({ "r": reward, "d": format!("edit {i}") })));
    let (redeemed, edited): (Vec<Value>, Vec<Value>) = futures_util::future::join(join_all(redeems), join_all(edits)).await;
    assert!(edited.iter().all(|b| b.get("errors").is_none()), "every edit went through: {edited:?}");
    let issued = redeemed.iter().filter(|b| b.get("errors").is_none()).count();
    let refused: Vec<&Value> = redeemed.iter().filter_map(|b| b.get("errors")).collect();
    assert!(refused.iter().all(|e| e[0]["extensions"]["code"] == "REWARD_UNAVAILABLE"), "{refused:?}");
    let left = app.data("{ rewards { items { id stock } } }", json!({})).await;
    let stock = left["rewards"]["items"].as_array().unwrap().iter().find(|r| r["id"] == reward.as_str()).unwrap()["stock"].clone();
    assert_eq!((issued, stock), (6, json!(0)), "six sold, none left");
});

// Twenty-one terminals void one voucher while its reward is edited: one voids it, every other
// hears `VOUCHER_VOIDED`; the points and the stock come back once.
both!(racing_voids_give_back_once_and_the_losers_hear_voided, |app| async move {
    let created = app
        .data("mutation { createReward(input: { name: \"Coffee\", pointsCost: 40, kind: FREE_ITEM, itemId: \"coffee\", stock: 3 }) { id } }", json!({}))
        .await;
    let reward = created["createReward"]["id"].as_str().unwrap().to_string();
    let ann = create_customer(&app, "+14155550140", "Ann").await;
    add_points(&app, &ann, 100).await;
    let issued =
        app.data("mutation($c: ID!, $r: ID!) { redeemReward(customerId: $c, rewardId: $r) { voucher { code } } }", json!({ "c": ann, "r": reward })).await;
    let code = issued["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string();
    let voids = (0..21).map(|_| app.gql("mutation($c: String!) { voidVoucher(code: $c) { status } }", json!({ "c": code })));
    let edits = (0..5).map(|i| {
        app.gql("mutation($r: ID!, $d: String!) { updateReward(id: $r, input: { description: $d }) { id } }", json!({ "r": reward, "d": format!("edit {i}") }))
    });
    let (outcomes, _): (Vec<Value>, Vec<Value>) = futures_util::future::join(join_all(voids), join_all(edits)).await;
    let won = outcomes.iter().filter(|b| b.get("errors").is_none()).count();
    let codes: Vec<&str> = outcomes.iter().filter_map(|b| b["errors"][0]["extensions"]["code"].as_str()).collect();
    assert_eq!(won, 1, "{outcomes:?}");
    assert!(codes.iter().all(|c| *c == "VOUCHER_VOIDED"), "{codes:?}");
    let member = app.data("query($id: ID!) { customer(id: $id) { loyaltyPoints { current } } }", json!({ "id": ann })).await;
    assert_eq!(member["customer"]["loyaltyPoints"]["current"], 100, "the points came back once");
    let rewards = app.data("{ rewards { items { id stock } } }", json!({})).await;
    let stock = rewards["rewards"]["items"].as_array().unwrap().iter().find(|r| r["id"] == reward.as_str()).unwrap()["stock"].clone();
    assert_eq!(stock, json!(3), "the stock came back once");
    crate::assert_ledger_matches(&app).await;
});

const EDIT: &str = "mutation($p: String!, $n: String!) { upsertCustomer(input: { phone: $p, name: $n }) { created } }";
const MEMBER: &str = "query($id: ID!) { customer(id: $id) { name loyaltyPoints { current lifetime redeemed } visitStats { totalVisits totalSpent }
    feedback { totalReviews averageRating } preferences { favoriteItems { items { itemId orderCount } } } } }";

// Points, visits, orders (favourite counts) and reviews of one member, each written by racing
// callers while staff edit the same member's profile: every count is exact and the last edit's
// name stands.
both!(racing_writers_and_profile_edits_of_one_member_lose_nothing, |app| async move {
    let phone = "+14155550160";
    let ann = create_customer(&app, phone, "Ann").await;
    let edits = |round: usize| (0..8).map(move |i| (EDIT, json!({ "p": phone, "n": format!("Ann {round}-{i}") })));
    let run = |calls: Vec<(&'static str, Value)>| {
        let app = &app;
        async move {
            let results = join_all(calls.into_iter().map(|(q, v)| async move { app.gql(q, v).await })).await;
            for body in &results {
                assert!(body.get("errors").is_none(), "{body}");
            }
        }
    };

    let mut calls: Vec<(&'static str, Value)> =
        (0..20).map(|_| ("mutation($id: ID!) { addPoints(customerId: $id, points: 10) { currentPoints } }", json!({ "id": ann }))).collect();
    calls.extend(edits(0));
    run(calls).await;
    let mut calls: Vec<(&'static str, Value)> =
        (0..10).map(|_| ("mutation($id: ID!) { redeemPoints(customerId: $id, points: 5) { currentPoints } }", json!({ "id": ann }))).collect();
    calls.extend((0..10).map(|_| ("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 10) { visitId } }", json!({ "id": ann }))));
    calls.extend(edits(1));
    run(calls).await;
    let order = "mutation($input: OrderInput!) { recordOrder(input: $input) { pointsEarned } }";
    let mut calls: Vec<(&'static str, Value)> = (0..10)
        .map(|i| (order, json!({ "input": { "phone": phone, "orderId": format!("race-{i}"), "amount": 20, "items": [{ "itemId": "soup" }] } })))
        .collect();
    calls.extend((0..10).map(|_| ("mutation($id: ID!) { recordFeedback(customerId: $id, rating: 4) { replayed } }", json!({ "id": ann }))));
    calls.extend(edits(2));
    run(calls).await;

    let m = app.data(MEMBER, json!({ "id": ann })).await["customer"].clone();
    assert_eq!(m["loyaltyPoints"], json!({ "current": 350, "lifetime": 400, "redeemed": 50 }), "200 added, 50 redeemed, 200 earned by orders: {m}");
    assert_eq!(m["visitStats"], json!({ "totalVisits": 20, "totalSpent": 300.0 }), "{m}");
    assert_eq!(m["feedback"]["totalReviews"], 10);
    assert_eq!(m["preferences"]["favoriteItems"]["items"], json!([{ "itemId": "soup", "orderCount": 10 }]));
    assert!(m["name"].as_str().unwrap().starts_with("Ann 2-"), "an edit of the last round stands: {m}");
    crate::assert_ledger_matches(&app).await;
});

// A merge while the target earns points from racing terminals and staff edit it: the merged
// balance holds every point of both, and equals the ledger.
both!(a_merge_under_racing_points_loses_none, |app| async move {
    let target = create_customer(&app, "+14155550170", "Tia").await;
    let source = create_customer(&app, "+14155550171", "Tia Duplicate").await;
    add_points(&app, &target, 100).await;
    add_points(&app, &source, 40).await;
    let add = "mutation($id: ID!) { addPoints(customerId: $id, points: 5) { currentPoints } }";
    let mut calls: Vec<(&'static str, Value)> = (0..20).map(|_| (add, json!({ "id": target }))).collect();
    calls.insert(10, ("mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) { id } }", json!({ "s": source, "t": target })));
    calls.extend((0..5).map(|i| (EDIT, json!({ "p": "+14155550170", "n": format!("Tia {i}") }))));
    let results = join_all(calls.into_iter().map(|(q, v)| {
        let app = &app;
        async move { app.gql(q, v).await }
    }))
    .await;
    assert!(results.iter().all(|b| b.get("errors").is_none()), "{results:?}");
    let m = app.data(MEMBER, json!({ "id": target })).await["customer"].clone();
    assert_eq!(m["loyaltyPoints"]["current"], 240, "100 + 40 merged + 20 × 5: {m}");
    crate::assert_ledger_matches(&app).await;
});

// Ten terminals refund 5.00 each of a 40.00 order while staff edit the member: exactly eight go
// through, the rest are refused, the points taken back add up to the order's.
both!(racing_partial_refunds_never_refund_more_than_the_charge, |app| async move {
    let ann = create_customer(&app, "+14155550180", "Ann").await;
    let order = json!({ "input": { "phone": "+14155550180", "orderId": "R-1", "amount": 40, "items": [{ "itemId": "soup", "quantity": 8 }] } });
    app.data("mutation($input: OrderInput!) { recordOrder(input: $input) { pointsEarned } }", order).await;
    let refund = "mutation($input: RefundInput!) { refundOrder(input: $input) { refunded } }";
    let mut calls: Vec<(&'static str, Value)> = (0..10)
        .map(|i| (refund, json!({ "input": { "orderId": "R-1", "amount": 5, "items": [{ "itemId": "soup" }], "refundId": format!("t-{i}") } })))
        .collect();
    calls.extend((0..5).map(|i| (EDIT, json!({ "p": "+14155550180", "n": format!("Ann {i}") }))));
    let results = join_all(calls.into_iter().map(|(q, v)| {
        let app = &app;
        async move { app.gql(q, v).await }
    }))
    .await;
    let refunded = results.iter().filter(|b| b["data"]["refundOrder"]["refunded"] == 5.0).count();
    let refused: Vec<&str> = results.iter().filter_map(|b| b["errors"][0]["extensions"]["code"].as_str()).collect();
    assert_eq!(refunded, 8, "{results:?}");
    assert!(refused.iter().all(|c| *c == "VALIDATION" || *c == "INVALID_STATE"), "{refused:?}");
    let m = app.data(MEMBER, json!({ "id": ann })).await["customer"].clone();
    assert_eq!((m["loyaltyPoints"]["current"].as_i64(), m["visitStats"]["totalSpent"].as_f64()), (Some(0), Some(0.0)), "{m}");
    assert_eq!(m["preferences"]["favoriteItems"]["items"], json!([]), "every soup taken back once: {m}");
    crate::assert_ledger_matches(&app).await;
});

// Ten friends join at once with one member's referral code while staff edit that member: ten
// referrals, ten bonuses, each once.
both!(racing_referrals_count_each_friend_once, |app| async move {
    let ann = create_customer(&app, "+14155550190", "Ann").await;
    let code =
        app.data("query($id: ID!) { customer(id: $id) { referral { referralCode } } }", json!({ "id": ann })).await["customer"]["referral"]["referralCode"]
            .as_str()
            .unwrap()
            .to_string();
    let join = "mutation($p: String!, $c: String!) { upsertCustomer(input: { phone: $p, name: \"Friend\", referralCode: $c }) { created } }";
    let mut calls: Vec<(&'static str, Value)> = (0..10).map(|i| (join, json!({ "p": format!("+1415555{:04}", 6100 + i), "c": code }))).collect();
    calls.extend((0..5).map(|i| (EDIT, json!({ "p": "+14155550190", "n": format!("Ann {i}") }))));
    let results = join_all(calls.into_iter().map(|(q, v)| {
        let app = &app;
        async move { app.gql(q, v).await }
    }))
    .await;
    assert!(results.iter().all(|b| b.get("errors").is_none()), "{results:?}");
    let r =
        app.data("query($id: ID!) { customer(id: $id) { referral { referralsCount referralRewards } loyaltyPoints { current } } }", json!({ "id": ann })).await;
    assert_eq!(r["customer"]["referral"], json!({ "referralsCount": 10, "referralRewards": 1000 }), "{r}");
    assert_eq!(r["customer"]["loyaltyPoints"]["current"], 1000);
    crate::assert_ledger_matches(&app).await;
});
