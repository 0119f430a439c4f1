//! Customer apps: a member's own token (minted by staff, or issued by the login service with
//! role `customer`) reads only that member through `me` and changes only their consent; every
//! other field answers FORBIDDEN, and other members' notes and allergies are never reachable.

use serde_json::{Value, json};

use crate::access::{operations, root_fields};
use crate::harness::{Backend, TestApp};
use crate::{add_points, both, on_both};

const ME: &str = "{ me { id name loyaltyTier loyaltyPoints { current toNextTier } referral { referralCode }
    pointsHistory { items { kind points reason } } visits { items { amount } } specialOccasions { items { name } } marketing { emailOptIn specialOffers } } }";

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

async fn member(app: &TestApp, phone: &str, name: &str, extra: Value) -> String {
    let mut input = json!({ "phone": phone, "name": name, "preferences": { "allergies": ["peanuts"] } });
    input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let q = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
    app.data(q, json!({ "input": input })).await["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()
}

async fn token_for(app: &TestApp, id: &str) -> String {
    let q = "mutation($id: ID!) { createMemberToken(customerId: $id, minutes: 30) { token customerId expiresAt } }";
    app.data(q, json!({ "id": id })).await["createMemberToken"]["token"].as_str().unwrap().to_string()
}

both!(a_member_token_reads_only_that_member_and_changes_only_their_consent, |app| async move {
    let ann = member(&app, "+14155550101", "Ann Lee", json!({})).await;
    let bob = member(&app, "+14155550102", "Bob", json!({})).await;
    add_points(&app, &ann, 1_200).await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"VIP, seat by the window\") { id } }", json!({ "id": ann })).await;
    let token = token_for(&app, &ann).await;

    let (status, body) = app.gql_as(Some(&token), ME, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let me = &body["data"]["me"];
    assert_eq!((me["id"].as_str(), me["name"].as_str(), me["loyaltyTier"].as_str()), (Some(ann.as_str()), Some("Ann Lee"), Some("SILVER")));
    assert_eq!(me["loyaltyPoints"], json!({ "current": 1200, "toNextTier": 1300 }));
    assert_eq!(me["pointsHistory"]["items"][0]["points"], 1200);
    for staff_only in ["notes { note }", "preferences { allergies }", "tags", "auditLog", "referral { referredBy { name } }"] {
        let (_, body) = app.gql_as(Some(&token), &format!("{{ me {{ {staff_only} }} }}"), json!({})).await;
        assert_eq!(code(&body), Some("VALIDATION"), "a member's view has no {staff_only}: {body}");
    }

    let consent = "mutation { updateMyConsent(input: { emailOptIn: true, specialOffers: true }) { marketing { emailOptIn specialOffers } } }";
    let (_, body) = app.gql_as(Some(&token), consent, json!({})).await;
    assert_eq!(body["data"]["updateMyConsent"]["marketing"], json!({ "emailOptIn": true, "specialOffers": true }), "{body}");
    let audit = app.data("query($id: ID!) { auditLog(customerId: $id, action: CONSENT_CHANGED) { items { actor details } } }", json!({ "id": ann })).await;
    let entries = audit["auditLog"]["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["details"]["source"] == "customer-app" && e["actor"] == format!("member:customer:{ann}")), "{audit}");
    let bob_now = app.data("query($id: ID!) { customer(id: $id) { marketing { emailOptIn } } }", json!({ "id": bob })).await;
    assert_eq!(bob_now["customer"]["marketing"]["emailOptIn"], false, "only the token's member changed");

    // Every other root field refuses the member's token, whatever role it needs.
    let mut checked = vec!["me".to_string(), "updateMyConsent".to_string()];
    for (_, name, query) in operations(&ann) {
        let (status, body) = app.gql_as(Some(&token), &query.replace("ROLE", "member"), json!({})).await;
        assert_eq!((status, code(&body)), (200, Some("FORBIDDEN")), "{name}: {body}");
        checked.push(name.to_string());
    }
    checked.sort();
    assert_eq!(checked, root_fields(&app).await, "every root field was tried");
    let (_, body) = app.gql_as(Some(&app.admin_key), ME, json!({})).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "staff keys have no `me`");

    let (_, body) = app.gql_as(Some(&app.admin_key), "mutation { createMemberToken(customerId: \"1\", minutes: 5000) { token } }", json!({})).await;
    assert_eq!((code(&body), body["errors"][0]["extensions"]["field"].as_str()), (Some("VALIDATION"), Some("minutes")));
    let other = app.create_key("elsewhere", "staff").await;
    let (_, body) = app.gql_as(Some(&other), &format!("mutation {{ createMemberToken(customerId: \"{ann}\") {{ token }} }}"), json!({})).await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "no token for another restaurant's member");
    let (status, body) = app.gql_as(Some(&format!("{token}x")), ME, json!({})).await;
    assert_eq!((status, code(&body)), (401, Some("UNAUTHENTICATED")), "a tampered token");
});

fn jwt(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn the_login_services_customer_tokens_name_the_member_by_user_id(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_JWT_SECRET", "login-secret")]).await;
    let ann = member(&app, "+14155550101", "Ann Lee", json!({ "userId": "auth0|ann" })).await;
    let exp = chrono::Utc::now().timestamp() + 600;
    let token = jwt("login-secret", json!({ "sub": "auth0|ann", "restaurant": "default", "role": "customer", "exp": exp }));
    let (_, body) = app.gql_as(Some(&token), "{ me { id name } }", json!({})).await;
    assert_eq!(body["data"]["me"], json!({ "id": ann, "name": "Ann Lee" }), "{body}");
    let (_, body) = app.gql_as(Some(&token), "{ customers { totalCount } }", json!({})).await;
    assert_eq!(code(&body), Some("FORBIDDEN"));
    let stranger = jwt("login-secret", json!({ "sub": "auth0|nobody", "restaurant": "default", "role": "customer", "exp": exp }));
    let (_, body) = app.gql_as(Some(&stranger), "{ me { id } }", json!({})).await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "a user who is not a member yet");
    let elsewhere = jwt("login-secret", json!({ "sub": "auth0|ann", "restaurant": "other", "role": "customer", "exp": exp }));
    let (_, body) = app.gql_as(Some(&elsewhere), "{ me { id } }", json!({})).await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "the same user in another restaurant is another (absent) member");
    let expired = jwt("login-secret", json!({ "sub": "auth0|ann", "restaurant": "default", "role": "customer", "exp": exp - 1200 }));
    assert_eq!(app.gql_as(Some(&expired), "{ me { id } }", json!({})).await.0, 401);
}

on_both!(the_login_services_customer_tokens_name_the_member_by_user_id);
