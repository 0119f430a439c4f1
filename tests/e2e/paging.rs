//! Cursor pages of the lists that grow (`first`/`after`, `pageInfo`): following `endCursor`
//! visits every row once, rows written meanwhile never shift a page, and a cursor of another
//! list (or no cursor at all) is refused.

use serde_json::{Value, json};

use crate::{both, create_customer};

const LOG: &str =
    "query($after: String) { auditLog(action: CUSTOMER_CREATED, first: 2, after: $after) { items { id customerId } pageInfo { hasNextPage endCursor } } }";

both!(cursor_pages_visit_every_row_once_while_rows_are_added, |app| async move {
    for i in 0..5 {
        create_customer(&app, &format!("+1415555020{i}"), &format!("Guest {i}")).await;
    }
    let (mut seen, mut after, mut pages) = (Vec::new(), Value::Null, 0);
    loop {
        let page = app.data(LOG, json!({ "after": after })).await["auditLog"].clone();
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["customerId"].as_str().unwrap().to_string()));
        pages += 1;
        if pages == 1 {
            // A member joining after the first page is newer: it never shows on later pages.
            create_customer(&app, "+14155550299", "Late").await;
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3, "5 rows in pages of 2");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5), "every row once: {seen:?}");

    let runs =
        app.data("{ jobRuns(first: 1) { pageInfo { endCursor } } deliveries(first: 1) { items { id } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    assert_eq!(runs["deliveries"], json!({ "items": [], "pageInfo": { "hasNextPage": false, "endCursor": null } }), "an empty page has no cursor");
    let first = app.data(LOG, json!({ "after": null })).await["auditLog"]["pageInfo"]["endCursor"].clone();
    for bad in [json!("not-a-cursor"), first.clone()] {
        let (code, _, err) = app.error("query($a: String) { jobRuns(after: $a) { items { id } } }", json!({ "a": bad })).await;
        assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("after")), "{bad}");
    }
    let (code, _, err) = app.error("{ rewards(first: 101) { items { id } } }", json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("first")));
});

both!(a_members_visits_page_by_when_they_happened, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    for i in 0..5 {
        app.data("mutation($c: ID!, $a: Money!) { recordVisit(customerId: $c, orderAmount: $a) { visitId } }", json!({ "c": ann, "a": 10 + i })).await;
    }
    // The second visit recorded happened before all the others (a visit recorded late).
    app.sql(&format!("UPDATE visits SET visited_at = {} WHERE amount_cents = 1100", app.days_ago_sql(30))).await;
    let q = "query($c: ID!, $after: String) { customer(id: $c) { visits(first: 2, after: $after) { items { amount } pageInfo { hasNextPage endCursor } } } }";
    let (mut amounts, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app.data(q, json!({ "c": ann, "after": after })).await["customer"]["visits"].clone();
        amounts.extend(page["items"].as_array().unwrap().iter().map(|v| v["amount"].as_f64().unwrap()));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(amounts, [14.0, 13.0, 12.0, 10.0, 11.0], "newest first by when they happened, each once");
});

/// Follows `field`'s pages (of `first`) on customer `id`, reading `key` of each item.
async fn follow(app: &crate::harness::TestApp, id: &str, field: &str, selection: &str, key: &str) -> Vec<Value> {
    let q = format!(
        "query($c: ID!, $after: String) {{ customer(id: $c) {{ {field}(first: 1, after: $after) {{ items {{ {selection} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
    );
    let (mut seen, mut after) = (Vec::new(), Value::Null);
    loop {
        let data = app.data(&q, json!({ "c": id, "after": after })).await;
        let page = field.split('.').fold(data["customer"].clone(), |v, f| v[f].clone());
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i[key].clone()));
        if page["pageInfo"]["hasNextPage"] == false {
            return seen;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

both!(rankings_and_dated_lists_page_in_their_own_order, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let order = "mutation($o: String!, $items: [OrderItemInput!]!) { recordOrder(input: { phone: \"+14155550101\", orderId: $o, amount: 5, items: $items }) { pointsEarned } }";
    app.data(
        order,
        json!({ "o": "1", "items": [{ "itemId": "soup", "quantity": 3 }, { "itemId": "bread", "quantity": 3 }, { "itemId": "wine", "quantity": 5 }] }),
    )
    .await;
    let q = "query($c: ID!, $after: String) { customer(id: $c) { preferences { favoriteItems(first: 1, after: $after) { items { itemId } pageInfo { hasNextPage endCursor } } } } }";
    let (mut items, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app.data(q, json!({ "c": ann, "after": after })).await["customer"]["preferences"]["favoriteItems"].clone();
        items.extend(page["items"].as_array().unwrap().iter().map(|i| i["itemId"].clone()));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(items, [json!("wine"), json!("bread"), json!("soup")], "most ordered first, ties by item id, each once");

    let add = "mutation($c: ID!, $n: String!, $d: Date!) { addSpecialOccasion(customerId: $c, name: $n, date: $d) { id } }";
    for (name, date) in [("Graduation", "2020-06-02"), ("Promotion", "2019-03-01"), ("Housewarming", "2021-01-15")] {
        app.data(add, json!({ "c": ann, "n": name, "d": date })).await;
    }
    let names = follow(&app, &ann, "specialOccasions", "name", "name").await;
    assert_eq!(names, [json!("Promotion"), json!("Graduation"), json!("Housewarming")], "by date");
});

both!(segments_page_automatic_ones_first_then_custom_ones_by_name, |app| async move {
    for name in ["zeta-club", "alpha-club", "mid-club"] {
        app.data("mutation($n: String!) { createSegment(input: { name: $n }) { name } }", json!({ "n": name })).await;
    }
    let q = "query($after: String) { segments(first: 4, after: $after) { items { name automatic } pageInfo { hasNextPage endCursor } } }";
    let (mut names, mut after, mut pages) = (Vec::new(), Value::Null, 0);
    loop {
        let page = app.data(q, json!({ "after": after })).await["segments"].clone();
        names.extend(page["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()));
        pages += 1;
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3, "6 automatic and 3 custom segments in pages of 4");
    assert_eq!(names[..6], ["new-customer", "frequent-visitor", "high-value", "vip", "at-risk", "dormant"]);
    assert_eq!(names[6..], ["alpha-club", "mid-club", "zeta-club"], "custom ones by name, each once");
});

both!(a_members_referrals_page_oldest_first, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let code = crate::customer(&app, &ann).await["referral"]["referralCode"].as_str().unwrap().to_string();
    for (i, name) in ["Bob", "Cat", "Dan"].iter().enumerate() {
        let input = json!({ "phone": format!("+1415555011{i}"), "name": name, "referralCode": code });
        app.data("mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created } }", json!({ "input": input })).await;
    }
    let q = "query($c: ID!, $after: String) { customer(id: $c) { referral { referrals(first: 2, after: $after) { items { name } pageInfo { hasNextPage endCursor } } } } }";
    let first = app.data(q, json!({ "c": ann, "after": null })).await["customer"]["referral"]["referrals"].clone();
    assert_eq!((first["items"].clone(), first["pageInfo"]["hasNextPage"].clone()), (json!([{ "name": "Bob" }, { "name": "Cat" }]), json!(true)));
    let next = app.data(q, json!({ "c": ann, "after": first["pageInfo"]["endCursor"] })).await["customer"]["referral"]["referrals"].clone();
    assert_eq!((next["items"].clone(), next["pageInfo"]["hasNextPage"].clone()), (json!([{ "name": "Dan" }]), json!(false)));
});
