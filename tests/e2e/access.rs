//! Access control: bearer API keys, roles on every operation, tenant isolation, rate limits.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::{both, create_customer, on_both};

async fn key(app: &TestApp, role: &str) -> String {
    app.data("mutation($r: KeyRole!) { createApiKey(role: $r, name: \"test\") { key } }", json!({ "r": role })).await["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_string()
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

both!(missing_bad_and_revoked_keys_are_unauthenticated, |app| async move {
    let q = "{ customers { totalCount } }";
    for token in [None, Some("nonsense"), Some("lk_abc_def")] {
        let (status, body) = app.gql_as(token, q, json!({})).await;
        assert_eq!((status, code(&body)), (401, Some("UNAUTHENTICATED")), "{token:?}: {body}");
    }
    let staff = key(&app, "STAFF").await;
    assert_eq!(app.gql_as(Some(&staff), q, json!({})).await.0, 200);
    let prefix: String = staff.split('_').take(2).collect::<Vec<_>>().join("_");
    let revoked = app.data("mutation($p: String!) { revokeApiKey(prefix: $p) { revokedAt } }", json!({ "p": prefix })).await;
    assert!(revoked["revokeApiKey"]["revokedAt"].is_string());
    let (status, body) = app.gql_as(Some(&staff), q, json!({})).await;
    assert_eq!((status, code(&body)), (401, Some("UNAUTHENTICATED")), "a revoked key stops working at once");

    let listed = app.cli(&["keys", "list", "--all"]).await;
    assert!(listed.contains(&prefix) && listed.contains("revoked"), "{listed}");
    let viewer = app.create_key("default", "viewer").await;
    assert_eq!(app.gql_as(Some(&viewer), q, json!({})).await.0, 200);
    let viewer_prefix: String = viewer.split('_').take(2).collect::<Vec<_>>().join("_");
    app.cli(&["keys", "revoke", &viewer_prefix]).await;
    assert_eq!(app.gql_as(Some(&viewer), q, json!({})).await.0, 401, "revoked from the CLI");
});

/// Who may use an operation: `viewer` (every staff role), `staff` (staff, admin), `segments`
/// (staff, marketer, admin), `marketing` (marketer, admin), `admin`.
pub fn allowed(set: &str) -> &'static [&'static str] {
    match set {
        "viewer" => &["viewer", "staff", "marketer", "admin"],
        "staff" => &["staff", "admin"],
        "segments" => &["staff", "marketer", "admin"],
        "marketing" => &["marketer", "admin"],
        "admin" => &["admin"],
        other => panic!("unknown role set {other}"),
    }
}

/// Every root field of the schema with the roles that may use it (see [`allowed`]) and a small document
/// calling it (`ROLE` is replaced by the caller's role, for names that must differ); `id` is an
/// existing customer.
pub fn operations(id: &str) -> Vec<(&'static str, &'static str, String)> {
    let mut all = vec![
        ("viewer", "customer", format!("{{ customer(id: \"{id}\") {{ name }} }}")),
        ("viewer", "customers", "{ customers { totalCount } }".into()),
        ("viewer", "findCustomer", "{ findCustomer(phone: \"+14155550101\") { id } }".into()),
        ("viewer", "loyaltyStats", "{ loyaltyStats { summary { totalCustomers } } }".into()),
        ("viewer", "upcomingOccasions", "{ upcomingOccasions { name } }".into()),
        ("viewer", "segments", "{ segments { items { name } } }".into()),
        ("viewer", "loyaltyTiers", "{ loyaltyTiers { tier } }".into()),
        ("viewer", "pointsPerRedeemedDollar", "{ pointsPerRedeemedDollar }".into()),
        ("viewer", "restaurant", "{ restaurant { id } }".into()),
        ("viewer", "rewards", "{ rewards { items { id } } }".into()),
        ("viewer", "voucher", "{ voucher(code: \"AAAAA-AAAAA\") { code } }".into()),
        ("staff", "upsertCustomer", "mutation { upsertCustomer(input: { phone: \"+14155550109\", name: \"Zed\" }) { created } }".into()),
        ("staff", "addPoints", format!("mutation {{ addPoints(customerId: \"{id}\", points: 1) {{ currentPoints }} }}")),
        ("staff", "redeemPoints", format!("mutation {{ redeemPoints(customerId: \"{id}\", points: 1) {{ currentPoints }} }}")),
        ("staff", "recordVisit", format!("mutation {{ recordVisit(customerId: \"{id}\", orderAmount: 1) {{ visitId }} }}")),
        ("staff", "recordOrder", "mutation { recordOrder(input: { phone: \"+14155550101\", orderId: \"x\", amount: 1 }) { pointsEarned } }".into()),
        ("staff", "refundOrder", "mutation { refundOrder(input: { orderId: \"nope\" }) { replayed } }".into()),
        ("staff", "addNote", format!("mutation {{ addNote(customerId: \"{id}\", note: \"hi\") {{ id }} }}")),
        ("staff", "recordFeedback", format!("mutation {{ recordFeedback(customerId: \"{id}\", rating: 4) {{ replayed }} }}")),
        ("staff", "addSpecialOccasion", format!("mutation {{ addSpecialOccasion(customerId: \"{id}\", name: \"x\", date: \"2020-01-01\") {{ id }} }}")),
        ("staff", "updateSpecialOccasion", "mutation { updateSpecialOccasion(id: \"999\", name: \"y\") { id } }".into()),
        ("staff", "removeSpecialOccasion", "mutation { removeSpecialOccasion(id: \"999\") { removedId } }".into()),
        ("segments", "updateSegmentRule", "mutation { updateSegmentRule(name: \"nope\", rule: {}) { name } }".into()),
        ("marketing", "campaigns", "{ campaigns { items { id } } }".into()),
        ("marketing", "campaign", "{ campaign(id: \"999\") { id } }".into()),
        ("marketing", "campaignAudience", "{ campaignAudience(id: \"999\") { audience } }".into()),
        ("marketing", "previewCampaign", format!("{{ previewCampaign(id: \"999\", customerId: \"{id}\") {{ subject }} }}")),
        ("marketing", "templateVariables", "{ templateVariables { name } }".into()),
        (
            "marketing",
            "createCampaign",
            "mutation { createCampaign(input: { name: \"c-ROLE\", subject: \"s\", bodyText: \"t\", bodyHtml: \"h\" }) { id } }".into(),
        ),
        ("marketing", "updateCampaign", "mutation { updateCampaign(id: \"999\", input: { name: \"x\" }) { id } }".into()),
        ("marketing", "duplicateCampaign", "mutation { duplicateCampaign(id: \"999\") { id } }".into()),
        ("marketing", "scheduleCampaign", "mutation { scheduleCampaign(id: \"999\", schedule: { sendNow: true }) { id } }".into()),
        ("marketing", "pauseCampaign", "mutation { pauseCampaign(id: \"999\") { id } }".into()),
        ("marketing", "resumeCampaign", "mutation { resumeCampaign(id: \"999\") { id } }".into()),
        ("marketing", "cancelCampaign", "mutation { cancelCampaign(id: \"999\") { id } }".into()),
        ("marketing", "sendTestEmail", "mutation { sendTestEmail(id: \"999\", to: \"x@example.com\") { to } }".into()),
        ("segments", "renameSegment", "mutation { renameSegment(name: \"nope\", newName: \"still-nope\") { name } }".into()),
        ("segments", "deleteSegment", "mutation { deleteSegment(name: \"nope\") { name } }".into()),
        ("segments", "addCustomersToSegment", "mutation { addCustomersToSegment(segment: \"nope\", customerIds: [\"999\"]) { changed } }".into()),
        ("segments", "removeCustomersFromSegment", "mutation { removeCustomersFromSegment(segment: \"nope\", customerIds: [\"999\"]) { changed } }".into()),
        ("staff", "setCustomerDates", format!("mutation {{ setCustomerDates(customerId: \"{id}\", anniversary: null) {{ id }} }}")),
        ("segments", "createSegment", "mutation { createSegment(input: { name: \"s-ROLE\" }) { name } }".into()),
        ("staff", "adjustPoints", format!("mutation {{ adjustPoints(customerId: \"{id}\", points: 1, reason: \"fix\") {{ currentPoints }} }}")),
        ("staff", "redeemReward", format!("mutation {{ redeemReward(customerId: \"{id}\", rewardId: \"999\") {{ replayed }} }}")),
        ("staff", "useVoucher", "mutation { useVoucher(code: \"AAAAA-AAAAA\", orderId: \"o\") { replayed } }".into()),
        ("staff", "changePhone", format!("mutation {{ changePhone(customerId: \"{id}\", phone: \"+14155550101\") {{ changed }} }}")),
        ("staff", "voidVoucher", "mutation { voidVoucher(code: \"AAAAA-AAAAA\") { code } }".into()),
        ("staff", "createMemberToken", format!("mutation {{ createMemberToken(customerId: \"{id}\") {{ token }} }}")),
        ("admin", "runJob", "mutation { runJob(job: DORMANCY, dryRun: true) { run { outcome } } }".into()),
        ("admin", "jobRuns", "{ jobRuns { items { id } } }".into()),
        ("marketing", "campaignReports", "{ campaignReports { sent } }".into()),
        ("marketing", "deliveries", "{ deliveries { items { id } } }".into()),
        ("admin", "apiKeys", "{ apiKeys { items { prefix } } }".into()),
        ("admin", "createApiKey", "mutation { createApiKey(role: VIEWER, name: \"x\") { key } }".into()),
        ("admin", "revokeApiKey", "mutation { revokeApiKey(prefix: \"lk_nope\") { prefix } }".into()),
        ("admin", "exportCustomer", format!("{{ exportCustomer(id: \"{id}\") }}")),
        ("admin", "auditLog", "{ auditLog { items { action } } }".into()),
        ("admin", "mergeCustomers", "mutation { mergeCustomers(sourceId: \"998\", targetId: \"999\") { id } }".into()),
        ("admin", "eraseCustomer", "mutation { eraseCustomer(id: \"999\") { id } }".into()),
        ("admin", "createReward", "mutation { createReward(input: { name: \"R-ROLE\", pointsCost: 10, kind: FREE_ITEM, itemId: \"x\" }) { id } }".into()),
        ("admin", "updateReward", "mutation { updateReward(id: \"999\", input: { name: \"y\" }) { id } }".into()),
        ("admin", "updateRestaurant", "mutation { updateRestaurant(input: { currency: \"USD\" }) { id } }".into()),
    ];
    all.extend(integration());
    all
}

/// The root fields that connect other systems (sync, imports, exports, webhooks, predictions),
/// as [`operations`] lists them.
fn integration() -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("viewer", "ledgerChanges", "{ ledgerChanges { settledAt } }".into()),
        ("viewer", "orderChanges", "{ orderChanges { settledAt } }".into()),
        ("marketing", "exportAudience", "{ exportAudience(segment: \"vip\") { members } }".into()),
        ("admin", "importCustomers", "mutation { importCustomers(rows: [], dryRun: true) { created } }".into()),
        ("admin", "webhookEndpoints", "{ webhookEndpoints { id } }".into()),
        ("admin", "webhookDeliveries", "{ webhookDeliveries(endpointId: \"999\") { items { eventId } } }".into()),
        ("admin", "setWebhookEndpointPersonal", "mutation { setWebhookEndpointPersonal(id: \"999\", includePersonal: true) { id } }".into()),
        ("admin", "createWebhookEndpoint", "mutation { createWebhookEndpoint(url: \"https://hooks.example.com/ROLE\", events: [\"*\"]) { secret } }".into()),
        ("admin", "rotateWebhookSecret", "mutation { rotateWebhookSecret(id: \"999\") { secret } }".into()),
        ("admin", "setWebhookEndpointEnabled", "mutation { setWebhookEndpointEnabled(id: \"999\", enabled: false) { id } }".into()),
        ("admin", "replayWebhooks", "mutation { replayWebhooks(eventId: \"evt_nope\") }".into()),
        ("admin", "fitPredictionModel", "mutation { fitPredictionModel { status } }".into()),
        ("segments", "predictionModels", "{ predictionModels { status } }".into()),
    ]
}

/// The root fields of the schema, from introspection.
pub async fn root_fields(app: &TestApp) -> Vec<String> {
    let schema = app.data("{ __schema { queryType { fields { name } } mutationType { fields { name } } } }", json!({})).await;
    let mut names: Vec<String> = ["queryType", "mutationType"]
        .iter()
        .flat_map(|t| schema["__schema"][t]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()))
        .collect();
    names.sort();
    names
}

both!(every_operation_checks_the_role, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    app.data("mutation($id: ID!) { addPoints(customerId: $id, points: 500) { currentPoints } }", json!({ "id": id })).await;
    let keys = [
        ("viewer", key(&app, "VIEWER").await),
        ("staff", key(&app, "STAFF").await),
        ("marketer", key(&app, "MARKETER").await),
        ("admin", app.admin_key.clone()),
    ];
    let operations = operations(&id);
    let mut covered: Vec<String> = operations.iter().map(|(_, name, _)| name.to_string()).collect();
    covered.sort();
    let member_only = ["me", "updateMyConsent"];
    let expected: Vec<String> = root_fields(&app).await.into_iter().filter(|f| !member_only.contains(&f.as_str())).collect();
    assert_eq!(covered, expected, "the table covers every root field");
    for (min, name, query) in &operations {
        for (role, token) in &keys {
            let query = query.replace("ROLE", role);
            let (status, body) = app.gql_as(Some(token), &query, json!({})).await;
            assert_eq!(status, 200);
            if allowed(min).contains(role) {
                assert!(matches!(code(&body), None | Some("NOT_FOUND")), "{role} may {name}: {body}");
            } else {
                assert_eq!(code(&body), Some("FORBIDDEN"), "{role} may not {name}: {body}");
                let message = body["errors"][0]["message"].as_str().unwrap();
                assert!(message.contains(&format!("needs the {} role", allowed(min).join(", ").replacen(", admin", " or admin", 1))), "{message}");
            }
        }
    }
});

both!(restaurants_are_isolated, |app| async move {
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    app.data("mutation($id: ID!) { addPoints(customerId: $id, points: 500) { currentPoints } }", json!({ "id": ann })).await;
    let occasion = app.data("mutation($id: ID!) { addSpecialOccasion(customerId: $id, name: \"x\", date: \"2020-01-01\") { id } }", json!({ "id": ann })).await
        ["addSpecialOccasion"]["id"]
        .clone();
    let other = app.create_key("other-restaurant", "admin").await;
    let ask = |q: String| {
        let (app, other) = (&app, other.clone());
        async move { app.gql_as(Some(&other), &q, json!({})).await.1 }
    };
    for q in [
        format!("{{ customer(id: \"{ann}\") {{ name }} }}"),
        "{ customer(phone: \"+14155550101\") { name } }".to_string(),
        format!("mutation {{ addPoints(customerId: \"{ann}\", points: 5) {{ currentPoints }} }}"),
        format!("mutation {{ redeemPoints(customerId: \"{ann}\", points: 5) {{ currentPoints }} }}"),
        format!("mutation {{ recordVisit(customerId: \"{ann}\", orderAmount: 5) {{ visitId }} }}"),
        format!("mutation {{ addNote(customerId: \"{ann}\", note: \"x\") {{ id }} }}"),
        format!("mutation {{ recordFeedback(customerId: \"{ann}\", rating: 1) {{ replayed }} }}"),
        "mutation { recordOrder(input: { phone: \"+14155550101\", orderId: \"o1\", amount: 5 }) { pointsEarned } }".to_string(),
        format!("mutation {{ removeSpecialOccasion(id: {occasion}) {{ removedId }} }}"),
        format!("mutation {{ changePhone(customerId: \"{ann}\", phone: \"+14155550188\") {{ changed }} }}"),
        format!("mutation {{ recordOrder(input: {{ customerId: \"{ann}\", orderId: \"o2\", amount: 5 }}) {{ pointsEarned }} }}"),
        format!("mutation {{ setCustomerDates(customerId: \"{ann}\", dateOfBirth: null) {{ id }} }}"),
    ] {
        let body = ask(q.clone()).await;
        assert_eq!(code(&body), Some("NOT_FOUND"), "{q}: {body}");
    }
    let seg = ask("mutation { createSegment(input: { name: \"club\" }) { name } }".into()).await;
    assert!(code(&seg).is_none());
    let add = ask(format!("mutation {{ addCustomersToSegment(segment: \"club\", customerIds: [\"{ann}\"]) {{ changed failed {{ id code }} }} }}")).await;
    assert_eq!(add["data"]["addCustomersToSegment"], json!({ "changed": 0, "failed": [{ "id": ann, "code": "NOT_FOUND" }] }), "{add}");
    let list = ask("{ customers(filter: { search: \"Ann\" }) { totalCount } loyaltyStats { summary { totalCustomers totalPointsIssued } } upcomingOccasions(days: 366) { name } apiKeys { items { prefix } } deliveries { items { id } } }".into()).await;
    assert_eq!(list["data"]["customers"]["totalCount"], 0);
    assert_eq!(list["data"]["loyaltyStats"]["summary"], json!({ "totalCustomers": 0, "totalPointsIssued": 0 }));
    assert_eq!(list["data"]["upcomingOccasions"], json!([]));
    assert_eq!(list["data"]["apiKeys"]["items"].as_array().unwrap().len(), 1, "only its own key");
    let first_prefix: String = app.admin_key.split('_').take(2).collect::<Vec<_>>().join("_");
    let revoke = ask(format!("mutation {{ revokeApiKey(prefix: \"{first_prefix}\") {{ prefix }} }}")).await;
    assert_eq!(code(&revoke), Some("NOT_FOUND"), "another restaurant's key is out of reach");

    let twin = ask(
        "mutation { upsertCustomer(input: { phone: \"+14155550101\", name: \"Other Ann\" }) { created customer { id loyaltyPoints { current } } } }".into(),
    )
    .await;
    assert_eq!(twin["data"]["upsertCustomer"]["created"], true, "the same phone is another member there");
    assert_eq!(twin["data"]["upsertCustomer"]["customer"]["loyaltyPoints"]["current"], 0);
    let mine = app.data(&format!("{{ customer(id: \"{ann}\") {{ name loyaltyPoints {{ current }} }} }}"), json!({})).await;
    assert_eq!(mine["customer"], json!({ "name": "Ann", "loyaltyPoints": { "current": 500 } }), "restaurant A is untouched");
});

async fn requests_per_key_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_RATE_LIMIT", "2")]).await;
    let mut statuses = Vec::new();
    let client = crate::harness::http_client();
    for _ in 0..8 {
        let res = client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&app.admin_key)
            .json(&json!({ "query": "{ loyaltyTiers { tier } }" }))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let body: Value = res.json().await.unwrap();
        if status == 429 {
            assert_eq!((code(&body), retry_after.as_deref()), (Some("RATE_LIMITED"), Some("1")), "says when to retry");
        }
        statuses.push(status);
    }
    assert_eq!(statuses[..4], [200; 4], "a burst of twice the rate passes: {statuses:?}");
    assert!(statuses.contains(&429), "then the key is slowed down: {statuses:?}");
}

on_both!(requests_per_key_are_rate_limited);

fn jwt(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn signed_tokens_from_the_login_service_are_accepted(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_JWT_SECRET", "login-secret"), ("LOYALTY_JWT_ISSUER", "login.example")]).await;
    create_customer(&app, "+14155550101", "Ann").await;
    let exp = chrono::Utc::now().timestamp() + 600;
    let claims = |role: &str, restaurant: &str, iss: &str, exp: i64| json!({ "sub": "user-7", "role": role, "restaurant": restaurant, "iss": iss, "exp": exp });
    let read = "{ customers { totalCount } }";
    let write = "mutation { upsertCustomer(input: { phone: \"+14155550102\", name: \"Bob\" }) { created } }";

    let viewer = jwt("login-secret", claims("viewer", "default", "login.example", exp));
    let (status, body) = app.gql_as(Some(&viewer), read, json!({})).await;
    assert_eq!((status, body["data"]["customers"]["totalCount"].as_i64()), (200, Some(1)));
    assert_eq!(code(&app.gql_as(Some(&viewer), write, json!({})).await.1), Some("FORBIDDEN"));
    let staff = jwt("login-secret", claims("staff", "default", "login.example", exp));
    let (_, body) = app.gql_as(Some(&staff), write, json!({})).await;
    assert_eq!(body["data"]["upsertCustomer"]["created"], true);
    let audit = app.data("{ auditLog(action: CUSTOMER_CREATED, first: 1) { items { actor } } }", json!({})).await;
    assert_eq!(audit["auditLog"]["items"][0]["actor"], "jwt:user-7", "the token's subject acts");
    let elsewhere = jwt("login-secret", claims("admin", "other", "login.example", exp));
    assert_eq!(app.gql_as(Some(&elsewhere), read, json!({})).await.1["data"]["customers"]["totalCount"], 0, "scoped to its restaurant");

    for (what, token) in [
        ("expired", jwt("login-secret", claims("admin", "default", "login.example", exp - 1200))),
        ("wrong secret", jwt("other-secret", claims("admin", "default", "login.example", exp))),
        ("wrong issuer", jwt("login-secret", claims("admin", "default", "someone.else", exp))),
        ("no issuer", jwt("login-secret", json!({ "sub": "user-7", "role": "admin", "restaurant": "default", "exp": exp }))),
        ("unknown role", jwt("login-secret", claims("owner", "default", "login.example", exp))),
        ("unsigned", format!("{}.", viewer.rsplit_once('.').unwrap().0.replace(&viewer[..viewer.find('.').unwrap()], "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"))),
    ] {
        let (status, body) = app.gql_as(Some(&token), read, json!({})).await;
        assert_eq!((status, code(&body)), (401, Some("UNAUTHENTICATED")), "{what}");
    }
}

on_both!(signed_tokens_from_the_login_service_are_accepted);

both!(oversized_requests_are_refused, |app| async move {
    let huge = format!("{{ customers(filter: {{ search: \"{}\" }}) {{ totalCount }} }}", "x".repeat(300 * 1024));
    let (status, _) = app.gql_as(Some(&app.admin_key), &huge, json!({})).await;
    assert_eq!(status, 413, "bodies over 256 KiB are refused");
});

async fn keys_revoked_through_graphql_stop_at_once_despite_the_cache(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_KEY_CACHE_SECS", "600")]).await;
    let staff = key(&app, "STAFF").await;
    let q = "{ customers { totalCount } }";
    assert_eq!(app.gql_as(Some(&staff), q, json!({})).await.0, 200, "now cached");
    let prefix: String = staff.split('_').take(2).collect::<Vec<_>>().join("_");
    app.data("mutation($p: String!) { revokeApiKey(prefix: $p) { prefix } }", json!({ "p": prefix })).await;
    assert_eq!(app.gql_as(Some(&staff), q, json!({})).await.0, 401);
}

on_both!(keys_revoked_through_graphql_stop_at_once_despite_the_cache);
