//! The outbox, for the marketing team: every email written for sending, and each built-in
//! campaign's emails counted by state.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::DomainError;
use entity::entities::DeliveryStatus as Status;
use entity::marketing::kinds::{CUSTOM, Campaign};
use entity::marketing::outbox;
use entity::ops::job_runs;
use jobs::Job;

use super::states::CampaignKind;
use crate::auth::MARKETING;
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, scope};
use crate::graphql::paging::{self, PageInfo};
use crate::graphql::runs::JobRun;
use crate::graphql::scalars::Date;
use crate::graphql::types::customer_id;

/// State of one email.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Waiting to be sent (or to be retried).
    Pending,
    /// Claimed by a worker and being sent.
    Sending,
    /// Accepted by the mail server.
    Sent,
    /// Not sent after the last attempt; the reason is kept.
    Failed,
    /// Not sent: consent withdrawn, no address, or the campaign stopped before it went out.
    Skipped,
    /// In the campaign's control group: never sent.
    HeldOut,
}

/// The name deliveries of `kind` carry.
fn stored_name(kind: CampaignKind) -> &'static str {
    Campaign::of_stored(kind.into()).map_or(CUSTOM, Campaign::name)
}

/// The kind of the campaign a delivery's stored name names.
fn kind_of(name: &str) -> Result<CampaignKind, ApiError> {
    match Campaign::from_name(name) {
        Some(c) => Ok(c.kind().stored.into()),
        None if name == CUSTOM => Ok(CampaignKind::Custom),
        None => Err(ApiError::Domain(DomainError::internal(format!("a delivery of an unknown campaign {name:?}")))),
    }
}

/// One email of a campaign.
#[derive(SimpleObject)]
pub struct Delivery {
    /// The delivery's id.
    pub id: ID,
    /// The member it is for.
    pub customer_id: ID,
    /// The kind of campaign it belongs to (`CUSTOM` for a marketer's campaign).
    pub campaign: CampaignKind,
    /// The period it is for (birthday year, send id …): one email per member, campaign and period.
    pub period_key: String,
    /// The day of the occasion it is about, when there is one.
    pub occasion_date: Option<Date>,
    /// The address it went to, or for an email not sent yet, where it will go (the member's
    /// address now); null when there is none.
    pub email: Option<String>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Send attempts so far.
    pub attempts: i32,
    /// The last attempt's error (addresses redacted).
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the mail server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Proof of consent, written when it was sent: each consent flag the email relied on, its
    /// value then, and the audit entry that granted it (`grantedBy`).
    pub consent: Option<async_graphql::Json<serde_json::Value>>,
}

impl TryFrom<outbox::Listed> for Delivery {
    type Error = ApiError;

    fn try_from(listed: outbox::Listed) -> Result<Self, ApiError> {
        let m = listed.delivery;
        Ok(Self {
            id: ID(m.id.to_string()),
            customer_id: ID(m.customer_id.to_string()),
            campaign: kind_of(&m.campaign)?,
            period_key: m.period_key,
            occasion_date: m.occasion_date.map(Date),
            email: listed.email,
            status: m.status.into(),
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            consent: m.consent.map(async_graphql::Json),
        })
    }
}

/// The cursors' name of the deliveries list.
const LIST: &str = "deliveries";

/// One page of emails.
#[derive(SimpleObject)]
pub struct DeliveryPage {
    /// The emails, newest first.
    pub items: Vec<Delivery>,
    /// Where the page ends.
    pub page_info: PageInfo,
}

/// A built-in campaign's emails by state, and its job's latest run.
#[derive(SimpleObject)]
pub struct CampaignReport {
    /// The built-in campaign.
    pub campaign: CampaignKind,
    /// Emails waiting (or being sent).
    pub pending: i64,
    /// Emails sent.
    pub sent: i64,
    /// Emails that failed for good.
    pub failed: i64,
    /// Written, then not sent: consent withdrawn, no address, or the campaign stopped.
    pub skipped: i64,
    /// Its job's latest run (null for a kind no job of its own writes, such as `TIER_UP`).
    pub last_run: Option<JobRun>,
}

/// Outbox queries.
#[derive(Default)]
pub struct OutboxQuery;

#[Object]
impl OutboxQuery {
    /// Every built-in campaign's emails by state in your restaurant, in the order of `CampaignKind`.
    #[graphql(guard = "MARKETING")]
    async fn campaign_reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CampaignReport>> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let mut reports = Vec::new();
        for campaign in Campaign::ALL {
            let counts = outbox::status_counts(db, scope, campaign).await.gql()?;
            let n = |s: Status| counts.iter().find(|(status, _)| *status == s).map_or(0, |(_, n)| *n);
            let last_run = match Job::ALL.into_iter().find(|j| j.campaign() == Some(campaign)) {
                Some(job) => job_runs::recent(db, scope, Some(job.name()), 1).await.gql()?.into_iter().next().map(JobRun::try_from).transpose().gql()?,
                None => None,
            };
            reports.push(CampaignReport {
                campaign: campaign.kind().stored.into(),
                pending: n(Status::Pending) + n(Status::Sending),
                sent: n(Status::Sent),
                failed: n(Status::Failed),
                skipped: n(Status::Skipped),
                last_run,
            });
        }
        Ok(reports)
    }

    /// Emails of your restaurant, newest first, one page at a time; filtered by campaign kind,
    /// member and state.
    #[graphql(guard = "MARKETING")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only emails of campaigns of this kind (`CUSTOM`: every marketer's campaign).")] campaign: Option<CampaignKind>,
        #[graphql(desc = "Only emails to this member.")] customer_id: Option<ID>,
        #[graphql(desc = "Only emails in this state.")] status: Option<DeliveryStatus>,
        #[graphql(default = 50, desc = "How many to return (1 to the list's maximum, 200 by default).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<DeliveryPage> {
        let (after, first) = paging::args(LIST, first, after.as_deref(), app(ctx).policy.max_page_size).gql()?;
        let filter = outbox::DeliveryFilter {
            campaign: campaign.map(stored_name),
            customer_id: customer_id.as_ref().map(self::customer_id).transpose().gql()?,
            status: status.map(Into::into),
        };
        let page = outbox::list(&app(ctx).db, scope(ctx), &filter, after, first).await.gql()?;
        let page_info = paging::info(LIST, &page, |d| d.delivery.id);
        Ok(DeliveryPage { items: page.items.into_iter().map(Delivery::try_from).collect::<Result<_, _>>().gql()?, page_info })
    }
}
