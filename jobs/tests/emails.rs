//! Every kind of member email, rendered for one restaurant ("Harbour Bistro", Auckland, en-NZ)
//! and one member, compared with its snapshot in `tests/snapshots/emails/` (text and HTML), as
//! crates.io snapshots its emails. A change of wording or layout shows up as a snapshot diff;
//! `UPDATE_SNAPSHOTS=1 cargo nextest run -p jobs --test emails` rewrites them after review.
//! Each email is also checked for what every one must carry: the layout's button, one offer
//! block where a voucher backs it, the lawful footer, and a text part saying the same.

use std::path::PathBuf;

use entity::entities::{Locale, restaurant};
use entity::rules::content::Vars;
use jobs::Campaign;
use jobs::layout::{Look, Rendered, compose};

fn harbour_bistro() -> Look {
    Look::of(&restaurant::Model {
        name: "Harbour Bistro".into(),
        timezone: "Pacific/Auckland".into(),
        currency: "NZD".into(),
        postal_address: Some("12 Quay Street\nAuckland 1010\nNew Zealand".into()),
        phone: Some("+64 9 555 0100".into()),
        website_url: Some("https://harbour-bistro.example".into()),
        booking_url: Some("https://harbour-bistro.example/book".into()),
        logo_url: Some("https://harbour-bistro.example/logo.png".into()),
        brand_color: "#1f6f5c".into(),
        locale: Locale::EnNz,
        voucher_qr_code: true,
        ..entity::testing::restaurant_fixture()
    })
}

/// Ethan, a Gold member with 10,612 points, and what each kind's job fills in.
fn ethan(kind: Option<Campaign>) -> Vars {
    let mut v = Vars::sample("Harbour Bistro", None);
    (v.first_name, v.name, v.points, v.locale, v.program) = ("Ethan".into(), "Ethan Walker".into(), 10_612, "en-NZ".into(), "programme".into());
    (v.voucher_code, v.voucher_percent, v.voucher_expires) = (String::new(), 0, String::new());
    (v.unsubscribe_url, v.preferences_url) =
        ("https://loyalty.example/unsubscribe?token=T&d=7".into(), "https://loyalty.example/preferences?token=T&d=7".into());
    let voucher =
        |v: &mut Vars, percent| (v.voucher_code, v.voucher_percent, v.voucher_expires) = ("4NM7W-DKTAB".into(), percent, "Wednesday 6 January 2027".into());
    match kind {
        Some(Campaign::Birthday | Campaign::Anniversary) => voucher(&mut v, 10),
        Some(Campaign::WinBack) => voucher(&mut v, 15),
        Some(Campaign::Occasion) => (v.occasion_date, v.days_until_occasion) = ("Friday 11 December 2026".into(), 3),
        Some(Campaign::PointsExpiry) => (v.expiring_points, v.expires_on) = (10_612, "Wednesday 6 January 2027".into()),
        _ => {}
    }
    if kind == Some(Campaign::Anniversary) {
        v.years = 12;
    }
    v
}

/// A marketer's campaign: content of its own and an offer text.
const MARKETER: (&str, &str, &str) = (
    "{{ first_name }}, our winter menu is here",
    "Hi {{ first_name }},\n\nOur winter menu starts this week: slow-cooked lamb, kumara soup and a warm apple crumble.\n",
    "<p>Hi {{ first_name }},</p>\n<p>Our winter menu starts this week: slow-cooked lamb, kumara soup and a warm apple crumble.</p>\n",
);

fn every_email() -> Vec<(String, Rendered)> {
    let look = harbour_bistro();
    let mut out: Vec<(String, Rendered)> = Campaign::ALL
        .iter()
        .map(|&kind| {
            let w = kind.kind().wording;
            (kind.name().to_string(), compose(w.subject, w.text, w.html, &ethan(Some(kind)), &look).unwrap())
        })
        .collect();
    let mut marketer = ethan(None);
    marketer.offer = "A free dessert with any main course".into();
    out.push(("marketer".into(), compose(MARKETER.0, MARKETER.1, MARKETER.2, &marketer, &look).unwrap()));
    out
}

fn snapshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/emails")
}

#[test]
fn every_email_matches_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for (name, email) in every_email() {
        for (ext, body) in [("txt", format!("Subject: {}\n\n{}", email.subject, email.text)), ("html", email.html)] {
            let path = snapshots().join(format!("{name}.{ext}"));
            if update {
                std::fs::create_dir_all(snapshots()).unwrap();
                std::fs::write(&path, &body).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(body.as_str()) {
                stale.push(format!("{name}.{ext}"));
            }
        }
    }
    assert!(stale.is_empty(), "emails differ from their snapshots: {stale:?}; review and run UPDATE_SNAPSHOTS=1 cargo nextest run -p jobs --test emails");
}

/// The words a reader sees in `html` (no tags, styles or preheader), spaces collapsed.
fn visible(html: &str) -> String {
    let mut rest = html.split("<div class=\"preheader\"").collect::<Vec<_>>().join("<div hidden ");
    if let (Some(a), Some(b)) = (rest.find("<style>"), rest.find("</style>")) {
        rest.replace_range(a..b, "");
    }
    let mut text = String::new();
    let mut in_tag = false;
    for ch in rest.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => (in_tag, text) = (false, text + " "),
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&amp;", "&").replace("&middot;", "·").replace("&#39;", "'").replace("&quot;", "\"");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_email_has_button_footer_one_offer_and_a_matching_text_part() {
    for (name, email) in every_email() {
        let html = &email.html;
        for part in ["class=\"cta\" href=\"https://harbour-bistro.example/book\"", "alt=\"Harbour Bistro\"", "name=\"color-scheme\"", "name=\"viewport\""] {
            assert!(html.contains(part), "{name}: no {part}");
        }
        for part in ["12 Quay Street<br>Auckland 1010<br>New Zealand", "Manage preferences</a>", "Unsubscribe</a>", "unsubscribe?token=T&amp;d=7"] {
            assert!(html.contains(part), "{name}: the footer lacks {part}");
        }
        let blocks = html.matches("class=\"offer\"").count();
        let expected = usize::from(matches!(name.as_str(), "birthday" | "anniversary" | "win-back" | "marketer"));
        assert_eq!(blocks, expected, "{name}: offer blocks");
        assert!(!html.contains("10612") && !email.text.contains("10612"), "{name}: numbers are grouped (10,612)");
        let seen = visible(html);
        for line in email.text.lines().map(str::trim).filter(|l| !l.is_empty() && *l != "--") {
            for piece in line.split(": http").next().unwrap_or(line).split(": ").filter(|p| !p.starts_with("http")) {
                assert!(seen.contains(piece.trim()), "{name}: the HTML does not say {piece:?} of the text part\n{seen}");
            }
        }
    }
}
