//! The audit trail: entries are written in the same transaction as the change they describe.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::now;
use crate::entities::{AuditAction, audit_entry};
use crate::{DomainResult, Scope};

/// Records one entry.
pub async fn record(db: &impl ConnectionTrait, scope: &Scope, action: AuditAction, customer_id: Option<i64>, details: Value) -> DomainResult<()> {
    entry(scope, action, customer_id, details).insert(db).await?;
    Ok(())
}

/// One entry, not yet written (for a batch written together).
pub(crate) fn entry(scope: &Scope, action: AuditAction, customer_id: Option<i64>, details: Value) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        action: Set(action),
        customer_id: Set(customer_id),
        actor: Set(scope.actor.chars().take(140).collect()),
        request_id: Set(scope.request_id.chars().take(64).collect()),
        details: Set(details),
        created_at: Set(now()),
        ..Default::default()
    }
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub customer_id: Option<i64>,
    pub action: Option<AuditAction>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// One page of the scope's entries, newest first, after the entry `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &AuditFilter,
    after: Option<i64>,
    first: u64,
) -> DomainResult<super::Paged<audit_entry::Model>> {
    use audit_entry::Column as A;
    let mut q = audit_entry::Entity::find().filter(A::RestaurantId.eq(&scope.restaurant_id));
    if let Some(id) = filter.customer_id {
        q = q.filter(A::CustomerId.eq(id));
    }
    if let Some(action) = filter.action {
        q = q.filter(A::Action.eq(action));
    }
    if let Some(from) = filter.from {
        q = q.filter(A::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(A::CreatedAt.lt(to));
    }
    let super::Paged { items: mut rows, has_next } = super::newest_page(db, q, A::Id, after, first).await?;
    // Personal values in the details are sealed: opened together (one read of the key store).
    let mut all = Value::Array(rows.iter_mut().map(|r| std::mem::take(&mut r.details)).collect());
    super::customers::personal::open_in(scope, &mut all).await?;
    if let Value::Array(opened) = all {
        for (row, details) in rows.iter_mut().zip(opened) {
            row.details = details;
        }
    }
    Ok(super::Paged { items: rows, has_next })
}
