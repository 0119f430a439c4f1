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
