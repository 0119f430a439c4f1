//! Fixtures for unit tests.

use chrono::{DateTime, Utc};

use crate::entities::{CustomerStatus, StringList, Tier, customer};

/// A customer with no visits and no points.
pub fn customer_fixture(now: DateTime<Utc>) -> customer::Model {
    customer::Model {
        id: 1,
        restaurant_id: "r".into(),
        user_id: None,
        phone: "+14155550123".into(),
        email: None,
        name: "Ann".into(),
        date_of_birth: None,
        anniversary: None,
        birth_md: None,
        anniversary_md: None,
        tier: Tier::Bronze,
        points_current: 0,
        points_lifetime: 0,
        points_redeemed: 0,
        member_since: now,
        total_visits: 0,
        first_visit_at: None,
        last_visit_at: None,
        total_spent_cents: 0,
        dietary_restrictions: StringList::default(),
        allergies: StringList::default(),
        spice_level: None,
        preferred_seating: None,
        email_opt_in: false,
        sms_opt_in: false,
        push_opt_in: false,
        special_offers: false,
        birthday_offers: false,
        anniversary_offers: false,
        referral_code: "ANNAAAAAA".into(),
        referred_by: None,
        referrals_count: 0,
        referral_rewards: 0,
        rating_total: 0,
        review_count: 0,
        last_review_at: None,
        status: CustomerStatus::Active,
        last_activity_at: now,
        created_at: now,
        updated_at: now,
    }
}

/// A valid restaurant with the spec's programme values.
pub fn restaurant_fixture() -> crate::entities::restaurant::Model {
    let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 1, 0, 0, 0).unwrap();
    crate::entities::restaurant::Model {
        id: "harbour-bistro".into(),
        name: "Harbour Bistro".into(),
        timezone: "Pacific/Auckland".into(),
        sender_name: "Harbour Bistro".into(),
        mail_from: "hello@harbour.example".into(),
        reply_to: None,
        public_url: Some("https://loyalty.harbour.example".into()),
        currency: "NZD".into(),
        points_per_dollar: 1,
        points_per_redeemed_dollar: 100,
        referral_bonus: 100,
        discount_bronze: 0,
        discount_silver: 5,
        discount_gold: 10,
        discount_platinum: 15,
        discount_vip: 20,
        dormant_days: 90,
        at_risk_days: 45,
        occasion_lead_days: 0,
        win_back_days: 30,
        dormancy_at: "06:00".into(),
        birthday_at: "09:00".into(),
        anniversary_at: "09:05".into(),
        win_back_at: "10:00".into(),
        cap_emails: 2,
        cap_days: 7,
        cap_occasions: false,
        win_back_percent: 0,
        benefit_days: 30,
        refunds_lower_tier: false,
        created_at: at,
        updated_at: at,
    }
}
