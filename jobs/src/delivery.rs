//! Sending one restaurant's pending deliveries. Rows are claimed (`pending` → `sending`) with a
//! conditional update (`entity::marketing::outbox::claim`), so two workers never take the same
//! row; each is then sent in the restaurant's name and from its address, or retried with
//! exponential backoff, or marked `failed` with its reason after the last attempt. Consent is
//! checked again at send time (a customer may have unsubscribed since the row was written).
//!
//! A worker that crashes mid-send leaves rows `sending`; they return to `pending` after
//! [`STALE_SENDING_MINUTES`], so no email is lost. Such a row may then be sent a second time if
//! the crash came after the SMTP server accepted it; its `Message-ID` is stable and unique
//! across deployments (`<delivery-ID.DEPLOYMENT@loyalty>`), so receiving systems can drop the
//! copy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use entity::Scope;
use entity::entities::{audit_entry, campaign, customer, email_delivery, restaurant};
use entity::marketing::outbox::{self, SendResult};
use entity::marketing::{builtins, kinds};
use entity::ops::rewards;
use entity::rules::contact::redact_addresses;
use entity::rules::content::{Compiled, Vars};
use entity::rules::occasions;
use entity::rules::programme::Programme;
use tokio::task::JoinSet;

use crate::layout::{self, Look, Rendered};
use crate::mailer::{SendError, Sender};
use crate::metrics;
use crate::{Campaign, JobContext, JobError, JobReport};

/// Rows claimed per batch (and sent concurrently through the connection pool).
const BATCH: u64 = 50;
/// A row left `sending` this long is taken to be from a crashed worker.
pub const STALE_SENDING_MINUTES: i64 = 10;

/// Whether the missing SMTP server was already reported (it is said once, not every run).
static SAID_NO_SMTP: AtomicBool = AtomicBool::new(false);

/// Sends every due delivery of the restaurant (of one campaign, or all) and reports the
/// outcome.
pub async fn deliver(
    ctx: &JobContext,
    restaurant: &restaurant::Model,
    scope: &Scope,
    campaign: Option<Campaign>,
    now: DateTime<Utc>,
) -> Result<JobReport, JobError> {
    let mut report = JobReport::default();
    if !ctx.mailer.is_configured() {
        if !SAID_NO_SMTP.swap(true, Ordering::Relaxed) {
            tracing::warn!("SMTP_URL is not set: emails stay pending until an SMTP server is configured");
        }
        return Ok(report);
    }
    if entity::rules::restaurant::ready_to_market(restaurant).is_err() {
        // Held, not lost: the jobs that write emails say why; these go once the address is set.
        return Ok(report);
    }
    outbox::release_stale(&ctx.db, scope, now - Duration::minutes(STALE_SENDING_MINUTES)).await?;
    let letter = Letterhead {
        scope: scope.clone(),
        sender: Sender::of(restaurant).map_err(|e| JobError::Config(format!("restaurant {}: {e}", restaurant.id))),
        restaurant: restaurant.name.clone(),
        look: Look::of(restaurant),
        link_base: ctx.link_base(restaurant).to_string(),
        programme: Programme::from(restaurant),
        builtins: builtins::all(&ctx.db, scope).await?,
    };
    let letter = std::sync::Arc::new(letter);
    let mut budget = if ctx.config.max_per_run == 0 { u64::MAX } else { ctx.config.max_per_run };
    let _active = ctx.lifecycle.enter();
    // Claims move up the ids; at the end one pass from the start takes the rows that came due
    // again meanwhile (a retry without delay).
    let mut after = 0;
    while budget > 0 && !ctx.lifecycle.is_stopping() {
        let batch = outbox::claim(&ctx.db, scope, campaign, now, after, BATCH.min(budget)).await?;
        if batch.is_empty() {
            if after == 0 {
                break;
            }
            after = 0;
            continue;
        }
        after = batch.iter().map(|d| d.id).max().unwrap_or(after);
        ctx.lifecycle.claimed(batch.iter().map(|d| d.id));
        budget -= batch.len() as u64;
        let ids: Vec<i64> = batch.iter().map(|d| d.customer_id).collect();
        let customers = outbox::recipients(&ctx.db, scope, &ids).await?;
        let consents = std::sync::Arc::new(outbox::consent_entries(&ctx.db, scope, &ids).await?);
        let campaign_ids: Vec<i64> = batch.iter().filter_map(|d| d.campaign_id).collect();
        let campaigns = outbox::campaigns(&ctx.db, scope, &campaign_ids).await?;
        let compiled: std::sync::Arc<HashMap<i64, Result<Compiled, String>>> = std::sync::Arc::new(
            campaigns.values().chain(letter.builtins.values()).map(|c| (c.id, Compiled::new(&c.subject, &c.body_text, &c.body_html))).collect(),
        );
        let mut sends = JoinSet::new();
        for row in batch {
            let (ctx, letter, compiled, consents) = (ctx.clone(), letter.clone(), compiled.clone(), consents.clone());
            let who = customers.get(&row.customer_id).cloned();
            let content = row.campaign_id.and_then(|id| campaigns.get(&id).cloned());
            sends.spawn(async move {
                let outcome = send_one(&ctx, &letter, &row, who.as_ref(), content.as_ref(), &compiled, &consents).await;
                (row, outcome)
            });
        }
        // Outcomes are recorded as they come, those finished meanwhile together (one commit).
        while let Some(first) = sends.join_next().await {
            let mut outcomes = Vec::new();
            for joined in std::iter::once(first).chain(std::iter::from_fn(|| sends.try_join_next())) {
                let (row, outcome) = joined.map_err(|e| JobError::Config(format!("send task failed: {e}")))?;
                outcomes.push((row.id, result_of(ctx, &row, outcome, &mut report)));
            }
            let ids: Vec<i64> = outcomes.iter().map(|(id, _)| *id).collect();
            outbox::record(&ctx.db, scope, outcomes).await?;
            for id in ids {
                ctx.lifecycle.settled(id);
            }
        }
    }
    Ok(report)
}

/// What every email of one restaurant shares.
struct Letterhead {
    scope: Scope,
    sender: Result<Sender, JobError>,
    restaurant: String,
    look: Look,
    link_base: String,
    programme: Programme,
    /// The built-in campaigns' wording, as the restaurant's marketers left it.
    builtins: HashMap<Campaign, campaign::Model>,
}

/// What happened to one row.
enum Outcome {
    /// Sent, with the proof of the consent it relied on and the address (sealed) it went to.
    Sent(serde_json::Value, Option<String>),
    Skipped(&'static str),
    Failed(SendError),
}

/// Which content a row is sent with, and whether `c` may still receive it.
fn content_for<'a>(
    letter: &'a Letterhead,
    row: &email_delivery::Model,
    custom: Option<&'a campaign::Model>,
    c: &customer::Model,
) -> Result<&'a campaign::Model, Outcome> {
    if row.campaign_id.is_some() {
        let Some(content) = custom else { return Err(Outcome::Skipped("campaign deleted")) };
        if !kinds::Consent::for_offer(content.offer.is_some()).allows(c) {
            return Err(Outcome::Skipped("consent withdrawn before sending"));
        }
        return Ok(content);
    }
    let Some(campaign) = Campaign::from_name(&row.campaign) else { return Err(Outcome::Skipped("unknown campaign")) };
    if !campaign.may_email(c) {
        return Err(Outcome::Skipped("consent withdrawn before sending"));
    }
    letter.builtins.get(&campaign).ok_or(Outcome::Skipped("unknown campaign"))
}

async fn send_one(
    ctx: &JobContext,
    letter: &Letterhead,
    row: &email_delivery::Model,
    who: Option<&outbox::Recipient>,
    custom: Option<&campaign::Model>,
    compiled: &HashMap<i64, Result<Compiled, String>>,
    consents: &[audit_entry::Model],
) -> Outcome {
    let Some(outbox::Recipient { customer: c, personal, sealed_email }) = who else { return Outcome::Skipped("customer no longer exists") };
    let content = match content_for(letter, row, custom, c) {
        Ok(content) => content,
        Err(outcome) => return outcome,
    };
    let Some(address) = personal.email.as_deref() else { return Outcome::Skipped("no email address") };
    let sender = match &letter.sender {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(SendError::Build(e.to_string())),
    };
    let unsubscribe_url = ctx.links.url_for_delivery(&letter.link_base, c.id, row.id);
    let mut vars = Vars::of(c, &letter.programme, &letter.restaurant, content.offer.as_deref(), &unsubscribe_url);
    let builtin = if row.campaign_id.is_none() { Campaign::from_name(&row.campaign) } else { None };
    vars.years = match (builtin, row.occasion_date) {
        (Some(Campaign::Birthday), Some(on)) => personal.date_of_birth.map_or(0, |d| occasions::years_at(d, on)),
        (Some(Campaign::Anniversary), Some(on)) => personal.anniversary.map_or(0, |d| occasions::years_at(d, on)),
        (Some(Campaign::MemberAnniversary), Some(on)) => occasions::years_at(letter.programme.today(c.member_since), on),
        _ => 0,
    }
    .max(0);
    if let Some(day) = row.occasion_date {
        vars.occasion_date = letter.look.locale.date(day);
        vars.days_until_occasion = (day - letter.programme.today(entity::ops::now())).num_days().max(0);
    }
    if builtin == Some(Campaign::Occasion)
        && let Some(day) = row.occasion_date
    {
        match entity::ops::occasions::names_on(&ctx.db, &letter.scope, c.id, day).await {
            Ok(names) if !names.is_empty() => vars.occasion = names.join(" and "),
            Ok(_) => return Outcome::Skipped("the occasion was removed"),
            Err(e) => return Outcome::Failed(SendError::Data(e.to_string())),
        }
    }
    if builtin == Some(Campaign::NearingReward)
        && let Err(outcome) = nearing(ctx, letter, row, c, &mut vars).await
    {
        return outcome;
    }
    if builtin == Some(Campaign::PointsExpiry) {
        vars.expiring_points = c.points_current;
        vars.expires_on = row.occasion_date.map(|d| letter.look.locale.date(d)).unwrap_or_default();
    }
    if let Some(benefit) = builtin.and_then(|b| b.benefit(&letter.programme, c, &row.period_key)) {
        match rewards::issue_benefit(&ctx.db, &letter.scope, c.id, &benefit, entity::ops::now()).await {
            Ok(v) => {
                vars.voucher_code = v.code;
                vars.voucher_percent = benefit.percent;
                vars.voucher_expires = letter.look.locale.date(v.expires_at.with_timezone(&letter.programme.timezone).date_naive());
            }
            Err(e) => return Outcome::Failed(SendError::Data(e.to_string())),
        }
    }
    let rendered = match compiled.get(&content.id) {
        Some(Ok(templates)) => layout::compose_with(templates, &vars, &letter.look),
        Some(Err(e)) => Err(e.clone()),
        None => layout::compose(&content.subject, &content.body_text, &content.body_html, &vars, &letter.look),
    };
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(SendError::Build(e)),
    };
    let message_id = format!("<delivery-{}.{}@loyalty>", row.id, ctx.deployment_id);
    let message = match ctx.mailer.build(sender, address, &c.name, &rendered, &unsubscribe_url, &message_id) {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(e),
    };
    let flags = builtin.map_or_else(|| kinds::Consent::for_offer(content.offer.is_some()).flags(), Campaign::consent_flags);
    let consent = outbox::consent_proof(c, flags, consents, entity::ops::now());
    match ctx.mailer.send(message).await {
        Ok(()) => Outcome::Sent(consent, sealed_email.clone()),
        Err(e) => Outcome::Failed(e),
    }
}

/// Fills in the reward a "nearing a reward" email is about, or skips it when the member reached
/// the reward or tier before the email went out (or the reward was taken out of the catalogue).
async fn nearing(ctx: &JobContext, letter: &Letterhead, row: &email_delivery::Model, c: &customer::Model, vars: &mut Vars) -> Result<(), Outcome> {
    let Some(id) = entity::marketing::automations::nearing_reward_id(&row.period_key) else {
        let still_next = row.period_key.strip_prefix("tier-").is_some_and(|t| t == vars.next_tier.to_lowercase());
        return if still_next { Ok(()) } else { Err(Outcome::Skipped("the tier was reached before sending")) };
    };
    let reward = match rewards::get(&ctx.db, &letter.scope, id).await {
        Ok(r) if !r.archived => r,
        Ok(_) | Err(entity::DomainError::NotFound { .. }) => return Err(Outcome::Skipped("the reward is no longer offered")),
        Err(e) => return Err(Outcome::Failed(SendError::Data(e.to_string()))),
    };
    if c.points_current >= reward.points_cost {
        return Err(Outcome::Skipped("the reward was reached before sending"));
    }
    vars.reward = reward.name;
    vars.points_to_reward = reward.points_cost - c.points_current;
    Ok(())
}

/// A campaign's email as member `c` would receive it (footer included; consent not checked).
/// A built-in kind shows what its job fills in when it sends: the voucher it would issue (its
/// percentage and last day; the code is a placeholder, no voucher is made), the occasion or
/// expiry day.
pub fn preview(ctx: &JobContext, restaurant: &restaurant::Model, content: &campaign::Model, c: &customer::Model) -> Result<Rendered, String> {
    let unsubscribe_url = ctx.links.url(ctx.link_base(restaurant), c.id);
    let p = Programme::from(restaurant);
    let mut vars = Vars::of(c, &p, &restaurant.name, content.offer.as_deref(), &unsubscribe_url);
    if let Some(kind) = content.builtin_key.as_deref().and_then(Campaign::from_name) {
        sample_kind_values(kind, &p, c, &mut vars);
    }
    layout::compose(&content.subject, &content.body_text, &content.body_html, &vars, &Look::of(restaurant))
}

/// The values a built-in kind's job would fill in, for a preview.
fn sample_kind_values(kind: Campaign, p: &Programme, c: &customer::Model, vars: &mut Vars) {
    let today = p.today(entity::ops::now());
    let day = |days: u32| p.locale.date(today + chrono::Days::new(u64::from(days)));
    if let Some(benefit) = kind.benefit(p, c, "preview") {
        (vars.voucher_code, vars.voucher_percent, vars.voucher_expires) = ("XXXXX-XXXXX".into(), benefit.percent, day(benefit.valid_days));
    }
    match kind {
        Campaign::Occasion => {
            (vars.occasion, vars.occasion_date, vars.days_until_occasion) = ("celebration".into(), day(p.occasion_lead_days), i64::from(p.occasion_lead_days));
        }
        Campaign::PointsExpiry => (vars.expiring_points, vars.expires_on) = (c.points_current, day(p.expiry_warning_days)),
        Campaign::MemberAnniversary => vars.years = occasions::years_at(p.today(c.member_since), today).max(1),
        _ => {}
    }
}

/// Sends one test email of a campaign to `to`, rendered for a made-up member and marked as a
/// test (`[Test]` subject, `X-Loyalty-Test` header). It is not a delivery: not recorded, not
/// counted, not capped.
pub async fn send_test(ctx: &JobContext, restaurant: &restaurant::Model, content: &campaign::Model, to: &str) -> Result<TestSent, SendError> {
    if !ctx.mailer.is_configured() {
        return Err(SendError::NotConfigured);
    }
    entity::rules::restaurant::ready_to_market(restaurant).map_err(|e| SendError::Data(e.to_string()))?;
    let sender = Sender::of(restaurant)?;
    let mut vars = Vars::sample(&restaurant.name, content.offer.as_deref());
    if content.builtin_key.is_none() {
        (vars.voucher_code, vars.voucher_percent, vars.voucher_expires) = (String::new(), 0, String::new());
    }
    vars.unsubscribe_url = ctx.links.test_url(ctx.link_base(restaurant), content.id);
    vars.preferences_url = entity::rules::content::preferences_of(&vars.unsubscribe_url);
    (vars.locale, vars.program) = (restaurant.locale.tag().to_string(), restaurant.locale.spell("programme").to_string());
    let rendered = layout::compose(&content.subject, &content.body_text, &content.body_html, &vars, &Look::of(restaurant)).map_err(SendError::Build)?;
    let message_id = format!("<test-{}-{}.{}@loyalty>", content.id, entity::ops::now().timestamp_millis(), ctx.deployment_id);
    let message = ctx.mailer.build_test(&sender, to, &rendered, &vars.unsubscribe_url, &message_id)?;
    ctx.mailer.send(message).await?;
    Ok(TestSent { message_id, subject: format!("[Test] {}", rendered.subject) })
}

/// A test email the mail server accepted.
#[derive(Debug, Clone)]
pub struct TestSent {
    /// Its `Message-ID` header.
    pub message_id: String,
    /// Its subject, as sent.
    pub subject: String,
}

/// Delay before retry number `attempts` (1-based): base, 2×base, 4×base …, at most a day.
pub fn backoff(base_secs: u64, attempts: i32) -> Duration {
    let factor = 1u64 << attempts.clamp(1, 16).saturating_sub(1);
    Duration::seconds(std::cmp::Ord::min(base_secs.saturating_mul(factor), 86_400) as i64)
}

fn result_of(ctx: &JobContext, row: &email_delivery::Model, outcome: Outcome, report: &mut JobReport) -> SendResult {
    let (id, attempts) = (row.id, row.attempts);
    match outcome {
        Outcome::Sent(consent, to) => {
            report.sent += 1;
            metrics::email("sent");
            SendResult::Sent { consent, to }
        }
        Outcome::Skipped(why) => {
            metrics::email("skipped");
            SendResult::Skipped(why.into())
        }
        Outcome::Failed(e) if e.is_retryable() && attempts < ctx.config.max_attempts => {
            let error = redact_addresses(&e.to_string());
            tracing::warn!(delivery = id, attempts, error, "email not sent; will retry");
            report.retrying += 1;
            metrics::email("retrying");
            SendResult::Retry { at: entity::ops::now() + backoff(ctx.config.retry_base_secs, attempts), error }
        }
        Outcome::Failed(e) => {
            let error = redact_addresses(&e.to_string());
            tracing::error!(delivery = id, attempts, error, "email failed for good");
            report.failed += 1;
            metrics::email("failed");
            SendResult::Failed(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(60, 1), Duration::seconds(60));
        assert_eq!(backoff(60, 2), Duration::seconds(120));
        assert_eq!(backoff(60, 4), Duration::seconds(480));
        assert_eq!(backoff(60, 40), Duration::seconds(86_400));
        assert_eq!(backoff(0, 3), Duration::zero());
    }
}
