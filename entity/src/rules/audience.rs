//! Audience rules: a saved filter over members that a rule segment or a campaign targets. Every
//! condition given must hold (AND); `anyOf` holds when one of its rules does (groups of OR).
//! [`check`] refuses contradictory or out-of-range rules; `crate::marketing::audience` turns a rule
//! into SQL, so a rule is never evaluated by loading customers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::entities::{CustomerStatus, Tier};
use crate::{DomainError, DomainResult};

/// Deepest nesting of `anyOf` (and of rule segments named inside rules).
pub const MAX_DEPTH: usize = 3;
/// Most rules in one `anyOf`, and most names in one list.
pub const MAX_ITEMS: usize = 20;

/// A saved filter over a restaurant's members. Money is in cents; dates are the restaurant's
/// calendar days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AudienceRule {
    /// Tier is one of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// Tier is this one or higher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_tier: Option<Tier>,
    /// Status is one of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<CustomerStatus>,
    /// Has at least one of these behaviour tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Is in at least one of these segments (automatic, custom lists, or rule segments).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_visits: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_visits: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_spent_cents: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_spent_cents: Option<i64>,
    /// Average order value (total spent / visits) at least this; members without visits never
    /// match an average bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_average_order_cents: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_average_order_cents: Option<i64>,
    /// Last visit on a day before this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_visit_before: Option<NaiveDate>,
    /// Last visit on this day or later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_visit_after: Option<NaiveDate>,
    /// Visited within the last this many days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visited_within_days: Option<i64>,
    /// Not visited within the last this many days (never visited counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_visited_within_days: Option<i64>,
    /// Joined on a day before this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_since_before: Option<NaiveDate>,
    /// Joined on this day or later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_since_after: Option<NaiveDate>,
    /// Birthday in this month (1-12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday_month: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_opt_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_opt_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_offers: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday_offers: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anniversary_offers: Option<bool>,
    /// The models' probability that the member still comes is below this, in hundredths of a
    /// percent (0–10,000); members without a prediction never match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_probability_below_bp: Option<u32>,
    /// The predicted 12-month value is above this many cents; members without one never match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_value_above_cents: Option<i64>,
    /// At least one of these rules holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<AudienceRule>,
}

impl AudienceRule {
    /// The rule stored as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// A stored rule.
    pub fn from_json(text: &str) -> DomainResult<Self> {
        serde_json::from_str(text).map_err(|e| DomainError::internal(format!("stored audience rule: {e}")))
    }
}

fn refuse(field: &str, message: impl std::fmt::Display) -> DomainError {
    DomainError::validation(format!("rule.{field}"), message)
}

fn bounds(field: &str, min: Option<i64>, max: Option<i64>, limit: i64) -> DomainResult<()> {
    for (name, v) in [(format!("min{field}"), min), (format!("max{field}"), max)] {
        if let Some(v) = v
            && !(0..=limit).contains(&v)
        {
            return Err(refuse(&name, format!("must be between 0 and {limit}")));
        }
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(refuse(&format!("min{field}"), format!("is above max{field}")));
    }
    Ok(())
}

fn names(field: &str, list: &[String]) -> DomainResult<()> {
    if list.len() > MAX_ITEMS {
        return Err(refuse(field, format!("at most {MAX_ITEMS} names")));
    }
    if list.iter().any(|n| n.trim().is_empty() || n.len() > 64) {
        return Err(refuse(field, "names must be 1 to 64 characters"));
    }
    Ok(())
}

/// Checks a rule (ranges, contradictions, nesting) and returns it with names lower-cased.
pub fn check(rule: AudienceRule) -> DomainResult<AudienceRule> {
    check_at(rule, 1)
}

fn check_at(mut rule: AudienceRule, depth: usize) -> DomainResult<AudienceRule> {
    const MONEY: i64 = 100_000_000_00;
    const DAYS: i64 = 36_500;
    names("tags", &rule.tags)?;
    names("segments", &rule.segments)?;
    for list in [&mut rule.tags, &mut rule.segments] {
        for n in list.iter_mut() {
            *n = n.trim().to_lowercase();
        }
    }
    bounds("Visits", rule.min_visits, rule.max_visits, 10_000_000)?;
    bounds("SpentCents", rule.min_spent_cents, rule.max_spent_cents, MONEY)?;
    bounds("AverageOrderCents", rule.min_average_order_cents, rule.max_average_order_cents, MONEY)?;
    for (field, days) in [("visitedWithinDays", rule.visited_within_days), ("notVisitedWithinDays", rule.not_visited_within_days)] {
        if let Some(d) = days
            && !(1..=DAYS).contains(&d)
        {
            return Err(refuse(field, format!("must be between 1 and {DAYS}")));
        }
    }
    if let (Some(within), Some(not_within)) = (rule.visited_within_days, rule.not_visited_within_days)
        && within <= not_within
    {
        return Err(refuse("visitedWithinDays", "no one visited within it and not within notVisitedWithinDays"));
    }
    for (field, after, before) in
        [("lastVisitAfter", rule.last_visit_after, rule.last_visit_before), ("memberSinceAfter", rule.member_since_after, rule.member_since_before)]
    {
        if let (Some(a), Some(b)) = (after, before)
            && a >= b
        {
            return Err(refuse(field, "must be before the matching `…Before` date"));
        }
    }
    if let Some(m) = rule.birthday_month
        && !(1..=12).contains(&m)
    {
        return Err(refuse("birthdayMonth", "must be between 1 and 12"));
    }
    if rule.active_probability_below_bp.is_some_and(|bp| bp > 10_000) {
        return Err(refuse("activeProbabilityBelow", "must be between 0 and 1"));
    }
    if rule.predicted_value_above_cents.is_some_and(|c| !(0..=MONEY).contains(&c)) {
        return Err(refuse("predictedValueAbove", format!("must be between 0 and {}", MONEY / 100)));
    }
    if rule.any_of.len() > MAX_ITEMS {
        return Err(refuse("anyOf", format!("at most {MAX_ITEMS} rules")));
    }
    if !rule.any_of.is_empty() && depth >= MAX_DEPTH {
        return Err(refuse("anyOf", format!("rules nest at most {MAX_DEPTH} deep")));
    }
    rule.any_of = std::mem::take(&mut rule.any_of).into_iter().map(|r| check_at(r, depth + 1)).collect::<DomainResult<_>>()?;
    Ok(rule)
}

/// The tiers a rule admits: those listed (all when none are) from `min_tier` up.
pub fn tiers(rule: &AudienceRule) -> Option<Vec<Tier>> {
    use sea_orm::Iterable;
    if rule.tiers.is_empty() && rule.min_tier.is_none() {
        return None;
    }
    let listed = |t: &Tier| rule.tiers.is_empty() || rule.tiers.contains(t);
    Some(Tier::iter().filter(|t| listed(t) && rule.min_tier.is_none_or(|min| *t >= min)).collect())
}

/// The range of `birth_md` keys (`MMDD`) of a month.
pub fn month_keys(month: u32) -> (i32, i32) {
    let m = month as i32;
    (m * 100 + 1, m * 100 + 31)
}

/// A marketer's send reaches each address once: of the members `(id, email blind index)` (in
/// id order) that share an address, only the first (the longest-standing member) is kept.
pub fn one_per_address(members: Vec<(i64, Option<String>)>) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    members.into_iter().filter(|(_, address)| address.as_ref().is_none_or(|a| seen.insert(a.clone()))).map(|(id, _)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: AudienceRule) -> String {
        match check(r) {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("accepted: {other:?}"),
        }
    }

    #[test]
    fn a_rule_round_trips_as_json_and_names_are_normalised() {
        let rule = AudienceRule {
            min_tier: Some(Tier::Gold),
            visited_within_days: Some(60),
            email_opt_in: Some(true),
            tags: vec![" High-Value ".into()],
            any_of: vec![AudienceRule { birthday_month: Some(3), ..Default::default() }],
            ..Default::default()
        };
        let checked = check(rule).unwrap();
        assert_eq!(checked.tags, vec!["high-value"]);
        let json = checked.to_json();
        assert!(json.contains("\"minTier\":\"gold\"") && !json.contains("maxVisits"), "{json}");
        assert_eq!(AudienceRule::from_json(&json).unwrap(), checked);
        assert!(serde_json::from_str::<AudienceRule>("{\"colour\": 1}").is_err(), "unknown fields are refused");
    }

    #[test]
    fn contradictions_and_ranges_are_refused_naming_the_field() {
        assert_eq!(field(AudienceRule { min_visits: Some(5), max_visits: Some(2), ..Default::default() }), "rule.minVisits");
        assert_eq!(field(AudienceRule { max_spent_cents: Some(-1), ..Default::default() }), "rule.maxSpentCents");
        assert_eq!(field(AudienceRule { birthday_month: Some(13), ..Default::default() }), "rule.birthdayMonth");
        assert_eq!(field(AudienceRule { visited_within_days: Some(0), ..Default::default() }), "rule.visitedWithinDays");
        assert_eq!(field(AudienceRule { visited_within_days: Some(30), not_visited_within_days: Some(60), ..Default::default() }), "rule.visitedWithinDays");
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(field(AudienceRule { last_visit_after: d("2026-02-01"), last_visit_before: d("2026-01-01"), ..Default::default() }), "rule.lastVisitAfter");
        assert_eq!(field(AudienceRule { tags: vec!["".into()], ..Default::default() }), "rule.tags");
        let deep = AudienceRule {
            any_of: vec![AudienceRule { any_of: vec![AudienceRule { any_of: vec![AudienceRule::default()], ..Default::default() }], ..Default::default() }],
            ..Default::default()
        };
        assert_eq!(field(deep), "rule.anyOf");
        assert_eq!(field(AudienceRule { any_of: vec![AudienceRule { min_visits: Some(-3), ..Default::default() }], ..Default::default() }), "rule.minVisits");
    }

    #[test]
    fn tiers_combine_the_list_and_the_minimum() {
        assert_eq!(tiers(&AudienceRule::default()), None);
        assert_eq!(tiers(&AudienceRule { min_tier: Some(Tier::Gold), ..Default::default() }), Some(vec![Tier::Gold, Tier::Platinum, Tier::Vip]));
        let both = AudienceRule { tiers: vec![Tier::Bronze, Tier::Vip], min_tier: Some(Tier::Silver), ..Default::default() };
        assert_eq!(tiers(&both), Some(vec![Tier::Vip]));
        assert_eq!(month_keys(3), (301, 331));
    }

    #[test]
    fn a_shared_address_gets_one_email() {
        let members = vec![(1, Some("a".into())), (2, Some("b".into())), (3, Some("a".into())), (4, None), (5, None)];
        assert_eq!(one_per_address(members), [1, 2, 4, 5]);
    }
}
