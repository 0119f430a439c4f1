//! Every GraphQL example in the README and the guides under `docs/` runs as written, in order,
//! against a service loaded with `loyalty demo-data` — so the user's guide cannot drift from the
//! service. Examples for customer apps (`me`, `updateMyConsent`) run with the member token the
//! guide's own `createMemberToken` example returned.

use serde_json::json;

use crate::both;

/// The user's guide in reading order: the README, then the guides it links to.
const GUIDE: [&str; 12] = [
    include_str!("../../README.md"),
    include_str!("../../docs/cli.md"),
    include_str!("../../docs/programme.md"),
    include_str!("../../docs/http.md"),
    include_str!("../../docs/campaigns.md"),
    include_str!("../../docs/access.md"),
    include_str!("../../docs/privacy.md"),
    include_str!("../../docs/errors.md"),
    include_str!("../../docs/guide.md"),
    include_str!("../../docs/operations.md"),
    include_str!("../../docs/integration.md"),
    include_str!("../../docs/predictions.md"),
];

/// The GraphQL documents of the guide's ```graphql blocks, in order (a block may hold several,
/// one after another).
fn examples() -> Vec<String> {
    let readme = GUIDE.concat();
    let mut docs = Vec::new();
    for block in readme.split("```graphql\n").skip(1) {
        let block = block.split("```").next().unwrap_or_default();
        let (mut depth, mut current) = (0i32, String::new());
        for ch in block.chars() {
            current.push(ch);
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        docs.push(current.trim().to_string());
                        current.clear();
                    }
                }
                _ => {}
            }
        }
    }
    docs
}

both!(every_readme_example_runs_against_the_demo_data, |app| async move {
    let loaded = app.cli(&["demo-data"]).await;
    assert!(loaded.contains("24 customers"), "{loaded}");
    let docs = examples();
    assert!(docs.len() >= 18, "the README's examples were found: {}", docs.len());
    let mut member_token: Option<String> = None;
    for doc in &docs {
        let for_member = doc.contains("updateMyConsent") || doc.trim_start_matches('{').trim_start().starts_with("me ");
        let key = if for_member { member_token.clone().expect("the createMemberToken example comes first") } else { app.admin_key.clone() };
        let (status, body) = app.gql_as(Some(&key), doc, json!({})).await;
        assert_eq!(status, 200, "{doc}\n{body}");
        assert!(body.get("errors").is_none(), "README example failed:\n{doc}\n{body:#}");
        if let Some(token) = body["data"]["createMemberToken"]["token"].as_str() {
            member_token = Some(token.to_string());
        }
    }
    let members = "{ customers(limit: 100) { items { id name email phone loyaltyTier loyaltyPoints { current lifetime } } } }";
    let before = app.data(members, json!({})).await;
    let items = before["customers"]["items"].as_array().unwrap();
    let mut names: Vec<&str> = items.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut emails: Vec<&str> = items.iter().filter_map(|c| c["email"].as_str()).collect();
    let (n, e) = (names.len(), emails.len());
    names.sort();
    names.dedup();
    emails.sort();
    emails.dedup();
    assert_eq!((names.len(), emails.len()), (n, e), "every member has a name and an email of their own");
    assert!(items.iter().any(|c| c["name"] == "John Doe"), "the README's example made its own member");
    app.cli(&["demo-data"]).await;
    assert_eq!(app.data(members, json!({})).await, before, "running demo-data again changes nothing, after the examples too");
});

both!(the_demo_restaurant_gets_a_placeholder_postal_address_and_keeps_a_real_one, |app| async move {
    let address = "{ restaurant { postalAddress } }";
    app.data("mutation { updateRestaurant(input: { postalAddress: \"\" }) { postalAddress } }", json!({})).await;
    app.cli(&["demo-data"]).await;
    assert_eq!(app.data(address, json!({})).await["restaurant"]["postalAddress"], "100 Demo Street\nSpringfield 12345", "marketing examples work on the demo");
    app.data("mutation { updateRestaurant(input: { postalAddress: \"1 Real Road\" }) { postalAddress } }", json!({})).await;
    app.cli(&["demo-data"]).await;
    assert_eq!(app.data(address, json!({})).await["restaurant"]["postalAddress"], "1 Real Road", "an address an admin set stays");
});
