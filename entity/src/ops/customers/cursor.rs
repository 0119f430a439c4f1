//! Keyset cursors of the customer list: a page ends with the sort key and id of its last row,
//! and the next page starts right after them with an indexed comparison instead of skipping
//! rows with `OFFSET` (whose cost grows with the page number).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, NullOrdering};
use sea_orm::{ColumnTrait, Order, QueryOrder, Select};
use serde::{Deserialize, Serialize};

use crate::entities::customer::{self, Column as C};
use crate::{DomainError, DomainResult};

/// Order of the customer list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CustomerSort {
    /// Newest members first.
    #[default]
    Newest,
    Name,
    LifetimePoints,
    LastVisit,
    TotalSpent,
    /// Least recently changed first: the order a sync client pages in ([`super::list`] holds
    /// back changes that may not have settled yet).
    Updated,
}

/// The position after a row in one sort order of the list; opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cursor {
    Newest { id: i64 },
    Name { name: String, id: i64 },
    LifetimePoints { points: i64, id: i64 },
    LastVisit { at: Option<DateTime<Utc>>, id: i64 },
    TotalSpent { cents: i64, id: i64 },
    Updated { at: DateTime<Utc>, id: i64 },
}

impl Cursor {
    /// The position right after `row` in the order `sort`.
    /// The columns [`Cursor::after`] reads of a row.
    pub fn columns(sort: CustomerSort) -> Vec<customer::Column> {
        use customer::Column as C;
        match sort {
            CustomerSort::Newest => vec![C::Id],
            CustomerSort::Name => vec![C::Name, C::Id],
            CustomerSort::LifetimePoints => vec![C::PointsLifetime, C::Id],
            CustomerSort::LastVisit => vec![C::LastVisitAt, C::Id],
            CustomerSort::TotalSpent => vec![C::TotalSpentCents, C::Id],
            CustomerSort::Updated => vec![C::UpdatedAt, C::Id],
        }
    }

    pub fn after(sort: CustomerSort, row: &customer::Model) -> Self {
        let id = row.id;
        match sort {
            CustomerSort::Newest => Self::Newest { id },
            CustomerSort::Name => Self::Name { name: row.name.clone(), id },
            CustomerSort::LifetimePoints => Self::LifetimePoints { points: row.points_lifetime, id },
            CustomerSort::LastVisit => Self::LastVisit { at: row.last_visit_at, id },
            CustomerSort::TotalSpent => Self::TotalSpent { cents: row.total_spent_cents, id },
            CustomerSort::Updated => Self::Updated { at: row.updated_at, id },
        }
    }

    /// The order this cursor belongs to.
    pub fn sort(&self) -> CustomerSort {
        match self {
            Self::Newest { .. } => CustomerSort::Newest,
            Self::Name { .. } => CustomerSort::Name,
            Self::LifetimePoints { .. } => CustomerSort::LifetimePoints,
            Self::LastVisit { .. } => CustomerSort::LastVisit,
            Self::TotalSpent { .. } => CustomerSort::TotalSpent,
            Self::Updated { .. } => CustomerSort::Updated,
        }
    }

    /// The opaque text form handed to clients (URL-safe base64 of JSON).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serializes"))
    }

    /// Reads a cursor a client sent back; it must belong to the order `sort`.
    pub fn decode(text: &str, sort: CustomerSort) -> DomainResult<Self> {
        let cursor: Self = URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| DomainError::validation("after", "is not a cursor of the customer list (use a page's endCursor)"))?;
        if cursor.sort() != sort {
            return Err(DomainError::validation("after", "belongs to another sort order; use the same sort as the page it came from"));
        }
        Ok(cursor)
    }

    /// Rows that come after this position in its order (see [`order`]).
    pub fn condition(&self) -> Condition {
        fn desc<V: Into<sea_orm::Value> + Clone>(col: C, v: V, id: i64) -> Condition {
            Condition::any().add(col.lt(v.clone())).add(Condition::all().add(col.eq(v)).add(C::Id.lt(id)))
        }
        match self.clone() {
            Self::Newest { id } => Condition::all().add(C::Id.lt(id)),
            Self::Name { name, id } => Condition::any().add(C::Name.gt(name.clone())).add(Condition::all().add(C::Name.eq(name)).add(C::Id.gt(id))),
            Self::LifetimePoints { points, id } => desc(C::PointsLifetime, points, id),
            Self::TotalSpent { cents, id } => desc(C::TotalSpentCents, cents, id),
            Self::LastVisit { at: Some(at), id } => desc(C::LastVisitAt, at, id).add(Expr::col(C::LastVisitAt).is_null()),
            Self::LastVisit { at: None, id } => Condition::all().add(C::LastVisitAt.is_null()).add(C::Id.lt(id)),
            Self::Updated { at, id } => Condition::any().add(C::UpdatedAt.gt(at)).add(Condition::all().add(C::UpdatedAt.eq(at)).add(C::Id.gt(id))),
        }
    }
}

/// Orders `select` by `sort`, ties broken by id, so every row has one position; customers
/// who never visited come last when sorting by last visit (on every database).
pub fn order(select: Select<customer::Entity>, sort: CustomerSort) -> Select<customer::Entity> {
    match sort {
        CustomerSort::Newest => select.order_by_desc(C::Id),
        CustomerSort::Name => select.order_by_asc(C::Name).order_by_asc(C::Id),
        CustomerSort::LifetimePoints => select.order_by_desc(C::PointsLifetime).order_by_desc(C::Id),
        CustomerSort::LastVisit => select.order_by_with_nulls(C::LastVisitAt, Order::Desc, NullOrdering::Last).order_by_desc(C::Id),
        CustomerSort::TotalSpent => select.order_by_desc(C::TotalSpentCents).order_by_desc(C::Id),
        CustomerSort::Updated => select.order_by_asc(C::UpdatedAt).order_by_asc(C::Id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_order() {
        let at = DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap().with_timezone(&Utc);
        for cursor in [
            Cursor::Newest { id: 7 },
            Cursor::Name { name: "Zoë O'Brien".into(), id: 3 },
            Cursor::LifetimePoints { points: 1200, id: 9 },
            Cursor::LastVisit { at: Some(at), id: 2 },
            Cursor::LastVisit { at: None, id: 2 },
            Cursor::TotalSpent { cents: 12_345, id: 1 },
            Cursor::Updated { at, id: 4 },
        ] {
            let text = cursor.encode();
            assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{text}");
            assert_eq!(Cursor::decode(&text, cursor.sort()).unwrap(), cursor);
        }
    }

    #[test]
    fn rejects_garbage_and_other_orders() {
        for text in ["", "not a cursor", "eyJ4Ijo1fQ", "!!!"] {
            assert!(matches!(Cursor::decode(text, CustomerSort::Newest), Err(DomainError::Validation { .. })), "{text}");
        }
        let name = Cursor::Name { name: "Ann".into(), id: 1 }.encode();
        let err = Cursor::decode(&name, CustomerSort::Newest).unwrap_err();
        assert!(err.to_string().contains("another sort order"), "{err}");
    }
}
