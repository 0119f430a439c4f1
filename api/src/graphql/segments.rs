//! Segments ("Customer Segmentation"): the automatic ones and a restaurant's custom ones.
//! Customers are filtered by segment with `customers(filter: { segment: … })`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::ops::{restaurants, segments};

use super::context::{app, scope};
use super::marketing::audience::AudienceRule;
use super::types::customer_id;
use crate::auth::{SEGMENTS, VIEWER};
use crate::error::{ApiError, ErrorCode, IntoGql};

/// A segment and how many customers are in it.
#[derive(SimpleObject)]
pub struct Segment {
    /// Its name.
    pub name: String,
    /// Kept by the rules (see `description`); cannot be changed by hand.
    pub automatic: bool,
    /// What it is for.
    pub description: Option<String>,
    /// Members now (a rule segment's is counted live).
    pub customer_count: i64,
    /// A rule segment's rule; list and automatic segments have none.
    pub rule: Option<AudienceRule>,
}

impl From<segments::SegmentInfo> for Segment {
    fn from(s: segments::SegmentInfo) -> Self {
        Self { name: s.name, automatic: s.automatic, description: s.description, customer_count: s.customer_count, rule: s.rule.map(Into::into) }
    }
}

/// The ids of `list` that are well-formed, and the others as failed items.
fn ids(list: &[ID]) -> (Vec<i64>, Vec<BatchItemError>) {
    let mut failed = Vec::new();
    let ids = list
        .iter()
        .filter_map(|id| match customer_id(id) {
            Ok(n) => Some(n),
            Err(_) => {
                failed.push(BatchItemError { id: id.clone(), code: ErrorCode::NotFound, message: format!("customer {} not found", id.as_str()) });
                None
            }
        })
        .collect();
    (ids, failed)
}

/// Applies `change` to the well-formed ids of `list` (nothing to do when there are none).
async fn change_members<F>(ctx: &Context<'_>, segment: &str, list: &[ID], change: F) -> async_graphql::Result<SegmentMembersPayload>
where
    F: AsyncFnOnce(&[i64]) -> Result<segments::MembersChanged, entity::DomainError>,
{
    if list.len() > segments::MAX_BATCH {
        return Err(ApiError::validation("customerIds", format!("give 1 to {} customers", segments::MAX_BATCH))).gql();
    }
    let (ids, malformed) = ids(list);
    let out = if ids.is_empty() && !malformed.is_empty() { segments::MembersChanged { changed: 0, unknown: Vec::new() } } else { change(&ids).await.gql()? };
    let mut payload = members_payload(ctx, segment, out).await?;
    payload.failed.extend(malformed);
    Ok(payload)
}

/// One page of segments.
#[derive(SimpleObject)]
pub struct SegmentPage {
    /// The segments: automatic ones first, then custom ones by name.
    pub items: Vec<Segment>,
    /// Where the page ends.
    pub page_info: super::paging::PageInfo,
}

/// A custom segment to create.
#[derive(InputObject)]
pub struct SegmentInput {
    /// Its name, unique in the restaurant: letters, digits, `-`, `_` (stored lower-case).
    pub name: String,
    /// What the segment is for (optional).
    pub description: Option<String>,
    /// Who belongs: a rule over tier, visits, points, tags and consent; without it members are
    /// added by hand.
    pub rule: Option<AudienceRule>,
}

/// One item of a batch that was left out, and why.
#[derive(SimpleObject)]
pub struct BatchItemError {
    /// The item's id as given.
    pub id: ID,
    /// Why, as a code (the codes of `extensions.code`).
    pub code: ErrorCode,
    /// Why, in words.
    pub message: String,
}

/// What adding or removing members did.
#[derive(SimpleObject)]
pub struct SegmentMembersPayload {
    /// The segment as it is now.
    pub segment: Segment,
    /// Memberships that changed: customers added who were not in it, or removed who were.
    pub changed: u64,
    /// Ids left out because they are no customers of your restaurant; the rest were applied.
    pub failed: Vec<BatchItemError>,
}

/// A deleted segment.
#[derive(SimpleObject)]
pub struct DeleteSegmentPayload {
    /// The name it had.
    pub name: String,
}

async fn members_payload(ctx: &Context<'_>, segment: &str, out: segments::MembersChanged) -> async_graphql::Result<SegmentMembersPayload> {
    let (db, scope) = (&app(ctx).db, scope(ctx));
    let p = restaurants::programme(db, scope).await.gql()?;
    let segment = segments::one(db, scope, &p, segment).await.gql()?.into();
    let failed = out
        .unknown
        .into_iter()
        .map(|id| BatchItemError { id: ID(id.to_string()), code: ErrorCode::NotFound, message: format!("customer {id} not found") })
        .collect();
    Ok(SegmentMembersPayload { segment, changed: out.changed, failed })
}

/// Segment queries.
#[derive(Default)]
pub struct SegmentQuery;

#[Object]
impl SegmentQuery {
    /// Your segments, one page at a time: automatic ones first, then custom ones by name, each
    /// with its size now (a rule segment's counted live).
    #[graphql(guard = "VIEWER")]
    async fn segments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<SegmentPage> {
        let (after, first) = super::paging::args("segments", first, after.as_deref(), 100).gql()?;
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let p = restaurants::programme(db, scope).await.gql()?;
        let page = segments::page(db, scope, &p, after, first).await.gql()?;
        let page_info = super::paging::info("segments", &page, |(id, _)| *id);
        Ok(SegmentPage { items: page.items.into_iter().map(|(_, s)| s.into()).collect(), page_info })
    }
}

/// Segment mutations.
#[derive(Default)]
pub struct SegmentMutation;

#[Object]
impl SegmentMutation {
    /// Creates a custom segment (name: letters, digits, `-`, `_`; stored lower-case): a list
    /// (members added by hand), or with `rule` a rule segment whose members are whoever matches.
    #[graphql(guard = "SEGMENTS")]
    async fn create_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment: its name, what it is for, and a rule or none.")] input: SegmentInput,
    ) -> async_graphql::Result<Segment> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let p = restaurants::programme(db, scope).await.gql()?;
        Ok(segments::create(db, scope, &p, &input.name, input.description.as_deref(), input.rule.map(Into::into)).await.gql()?.into())
    }

    /// Replaces a rule segment's rule.
    #[graphql(guard = "SEGMENTS")]
    async fn update_segment_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's name.")] name: String,
        #[graphql(desc = "The new rule (replaces the old one).")] rule: AudienceRule,
    ) -> async_graphql::Result<Segment> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let p = restaurants::programme(db, scope).await.gql()?;
        Ok(segments::set_rule(db, scope, &p, &name, rule.into()).await.gql()?.into())
    }

    /// Renames a custom segment; its members and the campaigns that target it follow.
    #[graphql(guard = "SEGMENTS")]
    async fn rename_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's current name.")] name: String,
        #[graphql(desc = "Its new name (letters, digits, `-`, `_`; stored lower-case).")] new_name: String,
    ) -> async_graphql::Result<Segment> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        segments::rename(db, scope, &name, &new_name).await.gql()?;
        let p = restaurants::programme(db, scope).await.gql()?;
        Ok(segments::one(db, scope, &p, &new_name).await.gql()?.into())
    }

    /// Deletes a custom segment (its customers stay, without it); `INVALID_STATE` while an
    /// unsent campaign targets it.
    #[graphql(guard = "SEGMENTS")]
    async fn delete_segment(&self, ctx: &Context<'_>, #[graphql(desc = "The segment's name.")] name: String) -> async_graphql::Result<DeleteSegmentPayload> {
        segments::delete(&app(ctx).db, scope(ctx), &name).await.gql()?;
        Ok(DeleteSegmentPayload { name: name.trim().to_lowercase() })
    }

    /// Adds customers (1 to 1,000) to a custom list segment. Ids that are no customers of your
    /// restaurant are listed in `failed`; the others are added.
    #[graphql(guard = "SEGMENTS")]
    async fn add_customers_to_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's name.")] segment: String,
        #[graphql(desc = "The members to add (1 to 1,000).")] customer_ids: Vec<ID>,
    ) -> async_graphql::Result<SegmentMembersPayload> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        change_members(ctx, &segment, &customer_ids, async |ids: &[i64]| segments::add_members(db, scope, &segment, ids).await).await
    }

    /// Removes customers (1 to 1,000) from a custom segment. Ids that are no customers of your
    /// restaurant are listed in `failed`; the others are removed.
    #[graphql(guard = "SEGMENTS")]
    async fn remove_customers_from_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's name.")] segment: String,
        #[graphql(desc = "The members to remove (1 to 1,000).")] customer_ids: Vec<ID>,
    ) -> async_graphql::Result<SegmentMembersPayload> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        change_members(ctx, &segment, &customer_ids, async |ids: &[i64]| segments::remove_members(db, scope, &segment, ids).await).await
    }
}
