//! A marketer's export of an audience: a segment's members or whom a campaign targets, as a
//! CSV or JSON Lines download and from the CLI (the same file), with contact, tier, points and
//! consent, never allergies, dietary needs or notes; another restaurant's audiences are not found.

use serde_json::{Value, json};

use super::{CREATE, as_key, content, member, opted_in, refused};
use crate::both;

const EXPORT: &str =
    "query($s: String, $c: ID, $f: ExportFormat) { exportAudience(segment: $s, campaignId: $c, format: $f) { filename contentType members content } }";

both!(a_marketer_exports_an_audience_without_health_data_or_notes, |app| async move {
    let mut ann = opted_in("ann@example.com");
    ann["preferences"] = json!({ "allergies": ["peanuts"], "dietaryRestrictions": ["vegan"] });
    let ann = member(&app, "+14155550401", "Ann Export", ann).await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"prefers the window table\") { id } }", json!({ "id": ann })).await;
    member(&app, "+14155550402", "Bob Export", json!({ "email": "bob@example.com" })).await;
    let marketer = app.create_key("default", "marketer").await;
    let segment = "mutation { createSegment(input: { name: \"mailable\", rule: { emailOptIn: true } }) { name customerCount } }";
    assert_eq!(as_key(&app, &marketer, segment, json!({})).await["createSegment"]["customerCount"], 1);

    let csv = as_key(&app, &marketer, EXPORT, json!({ "s": "mailable" })).await["exportAudience"].clone();
    assert_eq!((csv["filename"].as_str(), csv["contentType"].as_str(), csv["members"].as_i64()), (Some("audience-mailable.csv"), Some("text/csv"), Some(1)));
    let text = csv["content"].as_str().unwrap();
    assert!(text.starts_with("customerId,externalId,name,email,phone,tier,points,lifetimePoints,memberSince,lastVisit,emailOptIn,"), "{text}");
    assert!(text.contains(&format!("{ann},,Ann Export,ann@example.com,+14155550401,bronze,0,0,")), "{text}");
    for private in ["peanuts", "vegan", "window", "Bob"] {
        assert!(!text.contains(private), "{private} is not in the export: {text}");
    }
    let cli = app.cli(&["export", "audience", "--segment", "mailable", "--format", "csv"]).await;
    assert_eq!(cli, text, "the CLI writes the same file");

    let created = as_key(&app, &marketer, CREATE, content("Everyone", json!({ "rule": { "minTier": "BRONZE" } }))).await;
    let campaign = created["createCampaign"]["id"].as_str().unwrap().to_string();
    let lines = as_key(&app, &marketer, EXPORT, json!({ "c": campaign, "f": "JSON_LINES" })).await["exportAudience"].clone();
    assert_eq!((lines["filename"].as_str(), lines["members"].as_i64()), (Some(format!("campaign-{campaign}.jsonl").as_str()), Some(2)));
    let rows: Vec<Value> = lines["content"].as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.iter().map(|r| r["emailOptIn"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false], "consent flags ride along");
    assert!(rows.iter().all(|r| r.get("allergies").is_none() && r.get("notes").is_none()), "{rows:?}");

    for vars in [json!({}), json!({ "s": "mailable", "c": campaign })] {
        let (code, message) = refused(&app, &marketer, EXPORT, vars).await;
        assert_eq!(code, "VALIDATION", "{message}");
    }
    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { erased } }", json!({ "id": ann })).await;
    let after = as_key(&app, &marketer, EXPORT, json!({ "c": campaign })).await["exportAudience"].clone();
    assert_eq!(after["members"], 1, "an erased member is left out: {after}");
    for what in ["customers", "audience"] {
        let mut args = vec!["export", what, "--format", "csv"];
        if what == "audience" {
            args.extend(["--campaign", campaign.as_str()]);
        }
        let text = app.cli(&args).await;
        assert!(!text.contains("erased-") && !text.contains("Erased customer"), "{what}: {text}");
    }
    let theirs = app.create_key("elsewhere", "marketer").await;
    for vars in [json!({ "s": "mailable" }), json!({ "c": campaign })] {
        assert_eq!(refused(&app, &theirs, EXPORT, vars).await.0, "NOT_FOUND", "another restaurant's audiences are not found");
    }
});

/// An audience larger than a download holds is refused before any member is read, with the
/// way to the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audience_too_large_to_download_is_refused() {
    let app = crate::harness::TestApp::spawn(crate::harness::Backend::Postgres).await;
    app.sql(
        "INSERT INTO customers (restaurant_id, name, tier, points_current, points_lifetime, points_redeemed, member_since, total_visits, \
         total_spent_cents, email_opt_in, sms_opt_in, push_opt_in, special_offers, birthday_offers, anniversary_offers, referral_code, \
         referrals_count, referral_rewards, rating_total, review_count, status, last_activity_at, created_at, updated_at) \
         SELECT 'default', 'Bulk ' || i, 'bronze', 0, 0, 0, now(), 0, 0, false, false, false, false, false, false, 'BULK' || i, 0, 0, 0, 0, \
         'active', now(), now(), now() FROM generate_series(1, 10001) AS i",
    )
    .await;
    app.data("mutation { createSegment(input: { name: \"everyone\", rule: { minTier: BRONZE } }) { name } }", json!({})).await;
    let (code, message, err) = app.error(EXPORT, json!({ "s": "everyone" })).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("segment")), "{message}");
    assert!(message.contains("10001 members") && message.contains("loyalty export audience"), "{message}");
}
