//! The restaurant's letterhead and the one email layout, over HTTP: no marketing email goes out
//! while the restaurant has no postal address (scheduling and test sends answer
//! `SETTING_REQUIRED` naming `postalAddress`, an automation's run fails saying so), and every
//! kind's email — previewed for a member, and a test email as the SMTP server received it — is
//! rendered in headless Chromium at 390 and 800 px, light and dark: it fits the width, its
//! button books a table, its offer block shows the voucher's code (and a QR code a scanner reads
//! it from), its footer carries the address, "Manage preferences" and "Unsubscribe".

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::{CREATE, as_key, member, refused, spawn};
use crate::browser::{ensure_node_tools, node_dir};
use crate::harness::{Backend, TestApp};
use crate::on_both;
use crate::smtp::SmtpSink;

const LETTERHEAD: &str =
    "mutation($input: RestaurantInput!) { updateRestaurant(input: $input) { postalAddress phone websiteUrl bookingUrl logoUrl brandColor locale } }";

async fn no_marketing_email_goes_out_without_a_postal_address(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[("LOYALTY_POSTAL_ADDRESS", "")]).await;
    let marketer = app.create_key("default", "marketer").await;
    assert_eq!(
        app.data("{ restaurant { postalAddress locale brandColor } }", json!({})).await["restaurant"],
        json!({ "postalAddress": null, "locale": "EN_US", "brandColor": "#2f4f4f" })
    );
    member(&app, "+14155550101", "Ann Lee", json!({ "email": "ann@example.com", "marketing": { "emailOptIn": true, "specialOffers": true } })).await;
    let campaign = json!({ "input": { "name": "News", "audience": { "rule": { "emailOptIn": true } }, "subject": "Hi {{ first_name }}", "bodyText": "News", "bodyHtml": "<p>News</p>" } });
    let id = as_key(&app, &marketer, CREATE, campaign).await["createCampaign"]["id"].as_str().unwrap().to_string();

    let schedule = "mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }";
    let (_, body) = app.gql_as(Some(&marketer), schedule, json!({ "id": id })).await;
    let err = &body["errors"][0];
    assert_eq!((err["extensions"]["code"].as_str(), err["extensions"]["setting"].as_str()), (Some("SETTING_REQUIRED"), Some("postalAddress")), "{body}");
    assert!(err["message"].as_str().unwrap().contains("postalAddress"), "the message names the setting: {body}");
    let (code, message) = refused(&app, &marketer, "mutation($id: ID!) { sendTestEmail(id: $id, to: \"me@chez.test\") { to } }", json!({ "id": id })).await;
    assert_eq!(code, "SETTING_REQUIRED", "{message}");
    let state = as_key(&app, &marketer, "query($id: ID!) { campaign(id: $id) { state } }", json!({ "id": id })).await;
    assert_eq!(state["campaign"]["state"], "DRAFT", "the refused schedule changed nothing");

    let (code, message) = refused(&app, &app.admin_key, "mutation { runJob(job: BIRTHDAY) { run { outcome } } }", json!({})).await;
    assert_eq!(code, "SETTING_REQUIRED", "an automation does not run without the address: {message}");
    let runs = app.data("{ jobRuns(first: 1) { items { error } } }", json!({})).await;
    assert!(runs["jobRuns"]["items"][0]["error"].as_str().unwrap().contains("postalAddress"), "the run says what to set: {runs}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.received().is_empty(), "nothing was sent");

    let set = app.data(LETTERHEAD, json!({ "input": { "postalAddress": " 1 Quay Street \n\n Auckland 1010 " } })).await;
    assert_eq!(set["updateRestaurant"]["postalAddress"], "1 Quay Street\nAuckland 1010", "lines trimmed, blank ones dropped");
    let body = app.gql(LETTERHEAD, json!({ "input": { "brandColor": "teal" } })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "brandColor", "{body}");
    as_key(&app, &marketer, schedule, json!({ "id": id })).await;
    app.data("mutation { runJob(job: CAMPAIGNS) { run { sent } } }", json!({})).await;
    let mail = sink.wait_for(1).await;
    let html = mail[0].parsed().body_html(0).unwrap().to_string();
    assert!(html.contains("1 Quay Street<br>Auckland 1010"), "the footer carries the address: {html}");
}

on_both!(no_marketing_email_goes_out_without_a_postal_address);

/// Harbour Bistro's letterhead, in Auckland, written the New Zealand way.
fn harbour_bistro() -> Value {
    json!({ "input": {
        "name": "Harbour Bistro", "timezone": "Pacific/Auckland", "currency": "NZD", "locale": "EN_NZ",
        "postalAddress": "12 Quay Street\nAuckland 1010\nNew Zealand", "phone": "+64 9 555 0100",
        "websiteUrl": "https://harbour-bistro.example", "bookingUrl": "https://harbour-bistro.example/book",
        "logoUrl": "https://harbour-bistro.example/logo.png", "brandColor": "#1F6F5C", "voucherQrCode": true,
        "tierDiscounts": { "bronze": 5, "gold": 10, "platinum": 15 }, "winBackVoucherPercent": 15,
    } })
}

/// Every built-in kind previewed for Ethan, a marketer's campaign, and a test email as received,
/// written to `dir` as NAME.html; returns the previews' text parts.
async fn write_every_email(app: &TestApp, marketer: &str, sink: &SmtpSink, dir: &Path) -> Vec<(String, String)> {
    let ethan =
        member(app, "+6421555010", "Ethan Walker", json!({ "email": "ethan@example.com", "marketing": { "emailOptIn": true, "specialOffers": true } })).await;
    crate::add_points(app, &ethan, 10_612).await;
    let listed = as_key(app, marketer, "{ campaigns(first: 50) { items { id kind } } }", json!({})).await;
    let offer = json!({ "input": { "name": "Winter menu", "audience": { "rule": { "emailOptIn": true } }, "offer": "A free dessert with any main course",
        "subject": "{{ first_name }}, our winter menu is here", "bodyText": "Hi {{ first_name }},\n\nOur winter menu starts this week.", "bodyHtml": "<p>Hi {{ first_name }},</p><p>Our winter menu starts this week.</p>" } });
    let custom = as_key(app, marketer, CREATE, offer).await["createCampaign"]["id"].clone();
    let mut texts = Vec::new();
    for c in listed["campaigns"]["items"].as_array().unwrap().iter().chain([&json!({ "id": custom, "kind": "MARKETER" })]) {
        let q = "query($id: ID!, $c: ID!) { previewCampaign(id: $id, customerId: $c) { text html } }";
        let preview = as_key(app, marketer, q, json!({ "id": c["id"], "c": ethan })).await;
        let name = c["kind"].as_str().unwrap().to_lowercase();
        std::fs::write(dir.join(format!("{name}.html")), preview["previewCampaign"]["html"].as_str().unwrap()).unwrap();
        texts.push((name, preview["previewCampaign"]["text"].as_str().unwrap().to_string()));
    }
    as_key(app, marketer, "mutation($id: ID!) { sendTestEmail(id: $id, to: \"marketer@harbour-bistro.example\") { to } }", json!({ "id": custom })).await;
    let received = sink.wait_for(1).await;
    std::fs::write(dir.join("received-test.html"), received[0].parsed().body_html(0).unwrap().as_ref()).unwrap();
    texts
}

/// Renders every email of `dir` in Chromium (tests/browser/emails.mjs).
async fn render_in_chromium(dir: &Path) -> Value {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "the browser tests need Debian's chromium at {chromium} (apt-get install chromium) or CHROMIUM=path");
    ensure_node_tools().await;
    let shots = node_dir().join("screenshots");
    std::fs::create_dir_all(&shots).ok();
    let out = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new("node").arg(node_dir().join("emails.mjs")).arg(dir).arg(&shots).env("CHROMIUM", &chromium).output(),
    )
    .await
    .expect("the emails rendered within three minutes")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("no result: {stdout} {}", String::from_utf8_lossy(&out.stderr)))
}

async fn every_kind_renders_with_button_offer_and_footer_in_chromium(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    let marketer = app.create_key("default", "marketer").await;
    app.data(LETTERHEAD, harbour_bistro()).await;
    let dir = std::env::temp_dir().join(format!("loyalty-emails-{}-{backend:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let texts = write_every_email(&app, &marketer, &sink, &dir).await;
    assert_eq!(texts.len(), 12, "eleven built-in kinds and a marketer's campaign");
    for (name, text) in &texts {
        assert!(text.contains("12 Quay Street\nAuckland 1010") && text.contains("Unsubscribe: http"), "{name}: the text footer: {text}");
        assert!(!text.contains("10612"), "{name}: numbers the New Zealand way: {text}");
    }
    let birthday = &texts.iter().find(|(n, _)| n == "birthday").unwrap().1;
    assert!(birthday.contains("Show this code when you pay") && birthday.contains("loyalty programme"), "{birthday}");
    if backend != Backend::Sqlite {
        // The rendering is the same on both databases: Chromium looks once.
        std::fs::remove_dir_all(&dir).ok();
        return;
    }
    let report = render_in_chromium(&dir).await;
    std::fs::remove_dir_all(&dir).ok();
    let emails = report.as_object().unwrap_or_else(|| panic!("{report}"));
    assert_eq!(emails.len(), 13, "{report}");
    for (name, views) in emails {
        let offered = matches!(name.as_str(), "birthday" | "anniversary" | "win_back" | "marketer" | "received-test");
        for (view, seen) in views.as_object().unwrap() {
            let at = format!("{name} at {view}");
            let width = seen["viewport"].as_i64().unwrap();
            assert!(seen["scrollWidth"].as_i64().unwrap() <= width, "{at}: wider than the screen: {seen}");
            let cta = &seen["cta"];
            assert!(cta["visible"] == true && cta["left"].as_i64().unwrap() >= 0 && cta["right"].as_i64().unwrap() <= width, "{at}: the button: {seen}");
            assert_eq!((seen["ctaHref"].as_str(), cta["text"].as_str()), (Some("https://harbour-bistro.example/book"), Some("Book a table")), "{at}");
            assert_eq!(seen["offer"]["visible"] == true, offered, "{at}: the offer block: {seen}");
            if offered && name != "marketer" && name != "received-test" {
                assert!(seen["code"]["fontSize"].as_f64().unwrap() >= 20.0, "{at}: the code is large: {seen}");
                assert_eq!(seen["qr"], seen["code"]["text"], "{at}: a scanner reads the code from its QR code");
            } else {
                assert_eq!(seen["qr"], Value::Null, "{at}: no code, no QR code");
            }
            let footer = seen["footer"]["text"].as_str().unwrap();
            assert!(footer.contains("12 Quay Street") && footer.contains("+64 9 555 0100"), "{at}: the footer: {footer}");
            let links: Vec<&str> = seen["footerLinks"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
            assert!(links.contains(&"Manage preferences") && links.contains(&"Unsubscribe"), "{at}: {links:?}");
            assert_eq!(seen["imagesWithoutAlt"], 0, "{at}");
            assert_eq!(seen["lang"], "en-NZ", "{at}");
            assert!(seen["smallestParagraph"].as_f64().unwrap() >= 14.0, "{at}: readable text: {seen}");
            let (card, ink) = (seen["cardLuminance"].as_f64().unwrap(), seen["cardTextLuminance"].as_f64().unwrap());
            let dark = view.ends_with("dark");
            assert!(if dark { card < 0.3 && ink > 0.7 } else { card > 0.9 && ink < 0.3 }, "{at}: colours (card {card}, text {ink})");
        }
    }
}

on_both!(every_kind_renders_with_button_offer_and_footer_in_chromium);

async fn manage_preferences_saves_only_the_ticked_choices(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    let today = chrono::Utc::now().date_naive().format("%m-%d");
    let all = json!({ "emailOptIn": true, "specialOffers": true, "birthdayOffers": true, "anniversaryOffers": true });
    let ann = member(&app, "+14155550101", "Ann Lee", json!({ "email": "ann@example.com", "dateOfBirth": format!("1990-{today}"), "marketing": all })).await;
    assert_eq!(app.data("mutation { runJob(job: BIRTHDAY) { run { sent } } }", json!({})).await["runJob"]["run"]["sent"], 1);
    let text = sink.wait_for(1).await[0].parsed().body_text(0).unwrap().replace("\r\n", "\n");
    let link = text.lines().find_map(|l| l.strip_prefix("Manage preferences: ")).unwrap_or_else(|| panic!("{text}")).to_string();
    let client = crate::harness::http_client();

    let form = client.get(&link).send().await.unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let form = form.text().await.unwrap();
    assert_eq!(form.matches(" checked>").count(), 4, "every choice shown as it is: {form}");
    let saved = client.post(&link).form(&[("email", "on"), ("birthday", "on")]).send().await.unwrap();
    assert_eq!(saved.status().as_u16(), 200);
    assert!(saved.text().await.unwrap().contains("Your choices are saved"));
    let flags = "query($id: ID!) { customer(id: $id) { marketing { emailOptIn specialOffers birthdayOffers anniversaryOffers } } }";
    let marketing = &app.data(flags, json!({ "id": ann })).await["customer"]["marketing"];
    assert_eq!(*marketing, json!({ "emailOptIn": true, "specialOffers": false, "birthdayOffers": true, "anniversaryOffers": false }));
    let audit = app.data("{ auditLog(action: CONSENT_CHANGED) { items { details } } }", json!({})).await;
    let sources: Vec<&Value> = audit["auditLog"]["items"].as_array().unwrap().iter().filter(|e| e["details"]["source"] == "preferences-page").collect();
    assert_eq!(sources.len(), 2, "one entry per changed choice: {audit}");

    let forged = link.replace("token=", "token=9");
    assert_eq!(client.get(&forged).send().await.unwrap().status().as_u16(), 400, "a forged link is refused");
    client.post(&link).form(&[("x", "")]).send().await.unwrap();
    assert_eq!(app.data(flags, json!({ "id": ann })).await["customer"]["marketing"]["emailOptIn"], false, "nothing ticked: no email");
}

on_both!(manage_preferences_saves_only_the_ticked_choices);

async fn a_marketers_send_reaches_a_shared_address_once_and_built_ins_each_member(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    let today = chrono::Utc::now().date_naive().format("%m-%d");
    let consents = json!({ "emailOptIn": true, "specialOffers": true, "birthdayOffers": true });
    for (phone, name) in [("+14155550101", "Ann Lee"), ("+14155550102", "Bo Lee")] {
        member(&app, phone, name, json!({ "email": "home@example.com", "dateOfBirth": format!("1990-{today}"), "marketing": consents })).await;
    }
    member(&app, "+14155550103", "Cat", json!({ "email": "cat@example.com", "marketing": consents })).await;
    let campaign = json!({ "input": { "name": "News", "audience": { "rule": { "emailOptIn": true } }, "subject": "Hi {{ first_name }}", "bodyText": "News", "bodyHtml": "<p>News</p>" } });
    let id = app.data(CREATE, campaign).await["createCampaign"]["id"].clone();
    app.data("mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }", json!({ "id": id })).await;
    let out = app.data("mutation { runJob(job: CAMPAIGNS) { run { enqueued sent } } }", json!({})).await;
    assert_eq!(out["runJob"]["run"], json!({ "enqueued": 2, "sent": 2 }), "Ann and Bo share one email, Cat has hers");
    let mails = sink.wait_for(2).await;
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["cat@example.com", "home@example.com"]);
    assert_eq!(mails.iter().find(|m| m.to == ["home@example.com"]).unwrap().parsed().subject(), Some("Hi Ann"), "the longest-standing member's");

    let birthdays = app.data("mutation { runJob(job: BIRTHDAY) { run { sent } } }", json!({})).await;
    assert_eq!(birthdays["runJob"]["run"]["sent"], 2, "a birthday is each member's own");
}

on_both!(a_marketers_send_reaches_a_shared_address_once_and_built_ins_each_member);

async fn the_letterhead_and_its_check_are_each_restaurants_own(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    let other = app.create_key("other", "admin").await;
    let settings = "{ restaurant { id postalAddress bookingUrl } }";
    as_key(&app, &other, LETTERHEAD, json!({ "input": { "postalAddress": "", "bookingUrl": "https://other.example/book" } })).await;
    let ours = app.data(settings, json!({})).await;
    assert_eq!(ours["restaurant"]["postalAddress"], "12 Harbour Road\nTestville 1010", "another restaurant's change left ours alone: {ours}");
    assert_eq!(ours["restaurant"]["bookingUrl"], Value::Null);
    assert_eq!(as_key(&app, &other, settings, json!({})).await["restaurant"]["postalAddress"], Value::Null);

    let campaign =
        json!({ "input": { "name": "News", "audience": { "rule": { "emailOptIn": true } }, "subject": "Hi", "bodyText": "News", "bodyHtml": "<p>News</p>" } });
    let schedule = "mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }";
    let theirs = as_key(&app, &other, CREATE, campaign.clone()).await["createCampaign"]["id"].clone();
    let (code, _) = refused(&app, &other, schedule, json!({ "id": theirs })).await;
    assert_eq!(code, "SETTING_REQUIRED", "the restaurant without an address is refused");
    let mine = app.data(CREATE, campaign).await["createCampaign"]["id"].clone();
    assert_eq!(app.data(schedule, json!({ "id": mine })).await["scheduleCampaign"]["state"], "SCHEDULED", "ours, with its address, is not");

    let ann = member(&app, "+14155550101", "Ann Lee", json!({ "email": "ann@example.com" })).await;
    let token = app.data("mutation($id: ID!) { createMemberToken(customerId: $id, minutes: 30) { token } }", json!({ "id": ann })).await;
    let token = token["createMemberToken"]["token"].as_str().unwrap().to_string();
    let (_, body) = app.gql_as(Some(&token), LETTERHEAD, json!({ "input": { "postalAddress": "" } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "a member token changes no setting: {body}");
    assert_eq!(app.data(settings, json!({})).await["restaurant"]["postalAddress"], "12 Harbour Road\nTestville 1010");
}

on_both!(the_letterhead_and_its_check_are_each_restaurants_own);
