//! The HTTP surface: GraphiQL, health, and GraphQL-level errors.

use serde_json::json;

use crate::both;

both!(serves_graphiql_health_and_coded_errors, |app| async move {
    for path in ["/", "/graphql"] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.to_lowercase().contains("graphiql"), "{path} serves GraphiQL");
    }
    assert_eq!(app.get("/healthz").await, (200, "ok".to_string()));
    for bad in ["{ customers { nope } }", "{ customers(", "mutation { addPoints(customerId: 1) { currentPoints } }"] {
        let (code, message, err) = app.error(bad, json!({})).await;
        assert_eq!(code, "VALIDATION", "{bad}: {message}");
        assert!(err["extensions"]["requestId"].is_string());
    }
    let tiers = app.data("{ loyaltyTiers { tier minLifetimePoints discountPercent } pointsPerRedeemedDollar }", json!({})).await;
    assert_eq!(tiers["loyaltyTiers"][1], json!({ "tier": "SILVER", "minLifetimePoints": 1000, "discountPercent": 5 }));
    assert_eq!(tiers["pointsPerRedeemedDollar"], 100);
});

const INTROSPECTION: &str = include_str!("introspection.graphql");

/// A raw POST to /graphql with the admin key: `(status, content type, body)`.
async fn post(app: &crate::harness::TestApp, content_type: Option<&str>, accept: Option<&str>, body: &str) -> (u16, String, serde_json::Value) {
    let mut req = crate::harness::http_client().post(format!("{}/graphql", app.base)).bearer_auth(&app.admin_key).body(body.to_string());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let text = res.text().await.unwrap();
    (status, ct, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

both!(graphiqls_own_introspection_query_is_answered_despite_the_depth_limit, |app| async move {
    let body = app.data(INTROSPECTION, json!({})).await;
    let types = body["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Customer"), "the schema is listed");
    assert_eq!(body["__schema"]["mutationType"]["name"], "Mutation");
    let deep = "{ customers { items { referral { referredBy { referral { referredBy { referral { referredBy { referral { referredBy { referral { referredBy { name } } } } } } } } } } } } }";
    let (code, message, _) = app.error(deep, json!({})).await;
    assert_eq!((code.as_str(), message.as_str()), ("TOO_COMPLEX", "Query is nested too deep."), "data queries keep their limit");
    let mixed = format!("{{ customers {{ totalCount }} {} }}", "__schema { queryType { name } }");
    assert!(app.gql(&mixed, json!({})).await["data"]["customers"].is_object(), "a document that also reads data runs with the limits");
});

both!(the_schema_can_be_introspected_without_a_key_but_nothing_else, |app| async move {
    let (status, body) = app.gql_as(None, INTROSPECTION, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["__schema"]["types"].as_array().unwrap().len() > 20);
    let (status, body) = app.gql_as(Some("lk_placeholder"), "{ __type(name: \"Customer\") { name } }", json!({})).await;
    assert_eq!((status, body["data"]["__type"]["name"].as_str()), (200, Some("Customer")));
    for data in ["{ __schema { queryType { name } } customers { totalCount } }", "{ restaurant { id } }", "mutation { __typename }"] {
        let (status, body) = app.gql_as(None, data, json!({})).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{data}");
    }
});

async fn introspection_can_still_be_turned_off(backend: crate::harness::Backend) {
    let app = crate::harness::TestApp::spawn_with(backend, &[("LOYALTY_INTROSPECTION", "false")]).await;
    let body = app.gql(INTROSPECTION, json!({})).await;
    assert!(body["data"]["__schema"].is_null() || body["errors"].is_array(), "{body}");
    let (status, _) = app.gql_as(None, INTROSPECTION, json!({})).await;
    assert_eq!(status, 200, "without a key it is still only the (disabled) introspection");
}

crate::on_both!(introspection_can_still_be_turned_off);

both!(graphql_over_http_negotiates_and_answers_with_the_specified_status, |app| async move {
    let query = |q: &str| json!({ "query": q }).to_string();
    let (status, ct, body) = post(&app, Some("application/json"), Some("application/json"), &query("{ loyaltyTiers { tier } }")).await;
    assert_eq!((status, ct.as_str()), (200, "application/json; charset=utf-8"));
    assert!(body["data"]["loyaltyTiers"].is_array());
    let (status, ct, _) = post(&app, Some("application/json"), None, &query("{ loyaltyTiers { tier } }")).await;
    assert_eq!((status, ct.as_str()), (200, "application/json; charset=utf-8"), "no Accept: application/json");
    let gr = "application/graphql-response+json";
    let (status, ct, _) = post(&app, Some("application/json"), Some(gr), &query("{ loyaltyTiers { tier } }")).await;
    assert_eq!((status, ct.as_str()), (200, "application/graphql-response+json; charset=utf-8"));
    for (what, body) in [
        ("parse error", query("{ customers(")),
        ("validation error", query("{ customers { nope } }")),
        ("variable error", json!({ "query": "query($id: ID!) { customer(id: $id) { name } }", "variables": {} }).to_string()),
    ] {
        let (status, ct, json) = post(&app, Some("application/json"), Some(gr), &body).await;
        assert_eq!((status, ct.as_str()), (400, "application/graphql-response+json; charset=utf-8"), "{what}: {json}");
        assert!(json["errors"][0]["extensions"]["code"].is_string(), "{what} keeps its code");
        let ran_nothing = what != "variable error";
        assert!(json.get("data").is_none() || !ran_nothing, "{what}: nothing ran, so no data entry: {json}");
        let (status, _, json) = post(&app, Some("application/json"), Some("application/json"), &body).await;
        assert_eq!(status, 200, "{what} with application/json: {json}");
        assert!(json.get("data").is_none() || !ran_nothing, "{what} with application/json: no data entry either: {json}");
    }
    let failing = query("{ customer(id: \"999999\") { name } }");
    let (_, _, json) = post(&app, Some("application/json"), Some(gr), &failing).await;
    assert!(json.get("data").is_some() && json["errors"][0]["path"].is_array(), "an error during execution keeps its data entry and says where: {json}");
    let (status, _, json) = post(&app, Some("application/json"), Some("text/html"), &query("{ loyaltyTiers { tier } }")).await;
    assert_eq!((status, json["errors"][0]["extensions"]["code"].as_str()), (406, Some("BAD_REQUEST")));

    let client = crate::harness::http_client();
    let get = |q: &str| {
        let url = reqwest::Url::parse_with_params(&format!("{}/graphql", app.base), &[("query", q)]).unwrap();
        client.get(url).bearer_auth(&app.admin_key).send()
    };
    let res = get("{ pointsPerRedeemedDollar }").await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["data"]["pointsPerRedeemedDollar"], 100);
    let res = get("mutation { createSegment(input: { name: \"via-get\" }) { name } }").await.unwrap();
    assert_eq!(res.status().as_u16(), 405, "no mutation over GET");
    assert_eq!(res.headers()["allow"], "POST");
    assert_eq!(
        app.data("{ segments { items { name } } }", json!({})).await["segments"]["items"].as_array().unwrap().iter().filter(|s| s["name"] == "via-get").count(),
        0
    );
});

both!(malformed_requests_get_coded_json_errors_and_run_nothing, |app| async move {
    let mutation = json!({ "query": "mutation { createSegment(input: { name: \"sneaky\" }) { name } }" }).to_string();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for (what, ct, body, status) in [
        ("empty body", Some("application/json"), String::new(), 400),
        ("bad JSON", Some("application/json"), "{\"query\": ".to_string(), 400),
        ("not an object", Some("application/json"), "42".to_string(), 400),
        ("no query", Some("application/json"), "{}".to_string(), 400),
        ("non-string query", Some("application/json"), "{\"query\": 7}".to_string(), 400),
        ("batch", Some("application/json"), format!("[{mutation}]"), 400),
        ("10,000-deep nesting", Some("application/json"), deep, 400),
        ("bad variables", Some("application/json"), "{\"query\": \"{ segments { name } }\", \"variables\": [1]}".to_string(), 400),
        ("text/plain", Some("text/plain"), mutation.clone(), 415),
        ("form", Some("application/x-www-form-urlencoded"), mutation.clone(), 415),
        ("no content type", None, mutation.clone(), 415),
    ] {
        let (got, ct_out, json) = post(&app, ct, None, &body).await;
        assert_eq!(got, status, "{what}: {json}");
        assert!(ct_out.starts_with("application/json"), "{what}: {ct_out}");
        assert_eq!(json["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{what}: {json}");
        let message = json["errors"][0]["message"].as_str().unwrap();
        assert!(!message.contains("Error(") && !message.contains("untagged"), "{what}: no internal detail: {message}");
    }
    let segments = app.data("{ segments { items { name } } }", json!({})).await;
    assert!(!segments["segments"]["items"].as_array().unwrap().iter().any(|s| s["name"] == "sneaky"), "nothing ran");
});

async fn browsers_on_allowed_origins_may_call_the_api(backend: crate::harness::Backend) {
    let app = crate::harness::TestApp::spawn_with(backend, &[("LOYALTY_CORS_ORIGINS", "https://pos.example.com, https://app.example.com")]).await;
    let client = crate::harness::http_client();
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let ok = preflight("https://pos.example.com").await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://pos.example.com");
    let methods = ok.headers()["access-control-allow-methods"].to_str().unwrap().to_string();
    assert!(methods.contains("POST"), "{methods}");
    assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    assert!(ok.headers().get("access-control-allow-credentials").is_none(), "no credentials");
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none(), "another origin gets no grant");

    let call = |origin: &str| {
        client
            .post(format!("{}/graphql", app.base))
            .header("origin", origin)
            .bearer_auth(&app.admin_key)
            .json(&json!({ "query": "{ loyaltyTiers { tier } }" }))
            .send()
    };
    let res = call("https://app.example.com").await.unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example.com");
    assert!(res.headers()["access-control-expose-headers"].to_str().unwrap().contains("x-request-id"));
    let res = call("https://evil.example.com").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());

    let closed = crate::harness::TestApp::spawn(backend).await;
    let res = crate::harness::http_client()
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", closed.base))
        .header("origin", "https://pos.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none(), "no origin is allowed by default");
}

crate::on_both!(browsers_on_allowed_origins_may_call_the_api);

both!(text_with_nul_or_over_its_limit_is_refused_alike_on_both_databases, |app| async move {
    let id = crate::create_customer(&app, "+14155550101", "Ann").await;
    let nul = "a\u{0}b";
    for (field, query, variables) in [
        (
            "input.name",
            "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created } }",
            json!({ "input": { "phone": "+14155550102", "name": nul } }),
        ),
        ("note", "mutation($id: ID!, $v: String!) { addNote(customerId: $id, note: $v) { id } }", json!({ "id": id, "v": nul })),
        ("reason", "mutation($id: ID!, $v: String) { addPoints(customerId: $id, points: 5, reason: $v) { currentPoints } }", json!({ "id": id, "v": nul })),
        (
            "idempotencyKey",
            "mutation($id: ID!, $v: String) { addPoints(customerId: $id, points: 5, idempotencyKey: $v) { currentPoints } }",
            json!({ "id": id, "v": nul }),
        ),
        (
            "input.orderId",
            "mutation($input: OrderInput!) { recordOrder(input: $input) { pointsEarned } }",
            json!({ "input": { "phone": "+14155550101", "orderId": nul, "amount": 5 } }),
        ),
        ("filter.search", "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }", json!({ "f": { "search": nul } })),
    ] {
        let (code, message, err) = app.error(query, variables).await;
        let got_field = err["extensions"]["field"].as_str().unwrap_or_default().to_string();
        assert_eq!(code, "VALIDATION", "{field}: {message}");
        assert!(got_field.ends_with(field.rsplit('.').next().unwrap()), "{field}: named {got_field}");
    }
    let inline = "mutation { addNote(customerId: \"1\", note: \"x\\u0000y\") { id } }";
    let (code, _, err) = app.error(inline, json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("note")), "a literal in the document too");
    let notes = app.data("query($id: ID!) { customer(id: $id) { notes { items { note } } loyaltyPoints { current } } }", json!({ "id": id })).await;
    assert_eq!(notes["customer"], json!({ "notes": { "items": [] }, "loyaltyPoints": { "current": 0 } }), "nothing was stored");
    let long = "x".repeat(50_000);
    let (code, message, err) = app.error("query($s: String) { customers(filter: { search: $s }) { totalCount } }", json!({ "s": long })).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("search")), "{message}");
});

// The response keeps the selection set's order (aliases, nested fields, fragments), however
// the fields finish: a database read first, instant ones after it.
both!(response_fields_keep_the_selection_order, |app| async move {
    let query = "query { zz: customers(limit: 1) { t2: totalCount p1: page } ...F aa: loyaltyTiers { tier } \
                 mm: restaurant { ... on Restaurant { i9: id } n8: name } } fragment F on Query { ff: restaurant { id } }";
    let order = ["\"zz\"", "\"t2\"", "\"p1\"", "\"ff\"", "\"aa\"", "\"mm\"", "\"i9\"", "\"n8\""];
    let client = crate::harness::http_client();
    for _ in 0..20 {
        let res = client.post(format!("{}/graphql", app.base)).bearer_auth(&app.admin_key).json(&json!({ "query": query })).send().await.unwrap();
        let text = res.text().await.unwrap();
        let at: Vec<usize> = order.iter().map(|k| text.find(k).unwrap_or_else(|| panic!("{k} in {text}"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "in selection order: {text}");
    }
});
