//! The object and input types of campaigns and their reports (audiences: `audience.rs`).

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{campaign, campaign_send, customer};
use entity::marketing::audience::Breakdown;
use entity::marketing::sends::{self, SendReport};
use entity::rules::audience as rules;

use super::audience::Audience;
pub use super::states::{CampaignKind, CampaignState, ScheduleKind, SendState};
use crate::error::IntoGql;
use crate::graphql::context::{app, scope};
use crate::graphql::paging;
use crate::graphql::scalars::Money;
use crate::graphql::types::Tier;

/// A campaign's schedule.
#[derive(SimpleObject)]
pub struct CampaignSchedule {
    /// Now, once at a time, or recurring.
    pub kind: ScheduleKind,
    /// `AT`: local date and time in the restaurant's zone.
    pub send_at: Option<String>,
    /// `RECURRING`: cron (seconds field 0) in the restaurant's zone.
    pub cron: Option<String>,
}

/// When to send: exactly one of the three.
#[derive(InputObject)]
pub struct CampaignScheduleInput {
    /// As soon as possible (within a minute).
    pub send_now: Option<bool>,
    /// Once, at this local date and time (`YYYY-MM-DDTHH:MM`) in the restaurant's zone.
    pub send_at: Option<String>,
    /// Repeatedly, on this cron schedule (`sec min hour day month weekday`, seconds 0) in the
    /// restaurant's zone.
    pub cron: Option<String>,
}

/// A campaign's content and audience. On create, `name`, `subject`, `bodyText` and `bodyHtml`
/// are required; on update, omitted fields stay. Templates are minijinja over the variables of
/// `templateVariables`; an empty `offer` removes the offer.
#[derive(InputObject, Default)]
pub struct CampaignInput {
    /// Its name, as the marketing team knows it.
    pub name: Option<String>,
    /// Who it goes to: a segment or a rule.
    pub audience: Option<Audience>,
    /// Subject template (variables as `templateVariables` lists).
    pub subject: Option<String>,
    /// Plain-text body template.
    pub body_text: Option<String>,
    /// HTML body template.
    pub body_html: Option<String>,
    /// An offer makes the campaign need `specialOffers` consent too.
    pub offer: Option<String>,
    /// Percent of the audience kept as a control group (0 to 50; default 0): a stable random
    /// share of members, recorded and never emailed, to measure the campaign against.
    pub holdout_percent: Option<i32>,
    /// Days after a send during which visits, revenue and redemptions count (1 to 90; 14).
    pub attribution_days: Option<i32>,
}

/// One send of a campaign (one-off campaigns have one; recurring ones one per run) and what
/// became of its emails.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CampaignSend {
    /// The send's id.
    pub id: ID,
    #[graphql(skip)]
    pub row_id: i64,
    /// Members kept in the control group (not emailed).
    pub held_out: i64,
    /// The scheduled time the send is for.
    pub slot: DateTime<Utc>,
    /// Where the send stands.
    pub state: SendState,
    /// Members the audience matched when the send started.
    pub audience: i64,
    /// Left out: no email address.
    pub no_email: i64,
    /// Left out: no consent.
    pub skipped_for_consent: i64,
    /// Left out: blocked.
    pub blocked: i64,
    /// Left out: over the frequency cap.
    pub capped: i64,
    /// Emails written for sending.
    pub enqueued: i64,
    /// Emails waiting to be sent.
    pub pending: i64,
    /// Emails sent.
    pub sent: i64,
    /// Emails that failed for good.
    pub failed: i64,
    /// Written, then not sent: consent withdrawn before sending, or the campaign cancelled.
    pub skipped: i64,
    /// Members who unsubscribed through this send's emails.
    pub unsubscribes: i64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When every email was final.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<SendReport> for CampaignSend {
    fn from(r: SendReport) -> Self {
        let (s, f): (campaign_send::Model, _) = (r.send, r.figures);
        Self {
            id: ID(s.id.to_string()),
            row_id: s.id,
            held_out: f.held_out,
            slot: s.slot,
            state: s.state.into(),
            audience: s.audience,
            no_email: s.no_email,
            skipped_for_consent: s.no_consent,
            blocked: s.blocked,
            capped: s.capped,
            enqueued: f.enqueued,
            pending: f.pending,
            sent: f.sent,
            failed: f.failed,
            skipped: f.skipped,
            unsubscribes: f.unsubscribes,
            started_at: s.started_at,
            finished_at: s.finished_at,
        }
    }
}

/// What one group did within the attribution window.
#[derive(SimpleObject)]
pub struct GroupResult {
    /// Members in the group.
    pub members: i64,
    /// Members with a visit in the window.
    pub visitors: i64,
    /// Their visits in the window.
    pub visits: i64,
    /// What those visits came to.
    pub revenue: Money,
    /// Rewards they redeemed in the window.
    pub redemptions: i64,
    /// Visitors per member.
    pub visit_rate: f64,
    /// Revenue divided by members.
    pub revenue_per_member: Money,
}

impl From<sends::GroupResult> for GroupResult {
    fn from(g: sends::GroupResult) -> Self {
        let per = |v: i64| if g.members > 0 { v as f64 / g.members as f64 } else { 0.0 };
        Self {
            visit_rate: per(g.visitors),
            revenue_per_member: Money(if g.members > 0 { g.revenue_cents / g.members } else { 0 }),
            members: g.members,
            visitors: g.visitors,
            visits: g.visits,
            revenue: Money(g.revenue_cents),
            redemptions: g.redemptions,
        }
    }
}

/// A send's results: recipients against the control group within `days` of the send, and the
/// difference per member (lift).
#[derive(SimpleObject)]
pub struct Attribution {
    /// The window after the send, in days.
    pub days: i32,
    /// The members who got the email.
    pub recipients: GroupResult,
    /// The control group.
    pub holdout: GroupResult,
    /// Recipients' visit rate minus the control group's.
    pub visit_rate_lift: f64,
    /// Recipients' revenue per member minus the control group's.
    pub revenue_per_member_lift: Money,
}

#[ComplexObject]
impl CampaignSend {
    /// Visits, revenue and redemptions of recipients and of the control group after this send.
    async fn attribution(&self, ctx: &Context<'_>) -> async_graphql::Result<Attribution> {
        let a = sends::attribution(&app(ctx).db, scope(ctx), self.row_id).await.gql()?;
        let (recipients, holdout) = (GroupResult::from(a.recipients), GroupResult::from(a.holdout));
        Ok(Attribution {
            days: a.days,
            visit_rate_lift: recipients.visit_rate - holdout.visit_rate,
            revenue_per_member_lift: Money(recipients.revenue_per_member.0 - holdout.revenue_per_member.0),
            recipients,
            holdout,
        })
    }
}

/// A campaign's figures over all its sends.
#[derive(SimpleObject, Default)]
pub struct CampaignTotals {
    /// Sends started.
    pub sends: i64,
    /// Members in the audience, summed over sends.
    pub audience: i64,
    /// Emails written.
    pub enqueued: i64,
    /// Emails waiting to be sent.
    pub pending: i64,
    /// Emails sent.
    pub sent: i64,
    /// Emails that failed for good.
    pub failed: i64,
    /// Emails not sent (consent withdrawn before sending, or cancelled).
    pub skipped: i64,
    /// Members left out for lack of consent when the send started.
    pub skipped_for_consent: i64,
    /// Members left out by the frequency cap.
    pub capped: i64,
    /// Unsubscribes that came from its emails.
    pub unsubscribes: i64,
    /// Members held out as the control group.
    pub held_out: i64,
}

/// A campaign the marketing team built (or a built-in one's editable wording).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Campaign {
    /// The campaign's id.
    pub id: ID,
    /// Its name, as the marketing team knows it.
    pub name: String,
    /// `CUSTOM` for the marketer's own; otherwise the built-in campaign it is.
    pub kind: CampaignKind,
    /// Where it stands.
    pub state: CampaignState,
    /// Who it goes to: a segment or a rule (built-ins: their job's rule).
    pub audience: Audience,
    /// Subject template.
    pub subject: String,
    /// Plain-text body template.
    pub body_text: String,
    /// HTML body template (set in the email layout unless a whole document).
    pub body_html: String,
    /// The offer it announces; with one, members also need `specialOffers`.
    pub offer: Option<String>,
    /// Share of the audience held out of every send as a control group (0–50).
    pub holdout_percent: i32,
    /// Days after a send that visits and redemptions are counted for it.
    pub attribution_days: i32,
    /// When it goes out (null until scheduled).
    pub schedule: Option<CampaignSchedule>,
    /// When the next send starts.
    pub next_send_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When its last send finished.
    pub sent_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub row_id: i64,
}

impl From<campaign::Model> for Campaign {
    fn from(c: campaign::Model) -> Self {
        let rule = c.audience_rule.as_deref().and_then(|r| rules::AudienceRule::from_json(r).ok()).map(Into::into);
        Self {
            id: ID(c.id.to_string()),
            row_id: c.id,
            name: c.name,
            kind: c.kind.into(),
            state: c.state.into(),
            audience: Audience { segment: c.audience_segment, rule },
            subject: c.subject,
            body_text: c.body_text,
            body_html: c.body_html,
            offer: c.offer,
            holdout_percent: c.holdout_percent,
            attribution_days: c.attribution_days,
            schedule: c.schedule_kind.map(|k| CampaignSchedule { kind: k.into(), send_at: c.send_at_local, cron: c.cron }),
            next_send_at: c.next_run_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            sent_at: c.sent_at,
        }
    }
}

#[ComplexObject]
impl Campaign {
    /// Its sends, newest first, one page at a time, with what became of their emails.
    async fn sends(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<CampaignSendPage> {
        let (after, first) = paging::args("sends", first, after.as_deref(), 100).gql()?;
        let page = sends::reports(&app(ctx).db, scope(ctx), self.row_id, after, first).await.gql()?;
        let page_info = paging::info("sends", &page, |r| r.send.id);
        Ok(CampaignSendPage { items: page.items.into_iter().map(Into::into).collect(), page_info })
    }

    /// Its figures over all sends (counted in the database, however many sends).
    async fn totals(&self, ctx: &Context<'_>) -> async_graphql::Result<CampaignTotals> {
        let t = sends::totals(&app(ctx).db, scope(ctx), self.row_id).await.gql()?;
        let d = t.deliveries;
        Ok(CampaignTotals {
            sends: t.sends,
            audience: t.audience,
            skipped_for_consent: t.no_consent,
            capped: t.capped,
            enqueued: d.enqueued,
            pending: d.pending,
            sent: d.sent,
            failed: d.failed,
            skipped: d.skipped,
            unsubscribes: d.unsubscribes,
            held_out: d.held_out,
        })
    }
}

/// One page of a campaign's sends.
#[derive(SimpleObject)]
pub struct CampaignSendPage {
    /// The sends, newest first.
    pub items: Vec<CampaignSend>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}

/// A member of an audience (a sample).
#[derive(SimpleObject)]
pub struct AudienceMember {
    /// The member.
    pub customer_id: ID,
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: Option<String>,
    /// Their tier.
    pub tier: Tier,
}

impl From<(customer::Model, entity::ops::customers::Personal)> for AudienceMember {
    fn from((c, p): (customer::Model, entity::ops::customers::Personal)) -> Self {
        Self { customer_id: ID(c.id.to_string()), name: c.name, email: p.email, tier: c.tier.into() }
    }
}

/// Who a campaign would reach now, who is left out and why, and a sample of recipients.
#[derive(SimpleObject)]
pub struct CampaignAudience {
    /// Members the audience matches.
    pub audience: i64,
    /// Who would get the email.
    pub recipients: i64,
    /// Left out: no email address.
    pub no_email: i64,
    /// No consent (`emailOptIn`, plus `specialOffers` for a campaign with an offer).
    pub no_consent: i64,
    /// Left out: blocked.
    pub blocked: i64,
    /// Over the frequency cap.
    pub capped: i64,
    /// The first recipients.
    pub sample: Vec<AudienceMember>,
}

impl CampaignAudience {
    /// The figures and the sample.
    pub fn of(b: Breakdown, sample: Vec<(customer::Model, entity::ops::customers::Personal)>) -> Self {
        let n = |v: u64| v as i64;
        Self {
            audience: n(b.audience),
            recipients: n(b.recipients),
            no_email: n(b.no_email),
            no_consent: n(b.no_consent),
            blocked: n(b.blocked),
            capped: n(b.capped),
            sample: sample.into_iter().map(Into::into).collect(),
        }
    }
}

/// An email as one member would receive it.
#[derive(SimpleObject)]
pub struct EmailPreview {
    /// The subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// A variable campaign templates may use.
#[derive(SimpleObject)]
pub struct TemplateVariable {
    /// Its name in templates.
    pub name: String,
    /// What it holds.
    pub description: String,
}
