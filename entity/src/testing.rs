//! Fixtures for unit tests.

use chrono::{DateTime, Utc};

use crate::entities::customer;

/// A customer with no visits and no points.
pub fn customer_fixture(now: DateTime<Utc>) -> customer::Model {
    customer::Model {
        id: 1,
        restaurant_id: "r".into(),
        name: "Ann".into(),
        referral_code: "ANNAAAAAA".into(),
        member_since: now,
        last_activity_at: now,
        created_at: now,
        updated_at: now,
        ..crate::ops::customers::projection::placeholder()
    }
}

/// The personal row of [`customer_fixture`], written before encryption (in clear).
pub fn personal_fixture() -> crate::entities::customer_personal::Model {
    use crate::entities::customer::Sealed;
    crate::entities::customer_personal::Model {
        customer_id: 1,
        restaurant_id: "r".into(),
        phone: Sealed("+14155550123".into()),
        email: None,
        date_of_birth: None,
        anniversary: None,
        dietary_restrictions: Sealed("[]".into()),
        allergies: Sealed("[]".into()),
    }
}

/// A valid restaurant with the spec's programme values.
pub fn restaurant_fixture() -> crate::entities::restaurant::Model {
    let p = crate::rules::programme::Programme::default();
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
        churn_by_prediction: false,
        at_risk_probability_bp: 5_000,
        win_back_probability_bp: 2_000,
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
        expiry_months: 0,
        expiry_warning_days: 30,
        expiry_started_at: None,
        expiry_shortened_at: None,
        expiry_previous_months: 0,
        digest_emails: String::new(),
        welcome_follow_up_days: p.welcome_follow_up_days as i32,
        nearing_points: p.nearing_points as i32,
        keep_idempotency_days: p.retention.idempotency_days as i32,
        keep_job_run_days: p.retention.job_run_days as i32,
        keep_delivery_days: p.retention.delivery_days as i32,
        erase_inactive_months: p.retention.erase_inactive_months as i32,
        postal_address: Some("1 Test Street, Testville".into()),
        phone: None,
        website_url: None,
        booking_url: None,
        logo_url: None,
        brand_color: "#2f4f4f".into(),
        locale: crate::entities::Locale::EnUs,
        voucher_qr_code: false,
        created_at: at,
        updated_at: at,
    }
}
