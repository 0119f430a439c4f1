//! Audiences: the rule a segment or a campaign targets, and a campaign's audience (a segment
//! or a rule).

use async_graphql::{InputObject, SimpleObject};
use entity::marketing::audience::Target;
use entity::rules::audience as rules;

use crate::graphql::scalars::{Date, Money};
use crate::graphql::types::{CustomerStatus, Tier};

/// A filter over members (a rule segment's, or a campaign's own). Every condition given must
/// hold; `anyOf` holds when one of its rules does. Dates are the restaurant's calendar days.
#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "AudienceRuleInput")]
pub struct AudienceRule {
    /// Tier is one of these.
    pub tiers: Option<Vec<Tier>>,
    /// Tier is this one or higher.
    pub min_tier: Option<Tier>,
    /// Members with one of these statuses.
    pub statuses: Option<Vec<CustomerStatus>>,
    /// Has at least one of these behaviour tags.
    pub tags: Option<Vec<String>>,
    /// In at least one of these segments (automatic, list or rule).
    pub segments: Option<Vec<String>>,
    /// At least this many visits.
    pub min_visits: Option<i64>,
    /// At most this many visits.
    pub max_visits: Option<i64>,
    /// Spent at least this much in total.
    pub min_spent: Option<Money>,
    /// Spent at most this much in total.
    pub max_spent: Option<Money>,
    /// Average order value bounds (members without visits never match them).
    pub min_average_order: Option<Money>,
    /// Spend per visit at most this much.
    pub max_average_order: Option<Money>,
    /// Last visit on a day before this one.
    pub last_visit_before: Option<Date>,
    /// Last visit on this day or later.
    pub last_visit_after: Option<Date>,
    /// Visited within the last this many days.
    pub visited_within_days: Option<i64>,
    /// Not visited within the last this many days (never visited counts).
    pub not_visited_within_days: Option<i64>,
    /// Joined before this day.
    pub member_since_before: Option<Date>,
    /// Joined on or after this day.
    pub member_since_after: Option<Date>,
    /// Birthday in this month (1-12).
    pub birthday_month: Option<i32>,
    /// Agrees (true) or not (false) to marketing email.
    pub email_opt_in: Option<bool>,
    /// Agrees (true) or not (false) to marketing SMS.
    pub sms_opt_in: Option<bool>,
    /// Wants special offers (true) or not (false).
    pub special_offers: Option<bool>,
    /// Wants birthday offers (true) or not (false).
    pub birthday_offers: Option<bool>,
    /// Wants anniversary offers (true) or not (false).
    pub anniversary_offers: Option<bool>,
    /// The models' probability that the member still comes is below this (0 to 1, to four
    /// decimals); members without a prediction never match (docs/predictions.md).
    pub active_probability_below: Option<f64>,
    /// The predicted 12-month value is above this; members without one never match.
    pub predicted_value_above: Option<Money>,
    /// At least one of these rules holds.
    pub any_of: Option<Vec<AudienceRule>>,
}

/// A probability as hundredths of a percent (one outside 0–1 becomes a value the rule check
/// refuses).
fn basis_points(p: f64) -> u32 {
    if p.is_finite() && (0.0..=1.0).contains(&p) { (p * 10_000.0).round() as u32 } else { u32::MAX }
}

impl From<AudienceRule> for rules::AudienceRule {
    fn from(r: AudienceRule) -> Self {
        let list = |v: Option<Vec<String>>| v.unwrap_or_default();
        Self {
            tiers: r.tiers.unwrap_or_default().into_iter().map(Into::into).collect(),
            min_tier: r.min_tier.map(Into::into),
            statuses: r.statuses.unwrap_or_default().into_iter().map(Into::into).collect(),
            tags: list(r.tags),
            segments: list(r.segments),
            min_visits: r.min_visits,
            max_visits: r.max_visits,
            min_spent_cents: r.min_spent.map(|m| m.0),
            max_spent_cents: r.max_spent.map(|m| m.0),
            min_average_order_cents: r.min_average_order.map(|m| m.0),
            max_average_order_cents: r.max_average_order.map(|m| m.0),
            last_visit_before: r.last_visit_before.map(|d| d.0),
            last_visit_after: r.last_visit_after.map(|d| d.0),
            visited_within_days: r.visited_within_days,
            not_visited_within_days: r.not_visited_within_days,
            member_since_before: r.member_since_before.map(|d| d.0),
            member_since_after: r.member_since_after.map(|d| d.0),
            birthday_month: r.birthday_month.map(|m| u32::try_from(m).unwrap_or(0)),
            email_opt_in: r.email_opt_in,
            sms_opt_in: r.sms_opt_in,
            special_offers: r.special_offers,
            birthday_offers: r.birthday_offers,
            anniversary_offers: r.anniversary_offers,
            active_probability_below_bp: r.active_probability_below.map(basis_points),
            predicted_value_above_cents: r.predicted_value_above.map(|m| m.0),
            any_of: r.any_of.unwrap_or_default().into_iter().map(Into::into).collect(),
        }
    }
}

impl From<rules::AudienceRule> for AudienceRule {
    fn from(r: rules::AudienceRule) -> Self {
        let list = |v: Vec<String>| (!v.is_empty()).then_some(v);
        Self {
            tiers: (!r.tiers.is_empty()).then(|| r.tiers.into_iter().map(Into::into).collect()),
            min_tier: r.min_tier.map(Into::into),
            statuses: (!r.statuses.is_empty()).then(|| r.statuses.into_iter().map(Into::into).collect()),
            tags: list(r.tags),
            segments: list(r.segments),
            min_visits: r.min_visits,
            max_visits: r.max_visits,
            min_spent: r.min_spent_cents.map(Money),
            max_spent: r.max_spent_cents.map(Money),
            min_average_order: r.min_average_order_cents.map(Money),
            max_average_order: r.max_average_order_cents.map(Money),
            last_visit_before: r.last_visit_before.map(Date),
            last_visit_after: r.last_visit_after.map(Date),
            visited_within_days: r.visited_within_days,
            not_visited_within_days: r.not_visited_within_days,
            member_since_before: r.member_since_before.map(Date),
            member_since_after: r.member_since_after.map(Date),
            birthday_month: r.birthday_month.map(|m| m as i32),
            email_opt_in: r.email_opt_in,
            sms_opt_in: r.sms_opt_in,
            special_offers: r.special_offers,
            birthday_offers: r.birthday_offers,
            anniversary_offers: r.anniversary_offers,
            active_probability_below: r.active_probability_below_bp.map(|bp| f64::from(bp) / 10_000.0),
            predicted_value_above: r.predicted_value_above_cents.map(Money),
            any_of: (!r.any_of.is_empty()).then(|| r.any_of.into_iter().map(Into::into).collect()),
        }
    }
}

/// Who a campaign targets: a segment (automatic, list or rule), an inline rule, or both (members
/// must match both). Either way only members who may be emailed receive it.
#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "AudienceInput")]
pub struct Audience {
    /// A segment by name (its members, or its rule).
    pub segment: Option<String>,
    /// A rule of its own.
    pub rule: Option<AudienceRule>,
}

impl From<Audience> for Target {
    fn from(a: Audience) -> Self {
        Target { segment: a.segment, rule: a.rule.map(Into::into) }
    }
}
