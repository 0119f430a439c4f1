//! The object type of the points ledger.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::point_transaction;

use crate::graphql::types::LedgerKind;

/// One row of the points ledger.
#[derive(SimpleObject)]
pub struct PointTransaction {
    /// The entry's id.
    pub id: ID,
    /// The member whose balance it changed.
    pub customer_id: ID,
    /// Why points changed.
    pub kind: LedgerKind,
    /// Signed change of the balance.
    pub points: i64,
    /// The balance right after this entry.
    pub balance_after: i64,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// The key the change was made with, if any.
    pub idempotency_key: Option<String>,
    /// Who made it: the API key, member token or job that acted.
    pub actor: String,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

impl From<point_transaction::Model> for PointTransaction {
    fn from(m: point_transaction::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            customer_id: ID(m.customer_id.to_string()),
            kind: m.kind.into(),
            points: m.delta,
            balance_after: m.balance_after,
            reason: m.reason,
            idempotency_key: m.idempotency_key,
            actor: m.actor,
            created_at: m.created_at,
        }
    }
}

/// One page of a member's points ledger.
#[derive(SimpleObject)]
pub struct PointTransactionPage {
    /// The items, newest first.
    pub items: Vec<PointTransaction>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}
