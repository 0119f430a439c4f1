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
        .data(
            "mutation { createReward(input: { name: \"Dessert\", pointsCost: 10, kind: FREE_ITEM, itemId: \"cake\", stock: 6 }) { id } }",
            json!({}),
        )
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
    let left = app.data("{ rewards { id stock } }", json!({})).await;
    let stock = left["rewards"].as_array().unwrap().iter().find(|r| r["id"] == reward.as_str()).unwrap()["stock"].clone();
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
    let issued = app.data("mutation($c: ID!, $r: ID!) { redeemReward(customerId: $c, rewardId: $r) { voucher { code } } }", json!({ "c": ann, "r": reward })).await;
    let code = issued["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string();
    let voids = (0..21).map(|_| app.gql("mutation($c: String!) { voidVoucher(code: $c) { status } }", json!({ "c": code })));
    let edits = (0..5).map(|i| app.gql("mutation($r: ID!, $d: String!) { updateReward(id: $r, input: { description: $d }) { id } }", json!({ "r": reward, "d": format!("edit {i}") })));
    let (outcomes, _): (Vec<Value>, Vec<Value>) = futures_util::future::join(join_all(voids), join_all(edits)).await;
    let won = outcomes.iter().filter(|b| b.get("errors").is_none()).count();
    let codes: Vec<&str> = outcomes.iter().filter_map(|b| b["errors"][0]["extensions"]["code"].as_str()).collect();
    assert_eq!(won, 1, "{outcomes:?}");
    assert!(codes.iter().all(|c| *c == "VOUCHER_VOIDED"), "{codes:?}");
    let member = app.data("query($id: ID!) { customer(id: $id) { loyaltyPoints { current } } }", json!({ "id": ann })).await;
    assert_eq!(member["customer"]["loyaltyPoints"]["current"], 100, "the points came back once");
    let rewards = app.data("{ rewards { id stock } }", json!({})).await;
    let stock = rewards["rewards"].as_array().unwrap().iter().find(|r| r["id"] == reward.as_str()).unwrap()["stock"].clone();
    assert_eq!(stock, json!(3), "the stock came back once");
    crate::assert_ledger_matches(&app).await;
});
