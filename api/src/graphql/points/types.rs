//! The object type of the points ledger.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::point_transaction;

use crate::graphql::types::LedgerKind;

/// One row of the points ledger.
#[derive(SimpleObject)]
pub struct PointTransaction {
    pub id: ID,
    pub kind: LedgerKind,
    /// Signed change of the balance.
    pub points: i64,
    pub balance_after: i64,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

impl From<point_transaction::Model> for PointTransaction {
    fn from(m: point_transaction::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
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
