//! Campaigns the marketing team builds: content, audience, preview, test send, schedule, pause,
//! resume, cancel and results. Sending is the `campaigns` job's (every minute) and the delivery
//! job's; see `entity::marketing::sends`.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::marketing::campaigns::{self, CampaignPatch, Schedule};
use entity::ops::{customers, restaurants};
use entity::rules::content::VARIABLES;

use super::context::{app, scope};
use super::paging::{self, PageInfo};
use super::types::customer_id;
use crate::auth::MARKETING;
use crate::error::{ApiError, IntoGql};

pub mod audience;
pub mod export;
pub mod outbox;
pub mod states;
pub mod types;

use types::{Campaign, CampaignAudience, CampaignInput, CampaignKind, CampaignScheduleInput, CampaignState, EmailPreview, TemplateVariable};

fn campaign_id(id: &ID) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| ApiError::not_found(format!("campaign {}", id.as_str())))
}

impl From<CampaignInput> for CampaignPatch {
    fn from(i: CampaignInput) -> Self {
        Self {
            name: i.name,
            audience: i.audience.map(Into::into),
            subject: i.subject,
            body_text: i.body_text,
            body_html: i.body_html,
            offer: i.offer,
            holdout_percent: i.holdout_percent,
            attribution_days: i.attribution_days,
        }
    }
}

fn schedule_of(s: CampaignScheduleInput) -> Result<Schedule, ApiError> {
    match (s.send_now.unwrap_or(false), s.send_at, s.cron) {
        (true, None, None) => Ok(Schedule::Now),
        (false, Some(at), None) => Ok(Schedule::At(at)),
        (false, None, Some(cron)) => Ok(Schedule::Recurring(cron)),
        _ => Err(ApiError::validation("schedule", "give exactly one of sendNow: true, sendAt or cron")),
    }
}

/// Campaign queries.
#[derive(Default)]
pub struct MarketingQuery;

#[Object]
impl MarketingQuery {
    /// Your restaurant's campaigns, newest first (at most 100 a page), the built-in birthday,
    /// anniversary and win-back ones included (their wording is editable).
    #[graphql(guard = "MARKETING")]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only campaigns of this kind.")] kind: Option<CampaignKind>,
        #[graphql(desc = "Only campaigns in this state.")] state: Option<CampaignState>,
        #[graphql(default = 50, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<CampaignPage> {
        let (after, first) = paging::args("campaigns", first, after.as_deref(), 100).gql()?;
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let page = campaigns::list(db, scope, kind.map(Into::into), state.map(Into::into), after, first).await.gql()?;
        let page_info = paging::info("campaigns", &page, |c| c.id);
        Ok(CampaignPage { items: page.items.into_iter().map(Into::into).collect(), page_info })
    }

    /// One campaign.
    #[graphql(guard = "MARKETING")]
    async fn campaign(&self, ctx: &Context<'_>, #[graphql(desc = "The campaign's id.")] id: ID) -> async_graphql::Result<Campaign> {
        Ok(campaigns::get(&app(ctx).db, scope(ctx), campaign_id(&id).gql()?).await.gql()?.into())
    }

    /// Who the campaign would reach now: how many receive it, how many are left out and why
    /// (no email, no consent, blocked, over the frequency cap), and the first recipients.
    #[graphql(guard = "MARKETING")]
    async fn campaign_audience(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign's id.")] id: ID,
        #[graphql(default = 10, desc = "How many recipients to list as a sample.")] sample: i64,
    ) -> async_graphql::Result<CampaignAudience> {
        let (sample, _) = entity::rules::paging::check(sample.max(1), 0, 100).gql()?;
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let p = restaurants::programme(db, scope).await.gql()?;
        let c = campaigns::get(db, scope, campaign_id(&id).gql()?).await.gql()?;
        let (breakdown, members) = campaigns::audience_of(db, scope, &p, &c, sample, entity::ops::now()).await.gql()?;
        Ok(CampaignAudience::of(breakdown, members))
    }

    /// The campaign's email as this member would receive it (whether or not they may be
    /// emailed).
    #[graphql(guard = "MARKETING")]
    async fn preview_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign's id.")] id: ID,
        #[graphql(desc = "The member to render it for.")] customer_id: ID,
    ) -> async_graphql::Result<EmailPreview> {
        let (state, scope) = (app(ctx), scope(ctx));
        let c = campaigns::get(&state.db, scope, campaign_id(&id).gql()?).await.gql()?;
        let member = customers::find_by_id(&state.db, scope, self::customer_id(&customer_id).gql()?).await.gql()?;
        let restaurant = restaurants::get(&state.db, &scope.restaurant_id).await.gql()?;
        let email = jobs::delivery::preview(&state.jobs, &restaurant, &c, &member).map_err(|e| ApiError::validation("template", e)).gql()?;
        Ok(EmailPreview { subject: email.subject, text: email.text, html: email.html })
    }

    /// The variables campaign templates may use.
    #[graphql(guard = "MARKETING")]
    async fn template_variables(&self) -> Vec<TemplateVariable> {
        VARIABLES.iter().map(|(name, description)| TemplateVariable { name: name.to_string(), description: description.to_string() }).collect()
    }
}

/// One page of campaigns.
#[derive(SimpleObject)]
pub struct CampaignPage {
    /// The campaigns, newest first.
    pub items: Vec<Campaign>,
    /// Where the page ends.
    pub page_info: PageInfo,
}

/// A test email the mail server accepted.
#[derive(SimpleObject)]
pub struct SendTestEmailPayload {
    /// The address it went to (normalised).
    pub to: String,
    /// Its subject, as sent (with `[Test] `).
    pub subject: String,
    /// Its `Message-ID` header, to find it in the mailbox or the mail server's log.
    pub message_id: String,
}

/// Campaign mutations.
#[derive(Default)]
pub struct MarketingMutation;

#[Object]
impl MarketingMutation {
    /// Creates a draft campaign. A template that does not compile or names an unknown variable
    /// is `VALIDATION`, with the line.
    #[graphql(guard = "MARKETING")]
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign: name, audience, wording and optional offer.")] input: CampaignInput,
    ) -> async_graphql::Result<Campaign> {
        Ok(campaigns::create(&app(ctx).db, scope(ctx), input.into()).await.gql()?.into())
    }

    /// Changes a campaign that has not started sending (`INVALID_STATE` once it has).
    #[graphql(guard = "MARKETING")]
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign's id.")] id: ID,
        #[graphql(desc = "What to change; fields left out keep their value.")] input: CampaignInput,
    ) -> async_graphql::Result<Campaign> {
        Ok(campaigns::update(&app(ctx).db, scope(ctx), campaign_id(&id).gql()?, input.into()).await.gql()?.into())
    }

    /// A new draft with the campaign's audience and content.
    #[graphql(guard = "MARKETING")]
    async fn duplicate_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign to copy (as a new draft).")] id: ID,
    ) -> async_graphql::Result<Campaign> {
        Ok(campaigns::duplicate(&app(ctx).db, scope(ctx), campaign_id(&id).gql()?).await.gql()?.into())
    }

    /// Schedules a draft (or reschedules a scheduled campaign): now, at a local time in your
    /// restaurant's zone (not in the past), or on a cron schedule there.
    #[graphql(guard = "MARKETING")]
    async fn schedule_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign's id.")] id: ID,
        #[graphql(desc = "When to send: now, at a local date and time, or on a cron schedule in the restaurant's zone.")] schedule: CampaignScheduleInput,
    ) -> async_graphql::Result<Campaign> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let when = schedule_of(schedule).gql()?;
        let p = restaurants::programme(db, scope).await.gql()?;
        Ok(campaigns::schedule(db, scope, &p, campaign_id(&id).gql()?, when, entity::ops::now()).await.gql()?.into())
    }

    /// Pauses a scheduled or sending campaign: nothing more of it goes out until resumed.
    #[graphql(guard = "MARKETING")]
    async fn pause_campaign(&self, ctx: &Context<'_>, #[graphql(desc = "The campaign's id.")] id: ID) -> async_graphql::Result<Campaign> {
        Ok(campaigns::pause(&app(ctx).db, scope(ctx), campaign_id(&id).gql()?).await.gql()?.into())
    }

    /// Resumes a paused campaign; the rest of its emails go out, none twice.
    #[graphql(guard = "MARKETING")]
    async fn resume_campaign(&self, ctx: &Context<'_>, #[graphql(desc = "The campaign's id.")] id: ID) -> async_graphql::Result<Campaign> {
        Ok(campaigns::resume(&app(ctx).db, scope(ctx), campaign_id(&id).gql()?).await.gql()?.into())
    }

    /// Cancels a campaign that is not sent; its unsent emails are dropped.
    #[graphql(guard = "MARKETING")]
    async fn cancel_campaign(&self, ctx: &Context<'_>, #[graphql(desc = "The campaign's id.")] id: ID) -> async_graphql::Result<Campaign> {
        Ok(campaigns::cancel(&app(ctx).db, scope(ctx), campaign_id(&id).gql()?).await.gql()?.into())
    }

    /// Sends one test email of the campaign to `to`, rendered for a sample member, with a
    /// `[Test]` subject. It is not a delivery: not recorded, not counted.
    #[graphql(guard = "MARKETING")]
    async fn send_test_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign whose email to send.")] id: ID,
        #[graphql(desc = "The address to send the test to (not a delivery; it is marked as a test).")] to: String,
    ) -> async_graphql::Result<SendTestEmailPayload> {
        let (state, scope) = (app(ctx), scope(ctx));
        let to = entity::rules::contact::normalize_email(&to).map_err(|e| ApiError::validation("to", e)).gql()?;
        let c = campaigns::get(&state.db, scope, campaign_id(&id).gql()?).await.gql()?;
        let restaurant = restaurants::get(&state.db, &scope.restaurant_id).await.gql()?;
        entity::rules::restaurant::ready_to_market(&restaurant).gql()?;
        let sent = jobs::delivery::send_test(&state.jobs, &restaurant, &c, &to)
            .await
            .map_err(|e| ApiError::validation("to", format!("the test email was not sent: {e}")))
            .gql()?;
        Ok(SendTestEmailPayload { to, subject: sent.subject, message_id: sent.message_id })
    }
}
