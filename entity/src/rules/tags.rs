//! Auto-tags (spec "Auto-Tagging System"), recomputed whenever a visit is recorded, points are
//! added or the profile changes, and by the dormancy job.

use chrono::{DateTime, Utc};

use super::programme::Programme;
use super::visits::average_order_cents;
use crate::entities::customer;

/// Average order value above which a customer is `high-value` (cents, strictly greater).
pub const HIGH_VALUE_AVERAGE_CENTS: i64 = 50_00;
/// Visits above which a customer is a `frequent-visitor` (strictly greater).
pub const FREQUENT_VISITS: i64 = 20;
/// A first visit less than this many days ago makes a `new-customer`.
pub const NEW_CUSTOMER_DAYS: i64 = 30;

pub const HIGH_VALUE: &str = "high-value";
pub const FREQUENT_VISITOR: &str = "frequent-visitor";
pub const NEW_CUSTOMER: &str = "new-customer";
pub const DORMANT: &str = "dormant";

/// Every tag the rules can set, so stale ones can be removed.
pub const AUTO_TAGS: [&str; 4] = [HIGH_VALUE, FREQUENT_VISITOR, NEW_CUSTOMER, DORMANT];

/// Whether a last visit at `last_visit` makes a customer dormant at `now`: more than the
/// restaurant's `dormant_days` calendar days ago (in its time zone).
pub fn is_dormant(last_visit: Option<DateTime<Utc>>, p: &Programme, now: DateTime<Utc>) -> bool {
    last_visit.is_some_and(|at| p.days_since(at, now) > p.dormant_days)
}

/// Last visits before this instant make a customer dormant at `now` (for set-based queries):
/// the start of the local day `dormant_days` days ago.
pub fn dormant_cutoff(p: &Programme, now: DateTime<Utc>) -> DateTime<Utc> {
    p.start_of_day_ago(now, p.dormant_days)
}

/// First visits before this instant no longer make a `new-customer` at `now`.
pub fn new_customer_cutoff(p: &Programme, now: DateTime<Utc>) -> DateTime<Utc> {
    p.start_of_day_ago(now, NEW_CUSTOMER_DAYS - 1)
}

/// The auto-tags a customer has at `now`, in a stable order.
pub fn auto_tags(customer: &customer::Model, p: &Programme, now: DateTime<Utc>) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if average_order_cents(customer.total_spent_cents, customer.total_visits) > HIGH_VALUE_AVERAGE_CENTS {
        tags.push(HIGH_VALUE);
    }
    if customer.total_visits > FREQUENT_VISITS {
        tags.push(FREQUENT_VISITOR);
    }
    if customer.first_visit_at.is_some_and(|at| p.days_since(at, now) < NEW_CUSTOMER_DAYS) {
        tags.push(NEW_CUSTOMER);
    }
    if is_dormant(customer.last_visit_at, p, now) {
        tags.push(DORMANT);
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::customer_fixture;
    use chrono::{Duration, TimeZone};

    fn p() -> Programme {
        Programme::default()
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    fn days_ago(days: i64) -> Option<DateTime<Utc>> {
        Some(noon() - Duration::days(days))
    }

    #[test]
    fn high_value_is_strictly_above_fifty_dollars() {
        let mut c = customer_fixture(noon());
        c.total_visits = 2;
        c.total_spent_cents = 100_00;
        assert!(!auto_tags(&c, &p(), noon()).contains(&HIGH_VALUE));
        c.total_spent_cents = 100_02;
        assert!(auto_tags(&c, &p(), noon()).contains(&HIGH_VALUE));
    }

    #[test]
    fn frequent_visitor_is_strictly_above_twenty_visits() {
        let mut c = customer_fixture(noon());
        c.total_visits = 20;
        assert!(!auto_tags(&c, &p(), noon()).contains(&FREQUENT_VISITOR));
        c.total_visits = 21;
        assert!(auto_tags(&c, &p(), noon()).contains(&FREQUENT_VISITOR));
    }

    #[test]
    fn new_customer_is_first_visit_under_thirty_days() {
        let mut c = customer_fixture(noon());
        assert!(!auto_tags(&c, &p(), noon()).contains(&NEW_CUSTOMER));
        c.first_visit_at = days_ago(29);
        assert!(auto_tags(&c, &p(), noon()).contains(&NEW_CUSTOMER));
        c.first_visit_at = days_ago(30);
        assert!(!auto_tags(&c, &p(), noon()).contains(&NEW_CUSTOMER));
    }

    #[test]
    fn dormant_is_last_visit_over_ninety_days() {
        assert!(!is_dormant(None, &p(), noon()));
        assert!(!is_dormant(days_ago(89), &p(), noon()));
        assert!(!is_dormant(days_ago(90), &p(), noon()));
        assert!(is_dormant(days_ago(91), &p(), noon()));
        let start_of_day_90 = Utc.with_ymd_and_hms(2026, 8, 27, 0, 0, 0).unwrap();
        assert_eq!(p().days_since(start_of_day_90, noon()), 90);
        assert!(!is_dormant(Some(start_of_day_90), &p(), noon()));
        assert!(is_dormant(Some(start_of_day_90 - Duration::seconds(1)), &p(), noon()));
    }

    #[test]
    fn the_new_customer_cutoff_agrees_with_the_rule() {
        let mut c = customer_fixture(noon());
        c.first_visit_at = Some(new_customer_cutoff(&p(), noon()));
        assert!(auto_tags(&c, &p(), noon()).contains(&NEW_CUSTOMER));
        c.first_visit_at = Some(new_customer_cutoff(&p(), noon()) - Duration::microseconds(1));
        assert!(!auto_tags(&c, &p(), noon()).contains(&NEW_CUSTOMER));
    }

    #[test]
    fn the_cutoff_agrees_with_the_rule() {
        let cutoff = dormant_cutoff(&p(), noon());
        assert!(!is_dormant(Some(cutoff), &p(), noon()));
        assert!(is_dormant(Some(cutoff - Duration::microseconds(1)), &p(), noon()));
    }

    #[test]
    fn dormancy_follows_the_restaurant_threshold_and_zone() {
        let short = Programme { dormant_days: 30, ..p() };
        assert!(is_dormant(days_ago(31), &short, noon()));
        assert!(!is_dormant(days_ago(31), &p(), noon()));
        let auckland = Programme { timezone: chrono_tz::Pacific::Auckland, ..p() };
        let cutoff = dormant_cutoff(&auckland, noon());
        assert!(is_dormant(Some(cutoff - Duration::microseconds(1)), &auckland, noon()));
        assert!(!is_dormant(Some(cutoff), &auckland, noon()));
        assert_ne!(cutoff, dormant_cutoff(&p(), noon()), "the local day starts at another instant");
    }
}
