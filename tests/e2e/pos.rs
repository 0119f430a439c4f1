//! What a POS or app needs beyond the spec's endpoints: moving a member to a new phone number
//! (also against racing changes and a concurrent edit of the same member), recording an order by
//! member id, and seeing a member's vouchers and the rewards they may redeem now.

use serde_json::{Value, json};

use crate::{add_points, assert_ledger_matches, both, create_customer};

const CHANGE: &str = "mutation($c: ID!, $p: String!) { changePhone(customerId: $c, phone: $p) { changed customer { id phone } } }";
const FIND: &str = "query($p: String!) { findCustomer(phone: $p) { id } }";
const ORDER: &str = "mutation($input: OrderInput!) { recordOrder(input: $input) { customerId pointsEarned currentPoints replayed } }";

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

both!(a_member_moves_to_a_new_phone_number, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let bob = create_customer(&app, "+14155550102", "Bob").await;
    let moved = app.data(CHANGE, json!({ "c": ann, "p": "(415) 555-0177" })).await;
    assert_eq!(moved["changePhone"], json!({ "changed": true, "customer": { "id": ann, "phone": "+14155550177" } }));
    assert_eq!(app.data(FIND, json!({ "p": "+14155550101" })).await["findCustomer"], Value::Null, "the old number finds no one");
    assert_eq!(app.data(FIND, json!({ "p": "+14155550177" })).await["findCustomer"]["id"], json!(ann));
    assert_eq!(app.data(FIND, json!({ "p": "(415) 555-0177" })).await["findCustomer"]["id"], json!(ann), "any format the region reads");
    // The numbering plan is asked only on a miss: a number no plan has is a typo, not a guest.
    let (c, _, err) = app.error(FIND, json!({ "p": "+1 200 555 0123" })).await;
    assert_eq!((c.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("phone")));
    let search = |digits: &'static str| {
        let app = &app;
        async move {
            app.data("query($s: String) { customers(filter: { search: $s }) { totalCount } }", json!({ "s": digits })).await["customers"]["totalCount"].clone()
        }
    };
    assert_eq!((search("0101").await, search("0177").await), (json!(0), json!(1)), "the last-four search follows the new number");
    let audit = app.data("query($id: ID!) { auditLog(customerId: $id, action: CUSTOMER_PHONE_CHANGED) { items { details } } }", json!({ "id": ann })).await;
    assert_eq!(audit["auditLog"]["items"][0]["details"]["changes"]["phone"], json!({ "from": "+14155550101", "to": "+14155550177" }), "{audit}");

    let same = app.data(CHANGE, json!({ "c": ann, "p": "+14155550177" })).await;
    assert_eq!(same["changePhone"]["changed"], false);
    let (c, message, _) = app.error(CHANGE, json!({ "c": ann, "p": "+14155550102" })).await;
    assert_eq!(c, "CONFLICT", "{message}");
    assert!(message.contains(&format!("customer {bob}")), "{message}");
    let (c, _, err) = app.error(CHANGE, json!({ "c": ann, "p": "not a number" })).await;
    assert_eq!((c.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("phone")));
    assert_eq!(app.data(FIND, json!({ "p": "+14155550177" })).await["findCustomer"]["id"], json!(ann), "a refused change changed nothing");
    let fresh = app.data("mutation { upsertCustomer(input: { phone: \"+14155550101\", name: \"New\" }) { created } }", json!({})).await;
    assert_eq!(fresh["upsertCustomer"]["created"], true, "the old number is free for a new member");

    let token = app.data("mutation($id: ID!) { createMemberToken(customerId: $id) { token } }", json!({ "id": ann })).await["createMemberToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    for (q, vars) in [
        (CHANGE, json!({ "c": ann, "p": "+14155550166" })),
        (ORDER, json!({ "input": { "customerId": ann, "orderId": "self-1", "amount": 500 } })),
        ("mutation { useVoucher(code: \"AAAAA-AAAAA\", orderId: \"o\") { replayed } }", json!({})),
    ] {
        let (_, body) = app.gql_as(Some(&token), q, vars).await;
        assert_eq!(code(&body), Some("FORBIDDEN"), "a member token may not {q}: {body}");
    }
    assert_eq!(app.data(FIND, json!({ "p": "+14155550177" })).await["findCustomer"]["id"], json!(ann), "the member's own token changed nothing");

    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { id } }", json!({ "id": bob })).await;
    let (c, _, _) = app.error(CHANGE, json!({ "c": bob, "p": "+14155550188" })).await;
    assert_eq!(c, "INVALID_STATE", "an erased member has no number to change");
});

both!(racing_phone_changes_keep_one_number_and_lose_no_points, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let cat = create_customer(&app, "+14155550103", "Cat").await;
    // Eight changes of Ann's number race eight point additions and eight edits of her dates
    // (which re-seal personal columns of the same row).
    let changes = (0..8).map(|i| {
        let (app, ann) = (&app, ann.clone());
        async move { app.gql(CHANGE, json!({ "c": ann, "p": format!("+1415555020{i}") })).await }
    });
    let points = (0..8).map(|_| add_points(&app, &ann, 10));
    let dates = (0..8).map(|i| {
        let (app, ann) = (&app, ann.clone());
        let edit = "mutation($c: ID!, $d: Date) { setCustomerDates(customerId: $c, dateOfBirth: $d) { id } }";
        async move { app.data(edit, json!({ "c": ann, "d": format!("1990-01-0{}", i + 1) })).await }
    });
    let all =
        futures_util::future::join3(futures_util::future::join_all(changes), futures_util::future::join_all(points), futures_util::future::join_all(dates));
    let (changed, _, _) = all.await;
    assert!(changed.iter().all(|b| b.get("errors").is_none() || code(b) == Some("CONFLICT")), "{changed:?}");
    let now = app.data("query($id: ID!) { customer(id: $id) { phone dateOfBirth loyaltyPoints { current } } }", json!({ "id": ann })).await;
    assert_eq!(now["customer"]["loyaltyPoints"]["current"], 80, "no change of the number lost points");
    let phone = now["customer"]["phone"].as_str().unwrap().to_string();
    let won: Vec<&str> = changed.iter().filter_map(|b| b["data"]["changePhone"]["customer"]["phone"].as_str()).collect();
    assert!(won.contains(&phone.as_str()), "the number is one a successful change set, not lost to a concurrent edit: {phone} of {won:?}");
    assert!(now["customer"]["dateOfBirth"].as_str().unwrap().starts_with("1990-01-0"), "{now}");
    for i in 0..8 {
        let number = format!("+1415555020{i}");
        let found = app.data(FIND, json!({ "p": number })).await["findCustomer"]["id"].clone();
        assert_eq!(found == json!(ann), number == phone, "only Ann's current number finds her ({number}, now {phone})");
    }

    // Two members racing for one free number: one gets it.
    let race = [&ann, &cat].map(|who| {
        let (app, who) = (&app, who.to_string());
        async move { app.gql(CHANGE, json!({ "c": who, "p": "+14155550299" })).await }
    });
    let results = futures_util::future::join_all(race).await;
    assert_eq!(results.iter().filter(|b| b.get("errors").is_none()).count(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|b| code(b) == Some("CONFLICT")).count(), 1, "{results:?}");
    assert_ledger_matches(&app).await;
});

both!(an_order_is_recorded_by_member_id, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let input = json!({ "customerId": ann, "orderId": "pos-1", "amount": 42.5 });
    let out = app.data(ORDER, json!({ "input": input })).await;
    assert_eq!(out["recordOrder"], json!({ "customerId": ann, "pointsEarned": 42, "currentPoints": 42, "replayed": false }));
    let again = app.data(ORDER, json!({ "input": input })).await;
    assert_eq!(again["recordOrder"]["replayed"], true, "the order id makes a retry harmless");
    for input in [json!({ "orderId": "pos-2", "amount": 5 }), json!({ "customerId": ann, "phone": "+14155550101", "orderId": "pos-2", "amount": 5 })] {
        let (c, _, err) = app.error(ORDER, json!({ "input": input })).await;
        assert_eq!((c.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("customerId")), "{input}");
    }
    let (c, _, _) = app.error(ORDER, json!({ "input": { "customerId": "999999", "orderId": "pos-3", "amount": 5 } })).await;
    assert_eq!(c, "NOT_FOUND");
    assert_ledger_matches(&app).await;
});

both!(the_pos_sees_vouchers_and_redeemable_rewards, |app| async move {
    let create = "mutation($input: RewardInput!) { createReward(input: $input) { id } }";
    let reward =
        |name: &str, cost: i64, tier: &str| json!({ "input": { "name": name, "pointsCost": cost, "kind": "FREE_ITEM", "itemId": name, "minTier": tier } });
    let coffee = app.data(create, reward("coffee", 100, "BRONZE")).await["createReward"]["id"].clone();
    app.data(create, reward("dessert", 250, "BRONZE")).await;
    app.data(create, reward("vip-dinner", 50, "PLATINUM")).await;
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let bob = create_customer(&app, "+14155550102", "Bob").await;
    add_points(&app, &ann, 300).await;
    add_points(&app, &bob, 120).await;
    let redeem = "mutation($c: ID!, $r: ID!) { redeemReward(customerId: $c, rewardId: $r) { voucher { code } } }";
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(app.data(redeem, json!({ "c": ann, "r": coffee })).await["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string());
    }
    app.data("mutation($c: String!) { useVoucher(code: $c, orderId: \"o-1\") { replayed } }", json!({ "c": codes[0] })).await;
    app.sql(&format!("UPDATE vouchers SET expires_at = {} WHERE code = '{}'", app.days_ago_sql(1), codes[1])).await;

    let list = "{ customers(sort: NAME) { items { name loyaltyPoints { current } redeemableRewards { name } all: vouchers { items { code } } usable: vouchers(usableOnly: true) { items { code usable } } } } }";
    let page = app.data(list, json!({})).await;
    let items = page["customers"]["items"].as_array().unwrap();
    assert_eq!(items[0]["loyaltyPoints"]["current"], 0, "Ann spent 300 on coffees");
    assert_eq!(items[0]["redeemableRewards"], json!([]));
    assert_eq!(items[0]["all"]["items"].as_array().unwrap().len(), 3);
    assert_eq!(items[0]["usable"]["items"], json!([{ "code": codes[2], "usable": true }]), "used and expired vouchers are left out");
    assert_eq!(items[1]["redeemableRewards"], json!([{ "name": "coffee" }]), "Bob's 120 points buy a coffee; the dinner is for platinum members");
    assert_eq!((items[1]["all"]["items"].clone(), items[1]["usable"]["items"].clone()), (json!([]), json!([])));
    let (c, _, _) = app.error("query($id: ID!) { customer(id: $id) { vouchers(first: 1000) { items { code } } } }", json!({ "id": ann })).await;
    assert_eq!(c, "VALIDATION", "a page has a maximum");
});
