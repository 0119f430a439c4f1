//! Requests an attacker would send: nothing anyone sends may take the process down. Every
//! shape of nesting, at every depth from harmless to huge, is answered with a 4xx and the
//! service stays up for the next request.

use serde_json::{Value, json};

use crate::both;
use crate::harness::{Backend, TestApp};

/// Depths from harmless through the band that overflowed the parser's stack to the ones the
/// parser refused by itself.
const DEPTHS: [usize; 9] = [10, 33, 100, 400, 1_000, 2_000, 5_000, 20_000, 50_000];

/// A document nesting `depth` levels of one shape.
fn document(shape: &str, depth: usize) -> String {
    match shape {
        "list" => format!("{{ a(x: {}1{}) }}", "[".repeat(depth), "]".repeat(depth)),
        "object" => format!("{{ a(x: {}1{}) }}", "{b: ".repeat(depth), "}".repeat(depth)),
        "introspection" => format!("{{ __type(name: \"Query\", junk: {}1{}) {{ name }} }}", "[".repeat(depth), "]".repeat(depth)),
        "selection" => format!("{}{}", "{ a ".repeat(depth), "}".repeat(depth)),
        "variable type" => format!("query($v: {}Int{}) {{ a }}", "[".repeat(depth), "]".repeat(depth)),
        "rule" => {
            format!(
                "mutation {{ createSegment(input: {{ name: \"deep\", rule: {}{{tiers: [GOLD]}}{} }}) {{ name }} }}",
                "{anyOf: [".repeat(depth),
                "]}".repeat(depth)
            )
        }
        _ => unreachable!("{shape}"),
    }
}

/// A variable nesting `depth` levels of audience rules (JSON beyond 128 levels is refused as
/// JSON already).
fn rule_variable(depth: usize) -> Value {
    let mut rule = json!({ "tiers": ["GOLD"] });
    for _ in 0..depth.min(200) {
        rule = json!({ "anyOf": [rule] });
    }
    json!({ "rule": rule })
}

const RULE_BY_VARIABLE: &str = "mutation($rule: AudienceRuleInput) { createSegment(input: { name: \"deep\", rule: $rule }) { name } }";

async fn post(app: &TestApp, key: Option<&str>, body: &Value) -> u16 {
    let mut req = crate::harness::http_client().post(format!("{}/graphql", app.base)).header("accept", "application/graphql-response+json").json(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    req.send().await.unwrap_or_else(|e| panic!("the service answers a POST: {}", e.without_url())).status().as_u16()
}

/// A `GET` of the document; `None` when its URL would be longer than an HTTP client sends
/// (64 KiB).
async fn get(app: &TestApp, query: &str) -> Option<u16> {
    let encoded: String = query.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    if encoded.len() > 60_000 {
        return None;
    }
    let res =
        crate::harness::http_client().get(format!("{}/graphql?query={encoded}", app.base)).header("accept", "application/graphql-response+json").send().await;
    Some(res.unwrap_or_else(|e| panic!("the service answers a GET: {}", e.without_url())).status().as_u16())
}

both!(no_nesting_at_any_depth_takes_the_service_down, |app| async move {
    let key = app.admin_key.clone();
    for depth in DEPTHS {
        for shape in ["list", "object", "introspection", "selection", "variable type", "rule"] {
            let doc = document(shape, depth);
            let anonymous = post(&app, None, &json!({ "query": doc })).await;
            let keyed = post(&app, Some(&key), &json!({ "query": doc })).await;
            let by_get = get(&app, &doc).await.unwrap_or(400);
            for (how, status) in [("anonymous POST", anonymous), ("POST with a key", keyed), ("GET", by_get)] {
                assert!((400..500).contains(&status), "{shape} at depth {depth} by {how}: HTTP {status}");
            }
        }
        let status = post(&app, Some(&key), &json!({ "query": RULE_BY_VARIABLE, "variables": rule_variable(depth) })).await;
        assert!((400..500).contains(&status), "a rule variable at depth {depth}: HTTP {status}");
        assert_eq!(app.get("/healthz").await.0, 200, "still up after depth {depth}");
    }
    let (status, body) = app.gql_as(Some(&key), &document("list", 40), json!({})).await;
    assert_eq!((status, &body["errors"][0]["extensions"]["code"]), (400, &json!("TOO_COMPLEX")), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("32 deep"), "{body}");
    let (status, body) = app.gql_as(Some(&key), RULE_BY_VARIABLE, rule_variable(40)).await;
    assert_eq!((status, &body["errors"][0]["extensions"]["code"]), (400, &json!("TOO_COMPLEX")), "{body}");
    assert!(app.data("{ restaurant { id } }", json!({})).await["restaurant"]["id"].is_string());
});

/// `n` aliases of the programme's figures over three years.
fn stats_aliases(n: usize) -> String {
    let one = "loyaltyStats { insights(from: \"2024-01-01\", to: \"2026-12-31\", interval: WEEK) { visits revenue } topCustomers(limit: 50) { id } }";
    format!("{{ {} }}", (0..n).map(|i| format!("s{i}: {one}")).collect::<Vec<_>>().join(" "))
}

/// Latencies of `n` lookups by another restaurant's key, sorted; every one must succeed.
async fn lookups(app: &TestApp, key: &str, n: usize) -> Vec<std::time::Duration> {
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = std::time::Instant::now();
        let (status, body) = app.gql_as(Some(key), "{ restaurant { id } customers(limit: 5) { totalCount } }", json!({})).await;
        took.push(started.elapsed());
        assert_eq!((status, body.get("errors")), (200, None), "another restaurant is served: {body}");
    }
    took.sort();
    took
}

/// One caller sending the alias bomb of the attack report (refused before it runs) and the
/// heaviest request the budget allows, in a loop, does not starve another restaurant: every
/// one of its requests succeeds, at a p99 within twice the idle one (plus 50 ms for this
/// 2-core machine's scheduling, far below the seconds such a caller cost before).
async fn one_callers_heavy_requests_do_not_starve_another_restaurant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.cli(&["restaurants", "create", "harbour"]).await;
    let other = app.create_key("harbour", "viewer").await;
    for i in 0..30 {
        crate::create_customer(&app, &format!("+1415555{:04}", 3000 + i), &format!("Member {i}")).await;
    }
    let (status, body) = app.gql_as(Some(&app.admin_key), &stats_aliases(1_000), json!({})).await;
    assert_eq!((status, &body["errors"][0]["extensions"]["code"]), (400, &json!("TOO_COMPLEX")), "{body}");
    let (status, body) = app.gql_as(Some(&app.admin_key), &stats_aliases(10), json!({})).await;
    assert_eq!((status, body.get("errors")), (200, None), "the budget's worth runs: {body}");

    let idle = lookups(&app, &other, 60).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attacker = {
        let (stop, base, key) = (stop.clone(), app.base.clone(), app.admin_key.clone());
        tokio::spawn(async move {
            let client = crate::harness::http_client();
            let (bomb, heavy) = (stats_aliases(1_000), stats_aliases(10));
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 2_000 {
                for doc in [&bomb, &heavy] {
                    let res = client.post(format!("{base}/graphql")).bearer_auth(&key).json(&json!({ "query": doc })).send().await.expect("answered");
                    assert!(res.status().as_u16() < 500, "HTTP {}", res.status());
                }
                sent += 1;
            }
            sent
        })
    };
    let loaded = lookups(&app, &other, 60).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(attacker.await.unwrap() > 0);
    let p99 = |t: &[std::time::Duration]| t[t.len() * 99 / 100 - 1];
    let bound = (p99(&idle) * 2).max(p99(&idle) + std::time::Duration::from_millis(50));
    assert!(p99(&loaded) <= bound, "p99 {:?} under load against {:?} idle", p99(&loaded), p99(&idle));
}

crate::on_both!(one_callers_heavy_requests_do_not_starve_another_restaurant);

both!(a_long_audience_segment_is_refused_alike_on_both_databases, |app| async move {
    let create = "mutation($input: CampaignInput!) { createCampaign(input: $input) { id } }";
    let input = json!({ "name": "long", "subject": "s", "bodyText": "t", "bodyHtml": "h", "audience": { "segment": "s".repeat(65) } });
    let (code, message, err) = app.error(create, json!({ "input": input })).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("audience.segment")), "{message}");
    let fits = json!({ "name": "fits", "subject": "s", "bodyText": "t", "bodyHtml": "h", "audience": { "segment": "s".repeat(60) } });
    assert!(app.data(create, json!({ "input": fits })).await["createCampaign"]["id"].is_string());
});
