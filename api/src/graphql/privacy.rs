//! Privacy and data quality for admins: export, erasure, duplicate merge, and the audit trail.

use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::audit_entry;
use entity::ops::{audit, privacy};

use super::context::{app, scope};
use super::customers::types::Customer;
use super::paging::{self, PageInfo};
use super::scalars::Date;
use super::types::customer_id;
use crate::auth::ADMIN;
use crate::error::IntoGql;

/// One page of the audit trail.
#[derive(SimpleObject)]
pub struct AuditEntryPage {
    /// The entries, newest first.
    pub items: Vec<AuditEntry>,
    /// Where the page ends.
    pub page_info: PageInfo,
}

/// What an audit entry records.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::AuditAction")]
pub enum AuditAction {
    /// A member was created (`upsertCustomer`): `details.changes` holds the profile.
    CustomerCreated,
    /// A profile changed (`upsertCustomer`, `setCustomerDates`): each field with `from` and `to`.
    CustomerUpdated,
    /// A member moved to a new phone number (`changePhone`).
    CustomerPhoneChanged,
    /// A member's personal data was erased (`eraseCustomer` or the retention policy).
    CustomerErased,
    /// Another member was merged into this one (`mergeCustomers`; `details.sourceId`).
    CustomerMerged,
    /// A consent flag changed: `flag`, `from`, `to` and its `source` (api, member app, unsubscribe link).
    ConsentChanged,
    /// Staff added a note (`addNote`).
    NoteAdded,
    /// A review was recorded (`recordFeedback`).
    FeedbackRecorded,
    /// An order was refunded in part or in full (`refundOrder`).
    OrderRefunded,
    /// An order was voided (`refundOrder` with `void`).
    OrderVoided,
    /// An API key was created.
    KeyCreated,
    /// An API key was revoked.
    KeyRevoked,
    /// The restaurant's settings changed (`updateRestaurant`): each field with `from` and `to`.
    RestaurantUpdated,
    /// A campaign was created.
    CampaignCreated,
    /// A campaign was edited (`details.fields`).
    CampaignUpdated,
    /// A campaign was scheduled (`details.nextRunAt`).
    CampaignScheduled,
    /// A campaign was paused (also a built-in one switched off).
    CampaignPaused,
    /// A campaign was resumed (also a built-in one switched on).
    CampaignResumed,
    /// A campaign was cancelled.
    CampaignCancelled,
}

/// One entry of the audit trail.
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// The entry's id.
    pub id: ID,
    /// What happened.
    pub action: AuditAction,
    /// The member it is about, if any.
    pub customer_id: Option<ID>,
    /// The acting key (`key:ID:NAME`), `cli`, or `customer` (unsubscribe link).
    pub actor: String,
    /// The request that made it (as in the logs).
    pub request_id: String,
    /// What changed: fields with `from` and `to`, a consent flag with its `source`, …
    pub details: Json<serde_json::Value>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

impl From<audit_entry::Model> for AuditEntry {
    fn from(m: audit_entry::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            action: m.action.into(),
            customer_id: m.customer_id.map(|c| ID(c.to_string())),
            actor: m.actor,
            request_id: m.request_id,
            details: Json(m.details),
            at: m.created_at,
        }
    }
}

/// Privacy queries.
#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Everything held about one customer, as one JSON document (data subject access).
    #[graphql(guard = "ADMIN")]
    async fn export_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member whose data to export.")] id: ID,
    ) -> async_graphql::Result<Json<serde_json::Value>> {
        let id = customer_id(&id).gql()?;
        Ok(Json(privacy::export(&app(ctx).db, scope(ctx), id).await.gql()?))
    }

    /// The audit trail of your restaurant, newest first; `from`/`to` are UTC days (inclusive).
    #[graphql(guard = "ADMIN")]
    #[allow(clippy::too_many_arguments)] // one per GraphQL argument
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entries about this member.")] customer_id: Option<ID>,
        #[graphql(desc = "Only entries of this action.")] action: Option<AuditAction>,
        #[graphql(desc = "Only entries at or after this time.")] from: Option<Date>,
        #[graphql(desc = "Only entries before this time.")] to: Option<Date>,
        #[graphql(default = 50, desc = "How many to return (1 to the list's maximum, 200 by default).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<AuditEntryPage> {
        let (after, first) = paging::args("auditLog", first, after.as_deref(), app(ctx).policy.max_page_size).gql()?;
        let filter = audit::AuditFilter {
            customer_id: customer_id.as_ref().map(super::types::customer_id).transpose().gql()?,
            action: action.map(Into::into),
            from: from.map(|d| d.0.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()),
            to: to.map(|d| (d.0 + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()),
        };
        let page = audit::list(&app(ctx).db, scope(ctx), &filter, after, first).await.gql()?;
        let page_info = paging::info("auditLog", &page, |e| e.id);
        Ok(AuditEntryPage { items: page.items.into_iter().map(Into::into).collect(), page_info })
    }
}

/// Privacy mutations.
#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Erases a customer's personal data (name, phone, email, dates, preferences, notes,
    /// occasions, consent); points, visits and spend stay for the figures.
    #[graphql(guard = "ADMIN")]
    async fn erase_customer(&self, ctx: &Context<'_>, #[graphql(desc = "The member to erase, irreversibly.")] id: ID) -> async_graphql::Result<Customer> {
        let id = customer_id(&id).gql()?;
        Ok(Customer::from(privacy::erase(&app(ctx).db, scope(ctx), id).await.gql()?))
    }

    /// Merges a duplicate profile (`sourceId`) into `targetId`: history, statistics, segments
    /// and referrals move over, balances are re-derived from the ledger, the source is deleted.
    #[graphql(guard = "ADMIN")]
    async fn merge_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The duplicate member, deleted after the merge.")] source_id: ID,
        #[graphql(desc = "The member that stays and receives everything.")] target_id: ID,
    ) -> async_graphql::Result<Customer> {
        let source = customer_id(&source_id).gql()?;
        let target = customer_id(&target_id).gql()?;
        Ok(Customer::from(privacy::merge(&app(ctx).db, scope(ctx), source, target).await.gql()?))
    }
}
