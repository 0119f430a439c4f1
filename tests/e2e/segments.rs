//! Segments: automatic ones kept by the rules, custom ones managed by the marketing team.

use serde_json::json;

use crate::{add_points, both, create_customer, customer};

both!(custom_segments_can_be_managed, |app| async move {
    let a = create_customer(&app, "+14155550101", "Ann").await;
    let b = create_customer(&app, "+14155550102", "Bob").await;
    let created = app
        .data("mutation { createSegment(input: { name: \"Wine Club\", description: \"Monthly tasting\" }) { name automatic customerCount } }", json!({}))
        .await;
    assert_eq!(created["createSegment"], json!({ "name": "wine-club", "automatic": false, "customerCount": 0 }));
    for bad in [
        "mutation { createSegment(input: { name: \"wine club\" }) { name } }",
        "mutation { createSegment(input: { name: \"VIP\" }) { name } }",
        "mutation { createSegment(input: { name: \"a/b\" }) { name } }",
    ] {
        let (code, _, _) = app.error(bad, json!({})).await;
        assert_eq!(code, "VALIDATION", "{bad}");
    }
    let add = "mutation($s: String!, $ids: [ID!]!) { addCustomersToSegment(segment: $s, customerIds: $ids) { changed segment { customerCount } failed { id code message } } }";
    let added = app.data(add, json!({ "s": "wine-club", "ids": [a, b] })).await;
    assert_eq!(added["addCustomersToSegment"], json!({ "changed": 2, "segment": { "customerCount": 2 }, "failed": [] }));
    assert_eq!(app.data(add, json!({ "s": "wine-club", "ids": [a] })).await["addCustomersToSegment"]["changed"], 0);
    let partly = app.data(add, json!({ "s": "wine-club", "ids": [a, "999", "x1"] })).await["addCustomersToSegment"].clone();
    assert_eq!(
        partly["failed"],
        json!([
            { "id": "999", "code": "NOT_FOUND", "message": "customer 999 not found" },
            { "id": "x1", "code": "NOT_FOUND", "message": "customer x1 not found" }
        ]),
        "the batch says which ids failed and why"
    );
    let (code, _, _) = app.error(add, json!({ "s": "nope", "ids": [a] })).await;
    assert_eq!(code, "NOT_FOUND");

    let count = |segment: &str| {
        let app = &app;
        let segment = segment.to_string();
        async move {
            app.data("query($s: String) { customers(filter: { segment: $s }) { totalCount } }", json!({ "s": segment })).await["customers"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count("wine-club").await, 2);
    let renamed = app.data("mutation { renameSegment(name: \"wine-club\", newName: \"sommeliers\") { name customerCount } }", json!({})).await;
    assert_eq!(renamed["renameSegment"], json!({ "name": "sommeliers", "customerCount": 2 }));
    assert_eq!((count("wine-club").await, count("sommeliers").await), (0, 2));
    let removed =
        app.data("mutation($ids: [ID!]!) { removeCustomersFromSegment(segment: \"sommeliers\", customerIds: $ids) { changed } }", json!({ "ids": [a] })).await;
    assert_eq!(removed["removeCustomersFromSegment"]["changed"], 1);
    assert_eq!(customer(&app, &b).await["segments"], json!(["sommeliers"]));
    let deleted = app.data("mutation { deleteSegment(name: \"Sommeliers\") { name } }", json!({})).await;
    assert_eq!(deleted["deleteSegment"]["name"], "sommeliers");
    assert_eq!(customer(&app, &b).await["segments"], json!([]));
    let (code, _, _) = app.error("mutation { deleteSegment(name: \"sommeliers\") { name } }", json!({})).await;
    assert_eq!(code, "NOT_FOUND");
});

both!(automatic_segments_follow_the_rules, |app| async move {
    let a = create_customer(&app, "+14155550101", "Ann").await;
    add_points(&app, &a, 10_000).await;
    app.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 75) { visitId } }", json!({ "id": a })).await;
    assert_eq!(customer(&app, &a).await["segments"], json!(["high-value", "new-customer", "vip"]));
    let list = app.data("{ segments { items { name automatic customerCount } } }", json!({})).await["segments"]["items"].clone();
    let auto: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["automatic"] == true)
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["customerCount"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        auto,
        [("new-customer", 1), ("frequent-visitor", 0), ("high-value", 1), ("vip", 1), ("at-risk", 0), ("dormant", 0)].map(|(n, c)| (n.to_string(), c))
    );
    let (code, _, _) = app.error("mutation { upsertCustomer(input: { phone: \"+14155550101\", segments: [\"vip\"] }) { created } }", json!({})).await;
    assert_eq!(code, "VALIDATION", "automatic segments cannot be set by hand");
    app.data("mutation { upsertCustomer(input: { phone: \"+14155550101\", segments: [\"regulars\"] }) { created } }", json!({})).await;
    assert_eq!(customer(&app, &a).await["segments"], json!(["high-value", "new-customer", "regulars", "vip"]), "custom segments sit beside automatic ones");
    let segs = app.data("{ segments { items { name customerCount } } }", json!({})).await["segments"]["items"].clone();
    assert!(segs.as_array().unwrap().contains(&json!({ "name": "regulars", "customerCount": 1 })), "a segment named in a profile is created");
});

// Rule segments on the models' predictions: probability still active below a bound, predicted
// value above one; members without a prediction, and other restaurants' predictions, never match.
crate::both!(rule_segments_select_on_the_predictions, |app| async move {
    let ids: Vec<String> = futures_util::future::join_all(
        [("+14155550181", "Ann"), ("+14155550182", "Bob"), ("+14155550183", "Cat")].map(|(p, n)| crate::create_customer(&app, p, n)),
    )
    .await;
    let other = app.create_key("elsewhere", "admin").await;
    let (_, zed) =
        app.gql_as(Some(&other), "mutation { upsertCustomer(input: { phone: \"+14155550189\", name: \"Zed\" }) { customer { id } } }", json!({})).await;
    let zed = zed["data"]["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    let rows = [(&ids[0], "default", 0.12, Some(40.0)), (&ids[1], "default", 0.80, Some(250.0)), (&zed, "elsewhere", 0.05, Some(900.0))];
    for (id, restaurant, p, value) in rows {
        let value = value.map_or("NULL".to_string(), |v: f64| v.to_string());
        app.sql(&format!(
            "INSERT INTO customer_predictions (customer_id, restaurant_id, fit_id, scored_on, active_probability, expected_visits_90, value_12_months) \
             VALUES ({id}, '{restaurant}', 1, '2026-12-01', {p}, 1.0, {value})"
        ))
        .await;
    }
    let create = "mutation($rule: AudienceRuleInput!, $name: String!) { createSegment(input: { name: $name, rule: $rule }) { customerCount rule { activeProbabilityBelow predictedValueAbove } } }";
    let at_risk = app.data(create, json!({ "name": "slipping", "rule": { "activeProbabilityBelow": 0.3 } })).await;
    assert_eq!(
        at_risk["createSegment"],
        json!({ "customerCount": 1, "rule": { "activeProbabilityBelow": 0.3, "predictedValueAbove": null } }),
        "Ann only: Cat has no prediction, Zed is elsewhere"
    );
    let valuable = app.data(create, json!({ "name": "valuable", "rule": { "predictedValueAbove": 100 } })).await;
    assert_eq!(valuable["createSegment"]["customerCount"], 1, "Bob");
    let both = app.data(create, json!({ "name": "valuable-slipping", "rule": { "activeProbabilityBelow": 0.9, "predictedValueAbove": 30 } })).await;
    assert_eq!(both["createSegment"]["customerCount"], 2);
    let (code, _, err) = app.error(create, json!({ "name": "bad", "rule": { "activeProbabilityBelow": 1.5 } })).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("rule.activeProbabilityBelow")));
});
