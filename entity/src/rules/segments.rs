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
//! | `at-risk` | last visit 45 to 90 days ago (the restaurant's `atRiskDays` to `dormantDays`) |
//! | `dormant` | last visit more than 90 days ago (as the tag) |

use chrono::{DateTime, Utc};

use super::contact;
use crate::{DomainError, DomainResult};

use super::programme::Programme;
use super::tags;
use crate::entities::{Tier, customer};

pub const VIP: &str = "vip";
pub const AT_RISK: &str = "at-risk";

/// Every segment the rules set; custom segments cannot take these names.
pub const AUTO_SEGMENTS: [&str; 6] = [tags::NEW_CUSTOMER, tags::FREQUENT_VISITOR, tags::HIGH_VALUE, VIP, AT_RISK, tags::DORMANT];

/// Whether `name` is an automatic segment.
pub fn is_auto(name: &str) -> bool {
    AUTO_SEGMENTS.contains(&name)
}

/// Whether a last visit makes a customer at risk at `now`: `at_risk_days` to `dormant_days`
/// calendar days ago.
pub fn is_at_risk(last_visit: Option<DateTime<Utc>>, p: &Programme, now: DateTime<Utc>) -> bool {
    last_visit.is_some_and(|at| (p.at_risk_days..=p.dormant_days).contains(&p.days_since(at, now)))
}

/// Last visits before this instant are at least `at_risk_days` days ago (for set-based
/// queries).
pub fn at_risk_cutoff(p: &Programme, now: DateTime<Utc>) -> DateTime<Utc> {
    p.start_of_day_ago(now, p.at_risk_days - 1)
}

/// The automatic segments a customer is in at `now`, given its auto-tags.
pub fn auto_segments(customer: &customer::Model, tags: &[&'static str], p: &Programme, now: DateTime<Utc>) -> Vec<&'static str> {
    let mut segments: Vec<&'static str> = tags.to_vec();
    if customer.tier == Tier::Vip {
        segments.push(VIP);
    }
    if is_at_risk(customer.last_visit_at, p, now) {
        segments.push(AT_RISK);
    }
    segments
}

/// Longest segment name.
pub const MAX_NAME_LEN: usize = 60;

/// Checks a custom segment name: lower-case letters, digits, `-` and `_`, not an automatic
/// segment's name.
pub fn check_name(field: &str, name: &str) -> DomainResult<String> {
    let name = name.trim().to_lowercase().replace(' ', "-");
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(DomainError::validation(field, format!("must be 1 to {MAX_NAME_LEN} characters")));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
        return Err(DomainError::validation(field, "may hold only letters, digits, - and _"));
    }
    if is_auto(&name) {
        return Err(DomainError::validation(field, format!("{name} is an automatic segment kept by the rules")));
    }
    Ok(name)
}

/// Checks a segment description (at most 500 characters; blank is none).
pub fn check_description(d: Option<&str>) -> DomainResult<Option<String>> {
    let Some(d) = d.map(str::trim).filter(|d| !d.is_empty()) else { return Ok(None) };
    if d.chars().count() > 500 {
        return Err(DomainError::validation("description", "must be at most 500 characters"));
    }
    Ok(Some(d.to_string()))
}

/// The custom segments named in a profile: normalised, none automatic.
pub fn check_names(names: &[String]) -> DomainResult<Vec<String>> {
    let names = contact::normalize_list(names).map_err(|e| DomainError::validation("segments", e))?;
    names.iter().map(|n| check_name("segments", n)).collect()
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

    #[test]
    fn at_risk_is_45_to_90_days() {
        let ago = |d| Some(noon() - Duration::days(d));
        assert!(!is_at_risk(ago(44), &p(), noon()));
        assert!(is_at_risk(ago(45), &p(), noon()));
        assert!(is_at_risk(ago(90), &p(), noon()));
        assert!(!is_at_risk(ago(91), &p(), noon()));
        let cutoff = at_risk_cutoff(&p(), noon());
        assert!(is_at_risk(Some(cutoff - Duration::microseconds(1)), &p(), noon()));
        assert!(!is_at_risk(Some(cutoff), &p(), noon()));
    }

    #[test]
    fn vip_tier_is_a_segment() {
        let mut c = customer_fixture(noon());
        c.tier = Tier::Vip;
        assert_eq!(auto_segments(&c, &[tags::HIGH_VALUE], &p(), noon()), vec![tags::HIGH_VALUE, VIP]);
    }
}
