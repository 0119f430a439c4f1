//! One DataLoader per request, batching nested reads of a page of customers into one query
//! per relation. Keys are newtypes so one loader serves every relation.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::entities::{
    LabelKind, customer, customer_personal, favorite_item, feedback as review, note, point_transaction, reward, special_occasion, visit, voucher,
};
use entity::ops::{Paged, customers, feedback, ledger, notes, predict, rewards, visits};
use entity::rules::predict::value::Prediction;
use entity::vault::CustomerKey;
use entity::{DomainError, Scope};
use sea_orm::DatabaseConnection;

/// Loads for one request's scope.
pub struct DbLoader {
    db: DatabaseConnection,
    scope: Scope,
    /// Discounts predicted values (`Policy::value_discount_rate`).
    discount_rate: f64,
}

impl DbLoader {
    /// A loader reading `scope`'s restaurant only.
    pub fn new(db: DatabaseConnection, scope: Scope, discount_rate: f64) -> Self {
        Self { db, scope, discount_rate }
    }
}

/// A customer by id, read with the columns of a projection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerById(pub i64, pub customers::Projection);
/// A customer's sealed personal values (its `customer_personal` row), by customer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonalOf(pub i64);
/// A customer's key in the key store, by its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerKeyOf(pub String);
/// A customer's tags or segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LabelsOf(pub i64, pub LabelKind);
/// A page of a customer's notes: `(customer, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotesOf(pub i64, pub Option<i64>, pub u64);
/// A page of a customer's reviews: `(customer, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReviewsOf(pub i64, pub Option<i64>, pub u64);
/// A page of a customer's favourite items: `(customer, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FavoritesOf(pub i64, pub Option<i64>, pub u64);
/// A page of a customer's special occasions: `(customer, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OccasionsOf(pub i64, pub Option<i64>, pub u64);

/// A page of a customer's points ledger: `(customer, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryOf(pub i64, pub Option<i64>, pub u64);
/// A page of a customer's visits: `(customer, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VisitsOf(pub i64, pub Option<i64>, pub u64);
/// A page of a customer's vouchers: `(customer, usable only, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VouchersOf(pub i64, pub bool, pub Option<i64>, pub u64);
/// What the restaurant's latest model fit predicts for a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PredictionOf(pub i64);
/// The restaurant's rewards catalogue (without archived rewards), read once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Catalogue;
/// A page of the customers a customer referred: `(customer, after, first)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReferralsOf(pub i64, pub Option<i64>, pub u64);

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<DomainError>>;

/// Keys' customer ids, without repeats.
fn ids<K>(keys: &[K], id: impl Fn(&K) -> i64) -> Vec<i64> {
    let mut ids: Vec<i64> = keys.iter().map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Keys grouped by the projection they ask for (one query per distinct projection: as many
/// as the document has places that show customers, whatever the page size).
fn by_projection<K: Clone>(keys: &[K], read: impl Fn(&K) -> &customers::Projection) -> Vec<(&customers::Projection, Vec<K>)> {
    let mut groups: Vec<(&customers::Projection, Vec<K>)> = Vec::new();
    for key in keys {
        let r = read(key);
        match groups.iter_mut().find(|(p, _)| *p == r) {
            Some((_, group)) => group.push(key.clone()),
            None => groups.push((r, vec![key.clone()])),
        }
    }
    groups
}

impl Loader<CustomerById> for DbLoader {
    type Value = customer::Model;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[CustomerById]) -> LoadResult<CustomerById, customer::Model> {
        let mut found = HashMap::new();
        for (read, keys) in by_projection(keys, |k| &k.1) {
            let rows = customers::by_ids(&self.db, &self.scope, &ids(&keys, |k| k.0), read).await?;
            found.extend(rows.into_iter().map(|c| (CustomerById(c.id, read.clone()), c)));
        }
        Ok(found)
    }
}

impl Loader<PersonalOf> for DbLoader {
    type Value = customer_personal::Model;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[PersonalOf]) -> LoadResult<PersonalOf, customer_personal::Model> {
        let rows = customers::personal::rows(&self.db, &self.scope, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|(id, p)| (PersonalOf(id), p)).collect())
    }
}

impl Loader<LabelsOf> for DbLoader {
    type Value = Vec<String>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[LabelsOf]) -> LoadResult<LabelsOf, Vec<String>> {
        let labels = customers::labels_for(&self.db, &self.scope, &ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|key| {
                let names = labels.get(&key.0).into_iter().flatten().filter(|l| l.kind == key.1).map(|l| l.name.clone()).collect();
                (*key, names)
            })
            .collect())
    }
}

impl Loader<ReviewsOf> for DbLoader {
    type Value = Paged<review::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[ReviewsOf]) -> LoadResult<ReviewsOf, Paged<review::Model>> {
        let mut out = HashMap::new();
        for (page, ids) in cursor_pages(keys, |k| (k.0, k.1, k.2)) {
            let found = feedback::pages_for(&self.db, &self.scope, &ids, page).await?;
            out.extend(found.into_iter().map(|(id, p)| (ReviewsOf(id, page.0, page.1), p)));
        }
        Ok(out)
    }
}

impl Loader<NotesOf> for DbLoader {
    type Value = Paged<note::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[NotesOf]) -> LoadResult<NotesOf, Paged<note::Model>> {
        let mut out = HashMap::new();
        for (page, ids) in cursor_pages(keys, |k| (k.0, k.1, k.2)) {
            let found = notes::pages_for(&self.db, &self.scope, &ids, page).await?;
            out.extend(found.into_iter().map(|(id, p)| (NotesOf(id, page.0, page.1), p)));
        }
        Ok(out)
    }
}

impl Loader<FavoritesOf> for DbLoader {
    type Value = Paged<favorite_item::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[FavoritesOf]) -> LoadResult<FavoritesOf, Paged<favorite_item::Model>> {
        let mut out = HashMap::new();
        for (page, ids) in cursor_pages(keys, |k| (k.0, k.1, k.2)) {
            let found = customers::favorite_pages(&self.db, &self.scope, &ids, page).await?;
            out.extend(found.into_iter().map(|(id, p)| (FavoritesOf(id, page.0, page.1), p)));
        }
        Ok(out)
    }
}

impl Loader<OccasionsOf> for DbLoader {
    type Value = Paged<special_occasion::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[OccasionsOf]) -> LoadResult<OccasionsOf, Paged<special_occasion::Model>> {
        let mut out = HashMap::new();
        for (page, ids) in cursor_pages(keys, |k| (k.0, k.1, k.2)) {
            let found = customers::occasion_pages(&self.db, &self.scope, &ids, page).await?;
            out.extend(found.into_iter().map(|(id, p)| (OccasionsOf(id, page.0, page.1), p)));
        }
        Ok(out)
    }
}

/// Keys' customer ids grouped by the page they ask for, `(after, first)`.
fn cursor_pages<K>(keys: &[K], page: impl Fn(&K) -> (i64, Option<i64>, u64)) -> HashMap<(Option<i64>, u64), Vec<i64>> {
    let mut groups: HashMap<(Option<i64>, u64), Vec<i64>> = HashMap::new();
    for key in keys {
        let (id, after, first) = page(key);
        groups.entry((after, first)).or_default().push(id);
    }
    groups
}

impl Loader<HistoryOf> for DbLoader {
    type Value = Paged<point_transaction::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[HistoryOf]) -> LoadResult<HistoryOf, Paged<point_transaction::Model>> {
        let mut out = HashMap::new();
        for (page, ids) in cursor_pages(keys, |k| (k.0, k.1, k.2)) {
            let found = ledger::history_for(&self.db, &self.scope, &ids, page).await?;
            out.extend(found.into_iter().map(|(id, p)| (HistoryOf(id, page.0, page.1), p)));
        }
        Ok(out)
    }
}

impl Loader<VisitsOf> for DbLoader {
    type Value = Paged<visit::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[VisitsOf]) -> LoadResult<VisitsOf, Paged<visit::Model>> {
        let mut out = HashMap::new();
        for (page, ids) in cursor_pages(keys, |k| (k.0, k.1, k.2)) {
            let found = visits::pages_for(&self.db, &self.scope, &ids, page).await?;
            out.extend(found.into_iter().map(|(id, p)| (VisitsOf(id, page.0, page.1), p)));
        }
        Ok(out)
    }
}

impl Loader<CustomerKeyOf> for DbLoader {
    type Value = CustomerKey;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[CustomerKeyOf]) -> LoadResult<CustomerKeyOf, CustomerKey> {
        let ids: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        let found = self.scope.vault.customer_keys(&self.scope.restaurant_id, &ids).await?;
        Ok(found.into_iter().map(|(id, key)| (CustomerKeyOf(id), key)).collect())
    }
}

impl Loader<ReferralsOf> for DbLoader {
    type Value = Paged<customer::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[ReferralsOf]) -> LoadResult<ReferralsOf, Paged<customer::Model>> {
        let mut out = HashMap::new();
        for (page, ids) in cursor_pages(keys, |k| (k.0, k.1, k.2)) {
            let found = customers::referral_pages(&self.db, &self.scope, &ids, page).await?;
            out.extend(found.into_iter().map(|(id, p)| (ReferralsOf(id, page.0, page.1), p)));
        }
        Ok(out)
    }
}

impl Loader<VouchersOf> for DbLoader {
    type Value = Paged<voucher::Model>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[VouchersOf]) -> LoadResult<VouchersOf, Paged<voucher::Model>> {
        let mut out = HashMap::new();
        let at = entity::ops::now();
        for usable in [false, true] {
            let these: Vec<VouchersOf> = keys.iter().filter(|k| k.1 == usable).copied().collect();
            for (page, ids) in cursor_pages(&these, |k| (k.0, k.2, k.3)) {
                let found = rewards::vouchers_for(&self.db, &self.scope, &ids, usable.then_some(at), page).await?;
                out.extend(found.into_iter().map(|(id, p)| (VouchersOf(id, usable, page.0, page.1), p)));
            }
        }
        Ok(out)
    }
}

impl Loader<Catalogue> for DbLoader {
    type Value = Arc<Vec<reward::Model>>;
    type Error = Arc<DomainError>;

    async fn load(&self, _: &[Catalogue]) -> LoadResult<Catalogue, Arc<Vec<reward::Model>>> {
        Ok(HashMap::from([(Catalogue, Arc::new(rewards::list(&self.db, &self.scope, false).await?))]))
    }
}

impl Loader<PredictionOf> for DbLoader {
    type Value = Prediction;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[PredictionOf]) -> LoadResult<PredictionOf, Prediction> {
        let found = predict::predict(&self.db, &self.scope, &ids(keys, |k| k.0), entity::ops::now(), self.discount_rate).await?;
        Ok(found.into_iter().map(|(id, p)| (PredictionOf(id), p)).collect())
    }
}
