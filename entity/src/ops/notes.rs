//! Staff notes (spec endpoint 9).

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{customers, now};
use crate::entities::note;
use crate::{DomainError, DomainResult, Scope};

/// Longest note accepted.
pub const MAX_NOTE_LEN: usize = 2_000;

/// Adds a note to a customer, signed by the scope's actor.
pub async fn add_note(db: &impl ConnectionTrait, scope: &Scope, customer_id: i64, text: &str) -> DomainResult<note::Model> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::validation("note", "must not be empty"));
    }
    if text.chars().count() > MAX_NOTE_LEN {
        return Err(DomainError::validation("note", format!("must be at most {MAX_NOTE_LEN} characters")));
    }
    let c = customers::find_by_id(db, scope, customer_id).await?;
    let sealed = customers::personal::seal_for(scope, &c, customers::personal::NOTE, text).await?;
    let mut row = note::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        customer_id: Set(customer_id),
        note: Set(sealed),
        added_by: Set(scope.actor.clone()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    super::audit::record(db, scope, crate::entities::AuditAction::NoteAdded, Some(customer_id), serde_json::json!({ "noteId": row.id })).await?;
    row.note = text.to_string();
    Ok(row)
}

/// A page of notes of each of several customers (for a DataLoader), newest first, opened.
pub async fn pages_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    page: (Option<i64>, u64),
) -> DomainResult<HashMap<i64, super::Paged<note::Model>>> {
    let mut pages = super::newest_pages::<note::Entity>(db, scope, ids, (&super::BY_ID, &[]), page, |n| n.customer_id).await?;
    customers::personal::open_texts(scope, customers::personal::NOTE, pages.values_mut().flat_map(|p| p.items.iter_mut()).map(|n| &mut n.note)).await?;
    Ok(pages)
}

/// Notes of several customers at once, newest first, opened.
pub async fn for_customers(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<Vec<note::Model>> {
    let mut rows = note::Entity::find()
        .filter(note::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(note::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_desc(note::Column::CreatedAt)
        .order_by_desc(note::Column::Id)
        .all(db)
        .await?;
    customers::personal::open_texts(scope, customers::personal::NOTE, rows.iter_mut().map(|n| &mut n.note)).await?;
    Ok(rows)
}
