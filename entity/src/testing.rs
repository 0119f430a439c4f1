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
