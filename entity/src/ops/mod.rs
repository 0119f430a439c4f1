//! Operations that read and change the loyalty data, each in one transaction.
//!
//! Every operation takes a [`Scope`] (the caller's restaurant and who acts) and scopes every
//! statement by the restaurant. Writes begin with [`begin_write`], which takes SQLite's write
//! lock up front (`BEGIN IMMEDIATE`) so concurrent writers queue on the busy timeout instead of
//! failing; on PostgreSQL the first `UPDATE ... RETURNING` locks the customer row. Point and
//! visit counters change only through atomic `SET x = x + n` updates (see [`state`]).

use chrono::{DateTime, SubsecRound, Utc};
use phonenumber::country;
use sea_orm::{DatabaseTransaction, DbErr};

pub mod audit;
pub mod customers;
pub(crate) mod dialect;
pub mod digest;
pub mod dormancy;
pub mod expiry;
pub mod feedback;
pub mod idempotency;
pub mod job_runs;
pub mod keys;
pub mod ledger;
pub mod notes;
pub mod occasions;
pub mod orders;
pub mod privacy;
pub mod refunds;
pub mod restaurants;
pub mod retention;
pub mod rewards;
pub mod segments;
pub mod service;
pub mod state;
pub mod stats;
pub mod transfer;
pub mod visits;

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
}

impl Default for Policy {
    fn default() -> Self {
        Self { phone_region: country::Id::US, max_page_size: 200 }
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

/// A transaction handle as used by the operations.
pub type Txn = DatabaseTransaction;

/// The newest `limit` rows after `offset` of each of several customers, in one query: a
/// `ROW_NUMBER()` window over `table`, newest first by `order` (for DataLoaders of paginated
/// nested lists), keeping only rows that meet every `only` condition (`("status =", value)`:
/// a column and comparison, then the value it is compared with). Works on SQLite and
/// PostgreSQL alike.
pub(crate) async fn newest_per_customer<E>(
    db: &impl sea_orm::ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
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
    let conditions: String = only.iter().enumerate().map(|(i, (test, _))| format!(" AND {test} {}", param(ids.len() + 2 + i))).collect();
    let table = E::default().table_name().to_string();
    let sql = format!(
        "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY {order}) AS row_no \
         FROM {table} t WHERE restaurant_id = {} AND customer_id IN ({}){conditions}) ranked \
         WHERE row_no > {offset} AND row_no <= {} ORDER BY customer_id, row_no",
        param(1),
        list.join(", "),
        offset + limit
    );
    let mut values: Vec<sea_orm::Value> = vec![scope.restaurant_id.clone().into()];
    values.extend(ids.iter().map(|id| (*id).into()));
    values.extend(only.iter().map(|(_, v)| v.clone()));
    E::find().from_raw_sql(Statement::from_sql_and_values(backend, sql, values)).all(db).await
}
