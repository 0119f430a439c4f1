//! Spec endpoints 1–3: create-or-update by phone, lookups, the filtered and paginated list.

use serde_json::json;

use crate::{CUSTOMER_FIELDS, add_points, both, create_customer, customer};

const UPSERT: &str = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created message customer {
    id phone email name dateOfBirth anniversary loyaltyTier status tags segments userId
    loyaltyPoints { current lifetime redeemed }
    preferences { dietaryRestrictions allergies spiceLevel preferredSeating }
    marketing { emailOptIn smsOptIn pushNotifications specialOffers birthdayOffers anniversaryOffers }
    referral { referralCode referredBy { id } referralsCount referralRewards } } } }";

both!(create_then_update_by_phone, |app| async move {
    let created = app
        .data(
            UPSERT,
            json!({ "input": {
                "userId": "USER_ID", "phone": "+1 (415) 555-0123", "email": " John@Example.com ", "name": "  John   Doe ",
                "dateOfBirth": "1990-05-15", "anniversary": "2015-06-20",
                "preferences": { "dietaryRestrictions": ["Vegetarian"], "spiceLevel": "MEDIUM" },
                "marketing": { "emailOptIn": true, "smsOptIn": true }
            }}),
        )
        .await["upsertCustomer"]
        .clone();
    assert_eq!(created["created"], true);
    assert_eq!(created["message"], "Customer profile created");
    let c = &created["customer"];
    assert_eq!(c["phone"], "+14155550123");
    assert_eq!(c["email"], "john@example.com");
    assert_eq!(c["name"], "John Doe");
    assert_eq!(c["loyaltyTier"], "BRONZE");
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["loyaltyPoints"], json!({ "current": 0, "lifetime": 0, "redeemed": 0 }));
    assert_eq!(c["preferences"]["dietaryRestrictions"], json!(["vegetarian"]));
    assert_eq!(c["preferences"]["spiceLevel"], "MEDIUM");
    assert_eq!(c["marketing"]["emailOptIn"], true);
    assert_eq!(c["marketing"]["birthdayOffers"], false);
    let code = c["referral"]["referralCode"].as_str().unwrap();
    assert!(code.starts_with("JOH") && code.len() == 9, "referral code {code}");

    let updated = app
        .data(
            UPSERT,
            json!({ "input": { "phone": "415-555-0123", "email": null, "preferences": { "spiceLevel": "HOT" }, "segments": ["Wine Club", "regulars"] } }),
        )
        .await["upsertCustomer"]
        .clone();
    assert_eq!(updated["created"], false);
    assert_eq!(updated["message"], "Customer profile updated");
    let u = &updated["customer"];
    assert_eq!(u["id"], c["id"]);
    assert_eq!(u["name"], "John Doe", "omitted fields stay");
    assert_eq!(u["email"], json!(null), "null clears");
    assert_eq!(u["dateOfBirth"], "1990-05-15");
    assert_eq!(u["preferences"]["spiceLevel"], "HOT");
    assert_eq!(u["preferences"]["dietaryRestrictions"], json!(["vegetarian"]));
    assert_eq!(u["segments"], json!(["regulars", "wine-club"]));
    assert_eq!(u["referral"]["referralCode"], code, "the code never changes");

    let by_phone = app.data(&format!("{{ customer(phone: \"(415) 555 0123\") {{ {CUSTOMER_FIELDS} }} }}"), json!({})).await;
    assert_eq!(by_phone["customer"]["id"], c["id"]);
    let by_id = customer(&app, c["id"].as_str().unwrap()).await;
    assert_eq!(by_id["name"], "John Doe");
});

both!(bad_profiles_are_refused_and_change_nothing, |app| async move {
    let cases = [
        (json!({ "phone": "12", "name": "A" }), "phone"),
        (json!({ "phone": "not a phone", "name": "A" }), "phone"),
        (json!({ "phone": "+14155550123" }), "name"),
        (json!({ "phone": "+14155550123", "name": "   " }), "name"),
        (json!({ "phone": "+14155550123", "name": "A", "email": "nope" }), "email"),
        (json!({ "phone": "+14155550123", "name": "A", "dateOfBirth": "2999-01-01" }), "dateOfBirth"),
        (json!({ "phone": "+14155550123", "name": "A", "status": "DORMANT" }), "status"),
        (json!({ "phone": "+14155550123", "name": "A", "referralCode": "NOPE12345" }), "referralCode"),
    ];
    for (input, field) in cases {
        let (code, message, err) = app.error(UPSERT, json!({ "input": input })).await;
        assert_eq!(code, "VALIDATION", "{input}: {message}");
        assert_eq!(err["extensions"]["field"], field, "{input}: {message}");
        assert!(message.starts_with(field), "message names the field: {message}");
    }
    let (code, message, _) = app.error(UPSERT, json!({ "input": { "phone": "+14155550123", "name": "A", "spiceLevel": "NUCLEAR" } })).await;
    assert_eq!(code, "VALIDATION", "{message}");
    let total = app.data("{ customers { totalCount } }", json!({})).await;
    assert_eq!(total["customers"]["totalCount"], 0, "nothing was created");
});

both!(unknown_customers_are_not_found, |app| async move {
    for q in ["{ customer(id: \"999\") { id } }", "{ customer(id: \"abc\") { id } }", "{ customer(phone: \"+14155550199\") { id } }"] {
        let (code, message, _) = app.error(q, json!({})).await;
        assert_eq!(code, "NOT_FOUND", "{q}");
        assert!(message.contains("not found"), "{message}");
    }
    let (code, _, _) = app.error("{ customer { id } }", json!({})).await;
    assert_eq!(code, "VALIDATION");
});

both!(list_filters_and_pages, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann Lee").await;
    let bob = create_customer(&app, "+14155550102", "Bob Stone").await;
    let cat = create_customer(&app, "+14155550103", "Cat 100% Real").await;
    create_customer(&app, "+14155550104", "Dan Annison").await;
    create_customer(&app, "+14155550105", "Eve Park").await;
    add_points(&app, &ann, 2_500).await;
    add_points(&app, &bob, 2_600).await;
    app.data(
        "mutation { upsertCustomer(input: { phone: \"+14155550103\", email: \"cat@Example.com\", status: BLOCKED, segments: [\"regulars\"] }) { created } }",
        json!({}),
    )
    .await;
    app.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 80) { visitId } }", json!({ "id": ann })).await;

    let list = |filter: serde_json::Value| {
        let app = &app;
        async move {
            app.data("query($f: CustomerFilter) { customers(filter: $f, sort: NAME) { totalCount items { name } } }", json!({ "f": filter })).await["customers"]
                .clone()
        }
    };
    let names = |v: &serde_json::Value| v["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();

    let gold = list(json!({ "tier": "GOLD" })).await;
    assert_eq!(names(&gold), ["Ann Lee", "Bob Stone"]);
    assert_eq!(gold["totalCount"], 2);
    assert_eq!(names(&list(json!({ "status": "BLOCKED" })).await), ["Cat 100% Real"]);
    assert_eq!(names(&list(json!({ "segment": "Regulars" })).await), ["Cat 100% Real"]);
    assert_eq!(names(&list(json!({ "tag": "high-value" })).await), ["Ann Lee"]);
    assert_eq!(names(&list(json!({ "tag": "new-customer", "tier": "GOLD" })).await), ["Ann Lee"]);
    assert_eq!(names(&list(json!({ "search": "ANN" })).await), ["Ann Lee", "Dan Annison"], "case-insensitive on both databases");
    assert_eq!(names(&list(json!({ "search": " CAT@example.com" })).await), ["Cat 100% Real"], "a whole address, any case");
    assert_eq!(list(json!({ "search": "example.com" })).await["totalCount"], 0, "email is sealed: no fragment search");
    assert_eq!(names(&list(json!({ "search": "555-0102" })).await), ["Bob Stone"]);
    assert_eq!(names(&list(json!({ "search": "100%" })).await), ["Cat 100% Real"], "LIKE wildcards are literal");
    assert_eq!(names(&list(json!({ "search": "%" })).await), ["Cat 100% Real"]);
    assert_eq!(list(json!({ "search": "zzz" })).await["totalCount"], 0);
    assert!(cat != bob);

    let page = |p: i64| {
        let app = &app;
        async move {
            app.data(
                "query($p: Int!) { customers(page: $p, limit: 2, sort: NAME) { page limit totalCount totalPages hasNextPage items { name } } }",
                json!({ "p": p }),
            )
            .await["customers"]
                .clone()
        }
    };
    let p1 = page(1).await;
    assert_eq!(names(&p1), ["Ann Lee", "Bob Stone"]);
    assert_eq!((p1["totalCount"].as_i64(), p1["totalPages"].as_i64(), p1["hasNextPage"].as_bool()), (Some(5), Some(3), Some(true)));
    let p3 = page(3).await;
    assert_eq!(names(&p3), ["Eve Park"]);
    assert_eq!(p3["hasNextPage"], false);
    assert_eq!(names(&page(4).await), Vec::<String>::new());

    let default_page = app.data("{ customers { page limit hasNextPage } }", json!({})).await;
    assert_eq!(default_page["customers"], json!({ "page": 1, "limit": 50, "hasNextPage": false }));
    for (args, field) in [("limit: 201", "limit"), ("limit: 0", "limit"), ("page: 0", "page")] {
        let (code, _, err) = app.error(&format!("{{ customers({args}) {{ page }} }}"), json!({})).await;
        assert_eq!(code, "VALIDATION");
        assert_eq!(err["extensions"]["field"], field);
    }
});

both!(cursor_pages_walk_every_order_exactly_once, |app| async move {
    let mut ids = Vec::new();
    for (i, name) in ["Ann", "Bob", "Cat", "Ann", "Dan", "Eve", "Fay"].iter().enumerate() {
        ids.push(create_customer(&app, &format!("+1415555020{i}"), name).await);
    }
    for (id, points) in ids.iter().zip([300, 300, 1_200, 0, 300, 50, 0]).filter(|(_, p)| *p > 0) {
        add_points(&app, id, points).await;
    }
    for id in [&ids[1], &ids[2], &ids[4]] {
        app.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 12.5) { visitId } }", json!({ "id": id })).await;
    }
    let ids_of = |v: &serde_json::Value| v["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    for sort in ["NEWEST", "NAME", "LIFETIME_POINTS", "LAST_VISIT", "TOTAL_SPENT"] {
        let all = app.data("query($s: CustomerSort!) { customers(sort: $s, limit: 50) { items { id } } }", json!({ "s": sort })).await;
        let expected = ids_of(&all["customers"]);
        let (mut walked, mut after) = (Vec::new(), serde_json::Value::Null);
        loop {
            let page = app
                .data(
                    "query($s: CustomerSort!, $a: String) { customers(sort: $s, limit: 2, after: $a) { page hasNextPage endCursor items { id } } }",
                    json!({ "s": sort, "a": after }),
                )
                .await["customers"]
                .clone();
            if after.is_null() {
                assert_eq!(page["page"], 1);
            } else {
                assert_eq!(page["page"], serde_json::Value::Null, "a cursor page has no number");
            }
            walked.extend(ids_of(&page));
            if page["hasNextPage"] == false {
                break;
            }
            after = page["endCursor"].clone();
        }
        assert_eq!(walked, expected, "{sort}: cursor pages list every customer once, in the page order");
        // Numbered pages past the first read their ids first, then the rows: the same order.
        let mut numbered = Vec::new();
        for p in 1..=4 {
            let page = app
                .data(
                    "query($s: CustomerSort!, $p: Int!) { customers(sort: $s, limit: 2, page: $p) { hasNextPage items { id name } } }",
                    json!({ "s": sort, "p": p }),
                )
                .await["customers"]
                .clone();
            assert_eq!(page["hasNextPage"], p < 4, "{sort}: page {p} of 4");
            assert!(page["items"].as_array().unwrap().iter().all(|c| c["name"].is_string()));
            numbered.extend(ids_of(&page));
        }
        assert_eq!(numbered, expected, "{sort}: numbered pages list every customer once, in the page order");
    }
    let by_visit = app.data("{ customers(sort: LAST_VISIT, limit: 50) { items { id } } }", json!({})).await;
    let order = ids_of(&by_visit["customers"]);
    assert_eq!(order[..3], [ids[4].clone(), ids[2].clone(), ids[1].clone()], "most recent visit first");
    assert!(order[3..].iter().all(|id| ![&ids[1], &ids[2], &ids[4]].contains(&id)), "customers who never visited come last");

    let first = app.data("{ customers(limit: 3) { endCursor items { id } } }", json!({})).await["customers"].clone();
    let newcomer = create_customer(&app, "+14155550299", "Gus").await;
    let next = app.data("query($a: String) { customers(limit: 50, after: $a) { items { id } } }", json!({ "a": first["endCursor"] })).await;
    let rest = ids_of(&next["customers"]);
    assert_eq!(rest.len(), 4, "a member who joins meanwhile does not shift the next page");
    assert!(!rest.contains(&newcomer));

    let name_cursor = app.data("{ customers(sort: NAME, limit: 1) { endCursor } }", json!({})).await["customers"]["endCursor"].clone();
    for (query, vars, needle) in [
        ("query($a: String) { customers(after: $a) { page } }", json!({ "a": "bm90LWEtY3Vyc29y" }), "not a cursor"),
        ("query($a: String) { customers(after: $a) { page } }", json!({ "a": name_cursor }), "another sort order"),
        ("query($a: String) { customers(sort: NAME, page: 2, after: $a) { page } }", json!({ "a": name_cursor }), "either page or after"),
    ] {
        let (code, message, err) = app.error(query, vars).await;
        assert_eq!(code, "VALIDATION");
        assert_eq!(err["extensions"]["field"], "after");
        assert!(message.contains(needle), "{message}");
    }
    let empty = app.data("{ customers(filter: { search: \"nobody-here\" }) { endCursor hasNextPage } }", json!({})).await;
    assert_eq!(empty["customers"], json!({ "endCursor": null, "hasNextPage": false }));
});

both!(referral_links_and_rewards_the_referrer, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann Lee").await;
    let code = customer(&app, &ann).await["referral"]["referralCode"].as_str().unwrap().to_string();
    let new = app
        .data(UPSERT, json!({ "input": { "phone": "+14155550102", "name": "Bob", "referralCode": code.to_lowercase() } }))
        .await["upsertCustomer"]["customer"]
        .clone();
    assert_eq!(new["referral"]["referredBy"]["id"], ann.as_str());
    let referrer = customer(&app, &ann).await;
    assert_eq!(referrer["referral"]["referralsCount"], 1);
    assert_eq!(referrer["referral"]["referralRewards"], 100);
    assert_eq!(referrer["loyaltyPoints"]["current"], 100);
    let history = app.data("query($id: ID!) { customer(id: $id) { pointsHistory { items { kind points reason } } } }", json!({ "id": ann })).await;
    assert_eq!(history["customer"]["pointsHistory"]["items"][0]["kind"], "REFERRAL_BONUS");

    let again = app.data(UPSERT, json!({ "input": { "phone": "+14155550102", "referralCode": code } })).await;
    assert_eq!(again["upsertCustomer"]["customer"]["referral"]["referredBy"]["id"], ann.as_str(), "same code twice is a no-op");
    assert_eq!(customer(&app, &ann).await["referral"]["referralsCount"], 1, "counted once");

    let (code_err, _, err) = app.error(UPSERT, json!({ "input": { "phone": "+14155550101", "referralCode": code } })).await;
    assert_eq!(code_err, "VALIDATION");
    assert_eq!(err["extensions"]["field"], "referralCode");
    crate::assert_ledger_matches(&app).await;
});

both!(concurrent_creates_of_one_phone_make_one_customer, |app| async move {
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.data(UPSERT, json!({ "input": { "phone": "+14155550123", "name": format!("Ann {i}") } })).await["upsertCustomer"]["created"]
                    .as_bool()
                    .unwrap()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap());
    }
    assert_eq!(created, 1, "one request created, the others updated");
    let all = app.data("{ customers { totalCount } }", json!({})).await;
    assert_eq!(all["customers"]["totalCount"], 1);
});

both!(frontends_look_members_up_by_every_handle_and_find_none_without_error, |app| async move {
    let q = "mutation { upsertCustomer(input: { phone: \"+14155550101\", name: \"Ann Lee\", email: \"Ann@Example.com\", userId: \"auth0|ann\" }) { customer { id referral { referralCode } } } }";
    let created = app.data(q, json!({})).await["upsertCustomer"]["customer"].clone();
    let (id, code) = (created["id"].as_str().unwrap().to_string(), created["referral"]["referralCode"].as_str().unwrap().to_string());
    for args in [
        format!("id: \"{id}\""),
        "phone: \"(415) 555-0101\"".to_string(),
        "email: \"ann@EXAMPLE.com\"".to_string(),
        format!("referralCode: \"{}\"", code.to_lowercase()),
        "userId: \"auth0|ann\"".to_string(),
    ] {
        let found = app.data(&format!("{{ customer({args}) {{ id }} }}"), json!({})).await;
        assert_eq!(found["customer"]["id"], id.as_str(), "{args}");
        if !args.starts_with("id") {
            let found = app.data(&format!("{{ findCustomer({args}) {{ id }} }}"), json!({})).await;
            assert_eq!(found["findCustomer"]["id"], id.as_str(), "{args}");
        }
    }
    for args in ["phone: \"+14155550199\"", "email: \"nobody@example.com\"", "referralCode: \"ZZZ999999\"", "userId: \"nobody\""] {
        let none = app.data(&format!("{{ findCustomer({args}) {{ id }} }}"), json!({})).await;
        assert_eq!(none["findCustomer"], json!(null), "not a member yet: {args}");
        let (code, message, _) = app.error(&format!("{{ customer({args}) {{ id }} }}"), json!({})).await;
        assert_eq!(code, "NOT_FOUND", "{message}");
    }
    let (code, _, err) = app.error("{ findCustomer(email: \"not-an-email\") { id } }", json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("email")));
    let (code, _, _) = app.error("{ findCustomer(phone: \"+14155550101\", email: \"ann@example.com\") { id } }", json!({})).await;
    assert_eq!(code, "VALIDATION", "exactly one handle");
    let other = app.create_key("elsewhere", "viewer").await;
    let (_, body) = app.gql_as(Some(&other), "{ findCustomer(email: \"ann@example.com\") { id } }", json!({})).await;
    assert_eq!(body["data"]["findCustomer"], json!(null), "another restaurant finds nobody");
});
