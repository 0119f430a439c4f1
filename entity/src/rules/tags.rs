//! Auto-tags (spec "Auto-Tagging System"), recomputed whenever a visit is recorded, points are
//! added or the profile changes, and by the dormancy job.

use chrono::{DateTime, Duration, Utc};

use super::visits::average_order_cents;
use crate::entities::customer;

/// Average order value above which a customer is `high-value` (cents, strictly greater).
pub const HIGH_VALUE_AVERAGE_CENTS: i64 = 50_00;
/// Visits above which a customer is a `frequent-visitor` (strictly greater).
pub const FREQUENT_VISITS: i64 = 20;
/// A first visit less than this many days ago makes a `new-customer`.
pub const NEW_CUSTOMER_DAYS: i64 = 30;
/// A last visit more than this many days ago makes a customer `dormant`.
pub const DORMANT_DAYS: i64 = 90;

pub const HIGH_VALUE: &str = "high-value";
pub const FREQUENT_VISITOR: &str = "frequent-visitor";
pub const NEW_CUSTOMER: &str = "new-customer";
pub const DORMANT: &str = "dormant";

/// Every tag the rules can set, so stale ones can be removed.
pub const AUTO_TAGS: [&str; 4] = [HIGH_VALUE, FREQUENT_VISITOR, NEW_CUSTOMER, DORMANT];

/// Whether a last visit at `last_visit` makes a customer dormant at `now`.
pub fn is_dormant(last_visit: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_visit.is_some_and(|at| now - at > Duration::days(DORMANT_DAYS))
}

/// The instant before which a last visit makes a customer dormant (for set-based queries).
pub fn dormant_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(DORMANT_DAYS)
}

/// The auto-tags a customer has at `now`, in a stable order.
pub fn auto_tags(customer: &customer::Model, now: DateTime<Utc>) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if average_order_cents(customer.total_spent_cents, customer.total_visits) > HIGH_VALUE_AVERAGE_CENTS {
        tags.push(HIGH_VALUE);
    }
    if customer.total_visits > FREQUENT_VISITS {
        tags.push(FREQUENT_VISITOR);
    }
    if customer
        .first_visit_at
        .is_some_and(|at| now - at < Duration::days(NEW_CUSTOMER_DAYS))
    {
        tags.push(NEW_CUSTOMER);
    }
    if is_dormant(customer.last_visit_at, now) {
        tags.push(DORMANT);
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::customer_fixture;

    fn days_ago(now: DateTime<Utc>, days: i64) -> Option<DateTime<Utc>> {
        Some(now - Duration::days(days))
    }

    #[test]
    fn high_value_is_strictly_above_fifty_dollars() {
        let now = Utc::now();
        let mut c = customer_fixture(now);
        c.total_visits = 2;
        c.total_spent_cents = 100_00;
        assert!(!auto_tags(&c, now).contains(&HIGH_VALUE));
        c.total_spent_cents = 100_02;
        assert!(auto_tags(&c, now).contains(&HIGH_VALUE));
    }

    #[test]
    fn frequent_visitor_is_strictly_above_twenty_visits() {
        let now = Utc::now();
        let mut c = customer_fixture(now);
        c.total_visits = 20;
        assert!(!auto_tags(&c, now).contains(&FREQUENT_VISITOR));
        c.total_visits = 21;
        assert!(auto_tags(&c, now).contains(&FREQUENT_VISITOR));
    }

    #[test]
    fn new_customer_is_first_visit_under_thirty_days() {
        let now = Utc::now();
        let mut c = customer_fixture(now);
        c.first_visit_at = None;
        assert!(!auto_tags(&c, now).contains(&NEW_CUSTOMER));
        c.first_visit_at = days_ago(now, 29);
        assert!(auto_tags(&c, now).contains(&NEW_CUSTOMER));
        c.first_visit_at = days_ago(now, 30);
        assert!(!auto_tags(&c, now).contains(&NEW_CUSTOMER));
    }

    #[test]
    fn dormant_is_last_visit_over_ninety_days() {
        let now = Utc::now();
        assert!(!is_dormant(None, now));
        assert!(!is_dormant(days_ago(now, 89), now));
        assert!(!is_dormant(days_ago(now, 90), now));
        assert!(is_dormant(days_ago(now, 91), now));
        assert!(is_dormant(Some(now - Duration::days(90) - Duration::seconds(1)), now));
    }
}
