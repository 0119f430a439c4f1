//! Segments ("Customer Segmentation"): the automatic ones and a restaurant's custom ones.
//! Customers are filtered by segment with `customers(filter: { segment: … })`.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::ops::{restaurants, segments};

use super::context::{app, scope};
use super::marketing::audience::AudienceRule;
use super::types::customer_id;
use crate::auth::{SEGMENTS, VIEWER};
use crate::error::{ApiError, IntoGql};

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

fn ids(list: &[ID]) -> Result<Vec<i64>, ApiError> {
    list.iter().map(customer_id).collect()
}

/// Segment queries.
#[derive(Default)]
pub struct SegmentQuery;

#[Object]
impl SegmentQuery {
    /// Every segment: automatic ones first, then custom ones by name.
    #[graphql(guard = "VIEWER")]
    async fn segments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Segment>> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let p = restaurants::programme(db, scope).await.gql()?;
        Ok(segments::list(db, scope, &p).await.gql()?.into_iter().map(Into::into).collect())
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
        #[graphql(desc = "The segment's name, unique in the restaurant.")] name: String,
        #[graphql(desc = "What the segment is for (optional).")] description: Option<String>,
        #[graphql(desc = "Who belongs: a rule over tier, visits, points, tags and consent; without it members are added by hand.")] rule: Option<AudienceRule>,
    ) -> async_graphql::Result<Segment> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let p = restaurants::programme(db, scope).await.gql()?;
        Ok(segments::create(db, scope, &p, &name, description.as_deref(), rule.map(Into::into)).await.gql()?.into())
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

    /// Renames a custom segment; its members follow.
    #[graphql(guard = "SEGMENTS")]
    async fn rename_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's current name.")] name: String,
        #[graphql(desc = "Its new name.")] new_name: String,
    ) -> async_graphql::Result<bool> {
        segments::rename(&app(ctx).db, scope(ctx), &name, &new_name).await.gql()?;
        Ok(true)
    }

    /// Deletes a custom segment (its customers stay, without it).
    #[graphql(guard = "SEGMENTS")]
    async fn delete_segment(&self, ctx: &Context<'_>, #[graphql(desc = "The segment's name.")] name: String) -> async_graphql::Result<bool> {
        segments::delete(&app(ctx).db, scope(ctx), &name).await.gql()?;
        Ok(true)
    }

    /// Adds customers (1 to 1,000) to a custom segment; returns how many were new to it.
    #[graphql(guard = "SEGMENTS")]
    async fn add_customers_to_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's name.")] segment: String,
        #[graphql(desc = "The members to add.")] customer_ids: Vec<ID>,
    ) -> async_graphql::Result<u64> {
        let ids = ids(&customer_ids).gql()?;
        segments::add_members(&app(ctx).db, scope(ctx), &segment, &ids).await.gql()
    }

    /// Removes customers from a custom segment; returns how many were in it.
    #[graphql(guard = "SEGMENTS")]
    async fn remove_customers_from_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's name.")] segment: String,
        #[graphql(desc = "The members to remove.")] customer_ids: Vec<ID>,
    ) -> async_graphql::Result<u64> {
        let ids = ids(&customer_ids).gql()?;
        segments::remove_members(&app(ctx).db, scope(ctx), &segment, &ids).await.gql()
    }
}
