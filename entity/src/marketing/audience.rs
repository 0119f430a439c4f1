//! Audiences in SQL: a segment (automatic, list or rule) or an inline rule becomes one condition
//! on `customers`, so sizes are live counts and sends are `INSERT … SELECT`s, never a loop over
//! loaded members. A campaign's audience is then narrowed to who may be emailed: an address,
//! not blocked, the consent the campaign needs, and under the restaurant's frequency cap.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::kinds::Consent;
use crate::entities::{CustomerStatus, DeliveryStatus, LabelKind, customer, customer_label, email_delivery, segment};
use crate::rules::audience::{self, AudienceRule, MAX_DEPTH};
use crate::rules::programme::Programme;
use crate::{DomainError, DomainResult, Scope};

/// Who a campaign targets: a segment, an inline rule, or both (members must match both).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub segment: Option<String>,
    pub rule: Option<AudienceRule>,
}

/// The restaurant's rule segments, by name.
async fn rule_segments(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<HashMap<String, AudienceRule>> {
    let rows =
        segment::Entity::find().filter(segment::Column::RestaurantId.eq(&scope.restaurant_id)).filter(segment::Column::Rule.is_not_null()).all(db).await?;
    rows.into_iter().map(|s| Ok((s.name, AudienceRule::from_json(s.rule.as_deref().unwrap_or("{}"))?))).collect()
}

fn labelled(scope: &Scope, kind: LabelKind, names: &[String]) -> Condition {
    let ids = Query::select()
        .column(customer_label::Column::CustomerId)
        .from(customer_label::Entity)
        .and_where(customer_label::Column::RestaurantId.eq(&scope.restaurant_id))
        .and_where(customer_label::Column::Kind.eq(kind))
        .and_where(customer_label::Column::Name.is_in(names.iter().cloned()))
        .to_owned();
    Condition::all().add(customer::Column::Id.in_subquery(ids))
}

/// Builds SQL conditions for one restaurant at one instant.
struct Builder<'a> {
    scope: &'a Scope,
    p: &'a Programme,
    now: DateTime<Utc>,
    rules: HashMap<String, AudienceRule>,
}

impl Builder<'_> {
    fn segments(&self, names: &[String], depth: usize) -> DomainResult<Condition> {
        let (ruled, listed): (Vec<&String>, Vec<&String>) = names.iter().partition(|n| self.rules.contains_key(*n));
        let mut any = Condition::any();
        if !listed.is_empty() {
            any = any.add(labelled(self.scope, LabelKind::Segment, &listed.into_iter().cloned().collect::<Vec<_>>()));
        }
        for name in ruled {
            if depth >= MAX_DEPTH {
                return Err(DomainError::validation("rule.segments", format!("rule segment {name} nests rule segments too deep")));
            }
            any = any.add(self.rule(&self.rules[name], depth + 1)?);
        }
        Ok(any)
    }

    fn rule(&self, r: &AudienceRule, depth: usize) -> DomainResult<Condition> {
        use customer::Column as C;
        let mut all = Condition::all();
        if let Some(tiers) = audience::tiers(r) {
            all = all.add(C::Tier.is_in(tiers));
        }
        if !r.statuses.is_empty() {
            all = all.add(C::Status.is_in(r.statuses.clone()));
        }
        if !r.tags.is_empty() {
            all = all.add(labelled(self.scope, LabelKind::Tag, &r.tags));
        }
        if !r.segments.is_empty() {
            all = all.add(self.segments(&r.segments, depth)?);
        }
        for (column, min, max) in [(C::TotalVisits, r.min_visits, r.max_visits), (C::TotalSpentCents, r.min_spent_cents, r.max_spent_cents)] {
            if let Some(v) = min {
                all = all.add(column.gte(v));
            }
            if let Some(v) = max {
                all = all.add(column.lte(v));
            }
        }
        if r.min_average_order_cents.is_some() || r.max_average_order_cents.is_some() {
            all = all.add(C::TotalVisits.gt(0));
        }
        if let Some(v) = r.min_average_order_cents {
            all = all.add(Expr::col(C::TotalSpentCents).gte(Expr::col(C::TotalVisits).mul(v)));
        }
        if let Some(v) = r.max_average_order_cents {
            all = all.add(Expr::col(C::TotalSpentCents).lte(Expr::col(C::TotalVisits).mul(v)));
        }
        for (column, after, before) in
            [(C::LastVisitAt, r.last_visit_after, r.last_visit_before), (C::MemberSince, r.member_since_after, r.member_since_before)]
        {
            if let Some(d) = after {
                all = all.add(column.gte(self.p.start_of(d)));
            }
            if let Some(d) = before {
                all = all.add(column.lt(self.p.start_of(d)));
            }
        }
        if let Some(days) = r.visited_within_days {
            all = all.add(C::LastVisitAt.gte(self.p.start_of_day_ago(self.now, days)));
        }
        if let Some(days) = r.not_visited_within_days {
            all = all.add(Condition::any().add(C::LastVisitAt.is_null()).add(C::LastVisitAt.lt(self.p.start_of_day_ago(self.now, days))));
        }
        if let Some(m) = r.birthday_month {
            let (lo, hi) = audience::month_keys(m);
            all = all.add(C::BirthMd.between(lo, hi));
        }
        for (column, flag) in [
            (C::EmailOptIn, r.email_opt_in),
            (C::SmsOptIn, r.sms_opt_in),
            (C::SpecialOffers, r.special_offers),
            (C::BirthdayOffers, r.birthday_offers),
            (C::AnniversaryOffers, r.anniversary_offers),
        ] {
            if let Some(v) = flag {
                all = all.add(column.eq(v));
            }
        }
        if r.active_probability_below_bp.is_some() || r.predicted_value_above_cents.is_some() {
            all = all.add(self.predicted(r));
        }
        if !r.any_of.is_empty() {
            let mut any = Condition::any();
            for sub in &r.any_of {
                any = any.add(self.rule(sub, depth + 1)?);
            }
            all = all.add(any);
        }
        Ok(all)
    }

    /// Members whose latest prediction (`customer_predictions`) meets the rule's bounds.
    fn predicted(&self, r: &AudienceRule) -> Condition {
        let below = r.active_probability_below_bp.map(|bp| f64::from(bp) / 10_000.0);
        let above = r.predicted_value_above_cents.map(|cents| cents as f64 / 100.0);
        Condition::all().add(customer::Column::Id.in_subquery(crate::ops::predict::scored(self.scope, below, above)))
    }
}

/// The members of `target` in the scope's restaurant, as a condition on `customers` (always
/// including the restaurant). An unknown segment is `NotFound`; a target with neither a segment
/// nor a rule is every member.
pub async fn condition(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, target: &Target, now: DateTime<Utc>) -> DomainResult<Condition> {
    let b = Builder { scope, p, now, rules: rule_segments(db, scope).await? };
    let mut all = Condition::all().add(customer::Column::RestaurantId.eq(&scope.restaurant_id));
    if let Some(name) = &target.segment {
        let name = name.trim().to_lowercase();
        if !b.rules.contains_key(&name) && !crate::rules::segments::is_auto(&name) {
            let exists = segment::Entity::find()
                .filter(segment::Column::RestaurantId.eq(&scope.restaurant_id))
                .filter(segment::Column::Name.eq(&name))
                .count(db)
                .await?;
            if exists == 0 {
                return Err(DomainError::not_found(format!("segment {name}")));
            }
        }
        all = all.add(b.segments(&[name], 1)?);
    }
    if let Some(rule) = &target.rule {
        all = all.add(b.rule(rule, 1)?);
    }
    Ok(all)
}

/// How many members match a rule, now (a rule segment's live size).
pub async fn count_rule(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, rule: &AudienceRule, now: DateTime<Utc>) -> DomainResult<u64> {
    let target = Target { segment: None, rule: Some(rule.clone()) };
    let cond = condition(db, scope, p, &target, now).await?;
    Ok(customer::Entity::find().filter(cond).count(db).await?)
}

/// Members who already had the cap's number of emails that count toward it in its window
/// (`kinds`: occasion emails only when the cap says so, tier-up and expiry warnings
/// never). Written as "the cap-th such delivery exists" (`EXISTS … LIMIT 1 OFFSET cap-1`), which both databases answer from the `(customer_id, created_at)`
/// index without counting every row.
/// `counted` narrows which deliveries count (a send leaves out its own).
pub fn capped(p: &Programme, now: DateTime<Utc>, counted: Option<Condition>) -> Option<Condition> {
    use email_delivery::Column as E;
    if p.cap.days == 0 {
        return None;
    }
    let since = now - Duration::days(i64::from(p.cap.days));
    let mut which = Condition::all()
        .add(Expr::col((email_delivery::Entity, E::CustomerId)).equals((customer::Entity, customer::Column::Id)))
        .add(E::CreatedAt.gt(since))
        .add(E::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Sending, DeliveryStatus::Sent]));
    which = which.add(E::Campaign.is_in(super::kinds::counted(p.cap.occasions)));
    if let Some(c) = counted {
        which = which.add(c);
    }
    let recent = Query::select()
        .expr(Expr::value(1))
        .from(email_delivery::Entity)
        .cond_where(which)
        .limit(1)
        .offset(u64::from(std::cmp::Ord::max(p.cap.emails, 1) - 1))
        .to_owned();
    Some(Condition::all().add(Expr::exists(recent)))
}

/// Who of an audience may be emailed, and who is left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Members the audience matches.
    pub audience: u64,
    /// Left out: no email address (erased members have none).
    pub no_email: u64,
    /// Left out: blocked.
    pub blocked: u64,
    /// Left out: no consent.
    pub no_consent: u64,
    /// Left out: over the frequency cap.
    pub capped: u64,
    /// Who will get the email.
    pub recipients: u64,
}

/// The conditions of each group of [`Breakdown`], from the audience's own.
pub struct Groups {
    pub audience: Condition,
    pub no_email: Condition,
    pub blocked: Condition,
    pub no_consent: Condition,
    pub capped: Option<Condition>,
    /// Who may be emailed: the audience minus every group above.
    pub eligible: Condition,
}

/// Splits an audience into who may be emailed and who is left out.
pub fn groups(audience: Condition, consent: Consent, p: &Programme, now: DateTime<Utc>, counted: Option<Condition>) -> Groups {
    use customer::Column as C;
    let reachable = || audience.clone().add(C::EmailIndex.is_not_null());
    let unblocked = || reachable().add(C::Status.ne(CustomerStatus::Blocked));
    let consented = || unblocked().add(consent.condition());
    let capped = capped(p, now, counted);
    let eligible = match &capped {
        Some(c) => consented().add(c.clone().not()),
        None => consented(),
    };
    Groups {
        no_email: audience.clone().add(C::EmailIndex.is_null()),
        blocked: reachable().add(C::Status.eq(CustomerStatus::Blocked)),
        no_consent: unblocked().add(consent.condition().not()),
        capped: capped.map(|c| consented().add(c)),
        eligible,
        audience,
    }
}

/// Counts each group.
pub async fn breakdown(db: &impl ConnectionTrait, g: &Groups) -> DomainResult<Breakdown> {
    let count = |c: &Condition| customer::Entity::find().filter(c.clone()).count(db);
    Ok(Breakdown {
        audience: count(&g.audience).await?,
        no_email: count(&g.no_email).await?,
        blocked: count(&g.blocked).await?,
        no_consent: count(&g.no_consent).await?,
        capped: match &g.capped {
            Some(c) => count(c).await?,
            None => 0,
        },
        recipients: count(&g.eligible).await?,
    })
}

/// Up to `limit` members of `condition`, lowest id first.
pub async fn sample(db: &impl ConnectionTrait, condition: Condition, limit: u64) -> DomainResult<Vec<customer::Model>> {
    Ok(customer::Entity::find().filter(condition).order_by_asc(customer::Column::Id).limit(limit).all(db).await?)
}
