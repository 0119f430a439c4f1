//! Sending pending deliveries. Rows are claimed (`pending` → `sending`) with a conditional
//! update, so two workers never take the same row; each is then sent, or retried with
//! exponential backoff, or marked `failed` with its reason after the last attempt. Consent is
//! checked again at send time (a customer may have unsubscribed since the row was written).
//!
//! A worker that crashes mid-send leaves rows `sending`; they return to `pending` after
//! [`STALE_SENDING_MINUTES`], so no email is lost. Such a row may then be sent a second time if
//! the crash came after the SMTP server accepted it; its `Message-ID` is stable
//! (`<delivery-ID@loyalty>`), so receiving systems can drop the copy.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::entities::{customer, email_delivery};
use entity::rules::{occasions, tier};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use tokio::task::JoinSet;

use crate::mailer::{EmailContext, SendError};
use crate::{Campaign, JobContext, JobError, JobReport};

/// Rows claimed per batch (and sent concurrently through the connection pool).
const BATCH: u64 = 50;
/// A row left `sending` this long is taken to be from a crashed worker.
pub const STALE_SENDING_MINUTES: i64 = 10;

/// Sends every due delivery (of one campaign, or all) and reports the outcome.
pub async fn deliver(ctx: &JobContext, campaign: Option<Campaign>, now: DateTime<Utc>) -> Result<JobReport, JobError> {
    use email_delivery::Column as E;
    let mut report = JobReport::default();
    if !ctx.mailer.is_configured() {
        tracing::warn!("SMTP_URL is not set: deliveries stay pending");
        return Ok(report);
    }
    email_delivery::Entity::update_many()
        .col_expr(E::Status, Expr::value("pending"))
        .filter(E::Status.eq("sending"))
        .filter(E::UpdatedAt.lt(now - Duration::minutes(STALE_SENDING_MINUTES)))
        .exec(&ctx.db)
        .await?;
    loop {
        let batch = claim(ctx, campaign, now).await?;
        if batch.is_empty() {
            break;
        }
        let ids: Vec<i64> = batch.iter().map(|d| d.customer_id).collect();
        let customers: HashMap<i64, customer::Model> = customer::Entity::find()
            .filter(customer::Column::Id.is_in(ids))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut sends = JoinSet::new();
        for row in batch {
            let ctx = ctx.clone();
            let who = customers.get(&row.customer_id).cloned();
            sends.spawn(async move {
                let outcome = send_one(&ctx, &row, who.as_ref()).await;
                (row, outcome)
            });
        }
        while let Some(joined) = sends.join_next().await {
            let (row, outcome) = joined.map_err(|e| JobError::Config(format!("send task failed: {e}")))?;
            record(ctx, row, outcome, &mut report).await?;
        }
    }
    Ok(report)
}

/// What happened to one row.
enum Outcome {
    Sent,
    Skipped(&'static str),
    Failed(SendError),
}

async fn claim(ctx: &JobContext, campaign: Option<Campaign>, now: DateTime<Utc>) -> Result<Vec<email_delivery::Model>, JobError> {
    use email_delivery::Column as E;
    let mut due = Query::select()
        .column(E::Id)
        .from(email_delivery::Entity)
        .and_where(E::Status.eq("pending"))
        .and_where(E::NextAttemptAt.lte(now))
        .order_by(E::Id, sea_orm::Order::Asc)
        .limit(BATCH)
        .to_owned();
    if let Some(c) = campaign {
        due.and_where(E::Campaign.eq(c.name()));
    }
    Ok(email_delivery::Entity::update_many()
        .col_expr(E::Status, Expr::value("sending"))
        .col_expr(E::Attempts, Expr::col(E::Attempts).add(1))
        .col_expr(E::UpdatedAt, Expr::value(entity::ops::now()))
        .filter(E::Id.in_subquery(due))
        .filter(E::Status.eq("pending"))
        .exec_with_returning(&ctx.db)
        .await?)
}

async fn send_one(ctx: &JobContext, row: &email_delivery::Model, who: Option<&customer::Model>) -> Outcome {
    let Some(campaign) = Campaign::from_name(&row.campaign) else { return Outcome::Skipped("unknown campaign") };
    let Some(c) = who else { return Outcome::Skipped("customer no longer exists") };
    if !campaign.may_email(c) {
        return Outcome::Skipped("consent withdrawn before sending");
    }
    let Some(address) = c.email.as_deref() else { return Outcome::Skipped("no email address") };
    let years = match (campaign, row.occasion_date) {
        (Campaign::Birthday, Some(on)) => c.date_of_birth.map(|d| occasions::years_at(d, on)),
        (Campaign::Anniversary, Some(on)) => c.anniversary.map(|d| occasions::years_at(d, on)),
        _ => None,
    };
    let unsubscribe_url = ctx.links.url(c.id);
    let email_ctx = EmailContext {
        first_name: c.name.split_whitespace().next().unwrap_or(&c.name).to_string(),
        name: c.name.clone(),
        restaurant: ctx.config.restaurant_name.clone(),
        tier: tier_name(c.tier),
        discount_percent: tier::discount_percent(c.tier),
        points: c.points_current,
        years: years.filter(|y| *y > 0),
        unsubscribe_url: unsubscribe_url.clone(),
    };
    let rendered = match ctx.mailer.templates.render(campaign, &email_ctx) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(SendError::Build(e.to_string())),
    };
    let message_id = format!("<delivery-{}@loyalty>", row.id);
    let message = match ctx.mailer.build(address, &c.name, &rendered, &unsubscribe_url, &message_id) {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(e),
    };
    match ctx.mailer.send(message).await {
        Ok(()) => Outcome::Sent,
        Err(e) => Outcome::Failed(e),
    }
}

fn tier_name(t: entity::entities::Tier) -> String {
    use entity::entities::Tier::*;
    match t {
        Bronze => "Bronze",
        Silver => "Silver",
        Gold => "Gold",
        Platinum => "Platinum",
        Vip => "VIP",
    }
    .to_string()
}

/// Delay before retry number `attempts` (1-based): base, 2×base, 4×base …, at most a day.
pub fn backoff(base_secs: u64, attempts: i32) -> Duration {
    let factor = 1u64 << attempts.clamp(1, 16).saturating_sub(1);
    Duration::seconds(std::cmp::Ord::min(base_secs.saturating_mul(factor), 86_400) as i64)
}

async fn record(ctx: &JobContext, row: email_delivery::Model, outcome: Outcome, report: &mut JobReport) -> Result<(), JobError> {
    let now = entity::ops::now();
    let attempts = row.attempts;
    let id = row.id;
    let mut active: email_delivery::ActiveModel = row.into();
    active.updated_at = Set(now);
    match outcome {
        Outcome::Sent => {
            active.status = Set("sent".into());
            active.sent_at = Set(Some(now));
            active.last_error = Set(None);
            report.sent += 1;
        }
        Outcome::Skipped(why) => {
            active.status = Set("skipped".into());
            active.last_error = Set(Some(why.into()));
        }
        Outcome::Failed(e) if e.is_retryable() && attempts < ctx.config.max_attempts => {
            tracing::warn!(delivery = id, attempts, error = %e, "email not sent; will retry");
            active.status = Set("pending".into());
            active.next_attempt_at = Set(now + backoff(ctx.config.retry_base_secs, attempts));
            active.last_error = Set(Some(e.to_string()));
            report.retrying += 1;
        }
        Outcome::Failed(e) => {
            tracing::error!(delivery = id, attempts, error = %e, "email failed for good");
            active.status = Set("failed".into());
            active.last_error = Set(Some(e.to_string()));
            report.failed += 1;
        }
    }
    active.update(&ctx.db).await?;
    Ok(())
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

/// How many deliveries of `campaign` in `restaurant_id` are in each status.
pub async fn status_counts(
    db: &impl sea_orm::ConnectionTrait,
    restaurant_id: &str,
    campaign: Campaign,
) -> Result<Vec<(String, i64)>, JobError> {
    use email_delivery::Column as E;
    use sea_orm::QuerySelect;
    Ok(email_delivery::Entity::find()
        .select_only()
        .column(E::Status)
        .column_as(E::Id.count(), "n")
        .filter(E::RestaurantId.eq(restaurant_id))
        .filter(E::Campaign.eq(campaign.name()))
        .group_by(E::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}

/// Deliveries of `restaurant_id`, newest first.
pub async fn list(
    db: &impl sea_orm::ConnectionTrait,
    restaurant_id: &str,
    campaign: Option<Campaign>,
    status: Option<&str>,
    limit: u64,
    offset: u64,
) -> Result<Vec<email_delivery::Model>, JobError> {
    use email_delivery::Column as E;
    use sea_orm::{QueryOrder, QuerySelect};
    let mut q = email_delivery::Entity::find().filter(E::RestaurantId.eq(restaurant_id));
    if let Some(c) = campaign {
        q = q.filter(E::Campaign.eq(c.name()));
    }
    if let Some(s) = status {
        q = q.filter(E::Status.eq(s));
    }
    Ok(q.order_by_desc(E::Id).limit(limit).offset(offset).all(db).await?)
}
