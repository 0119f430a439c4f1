//! Privacy and data quality: audit trail, consent history, export, erasure, merge.

use serde_json::json;

use crate::{add_points, assert_ledger_matches, both, create_customer, customer};

const PROFILE: &str = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";

both!(changes_consent_and_notes_are_audited, |app| async move {
    let id = app
        .data(PROFILE, json!({ "input": { "phone": "+14155550101", "name": "Ann", "email": "ann@example.com", "marketing": { "emailOptIn": true } } }))
        .await["upsertCustomer"]["customer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.data(PROFILE, json!({ "input": { "phone": "+14155550101", "name": "Ann Lee", "marketing": { "emailOptIn": false, "smsOptIn": true } } })).await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"VIP table\") { id } }", json!({ "id": id })).await;
    let log =
        app.data("query($id: ID) { auditLog(customerId: $id) { items { action actor requestId details } } }", json!({ "id": id })).await["auditLog"]["items"]
            .clone();
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["NOTE_ADDED", "CONSENT_CHANGED", "CONSENT_CHANGED", "CUSTOMER_UPDATED", "CONSENT_CHANGED", "CUSTOMER_CREATED"]);
    let updated = &log[3];
    assert_eq!(updated["details"]["changes"], json!({ "name": { "from": "Ann", "to": "Ann Lee" } }));
    assert_eq!(updated["actor"], "key:1:first admin key");
    assert!(updated["requestId"].as_str().unwrap().len() > 10, "the request id is kept");
    let consent: Vec<_> = log.as_array().unwrap().iter().filter(|e| e["action"] == "CONSENT_CHANGED").map(|e| e["details"].clone()).collect();
    assert!(consent.contains(&json!({ "flag": "emailOptIn", "from": true, "to": false, "source": "api" })), "{consent:?}");
    assert!(consent.contains(&json!({ "flag": "smsOptIn", "from": false, "to": true, "source": "api" })));
    assert!(consent.contains(&json!({ "flag": "emailOptIn", "from": null, "to": true, "source": "api" })), "opt-in at sign-up");

    let key = app.data("mutation { createApiKey(role: STAFF, name: \"POS 2\") { apiKey { prefix } } }", json!({})).await;
    let prefix = key["createApiKey"]["apiKey"]["prefix"].as_str().unwrap();
    let keys = app.data("{ auditLog(action: KEY_CREATED) { items { details } } }", json!({})).await["auditLog"]["items"].clone();
    assert!(keys.as_array().unwrap().iter().any(|e| e["details"]["prefix"] == prefix && e["details"]["role"] == "staff"));
});

both!(export_holds_everything_about_a_customer, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &id, 120).await;
    app.data(
        "mutation { recordOrder(input: { phone: \"+14155550101\", orderId: \"A1\", amount: 20, items: [{ itemId: \"soup\" }] }) { pointsEarned } }",
        json!({}),
    )
    .await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"likes soup\") { id } }", json!({ "id": id })).await;
    let doc = app.data("query($id: ID!) { exportCustomer(id: $id) }", json!({ "id": id })).await["exportCustomer"].clone();
    assert_eq!(doc["customer"]["name"], "Ann");
    assert_eq!(doc["customer"]["phone"], "+14155550101");
    assert_eq!(doc["pointsLedger"].as_array().unwrap().len(), 2);
    assert_eq!(doc["visits"][0]["order_id"], "A1");
    assert_eq!(doc["notes"][0]["note"], "likes soup");
    assert_eq!(doc["favoriteItems"][0]["item_id"], "soup");
    assert!(doc["auditLog"].as_array().unwrap().iter().any(|e| e["action"] == "customer.created"));
    let cli = app.cli(&["export-customer", &id]).await;
    let from_cli: serde_json::Value = serde_json::from_str(&cli).unwrap();
    assert_eq!(from_cli["customer"]["id"].as_i64().unwrap().to_string(), id);
});

both!(erasure_removes_personal_data_and_keeps_the_figures, |app| async move {
    let id = app
        .data(
            PROFILE,
            json!({ "input": { "phone": "+14155550101", "name": "Ann Lee", "email": "ann@example.com", "dateOfBirth": "1990-05-15",
            "preferences": { "allergies": ["peanuts"] }, "marketing": { "emailOptIn": true, "birthdayOffers": true } } }),
        )
        .await["upsertCustomer"]["customer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.data("mutation { recordOrder(input: { phone: \"+14155550101\", orderId: \"A1\", amount: 50 }) { pointsEarned } }", json!({})).await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"Ann's husband is Bob\") { id } }", json!({ "id": id })).await;
    let before = app.data("{ loyaltyStats { summary { totalRevenue totalPointsIssued totalCustomers } } }", json!({})).await;
    assert_eq!(app.data("query($id: ID!) { customer(id: $id) { erased } }", json!({ "id": id })).await["customer"]["erased"], false);

    let erased = app
        .data(
            "mutation($id: ID!) { eraseCustomer(id: $id) { name phone erased email dateOfBirth status marketing { emailOptIn } preferences { allergies } notes { items { note } } } }",
            json!({ "id": id }),
        )
        .await["eraseCustomer"]
        .clone();
    assert_eq!(
        erased,
        json!({ "name": "Erased customer", "phone": format!("erased-{id}"), "erased": true, "email": null, "dateOfBirth": null, "status": "INACTIVE",
                "marketing": { "emailOptIn": false }, "preferences": { "allergies": [] }, "notes": { "items": [] } })
    );
    let listed = app.data("{ customers(limit: 100) { items { id erased } } }", json!({})).await;
    let flags: Vec<(String, bool)> =
        listed["customers"]["items"].as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap().to_string(), c["erased"].as_bool().unwrap())).collect();
    assert!(flags.iter().all(|(cid, e)| *e == (*cid == id)), "only the erased member reads erased, also in a list (a narrow read): {flags:?}");
    let (code, _, _) = app.error("{ customer(phone: \"+14155550101\") { id } }", json!({})).await;
    assert_eq!(code, "NOT_FOUND", "no longer found by phone");
    assert_eq!(app.data("{ customers(filter: { search: \"ann@example.com\" }) { totalCount } }", json!({})).await["customers"]["totalCount"], 0);
    let after = app.data("{ loyaltyStats { summary { totalRevenue totalPointsIssued totalCustomers } } }", json!({})).await;
    assert_eq!(before, after, "aggregate figures stay right");
    let doc = app.data("query($id: ID!) { exportCustomer(id: $id) }", json!({ "id": id })).await["exportCustomer"].to_string();
    assert!(!doc.contains("Ann") && !doc.contains("ann@example.com") && !doc.contains("peanuts") && !doc.contains("1990-05-15"), "{doc}");
    let log = app.data("query($id: ID) { auditLog(customerId: $id, first: 1) { items { action } } }", json!({ "id": id })).await;
    assert_eq!(log["auditLog"]["items"][0]["action"], "CUSTOMER_ERASED");
});

both!(merging_duplicates_keeps_every_point_and_visit, |app| async move {
    let referrer = create_customer(&app, "+14155550100", "Ref").await;
    let code = customer(&app, &referrer).await["referral"]["referralCode"].as_str().unwrap().to_string();
    let target = create_customer(&app, "+14155550101", "Ann Lee").await;
    let source = app
        .data(PROFILE, json!({ "input": { "phone": "+14155550102", "name": "Ann L.", "email": "ann@example.com", "dateOfBirth": "1990-05-15", "referralCode": code, "segments": ["wine-club"] } }))
        .await["upsertCustomer"]["customer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let friend = app.data(PROFILE, json!({ "input": { "phone": "+14155550103", "name": "Friend" } })).await;
    let _ = friend;
    add_points(&app, &target, 700).await;
    add_points(&app, &source, 400).await;
    app.data("mutation($id: ID!) { redeemPoints(customerId: $id, points: 100) { currentPoints } }", json!({ "id": source })).await;
    app.data(
        "mutation { recordOrder(input: { phone: \"+14155550101\", orderId: \"T1\", amount: 30, items: [{ itemId: \"soup\" }] }) { pointsEarned } }",
        json!({}),
    )
    .await;
    app.data("mutation { recordOrder(input: { phone: \"+14155550102\", orderId: \"S1\", amount: 70, items: [{ itemId: \"soup\", quantity: 2 }, { itemId: \"pie\" }] }) { pointsEarned } }", json!({})).await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"duplicate\") { id } }", json!({ "id": source })).await;
    let reward =
        app.data("mutation { createReward(input: { name: \"Coffee\", pointsCost: 50, kind: FREE_ITEM, itemId: \"coffee\" }) { id } }", json!({})).await;
    let voucher = app
        .data(
            "mutation($c: ID!, $r: ID!) { redeemReward(customerId: $c, rewardId: $r) { voucher { code } } }",
            json!({ "c": source, "r": reward["createReward"]["id"] }),
        )
        .await["redeemReward"]["voucher"]["code"]
        .clone();

    let merged = app
        .data(
            "mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) { id name email dateOfBirth loyaltyTier segments
                loyaltyPoints { current lifetime redeemed } visitStats { totalVisits totalSpent }
                referral { referredBy { name } } notes { items { note } } preferences { favoriteItems { items { itemId orderCount } } } } }",
            json!({ "s": source, "t": target }),
        )
        .await["mergeCustomers"]
        .clone();
    assert_eq!(merged["name"], "Ann Lee", "the target's details win");
    assert_eq!(merged["email"], "ann@example.com", "missing details are taken over");
    assert_eq!(merged["dateOfBirth"], "1990-05-15");
    assert_eq!(merged["loyaltyPoints"], json!({ "current": 700 + 30 + 400 - 100 + 70 - 50, "lifetime": 1200, "redeemed": 150 }));
    let vouchers = app.data("query($id: ID!) { customer(id: $id) { vouchers { items { code status } } } }", json!({ "id": target })).await;
    assert_eq!(vouchers["customer"]["vouchers"]["items"], json!([{ "code": voucher, "status": "ISSUED" }]), "the duplicate's vouchers follow");
    assert_eq!(merged["loyaltyTier"], "SILVER");
    assert_eq!(merged["visitStats"], json!({ "totalVisits": 2, "totalSpent": 100.0 }));
    assert_eq!(merged["referral"]["referredBy"]["name"], "Ref");
    assert_eq!(merged["notes"]["items"], json!([{ "note": "duplicate" }]));
    assert_eq!(merged["preferences"]["favoriteItems"]["items"], json!([{ "itemId": "soup", "orderCount": 3 }, { "itemId": "pie", "orderCount": 1 }]));
    assert!(merged["segments"].as_array().unwrap().contains(&json!("wine-club")));
    let (code, _, _) = app.error("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": source })).await;
    assert_eq!(code, "NOT_FOUND", "the merged profile no longer answers");
    let (code, _, _) = app.error("query { customer(phone: \"+14155550102\") { id } }", json!({})).await;
    assert_eq!(code, "NOT_FOUND");
    assert_ledger_matches(&app).await;
    let (code, _, _) = app.error("mutation($t: ID!) { mergeCustomers(sourceId: $t, targetId: $t) { id } }", json!({ "t": target })).await;
    assert_eq!(code, "VALIDATION");
    let log = app.data("query($id: ID) { auditLog(customerId: $id, action: CUSTOMER_MERGED) { items { details } } }", json!({ "id": target })).await;
    assert_eq!(log["auditLog"]["items"][0]["details"]["sourceId"].as_i64().unwrap().to_string(), source);
});
