//! The built-in emails say only what is true: an offer appears only with the voucher that
//! honours it (one offer per email), the referral promise matches what a referral pays, and
//! dates and delays come from the data, never a fixed phrase. Each test names the defect an
//! outside reader found in a received message.

use entity::rules::content::Vars;
use jobs::Campaign;
use jobs::layout::{Look, Rendered, compose};

/// A Gold member with a 10% tier discount and no voucher.
fn member() -> Vars {
    let mut v = Vars::sample("Harbour Bistro", None);
    v.first_name = "Ethan".into();
    (v.voucher_code, v.voucher_percent, v.voucher_expires) = (String::new(), 0, String::new());
    v
}

fn with_voucher(mut v: Vars, percent: u8) -> Vars {
    (v.voucher_code, v.voucher_percent, v.voucher_expires) = ("4NM7W-DKTAB".into(), percent, "2027-01-06".into());
    v
}

fn render(campaign: Campaign, vars: &Vars) -> Rendered {
    let w = campaign.kind().wording;
    let r = entity::entities::restaurant::Model {
        name: "Harbour Bistro".into(),
        booking_url: Some("https://harbour.example/book".into()),
        ..entity::testing::restaurant_fixture()
    };
    compose(w.subject, w.text, w.html, vars, &Look::of(&r)).unwrap()
}

/// The distinct percentages an email mentions, in its text part.
fn offers(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split('%')
        .rev()
        .skip(1)
        .map(|before| before.chars().rev().take_while(char::is_ascii_digit).collect::<String>().chars().rev().collect())
        .filter(|n: &String| !n.is_empty())
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn win_back_offers_only_the_voucher_it_carries() {
    let r = render(Campaign::WinBack, &with_voucher(member(), 15));
    assert_eq!(offers(&r.text), ["15"], "one offer, the voucher's (was: 20% as a VIP member above a 15% code): {}", r.text);
    assert!(r.text.contains("4NM7W-DKTAB") && r.html.contains("4NM7W-DKTAB"));
    let r = render(Campaign::WinBack, &member());
    assert!(offers(&r.text).is_empty() && !r.text.contains("free starter"), "no voucher, no offer: {}", r.text);
}

#[test]
fn the_welcome_promises_what_a_referral_pays() {
    let r = render(Campaign::Welcome, &member());
    assert!(!r.text.contains("you both earn"), "the friend earns nothing for joining: {}", r.text);
    assert!(r.text.contains("you earn 100 points for each friend who joins with it"), "{}", r.text);
    let mut none = member();
    none.referral_bonus = 0;
    assert!(!render(Campaign::Welcome, &none).text.contains("points for each friend"), "no bonus, no promise");
}

#[test]
fn anniversary_birthday_and_tier_up_promise_no_discount_without_a_code() {
    for campaign in [Campaign::Anniversary, Campaign::Birthday] {
        let r = render(campaign, &member());
        assert!(offers(&r.text).is_empty(), "{campaign:?} without a voucher offers nothing: {}", r.text);
        let r = render(campaign, &with_voucher(member(), 10));
        assert_eq!(offers(&r.text), ["10"], "{campaign:?}: {}", r.text);
        assert!(r.text.contains("4NM7W-DKTAB") && r.text.contains("Valid until 2027-01-06"));
        assert!(!r.text.contains("this week"), "{campaign:?}: the voucher is valid until its date, not this week: {}", r.text);
    }
    let r = render(Campaign::TierUp, &member());
    assert!(r.text.contains("your birthday and anniversary offers are now 10% off"), "a statement of the programme, no offer now: {}", r.text);
}

#[test]
fn occasions_on_their_day_say_today() {
    let mut v = member();
    v.days_until_occasion = 0;
    let r = render(Campaign::Occasion, &v);
    assert!(r.text.contains("Your Graduation is today") && !r.text.contains("coming up"), "{}", r.text);
    v.days_until_occasion = 3;
    assert!(render(Campaign::Occasion, &v).text.contains("is coming up on 2030-06-15"));
}

#[test]
fn the_second_welcome_counts_the_configured_days_and_greetings_have_their_comma() {
    let mut v = member();
    v.follow_up_days = 21;
    let r = render(Campaign::WelcomeFollowUp, &v);
    assert!(r.text.contains("It has been 21 days since your first visit") && !r.text.contains("two weeks"), "{}", r.text);
    assert!(render(Campaign::TierUp, &member()).subject.starts_with("Congratulations, Ethan"));
}
