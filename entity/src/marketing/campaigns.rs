//! Campaigns the marketing team builds: create, update, duplicate, list, schedule, pause,
//! resume and cancel, each scoped to one restaurant and audited. Content is checked on save
//! ([`crate::rules::content::check`]); a campaign that is sending or sent keeps its content.
//! Sending is in [`super::sends`].
//!
//! The built-in campaigns' rows (their editable wording) are in [`super::builtins`].

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait};
use serde_json::json;

use super::audience::{self, Target};
use super::kinds::Consent;
use crate::entities::{CampaignKind, CampaignState, DeliveryStatus, ScheduleKind, SendState, campaign, campaign_send, email_delivery};
use crate::ops::{audit, begin_write, now};
use crate::rules::audience::{AudienceRule, check as check_rule};
use crate::rules::content::{Part, check as check_template};
use crate::rules::programme::Programme;
use crate::rules::schedule;
use crate::{DomainError, DomainResult, Scope};

/// Changes to a campaign; `None` keeps a value. `offer: Some("")` removes the offer.
#[derive(Debug, Clone, Default)]
pub struct CampaignPatch {
    pub name: Option<String>,
    /// Replaces the whole audience.
    pub audience: Option<Target>,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub offer: Option<String>,
    /// Percent of the audience kept as a control group (0 to 50).
    pub holdout_percent: Option<i32>,
    /// Days after a send that count for its results (1 to 90).
    pub attribution_days: Option<i32>,
}

/// When to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Now,
    /// A local date and time `YYYY-MM-DDTHH:MM` in the restaurant's zone.
    At(String),
    /// A cron expression (seconds field 0) in the restaurant's zone.
    Recurring(String),
}

fn check_name(name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(DomainError::validation("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_string())
}

fn check_offer(offer: &str) -> DomainResult<Option<String>> {
    let offer = offer.trim();
    if offer.chars().count() > 500 {
        return Err(DomainError::validation("offer", "must be at most 500 characters"));
    }
    Ok((!offer.is_empty()).then(|| offer.to_string()))
}

fn check_results(holdout: Option<i32>, days: Option<i32>) -> DomainResult<()> {
    if holdout.is_some_and(|h| !(0..=50).contains(&h)) {
        return Err(DomainError::validation("holdoutPercent", "must be between 0 and 50"));
    }
    if days.is_some_and(|d| !(1..=90).contains(&d)) {
        return Err(DomainError::validation("attributionDays", "must be between 1 and 90"));
    }
    Ok(())
}

fn check_target(t: Target) -> DomainResult<Target> {
    let segment = t.segment.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let max = crate::rules::segments::MAX_NAME_LEN;
    if segment.as_ref().is_some_and(|s| s.chars().count() > max) {
        return Err(DomainError::validation("audience.segment", format!("must be 1 to {max} characters")));
    }
    Ok(Target { segment, rule: t.rule.map(check_rule).transpose()? })
}

/// The audience a campaign row targets.
pub fn target_of(c: &campaign::Model) -> DomainResult<Target> {
    Ok(Target { segment: c.audience_segment.clone(), rule: c.audience_rule.as_deref().map(AudienceRule::from_json).transpose()? })
}

/// The consent a campaign's emails need: an offer needs `specialOffers` too.
pub fn consent_of(c: &campaign::Model) -> Consent {
    Consent::for_offer(c.offer.is_some())
}

/// The scope's campaign `id`.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("campaign {id}")))
}

/// The restaurant's campaigns, newest first, optionally of one kind and in one state.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    kind: Option<CampaignKind>,
    state: Option<CampaignState>,
    after: Option<i64>,
    first: u64,
) -> DomainResult<crate::ops::Paged<campaign::Model>> {
    let mut q = campaign::Entity::find().filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id));
    if let Some(k) = kind {
        q = q.filter(campaign::Column::Kind.eq(k));
    }
    if let Some(s) = state {
        q = q.filter(campaign::Column::State.eq(s));
    }
    Ok(crate::ops::newest_page(db, q, campaign::Column::Id, after, first).await?)
}

/// Creates a draft. Name, subject and both bodies are required.
pub async fn create(db: &impl ConnectionTrait, scope: &Scope, patch: CampaignPatch) -> DomainResult<campaign::Model> {
    let required = |v: &Option<String>, field: &str| v.clone().ok_or_else(|| DomainError::validation(field, "is required"));
    let name = check_name(&required(&patch.name, "name")?)?;
    let (subject, text, html) = (required(&patch.subject, "subject")?, required(&patch.body_text, "bodyText")?, required(&patch.body_html, "bodyHtml")?);
    check_template("subject", Part::Subject, &subject)?;
    check_template("bodyText", Part::Text, &text)?;
    check_template("bodyHtml", Part::Html, &html)?;
    let target = check_target(patch.audience.unwrap_or_default())?;
    check_results(patch.holdout_percent, patch.attribution_days)?;
    let at = now();
    let row = campaign::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        name: Set(name),
        kind: Set(CampaignKind::Custom),
        builtin_key: Set(None),
        state: Set(CampaignState::Draft),
        audience_segment: Set(target.segment),
        audience_rule: Set(target.rule.map(|r| r.to_json())),
        subject: Set(subject),
        body_text: Set(text),
        body_html: Set(html),
        offer: Set(patch.offer.as_deref().map(check_offer).transpose()?.flatten()),
        schedule_kind: Set(None),
        send_at_local: Set(None),
        cron: Set(None),
        next_run_at: Set(None),
        resume_state: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        sent_at: Set(None),
        holdout_percent: Set(patch.holdout_percent.unwrap_or(0)),
        attribution_days: Set(patch.attribution_days.unwrap_or(14)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(db, scope, crate::entities::AuditAction::CampaignCreated, None, json!({ "campaign": row.id, "name": row.name })).await?;
    Ok(row)
}

fn refuse_change(c: &campaign::Model) -> DomainResult<()> {
    match c.state {
        CampaignState::Sending | CampaignState::Sent => Err(DomainError::invalid_state(format!(
            "campaign {} is {}; its content can no longer change (duplicate it to send a new version)",
            c.id,
            sea_orm::ActiveEnum::to_value(&c.state)
        ))),
        CampaignState::Cancelled => Err(DomainError::invalid_state(format!("campaign {} was cancelled; duplicate it to use it again", c.id))),
        _ => Ok(()),
    }
}

/// Changes a campaign that has not started sending. Built-in campaigns change only their
/// wording (name, subject, bodies, offer).
pub async fn update<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, id: i64, patch: CampaignPatch) -> DomainResult<campaign::Model> {
    let txn = begin_write(db).await?;
    let current = get(&txn, scope, id).await?;
    refuse_change(&current)?;
    if current.kind != CampaignKind::Custom && patch.audience.is_some() {
        return Err(DomainError::validation("audience", "a built-in campaign's audience is its job's rule; only its wording changes"));
    }
    let mut row: campaign::ActiveModel = current.clone().into();
    let mut changed = Vec::new();
    if let Some(name) = &patch.name {
        row.name = Set(check_name(name)?);
        changed.push("name");
    }
    for (field, part, value, target) in [
        ("subject", Part::Subject, &patch.subject, &mut row.subject),
        ("bodyText", Part::Text, &patch.body_text, &mut row.body_text),
        ("bodyHtml", Part::Html, &patch.body_html, &mut row.body_html),
    ] {
        if let Some(v) = value {
            check_template(field, part, v)?;
            *target = Set(v.clone());
            changed.push(field);
        }
    }
    if let Some(offer) = &patch.offer {
        row.offer = Set(check_offer(offer)?);
        changed.push("offer");
    }
    check_results(patch.holdout_percent, patch.attribution_days)?;
    if let Some(h) = patch.holdout_percent {
        row.holdout_percent = Set(h);
        changed.push("holdoutPercent");
    }
    if let Some(d) = patch.attribution_days {
        row.attribution_days = Set(d);
        changed.push("attributionDays");
    }
    if let Some(t) = patch.audience {
        let t = check_target(t)?;
        row.audience_segment = Set(t.segment);
        row.audience_rule = Set(t.rule.map(|r| r.to_json()));
        changed.push("audience");
    }
    row.updated_at = Set(now());
    let row = row.update(&txn).await?;
    audit::record(&txn, scope, crate::entities::AuditAction::CampaignUpdated, None, json!({ "campaign": id, "fields": changed })).await?;
    txn.commit().await?;
    Ok(row)
}

/// A new draft with the campaign's name (prefixed "Copy of"), audience and content.
pub async fn duplicate(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<campaign::Model> {
    let c = get(db, scope, id).await?;
    if c.kind != CampaignKind::Custom {
        return Err(DomainError::validation("id", "a built-in campaign cannot be duplicated; create a campaign instead"));
    }
    let name: String = format!("Copy of {}", c.name).chars().take(100).collect();
    let patch = CampaignPatch {
        name: Some(name),
        audience: Some(target_of(&c)?),
        subject: Some(c.subject),
        body_text: Some(c.body_text),
        body_html: Some(c.body_html),
        offer: c.offer,
        holdout_percent: Some(c.holdout_percent),
        attribution_days: Some(c.attribution_days),
    };
    create(db, scope, patch).await
}

/// Schedules a draft (or reschedules a scheduled campaign): now, at a local time in the
/// restaurant's zone (not in the past), or on a cron schedule there. Its audience must resolve.
pub async fn schedule<D: ConnectionTrait + TransactionTrait>(
    db: &D,
    scope: &Scope,
    p: &Programme,
    id: i64,
    when: Schedule,
    at: DateTime<Utc>,
) -> DomainResult<campaign::Model> {
    let txn = begin_write(db).await?;
    let current = get(&txn, scope, id).await?;
    if current.kind != CampaignKind::Custom {
        return Err(DomainError::validation("id", "a built-in campaign runs on its job's schedule"));
    }
    if !matches!(current.state, CampaignState::Draft | CampaignState::Scheduled) {
        return Err(DomainError::invalid_state(format!(
            "campaign {id} is {}; only a draft or scheduled campaign can be scheduled",
            sea_orm::ActiveEnum::to_value(&current.state)
        )));
    }
    let target = target_of(&current)?;
    if target.segment.is_none() && target.rule.is_none() {
        return Err(DomainError::validation("audience", "choose a segment or a rule before scheduling"));
    }
    crate::rules::restaurant::ready_to_market(&crate::ops::restaurants::get(&txn, &scope.restaurant_id).await?)?;
    audience::condition(&txn, scope, p, &target, at).await?;
    let (kind, local, cron, next) = match when {
        Schedule::Now => (ScheduleKind::Now, None, None, at),
        Schedule::At(text) => {
            let (local, next) = schedule::check_send_at("sendAt", &text, p.timezone, at)?;
            (ScheduleKind::At, Some(local), None, next)
        }
        Schedule::Recurring(expr) => {
            let (expr, next) = schedule::check_cron("cron", &expr, p.timezone, at)?;
            (ScheduleKind::Recurring, None, Some(expr), next)
        }
    };
    let mut row: campaign::ActiveModel = current.into();
    row.state = Set(CampaignState::Scheduled);
    row.schedule_kind = Set(Some(kind));
    row.send_at_local = Set(local);
    row.cron = Set(cron);
    row.next_run_at = Set(Some(next));
    row.updated_at = Set(now());
    let row = row.update(&txn).await?;
    audit::record(&txn, scope, crate::entities::AuditAction::CampaignScheduled, None, json!({ "campaign": id, "nextRunAt": next })).await?;
    txn.commit().await?;
    Ok(row)
}

async fn set_state(
    db: &impl ConnectionTrait,
    scope: &Scope,
    c: &campaign::Model,
    to: CampaignState,
    resume: Option<CampaignState>,
) -> DomainResult<campaign::Model> {
    let done = campaign::Entity::update_many()
        .col_expr(campaign::Column::State, Expr::value(to))
        .col_expr(campaign::Column::ResumeState, Expr::value(resume))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now()))
        .filter(campaign::Column::Id.eq(c.id))
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::State.eq(c.state))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(DomainError::invalid_state(format!("campaign {} changed meanwhile; read it again", c.id)));
    }
    get(db, scope, c.id).await
}

/// Pauses a scheduled or sending campaign: nothing more of it is sent (emails already handed
/// to the SMTP server are not recalled) until [`resume`]. Pausing a built-in campaign switches
/// it off (its job writes no emails) until resumed.
pub async fn pause(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<campaign::Model> {
    let c = get(db, scope, id).await?;
    if !matches!(c.state, CampaignState::Scheduled | CampaignState::Sending | CampaignState::BuiltIn) {
        return Err(DomainError::invalid_state(format!(
            "campaign {id} is {}; only a scheduled, sending or built-in campaign can be paused",
            sea_orm::ActiveEnum::to_value(&c.state)
        )));
    }
    let row = set_state(db, scope, &c, CampaignState::Paused, Some(c.state)).await?;
    audit::record(db, scope, crate::entities::AuditAction::CampaignPaused, None, json!({ "campaign": id })).await?;
    Ok(row)
}

/// Resumes a paused campaign where it stood; its remaining emails go out, none twice.
pub async fn resume(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<campaign::Model> {
    let c = get(db, scope, id).await?;
    if c.state != CampaignState::Paused {
        return Err(DomainError::invalid_state(format!("campaign {id} is {}, not paused", sea_orm::ActiveEnum::to_value(&c.state))));
    }
    let row = set_state(db, scope, &c, c.resume_state.unwrap_or(CampaignState::Scheduled), None).await?;
    audit::record(db, scope, crate::entities::AuditAction::CampaignResumed, None, json!({ "campaign": id })).await?;
    Ok(row)
}

/// Cancels a campaign that is not sent: its unsent emails are skipped, for good.
pub async fn cancel<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, id: i64) -> DomainResult<campaign::Model> {
    let txn = begin_write(db).await?;
    let c = get(&txn, scope, id).await?;
    if matches!(c.state, CampaignState::Sent | CampaignState::Cancelled | CampaignState::BuiltIn) || c.kind != CampaignKind::Custom {
        return Err(DomainError::invalid_state(format!("campaign {id} is {}; it cannot be cancelled", sea_orm::ActiveEnum::to_value(&c.state))));
    }
    let row = set_state(&txn, scope, &c, CampaignState::Cancelled, None).await?;
    use email_delivery::Column as E;
    email_delivery::Entity::update_many()
        .col_expr(E::Status, Expr::value(DeliveryStatus::Skipped))
        .col_expr(E::LastError, Expr::value("campaign cancelled"))
        .col_expr(E::UpdatedAt, Expr::value(now()))
        .filter(E::RestaurantId.eq(&scope.restaurant_id))
        .filter(E::CampaignId.eq(id))
        .filter(E::Status.eq(DeliveryStatus::Pending))
        .exec(&txn)
        .await?;
    campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::State, Expr::value(SendState::Cancelled))
        .col_expr(campaign_send::Column::FinishedAt, Expr::value(now()))
        .filter(campaign_send::Column::CampaignId.eq(id))
        .filter(campaign_send::Column::State.is_in([SendState::Enqueuing, SendState::Enqueued]))
        .exec(&txn)
        .await?;
    audit::record(&txn, scope, crate::entities::AuditAction::CampaignCancelled, None, json!({ "campaign": id })).await?;
    txn.commit().await?;
    Ok(row)
}

/// Who campaign `c` would reach now, who is left out and why, and the first `sample` recipients.
pub async fn audience_of(
    db: &impl ConnectionTrait,
    scope: &Scope,
    p: &Programme,
    c: &campaign::Model,
    sample: u64,
    at: DateTime<Utc>,
) -> DomainResult<(audience::Breakdown, Vec<(crate::entities::customer::Model, crate::ops::customers::Personal)>)> {
    if c.kind != CampaignKind::Custom {
        return Err(DomainError::validation("id", "a built-in campaign's audience is its job's rule; see runJob(dryRun: true)"));
    }
    let cond = audience::condition(db, scope, p, &target_of(c)?, at).await?;
    let groups = audience::groups(cond, consent_of(c), p, at, None);
    let breakdown = audience::breakdown(db, &groups).await?;
    let sample = audience::sample(db, groups.eligible, sample).await?;
    let opened = crate::ops::customers::personal::open_many(db, scope, &sample).await?;
    Ok((breakdown, sample.into_iter().zip(opened).collect()))
}
