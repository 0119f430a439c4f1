//! Sync of the ledger and the orders in change order: a client pages through one restaurant's
//! ledger entries (by `created_at`) or orders (by `updated_at`: recorded, refunded, moved by a
//! merge) after an opaque `(time, id)` cursor, and never misses or repeats a row under
//! concurrent writes: a page stops at the settled instant ([`super::settled`]), before which
//! every write has committed, so no row lands behind a cursor already handed out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};

use crate::entities::{point_transaction, visit};
use crate::{DomainError, DomainResult, Scope};

/// Most rows a page holds.
pub const MAX_PAGE: u64 = 500;

/// The position after a row in change order; opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    at: DateTime<Utc>,
    id: i64,
}

impl Cursor {
    fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&self).unwrap_or_default())
    }

    fn decode(text: &str) -> DomainResult<Self> {
        let bad = || DomainError::validation("after", "is not a cursor this list handed out (pass a page's `pageInfo.endCursor`)");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }
}

/// Where a page starts: after a cursor, or from a time (the first page of a sync).
#[derive(Debug, Clone, Default)]
pub struct Start {
    pub after: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// One page of changes.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts: the last row's cursor, or the one given when the page is
    /// empty (poll again with it later).
    pub end_cursor: Option<String>,
    /// Whether settled rows follow this page now.
    pub has_next_page: bool,
    /// The instant the page stopped at: changes after it come in later pages.
    pub settled: DateTime<Utc>,
}

/// The scope's ledger entries in the order they were written.
pub async fn ledger(db: &impl ConnectionTrait, scope: &Scope, from: &Start, first: u64) -> DomainResult<Page<point_transaction::Model>> {
    use point_transaction::Column as L;
    let select = point_transaction::Entity::find().filter(L::RestaurantId.eq(&scope.restaurant_id));
    page(db, select, (L::CreatedAt, L::Id), from, first, |e| Cursor { at: e.created_at, id: e.id }).await
}

/// The scope's orders (visits with an order id) in the order they were last written.
pub async fn orders(db: &impl ConnectionTrait, scope: &Scope, from: &Start, first: u64) -> DomainResult<Page<visit::Model>> {
    use visit::Column as V;
    let select = visit::Entity::find().filter(V::RestaurantId.eq(&scope.restaurant_id)).filter(V::OrderId.is_not_null());
    page(db, select, (V::UpdatedAt, V::Id), from, first, |v| Cursor { at: v.updated_at, id: v.id }).await
}

/// A page of `select` in `(time, id)` order from `from`, up to the settled instant.
async fn page<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    (time, id): (E::Column, E::Column),
    from: &Start,
    first: u64,
    cursor_of: impl Fn(&E::Model) -> Cursor,
) -> DomainResult<Page<E::Model>> {
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(DomainError::validation("first", format!("must be 1 to {MAX_PAGE}")));
    }
    let after = from.after.as_deref().map(Cursor::decode).transpose()?;
    let settled = super::settled::instant(db).await?;
    let mut select = select.filter(time.lt(settled));
    if let Some(c) = after {
        select = select.filter(Condition::any().add(time.gt(c.at)).add(Condition::all().add(time.eq(c.at)).add(Expr::col(id).gt(c.id))));
    } else if let Some(since) = from.since {
        select = select.filter(time.gte(since));
    }
    let mut items = select.order_by_asc(time).order_by_asc(id).limit(first + 1).all(db).await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    let end_cursor = items.last().map(|row| cursor_of(row).encode()).or_else(|| after.map(Cursor::encode));
    Ok(Page { items, end_cursor, has_next_page, settled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_nonsense_is_refused() {
        let c = Cursor { at: DateTime::from_timestamp(1_700_000_000, 123_000).unwrap(), id: 42 };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "nonsense!", &URL_SAFE_NO_PAD.encode(b"{\"id\":1}")] {
            assert!(matches!(Cursor::decode(bad), Err(DomainError::Validation { .. })), "{bad}");
        }
    }
}
