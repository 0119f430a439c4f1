//! Operations that read and change the loyalty data, each in one transaction.
//!
//! Every operation takes a [`Scope`] (the caller's restaurant and who acts) and scopes every
//! statement by the restaurant. Writes begin with [`begin_write`], which takes SQLite's write
//! lock up front (`BEGIN IMMEDIATE`) so concurrent writers queue on the busy timeout instead of
//! failing; on PostgreSQL the first `UPDATE ... RETURNING` locks the customer row. Point and
//! visit counters change only through atomic `SET x = x + n` updates (see [`state`]).

use chrono::{DateTime, SubsecRound, Utc};
use phonenumber::country;
use sea_orm::{DatabaseTransaction, DbErr, EntityTrait};

pub mod audit;
pub mod changes;
pub mod customers;
pub(crate) mod dialect;
pub mod digest;
pub(crate) mod direct;
pub mod dormancy;
pub mod expiry;
pub mod export;
pub mod feedback;
pub mod idempotency;
pub mod import;
pub mod import_orders;
pub mod job_runs;
pub mod keys;
pub mod ledger;
pub mod notes;
pub mod occasions;
pub mod orders;
pub mod predict;
pub mod preferences;
pub mod privacy;
pub mod refunds;
pub mod restaurants;
pub mod retention;
pub mod rewards;
pub mod segments;
pub mod service;
pub mod settled;
pub mod state;
pub mod stats;
pub mod transfer;
pub mod visits;
pub mod webhooks;

/// Who is acting, for which restaurant. Built per request (or per job run).
#[derive(Debug, Clone)]
pub struct Scope {
    /// Every read and write is limited to this restaurant.
    pub restaurant_id: String,
    /// Recorded on ledger rows, notes and the audit log.
    pub actor: String,
    /// The request's id, recorded in the audit log (`-` outside requests).
    pub request_id: String,
    /// The keys of the restaurant's personal data.
    pub vault: crate::vault::Vault,
}

impl Scope {
    /// A scope for `restaurant_id` acting as `actor`, with the service's `vault`.
    pub fn new(restaurant_id: impl Into<String>, actor: impl Into<String>, vault: crate::vault::Vault) -> Self {
        Self { restaurant_id: restaurant_id.into(), actor: actor.into(), request_id: "-".into(), vault }
    }

    /// The same scope, within request `request_id`.
    pub fn in_request(self, request_id: impl Into<String>) -> Self {
        Self { request_id: request_id.into(), ..self }
    }
}

/// The deployment's input settings (a restaurant's programme settings are in its row: see
/// [`restaurants`]).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Region for phone numbers written without a `+country` prefix.
    pub phone_region: country::Id,
    /// Largest page a list may return.
    pub max_page_size: u64,
    /// Yearly rate that discounts a member's predicted value (0.1: 10 %).
    pub value_discount_rate: f64,
    /// How many days back a live order may say it happened (`occurredAt`).
    pub late_order_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self { phone_region: country::Id::US, max_page_size: 200, value_discount_rate: 0.1, late_order_days: crate::rules::orders::DEFAULT_LATE_DAYS }
    }
}

pub use crate::tx::begin_write;

/// The current time, truncated to microseconds so values read back from either database equal
/// the ones written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The update that turns the row `old` into `new`, writing only the columns that differ: a
/// column another writer changes meanwhile (a reward's stock, a counter) is never written back
/// with the value read before.
pub(crate) fn only_changes<M, A>(old: M, new: &M) -> A
where
    M: sea_orm::ModelTrait + sea_orm::IntoActiveModel<A> + Clone,
    A: sea_orm::ActiveModelTrait<Entity = M::Entity>,
{
    use sea_orm::{EntityTrait, Iterable};
    let mut active = old.clone().into_active_model();
    for column in <M::Entity as EntityTrait>::Column::iter() {
        let value = new.get(column);
        if old.get(column) != value {
            active.set(column, value);
        }
    }
    active
}

/// One page of a list: its rows and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

impl<T> Paged<T> {
    /// The page with each row mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged { items: self.items.into_iter().map(f).collect(), has_next: self.has_next }
    }
}

/// One page of `query` newest first by `id`: at most `first` rows with an id below `after`
/// (an indexed range, as fast on the hundredth page as on the first), and whether more follow.
pub(crate) async fn newest_page<E: EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<E>,
    id: E::Column,
    after: Option<i64>,
    first: u64,
) -> Result<Paged<E::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let query = match after {
        Some(last) => query.filter(id.lt(last)),
        None => query,
    };
    let mut items = query.order_by_desc(id).limit(first + 1).all(db).await?;
    let has_next = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Paged { items, has_next })
}

/// How a nested list is ordered (newest first, or by its own order): the `ORDER BY` and the
/// condition that keeps the rows after the row with id `?` in that order.
pub(crate) struct Newest {
    pub order: &'static str,
    pub after: &'static str,
    /// The column naming the row's parent (the customer a row belongs to, or who referred them).
    pub parent: &'static str,
}

/// Newest first by id.
pub(crate) const BY_ID: Newest = Newest { order: "id DESC", after: "id < ?", parent: "customer_id" };

/// Pages of several customers' rows at once (for DataLoaders of nested lists), newest first
/// (`by`): per customer at most `first` rows after the row `after` that meet every `only`
/// condition (see [`newest_per_customer`]), and whether more follow. Every customer of `ids`
/// has a page, empty or not.
pub(crate) async fn newest_pages<E: EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    (by, only): (&Newest, &[(&str, sea_orm::Value)]),
    (after, first): (Option<i64>, u64),
    customer_of: impl Fn(&E::Model) -> i64,
) -> Result<std::collections::HashMap<i64, Paged<E::Model>>, DbErr> {
    let mut only = only.to_vec();
    if let Some(last) = after {
        only.push((by.after, last.into()));
    }
    let rows = newest_per_customer::<E>(db, scope, (ids, by.parent), by.order, &only, (first + 1, 0)).await?;
    let mut pages: std::collections::HashMap<i64, Paged<E::Model>> = ids.iter().map(|id| (*id, Paged { items: Vec::new(), has_next: false })).collect();
    for row in rows {
        if let Some(page) = pages.get_mut(&customer_of(&row)) {
            if page.items.len() as u64 == first {
                page.has_next = true;
            } else {
                page.items.push(row);
            }
        }
    }
    Ok(pages)
}

/// A transaction handle as used by the operations.
pub type Txn = DatabaseTransaction;

/// The newest `limit` rows after `offset` of each of several customers, in one query: a
/// `ROW_NUMBER()` window over `table`, newest first by `order` (for DataLoaders of paginated
/// nested lists), keeping only rows that meet every `only` condition (`("status =", value)`:
/// a column and comparison, then the value it is compared with; a `?` in the text stands for
/// the value where it is not at the end). Works on SQLite and PostgreSQL alike.
pub(crate) async fn newest_per_customer<E>(
    db: &impl sea_orm::ConnectionTrait,
    scope: &Scope,
    (ids, parent): (&[i64], &str),
    order: &str,
    only: &[(&str, sea_orm::Value)],
    (limit, offset): (u64, u64),
) -> Result<Vec<E::Model>, DbErr>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::Statement;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let param = |n: usize| dialect::placeholder(backend, n);
    let list: Vec<String> = (0..ids.len()).map(|i| param(i + 2)).collect();
    let condition = |i: usize, test: &str| {
        let mark = param(ids.len() + 2 + i);
        if test.contains('?') { format!(" AND {}", test.replace('?', &mark)) } else { format!(" AND {test} {mark}") }
    };
    let conditions: String = only.iter().enumerate().map(|(i, (test, _))| condition(i, test)).collect();
    let table = E::default().table_name().to_string();
    let sql = format!(
        "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY {parent} ORDER BY {order}) AS row_no \
         FROM {table} t WHERE restaurant_id = {} AND {parent} IN ({}){conditions}) ranked \
         WHERE row_no > {offset} AND row_no <= {} ORDER BY {parent}, row_no",
        param(1),
        list.join(", "),
        offset + limit
    );
    let mut values: Vec<sea_orm::Value> = vec![scope.restaurant_id.clone().into()];
    values.extend(ids.iter().map(|id| (*id).into()));
    values.extend(only.iter().map(|(_, v)| v.clone()));
    E::find().from_raw_sql(Statement::from_sql_and_values(backend, sql, values)).all(db).await
}
