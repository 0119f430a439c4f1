//! Who gets which campaign email, for one restaurant. Enqueuing writes one delivery row per
//! (customer, campaign, period) with `INSERT … SELECT … ON CONFLICT DO NOTHING`, so running a
//! campaign twice, or on two replicas, writes each email once.
//!
//! An email goes only to a customer with an email address, `emailOptIn`, the campaign's own
//! flag (`birthdayOffers`, `anniversaryOffers`, `specialOffers`) and a status other than
//! `blocked`, and under the restaurant's frequency cap (win-back always counts as marketing;
//! birthday and anniversary only when the cap includes occasions).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use serde::Serialize;

use super::kinds::{Campaign, consented};
use super::outbox::{self, Letter};
use crate::entities::{CustomerStatus, LabelKind, Tier, customer, customer_label, customer_prediction, email_delivery, reward, special_occasion};
use crate::ops::predict::scored;
use crate::rules::programme::{Churn, Programme};
use crate::rules::{occasions, rewards, tier};
use crate::{DomainResult, Scope};

/// Most recipients a dry run lists.
pub const DRY_RUN_LIST: u64 = 10_000;
/// What the enqueue's read says of each member of a group: left out for consent, left out by
/// the frequency cap, or due.
const LEFT_OUT_CONSENT: i32 = 0;
const LEFT_OUT_CAP: i32 = 1;
const DUE: i32 = 2;

/// A customer a run would email or change (dry runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub customer_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub occasion_date: Option<NaiveDate>,
}

impl Recipient {
    /// The recipient entries of customers (their emails opened).
    pub async fn of_all(db: &impl ConnectionTrait, scope: &Scope, rows: Vec<customer::Model>, occasion_date: Option<NaiveDate>) -> DomainResult<Vec<Self>> {
        let opened = crate::ops::customers::personal::open_many(db, scope, &rows).await?;
        Ok(rows.into_iter().zip(opened).map(|(c, p)| Self { customer_id: c.id, name: c.name, email: p.email, occasion_date }).collect())
    }
}

/// What enqueuing did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// Deliveries written (dry run: recipients listed).
    pub enqueued: u64,
    /// Customers with the occasion who were not emailed for lack of consent, email or status.
    pub skipped_consent: u64,
    /// Customers left out for the restaurant's frequency cap (win-back always; occasions when
    /// the cap includes them).
    pub capped: u64,
    /// Dry runs: who would get an email.
    pub recipients: Vec<Recipient>,
}

/// How far back the welcome automation looks for first visits and sign-ups (a daily job, with
/// room for a missed day; the delivery key makes it once per member).
const WELCOME_WINDOW_DAYS: i64 = 3;

/// One group of customers due for a campaign, with the period and date the email is for.
struct Due {
    who: Condition,
    /// The period the email is for: a value, or a column expression (at-risk: the last visit,
    /// so each entry into the window is its own period).
    period_key: sea_orm::sea_query::SimpleExpr,
    occasion_date: Option<NaiveDate>,
}

/// How many years back the membership anniversary looks for members who joined on the day.
const MEMBER_YEARS: i32 = 50;

/// What decides who is due: the programme, the restaurant (predictions are its own), and for
/// the at-risk and win-back emails the prediction thresholds when they apply.
struct Rules<'a> {
    p: &'a Programme,
    scope: &'a Scope,
    churn: Option<Churn>,
}

fn due(rules: &Rules<'_>, campaign: Campaign, today: NaiveDate, now: DateTime<Utc>, catalogue: &[reward::Model]) -> Vec<Due> {
    let p = rules.p;
    let win_back_since = now - Duration::days(i64::from(p.win_back_days));
    match (campaign, rules.churn) {
        (Campaign::WinBack, Some(churn)) => {
            let lost = customer::Column::Id.in_subquery(scored(rules.scope, Some(churn.win_back_below), None));
            not_sent_since(Condition::all().add(lost), campaign, today, win_back_since)
        }
        (Campaign::AtRisk, Some(churn)) => likely_lapsing(rules.scope, churn),
        _ => due_by_days(p, campaign, today, now, catalogue),
    }
}

fn due_by_days(p: &Programme, campaign: Campaign, today: NaiveDate, now: DateTime<Utc>, catalogue: &[reward::Model]) -> Vec<Due> {
    match campaign {
        Campaign::Birthday => on_their_day(p, customer::Column::BirthMd, today),
        Campaign::Anniversary => on_their_day(p, customer::Column::AnniversaryMd, today),
        Campaign::PointsExpiry | Campaign::TierUp => Vec::new(),
        Campaign::Occasion => celebrating(p, today),
        Campaign::WinBack => {
            let dormant = Condition::all().add(customer::Column::Status.eq(CustomerStatus::Dormant));
            not_sent_since(dormant, campaign, today, now - Duration::days(i64::from(p.win_back_days)))
        }
        Campaign::Welcome => new_members(now - Duration::days(WELCOME_WINDOW_DAYS)),
        Campaign::WelcomeFollowUp => not_returned(now - Duration::days(i64::from(p.welcome_follow_up_days))),
        Campaign::MemberAnniversary => joined_on_the_day(p, today),
        Campaign::NearingReward => nearing(p, catalogue, now),
        Campaign::AtRisk => entered_at_risk(),
    }
}

/// Customers whose month-day `column` falls in the lead window of `today`; one period a year.
fn on_their_day(p: &Programme, column: customer::Column, today: NaiveDate) -> Vec<Due> {
    occasions::window(today, p.occasion_lead_days)
        .into_iter()
        .map(|(day, keys)| Due { who: Condition::all().add(column.is_in(keys)), period_key: Expr::value(day.year().to_string()), occasion_date: Some(day) })
        .collect()
}

/// Customers with a special occasion (recurring, or on that date) in the lead window.
fn celebrating(p: &Programme, today: NaiveDate) -> Vec<Due> {
    occasions::window(today, p.occasion_lead_days)
        .into_iter()
        .map(|(day, keys)| {
            let celebrated = Query::select()
                .column(special_occasion::Column::CustomerId)
                .from(special_occasion::Entity)
                .cond_where(
                    Condition::all()
                        .add(special_occasion::Column::Md.is_in(keys))
                        .add(Condition::any().add(special_occasion::Column::Recurring.eq(true)).add(special_occasion::Column::Date.eq(day))),
                )
                .to_owned();
            Due { who: Condition::all().add(customer::Column::Id.in_subquery(celebrated)), period_key: Expr::value(day.to_string()), occasion_date: Some(day) }
        })
        .collect()
}

/// Customers of `who` not sent `campaign` since `since`.
fn not_sent_since(who: Condition, campaign: Campaign, today: NaiveDate, since: DateTime<Utc>) -> Vec<Due> {
    let recently_sent = Query::select()
        .expr(Expr::value(1))
        .from(email_delivery::Entity)
        .and_where(Expr::col((email_delivery::Entity, email_delivery::Column::CustomerId)).equals((customer::Entity, customer::Column::Id)))
        .and_where(email_delivery::Column::Campaign.eq(campaign.name()))
        .and_where(email_delivery::Column::CreatedAt.gt(since))
        .to_owned();
    vec![Due { who: who.add(Condition::all().add(Expr::exists(recently_sent)).not()), period_key: Expr::value(today.to_string()), occasion_date: None }]
}

/// Customers whose first visit, or opted-in sign-up, is after `since`; once ever. Members
/// imported from another system (they have an external id) are not new.
fn new_members(since: DateTime<Utc>) -> Vec<Due> {
    vec![Due {
        who: Condition::all().add(customer::Column::ExternalId.is_null()).add(
            Condition::any()
                .add(customer::Column::FirstVisitAt.gte(since))
                .add(Condition::all().add(customer::Column::MemberSince.gte(since)).add(customer::Column::EmailOptIn.eq(true))),
        ),
        period_key: Expr::value("first"),
        occasion_date: None,
    }]
}

/// Customers whose one visit was at `due_at` or up to the welcome window before it (not
/// members imported from another system).
fn not_returned(due_at: DateTime<Utc>) -> Vec<Due> {
    vec![Due {
        who: Condition::all()
            .add(customer::Column::ExternalId.is_null())
            .add(customer::Column::FirstVisitAt.lte(due_at))
            .add(customer::Column::FirstVisitAt.gte(due_at - Duration::days(WELCOME_WINDOW_DAYS)))
            .add(customer::Column::TotalVisits.lte(1)),
        period_key: Expr::value("second"),
        occasion_date: None,
    }]
}

/// Members who joined on a day of the lead window, in any of the last [`MEMBER_YEARS`] years.
fn joined_on_the_day(p: &Programme, today: NaiveDate) -> Vec<Due> {
    occasions::window(today, p.occasion_lead_days)
        .into_iter()
        .map(|(day, keys)| {
            let joined = occasions::same_day_in_past_years(&keys, day, MEMBER_YEARS).into_iter().fold(Condition::any(), |any, d| {
                any.add(
                    Condition::all()
                        .add(customer::Column::MemberSince.gte(p.start_of(d)))
                        .add(customer::Column::MemberSince.lt(p.start_of(d + Duration::days(1)))),
                )
            });
            Due { who: joined, period_key: Expr::value(day.year().to_string()), occasion_date: Some(day) }
        })
        .collect()
}

/// Customers labelled `at-risk` who visited; each entry into the window (last visit) its own
/// period.
fn entered_at_risk() -> Vec<Due> {
    let labelled = Query::select()
        .column(customer_label::Column::CustomerId)
        .from(customer_label::Entity)
        .and_where(customer_label::Column::Kind.eq(LabelKind::Segment))
        .and_where(customer_label::Column::Name.eq("at-risk"))
        .to_owned();
    vec![Due {
        who: Condition::all().add(customer::Column::Id.in_subquery(labelled)).add(customer::Column::LastVisitAt.is_not_null()),
        period_key: Expr::col((customer::Entity, customer::Column::LastVisitAt)).cast_as("TEXT"),
        occasion_date: None,
    }]
}

/// Members who visited whose predicted probability of still being active is below the
/// at-risk threshold but not below the win-back one; each lapse (last visit) its own period.
fn likely_lapsing(scope: &Scope, churn: Churn) -> Vec<Due> {
    let lapsing = customer::Column::Id.in_subquery(scored(scope, Some(churn.at_risk_below), None));
    let lost = customer::Column::Id.in_subquery(scored(scope, Some(churn.win_back_below), None));
    vec![Due {
        who: Condition::all().add(lapsing).add(Condition::all().add(lost).not()).add(customer::Column::LastVisitAt.is_not_null()),
        period_key: Expr::col((customer::Entity, customer::Column::LastVisitAt)).cast_as("TEXT"),
        occasion_date: None,
    }]
}

/// The prediction thresholds the at-risk and win-back emails follow: the restaurant's, when
/// it asks for them and a fit has scored its members (until then, days).
async fn churn_for(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, campaign: Campaign) -> DomainResult<Option<Churn>> {
    let Some(churn) = p.churn.filter(|_| matches!(campaign, Campaign::AtRisk | Campaign::WinBack)) else { return Ok(None) };
    let scored = customer_prediction::Entity::find()
        .select_only()
        .column(customer_prediction::Column::CustomerId)
        .filter(customer_prediction::Column::RestaurantId.eq(&scope.restaurant_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(scored.map(|_| churn))
}

/// Members nearing their next tier (lifetime points within `nearing_points` of it, once per
/// tier: period `tier-NAME`), then members nearing the cheapest reward of the catalogue they
/// cannot afford yet (balance within `nearing_points` of its cost, tier allowed; once per
/// reward until they redeem something: period `reward-ID-REDEEMED`). A member nearing a tier
/// is not also told of a reward the same run.
fn nearing(p: &Programme, catalogue: &[reward::Model], now: DateTime<Utc>) -> Vec<Due> {
    use customer::Column as C;
    let distance = p.nearing_points;
    let mut groups = Vec::new();
    let mut near_tier = Condition::any();
    for pair in tier::THRESHOLDS.windows(2) {
        let ((_, reached), (next, at)) = (pair[0], pair[1]);
        let below: Vec<Tier> = tier::THRESHOLDS.iter().map(|(t, _)| *t).filter(|t| *t < next).collect();
        let who = Condition::all().add(C::PointsLifetime.gte(std::cmp::max(reached, at - distance))).add(C::PointsLifetime.lt(at)).add(C::Tier.is_in(below));
        near_tier = near_tier.add(who.clone());
        groups.push(Due { who, period_key: Expr::value(format!("tier-{}", tier::display_name(next).to_lowercase())), occasion_date: None });
    }
    let mut offered: Vec<&reward::Model> = catalogue.iter().filter(|r| rewards::unavailable(r, Tier::Vip, now).is_none()).collect();
    offered.sort_by_key(|r| (r.points_cost, r.id));
    let allowed = |r: &reward::Model| tier::THRESHOLDS.iter().map(|(t, _)| *t).filter(|t| *t >= r.min_tier).collect::<Vec<_>>();
    for (i, r) in offered.iter().enumerate() {
        let mut who = Condition::all()
            .add(C::PointsCurrent.lt(r.points_cost))
            .add(C::PointsCurrent.gte(r.points_cost - distance))
            .add(C::Tier.is_in(allowed(r)))
            .add(Condition::all().add(near_tier.clone()).not());
        for cheaper in offered[..i].iter().filter(|c| c.points_cost < r.points_cost) {
            who = who.add(Condition::all().add(C::PointsCurrent.lt(cheaper.points_cost)).add(C::Tier.is_in(allowed(cheaper))).not());
        }
        let period_key =
            Expr::value(format!("reward-{}-", r.id)).binary(BinOper::Custom("||"), Expr::col((customer::Entity, C::PointsRedeemed)).cast_as("TEXT"));
        groups.push(Due { who, period_key, occasion_date: None });
    }
    groups
}

/// The reward a "nearing a reward" delivery's period names (`reward-ID-…`), if any.
pub fn nearing_reward_id(period_key: &str) -> Option<i64> {
    period_key.strip_prefix("reward-")?.split('-').next()?.parse().ok()
}

/// Writes the scope's restaurant's deliveries of `campaign` for its local date `today` (or,
/// in a dry run, lists who would get one).
pub async fn enqueue(
    db: &(impl ConnectionTrait + TransactionTrait),
    scope: &Scope,
    p: &Programme,
    campaign: Campaign,
    today: NaiveDate,
    now: DateTime<Utc>,
    dry_run: bool,
) -> DomainResult<Enqueued> {
    use customer::Column as C;
    let mut report = Enqueued::default();
    let ours = || Condition::all().add(C::RestaurantId.eq(&scope.restaurant_id));
    let catalogue = if campaign == Campaign::NearingReward { crate::ops::rewards::list(db, scope, false).await? } else { Vec::new() };
    let rules = Rules { p, scope, churn: churn_for(db, scope, p, campaign).await? };
    for group in due(&rules, campaign, today, now, &catalogue) {
        // The group is read once: each member's verdict (`CASE` tests the cap only for those
        // who consented) instead of a count per reason and a select of the due.
        let mut verdict = Expr::case(consented(campaign).not(), LEFT_OUT_CONSENT);
        if let Some(capped) = campaign.capped(p).then(|| super::audience::capped(p, now, None)).flatten() {
            verdict = verdict.case(capped, LEFT_OUT_CAP);
        }
        let group_rows: Vec<(i64, i32)> = customer::Entity::find()
            .select_only()
            .column(C::Id)
            .expr_as(verdict.finally(DUE), "verdict")
            .filter(ours().add(group.who))
            .into_tuple()
            .all(db)
            .await?;
        let mut ids = Vec::with_capacity(group_rows.len());
        for (id, verdict) in group_rows {
            match verdict {
                LEFT_OUT_CONSENT => report.skipped_consent += 1,
                LEFT_OUT_CAP => report.capped += 1,
                _ => ids.push(id),
            }
        }
        if dry_run {
            let listed = &ids[..ids.len().min(DRY_RUN_LIST as usize)];
            let rows = customer::Entity::find().filter(ours()).filter(C::Id.is_in(listed.iter().copied())).all(db).await?;
            report.recipients.extend(Recipient::of_all(db, scope, rows, group.occasion_date).await?);
            continue;
        }
        // Then the due rows are written in batches: one INSERT … SELECT whose NOT EXISTS reads
        // the table it writes can turn quadratic on PostgreSQL (measured: ~250 rows/s at a
        // million customers).
        let letter = Letter::builtin(campaign, group.period_key, group.occasion_date);
        report.enqueued += outbox::enqueue_many(db, &scope.restaurant_id, &letter, &ids, now).await?;
    }
    if dry_run {
        report.enqueued = report.recipients.len() as u64;
    } else {
        crate::ops::dialect::refresh_statistics(db, "email_deliveries", report.enqueued).await?;
    }
    Ok(report)
}
