//! `loyalty import orders`: a restaurant's past orders, each at its own time however long ago,
//! in any order: members end as if every order had come on time; importing again records
//! nothing twice; refused rows are reported by field; a dry run writes nothing; a member of
//! another restaurant is never matched.

use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::import::{file, rows_of};
use crate::{assert_ledger_matches, both};

const MEMBERS: &str = "mutation { importCustomers(rows: [
    { externalId: \"pos-1\", phone: \"+14155550171\", name: \"Ann Past\" },
    { externalId: \"pos-2\", phone: \"+14155550172\", name: \"Bob Past\" }]) { created } }";

/// Orders out of time order; line 6 has a bad amount, line 7 an unknown member.
const CSV: &str = "\
orderId,externalId,phone,occurredAt,amount,location,channel,items
P-3,pos-1,,2024-06-01T19:00:00Z,30.00,Harbour St,dine-in,soup:2:12.50;bread
P-1,pos-1,,2019-03-01T18:30:00Z,12.50,Harbour St,takeaway,soup
P-2,,(415) 555-0171,2021-11-20T12:00:00+01:00,980.00,Market Sq,dine-in,steak:1:980
P-4,pos-2,,2025-01-05T20:00:00Z,8.00,,delivery,
P-5,pos-2,,2025-01-06T20:00:00Z,abc,,,
P-6,pos-9,,2025-01-07T20:00:00Z,5.00,,,
";

const STATE: &str = "query($phone: String!) { findCustomer(phone: $phone) { loyaltyTier memberSince
    loyaltyPoints { current lifetime } visitStats { totalVisits firstVisit lastVisit totalSpent }
    preferences { favoriteItems { items { itemId orderCount } } }
    visits(first: 5) { items { orderId visitedAt location channel } } } }";

async fn import(app: &TestApp, path: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["import", "orders", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    app.cli(&args).await
}

both!(past_orders_arrive_at_their_own_times_and_once, |app| async move {
    app.data(MEMBERS, json!({})).await;
    let other = app.create_key("elsewhere", "admin").await;
    let (_, body) = app
        .gql_as(Some(&other), "mutation { importCustomers(rows: [{ externalId: \"pos-9\", phone: \"+14155550179\", name: \"Zed\" }]) { created } }", json!({}))
        .await;
    assert_eq!(body["data"]["importCustomers"]["created"], 1);
    let path = file(&app, "orders.csv", CSV);

    let dry = import(&app, &path, &["--dry-run"]).await;
    assert!(dry.contains("would record 4 orders") && dry.contains("2 refused"), "{dry}");
    let before = app.data(STATE, json!({ "phone": "+14155550171" })).await;
    assert_eq!(before["findCustomer"]["visitStats"]["totalVisits"], 0, "a dry run writes nothing");

    let out = import(&app, &path, &[]).await;
    assert!(out.contains("recorded 4 orders") && out.contains("0 already recorded") && out.contains("2 refused"), "{out}");
    let report = std::fs::read_to_string(format!("{}.errors.jsonl", path.display())).unwrap();
    let refused: Vec<Value> = report.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((refused[0]["line"].as_u64(), refused[0]["field"].as_str()), (Some(6), Some("amount")));
    assert_eq!(
        refused[1],
        json!({ "line": 7, "field": "externalId", "reason": "no member of the restaurant has it (import the members first)", "shape": "" }),
        "another restaurant's member with that externalId is not matched"
    );

    let ann = app.data(STATE, json!({ "phone": "+14155550171" })).await["findCustomer"].clone();
    assert_eq!(ann["visitStats"]["totalVisits"], 3);
    assert_eq!(ann["visitStats"]["totalSpent"], 1022.5);
    assert_eq!(ann["visitStats"]["firstVisit"], "2019-03-01T18:30:00+00:00");
    assert_eq!(ann["visitStats"]["lastVisit"], "2024-06-01T19:00:00+00:00");
    assert_eq!(ann["memberSince"], "2019-03-01T18:30:00+00:00", "a member since the first order");
    assert_eq!(ann["loyaltyPoints"], json!({ "current": 1022, "lifetime": 1022 }));
    assert_eq!(ann["loyaltyTier"], "SILVER");
    assert_eq!(
        ann["preferences"]["favoriteItems"]["items"],
        json!([{ "itemId": "soup", "orderCount": 3 }, { "itemId": "bread", "orderCount": 1 }, { "itemId": "steak", "orderCount": 1 }])
    );
    assert_eq!(
        ann["visits"]["items"][0],
        json!({ "orderId": "P-3", "visitedAt": "2024-06-01T19:00:00+00:00", "location": "Harbour St", "channel": "dine-in" })
    );
    assert_eq!(ann["visits"]["items"][1]["visitedAt"], "2021-11-20T11:00:00+00:00", "newest first by when they happened");

    let again = import(&app, &path, &[]).await;
    assert!(again.contains("recorded 0 orders") && again.contains("4 already recorded"), "{again}");
    let jsonl = file(
        &app,
        "more.jsonl",
        "{\"orderId\":\"P-7\",\"externalId\":\"pos-2\",\"occurredAt\":\"2025-02-01T12:00:00Z\",\"amount\":20,\"items\":[{\"itemId\":\"tea\",\"name\":\"Green tea\",\"quantity\":2,\"price\":20}]}\n",
    );
    let out = import(&app, &jsonl, &[]).await;
    assert!(out.contains("recorded 1 orders") && out.contains("none refused"), "{out}");
    let bob = app.data(STATE, json!({ "phone": "+14155550172" })).await["findCustomer"].clone();
    assert_eq!((bob["visitStats"]["totalVisits"].as_i64(), bob["loyaltyPoints"]["current"].as_i64()), (Some(2), Some(28)));
    let (_, theirs) = app.gql_as(Some(&other), STATE, json!({ "phone": "+14155550179" })).await;
    assert_eq!(theirs["data"]["findCustomer"]["visitStats"]["totalVisits"], 0, "another restaurant's member is untouched");
    assert_ledger_matches(&app).await;
});

// Members, then their orders with `--no-points` (the balances came with the members), move a
// restaurant into another with its history: the same balances, visit stats and favourites, and
// the orders export again as they were (JSON Lines and CSV alike).
both!(members_and_orders_move_with_their_history, |app| async move {
    app.data(MEMBERS, json!({})).await;
    import(&app, &file(&app, "orders.csv", CSV), &[]).await;
    let nat = crate::create_customer(&app, "+14155550178", "Native Nat").await;
    let order = "mutation($input: OrderInput!) { recordOrder(input: $input) { pointsEarned } }";
    let items = json!([{ "itemId": "menu:a", "quantity": 2, "price": 18 }, { "itemId": "tea", "quantity": 1 }]);
    app.data(order, json!({ "input": { "customerId": nat, "orderId": "N-1", "amount": 18, "channel": "online", "items": items } })).await;

    let export = |what: &'static str, restaurant: &'static str, format: &'static str| {
        let app = &app;
        async move { app.cli(&["export", what, "--restaurant", restaurant, "--format", format]).await }
    };
    let members = file(&app, "members.jsonl", &export("customers", "default", "jsonl").await);
    let orders = export("orders", "default", "jsonl").await;
    assert_eq!(orders.lines().count(), 5, "{orders}");
    assert!(orders.contains(&format!("\"externalId\":\"{nat}\"")) && orders.contains("\"menu:a\"") && orders.contains("\"18.00\""), "{orders}");
    let csv = export("orders", "default", "csv").await;
    assert!(csv.starts_with("orderId,externalId,phone,occurredAt,amount,location,channel,items\n") && csv.contains("soup:2:12.50;bread:1"), "{csv}");

    let mut keys = Vec::new();
    for (restaurant, orders_file) in [("other", file(&app, "o.jsonl", &orders)), ("third", file(&app, "o.csv", &csv))] {
        keys.push(app.create_key(restaurant, "admin").await);
        app.cli(&["import", "customers", members.to_str().unwrap(), "--restaurant", restaurant]).await;
        let out = app.cli(&["import", "orders", orders_file.to_str().unwrap(), "--restaurant", restaurant, "--no-points"]).await;
        assert!(out.contains("recorded 5 orders") && out.contains("none refused"), "{out}");
        let sorted = |text: &str| {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.sort();
            lines
        };
        assert_eq!(
            sorted(&export("orders", restaurant, "jsonl").await),
            sorted(&orders),
            "{restaurant}: the same orders (written by two writers, in another id order)"
        );
    }
    for phone in ["+14155550171", "+14155550172", "+14155550178"] {
        let ours = app.data(STATE, json!({ "phone": phone })).await["findCustomer"].clone();
        for key in &keys {
            let (_, theirs) = app.gql_as(Some(key), STATE, json!({ "phone": phone })).await;
            assert_eq!(theirs["data"]["findCustomer"], ours, "{phone}: the same balances, tier, visit stats, favourites and visits");
        }
    }
    assert_ledger_matches(&app).await;
});

// An order import killed midway loses at most the batch it was writing (a batch is one
// transaction); running it again records the rest, each order, ledger entry and visit once.
both!(an_order_import_killed_midway_resumes_to_exactly_one_of_each, |app| async move {
    const MEMBERS: usize = 100;
    const ORDERS: usize = 2_000;
    let members: String =
        (0..MEMBERS).map(|i| format!("{{\"externalId\":\"m-{i}\",\"phone\":\"+1415{:03}{:04}\",\"name\":\"Member {i}\"}}\n", 200 + i / 10, i)).collect();
    let out = app.cli(&["import", "customers", file(&app, "members.jsonl", &members).to_str().unwrap()]).await;
    assert!(out.contains(&format!("imported {MEMBERS} members")), "{out}");
    let orders: String = (0..ORDERS)
        .map(|j| {
            format!(
                "{{\"orderId\":\"k-{j}\",\"externalId\":\"m-{}\",\"occurredAt\":\"2024-01-01T12:00:00Z\",\"amount\":{},\"items\":[\"soup:1\"]}}\n",
                j % MEMBERS,
                5 + j % 20
            )
        })
        .collect();
    let path = file(&app, "orders.jsonl", &orders);
    let db = app.db().await;
    let mut child = app.cli_child(&["import", "orders", path.to_str().unwrap(), "--batch", "20"]);
    while rows_of(&db, "visits").await == 0 && child.try_wait().unwrap().is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    child.kill().await.ok();
    let before = rows_of(&db, "visits").await;
    assert!(before > 0 && before % 20 == 0, "killed after whole batches only: {before}");

    let out = import(&app, &path, &[]).await;
    assert!(out.contains(&format!("recorded {} orders", ORDERS as i64 - before)) && out.contains(&format!("{before} already recorded")), "{out}");
    assert_eq!(rows_of(&db, "visits").await, ORDERS as i64);
    assert_eq!(rows_of(&db, "point_transactions WHERE kind = 'earn'").await, ORDERS as i64, "one entry per order, none twice");
    assert_eq!(rows_of(&db, "favorite_items WHERE order_count <> 20").await, 0, "each member's 20 orders counted once");
    assert_ledger_matches(&app).await;
});

// An import racing the POS: while it records orders for ten members, the members earn points
// and staff rename them. Nothing is lost either way: every order earns once, every addition
// counts, balance = ledger, and each member keeps the last name staff gave them.
both!(an_order_import_racing_the_pos_loses_nothing, |app| async move {
    let members: String = (0..10).map(|i| format!("{{\"externalId\":\"r-{i}\",\"phone\":\"+1415300{:04}\",\"name\":\"Racer {i}\"}}\n", i)).collect();
    app.cli(&["import", "customers", file(&app, "racers.jsonl", &members).to_str().unwrap()]).await;
    let orders: String = (0..600)
        .map(|j| format!("{{\"orderId\":\"race-{j}\",\"externalId\":\"r-{}\",\"occurredAt\":\"2024-02-01T12:00:00Z\",\"amount\":10}}\n", j % 10))
        .collect();
    let path = file(&app, "race.jsonl", &orders);
    let mut child = app.cli_child(&["import", "orders", path.to_str().unwrap(), "--batch", "25"]);
    let (mut added, mut round) = (0i64, 0u32);
    let upsert = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
    while child.try_wait().unwrap().is_none() || round < 3 {
        let i = round % 10;
        let phone = format!("+1415300{:04}", i);
        let id = app.data(upsert, json!({ "input": { "phone": phone, "name": format!("Racer {i} v{round}") } })).await["upsertCustomer"]["customer"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 3) { currentPoints } }", json!({ "c": id })).await;
        added += 3;
        round += 1;
    }
    assert!(child.wait().await.unwrap().success());
    let sum = app.data("{ customers(limit: 20) { items { name loyaltyPoints { current } visitStats { totalVisits } } } }", json!({})).await;
    let items = sum["customers"]["items"].as_array().unwrap();
    let points: i64 = items.iter().map(|c| c["loyaltyPoints"]["current"].as_i64().unwrap()).sum();
    let visits: i64 = items.iter().map(|c| c["visitStats"]["totalVisits"].as_i64().unwrap()).sum();
    assert_eq!((visits, points), (600, 600 * 10 + added), "every order once, every addition kept");
    for r in (round.saturating_sub(10)..round).map(|r| format!("Racer {} v{r}", r % 10)) {
        assert!(items.iter().any(|c| c["name"] == r.as_str()), "{r}: the last rename stands: {items:?}");
    }
    assert_ledger_matches(&app).await;
});
