//! Automatic marketing segments (spec "Segmentation Strategy"), kept current by the same
//! rules engine as the tags: on every visit, points change and profile update, and by the
//! dormancy job for the ones that change with time alone.
//!
//! | segment | rule |
//! |---|---|
//! | `new-customer` | first visit less than 30 days ago (as the tag) |
//! | `frequent-visitor` | more than 20 visits (as the tag) |
//! | `high-value` | average order value above $50 (as the tag) |
//! | `vip` | tier VIP (10,000+ lifetime points) |
//! | `at-risk` | last visit 45 to 90 days ago: time for a win-back nudge before dormancy |
//! | `dormant` | last visit more than 90 days ago (as the tag) |

use chrono::{DateTime, Duration, Utc};

use super::tags::{self, days_since};
use crate::entities::{Tier, customer};

pub const VIP: &str = "vip";
pub const AT_RISK: &str = "at-risk";
/// A last visit at least this many days ago makes a customer `at-risk` (until dormant).
pub const AT_RISK_DAYS: i64 = 45;

/// Every segment the rules set; custom segments cannot take these names.
pub const AUTO_SEGMENTS: [&str; 6] = [tags::NEW_CUSTOMER, tags::FREQUENT_VISITOR, tags::HIGH_VALUE, VIP, AT_RISK, tags::DORMANT];

/// Whether `name` is an automatic segment.
pub fn is_auto(name: &str) -> bool {
    AUTO_SEGMENTS.contains(&name)
}

/// Whether a last visit makes a customer at risk at `now`.
pub fn is_at_risk(last_visit: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_visit.is_some_and(|at| (AT_RISK_DAYS..=tags::DORMANT_DAYS).contains(&days_since(at, now)))
}

/// Last visits before this instant are at least [`AT_RISK_DAYS`] days ago (for set-based
/// queries).
pub fn at_risk_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = now.date_naive() - Duration::days(AT_RISK_DAYS - 1);
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The automatic segments a customer is in at `now`, given its auto-tags.
pub fn auto_segments(customer: &customer::Model, tags: &[&'static str], now: DateTime<Utc>) -> Vec<&'static str> {
    let mut segments: Vec<&'static str> = tags.to_vec();
    if customer.tier == Tier::Vip {
        segments.push(VIP);
    }
    if is_at_risk(customer.last_visit_at, now) {
        segments.push(AT_RISK);
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::customer_fixture;
    use chrono::TimeZone;

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    #[test]
    fn at_risk_is_45_to_90_days() {
        let ago = |d| Some(noon() - Duration::days(d));
        assert!(!is_at_risk(ago(44), noon()));
        assert!(is_at_risk(ago(45), noon()));
        assert!(is_at_risk(ago(90), noon()));
        assert!(!is_at_risk(ago(91), noon()));
        let cutoff = at_risk_cutoff(noon());
        assert!(is_at_risk(Some(cutoff - Duration::microseconds(1)), noon()));
        assert!(!is_at_risk(Some(cutoff), noon()));
    }

    #[test]
    fn vip_tier_is_a_segment() {
        let mut c = customer_fixture(noon());
        c.tier = Tier::Vip;
        assert_eq!(auto_segments(&c, &[tags::HIGH_VALUE], noon()), vec![tags::HIGH_VALUE, VIP]);
    }
}
