//! Sync of the ledger and the orders in change order (`entity::ops::changes`): a client pages
//! on with `pageInfo.endCursor` and never misses or repeats a row under concurrent writes.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::ops::changes::{self, Start};

use super::context::{app, scope};
use super::paging::PageInfo;
use super::points::types::PointTransaction;
use super::visits::types::Visit;
use crate::auth::VIEWER;
use crate::error::IntoGql;

/// One page of the ledger in the order it was written.
#[derive(SimpleObject)]
pub struct LedgerChanges {
    /// The entries, oldest first.
    pub items: Vec<PointTransaction>,
    /// Where the page ends: pass `endCursor` as `after` (also when the page is empty, later).
    pub page_info: PageInfo,
    /// The page stops here: entries written after it come in later pages.
    pub settled_at: DateTime<Utc>,
}

/// One page of orders in the order they were last written.
#[derive(SimpleObject)]
pub struct OrderChanges {
    /// The orders, least recently written first.
    pub items: Vec<Visit>,
    /// Where the page ends: pass `endCursor` as `after` (also when the page is empty, later).
    pub page_info: PageInfo,
    /// The page stops here: orders written after it come in later pages.
    pub settled_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct SyncQuery;

#[Object]
impl SyncQuery {
    /// Your restaurant's points ledger in the order it was written, for another system to keep
    /// a copy: start with `since` (or from the beginning), then page on with `after`.
    #[graphql(guard = "VIEWER")]
    async fn ledger_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Without `after`: entries written at or after this time.")] since: Option<DateTime<Utc>>,
        #[graphql(default = 100, desc = "How many to return (1 to 500).")] first: i64,
    ) -> async_graphql::Result<LedgerChanges> {
        let page = changes::ledger(&app(ctx).db, scope(ctx), &Start { after, since }, first.clamp(0, 10_000) as u64).await.gql()?;
        Ok(LedgerChanges {
            page_info: PageInfo { has_next_page: page.has_next_page, end_cursor: page.end_cursor },
            settled_at: page.settled,
            items: page.items.into_iter().map(Into::into).collect(),
        })
    }

    /// Your restaurant's orders in the order they were last written (recorded, refunded, moved
    /// by a merge of members), for another system to keep a copy: start with `since` (or from
    /// the beginning), then page on with `after`.
    #[graphql(guard = "VIEWER")]
    async fn order_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Without `after`: orders written at or after this time.")] since: Option<DateTime<Utc>>,
        #[graphql(default = 100, desc = "How many to return (1 to 500).")] first: i64,
    ) -> async_graphql::Result<OrderChanges> {
        let page = changes::orders(&app(ctx).db, scope(ctx), &Start { after, since }, first.clamp(0, 10_000) as u64).await.gql()?;
        Ok(OrderChanges {
            page_info: PageInfo { has_next_page: page.has_next_page, end_cursor: page.end_cursor },
            settled_at: page.settled,
            items: page.items.into_iter().map(Into::into).collect(),
        })
    }
}
