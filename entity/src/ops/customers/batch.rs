//! Batched reads for the API's DataLoaders: one query per relation for a whole page.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Projection;
use crate::entities::{customer, customer_label, favorite_item, special_occasion};
use crate::ops::Paged;
use crate::{DomainResult, Scope};

/// Customers by id with `read`'s columns (for a DataLoader); ids of other restaurants are
/// left out.
pub async fn by_ids(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64], read: &Projection) -> DomainResult<Vec<customer::Model>> {
    let select =
        super::projection::select().filter(customer::Column::RestaurantId.eq(&scope.restaurant_id)).filter(customer::Column::Id.is_in(ids.iter().copied()));
    read.read(db, select).await
}

/// Tags and segments of several customers, sorted by name.
pub async fn labels_for(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<HashMap<i64, Vec<customer_label::Model>>> {
    let rows = customer_label::Entity::find()
        .filter(customer_label::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer_label::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(customer_label::Column::Name)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.customer_id))
}

/// Favourite items of several customers, most ordered first.
pub async fn favorites_for(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<HashMap<i64, Vec<favorite_item::Model>>> {
    let rows = favorite_item::Entity::find()
        .filter(favorite_item::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(favorite_item::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_desc(favorite_item::Column::OrderCount)
        .order_by_asc(favorite_item::Column::ItemId)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.customer_id))
}

/// Most ordered first (a ranking: an item may move between pages as its count changes).
const BY_COUNT: crate::ops::Newest = crate::ops::Newest {
    order: "order_count DESC, item_id ASC",
    after: "(-order_count, item_id) > (SELECT -p.order_count, p.item_id FROM favorite_items p WHERE p.id = ?)",
    parent: "customer_id",
};

/// By date, then as added.
const BY_DATE: crate::ops::Newest = crate::ops::Newest {
    order: "date ASC, id ASC",
    after: "(date, id) > (SELECT p.date, p.id FROM special_occasions p WHERE p.id = ?)",
    parent: "customer_id",
};

/// A page of favourite items of each of several customers, most ordered first.
pub async fn favorite_pages(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    page: (Option<i64>, u64),
) -> DomainResult<HashMap<i64, Paged<favorite_item::Model>>> {
    Ok(crate::ops::newest_pages::<favorite_item::Entity>(db, scope, ids, (&BY_COUNT, &[]), page, |f| f.customer_id).await?)
}

/// A page of special occasions of each of several customers, by date.
pub async fn occasion_pages(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    page: (Option<i64>, u64),
) -> DomainResult<HashMap<i64, Paged<special_occasion::Model>>> {
    Ok(crate::ops::newest_pages::<special_occasion::Entity>(db, scope, ids, (&BY_DATE, &[]), page, |o| o.customer_id).await?)
}

/// Groups rows by a key, keeping their order.
pub fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut map: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// Oldest first, by whom they were referred.
const REFERRED: crate::ops::Newest = crate::ops::Newest { order: "id ASC", after: "id > ?", parent: "referred_by" };

/// A page of the customers each of several customers referred (for a DataLoader), oldest first.
pub async fn referral_pages(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    page: (Option<i64>, u64),
) -> DomainResult<HashMap<i64, Paged<customer::Model>>> {
    Ok(crate::ops::newest_pages::<customer::Entity>(db, scope, ids, (&REFERRED, &[]), page, |c| c.referred_by.unwrap_or_default()).await?)
}
