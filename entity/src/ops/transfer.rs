//! Moving a whole deployment from one database to another (the embedded SQLite file to
//! PostgreSQL): every table copied row for row with its ids, in an order that satisfies the
//! foreign keys, then PostgreSQL's id sequences moved past the copied ids, then verified —
//! the same row count in every table and every balance equal to its ledger. An operator's tool
//! across restaurants (`loyalty migrate-data`), so it takes no scope.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, Iterable, PaginatorTrait, PrimaryKeyToColumn, QueryFilter,
    QueryOrder, Statement,
};

use crate::entities::{
    api_key, audit_entry, campaign, campaign_send, customer, customer_label, customer_personal, customer_prediction, email_delivery, favorite_item, feedback,
    idempotency_key, job_run, model_fit, note, point_transaction, restaurant, reward, segment, service_setting, special_occasion, visit, voucher,
    webhook_delivery, webhook_endpoint,
};
use crate::{DomainError, DomainResult};

/// Rows per insert statement (PostgreSQL takes at most 65,535 parameters; customers have about
/// 50 columns).
const BATCH: u64 = 500;

/// One table's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: String,
    pub rows: u64,
}

/// Copies every table of `from` into the empty, migrated database `to`, calling `progress(table,
/// done, total)` as it goes; then verifies counts and balances. Refuses a target that holds
/// customers or restaurants already.
pub async fn copy_all(from: &impl ConnectionTrait, to: &impl ConnectionTrait, progress: &mut dyn FnMut(&str, u64, u64)) -> DomainResult<Vec<Copied>> {
    if customer::Entity::find().count(to).await? > 0 || restaurant::Entity::find().count(to).await? > 0 {
        return Err(DomainError::invalid_state("the target database already holds restaurants or customers: move data into an empty database"));
    }
    let mut done = Vec::new();
    macro_rules! copy {
        ($($module:ident),* $(,)?) => {
            $(done.push(copy_table::<$module::Entity>(from, to, progress).await?);)*
        };
    }
    copy!(restaurant, service_setting, api_key, segment, reward, campaign, campaign_send);
    done.push(copy_customers(from, to, progress).await?);
    copy!(
        customer_personal,
        customer_label,
        point_transaction,
        visit,
        note,
        favorite_item,
        special_occasion,
        feedback,
        voucher,
        email_delivery,
        idempotency_key,
        job_run,
        audit_entry,
        webhook_endpoint,
        webhook_delivery,
        model_fit,
        customer_prediction
    );
    if to.get_database_backend() == DbBackend::Postgres {
        let serial = "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() \
                      AND column_name = 'id' AND (column_default LIKE 'nextval%' OR is_identity = 'YES')";
        let tables = to.query_all_raw(Statement::from_string(DbBackend::Postgres, serial)).await?;
        for table in tables.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()) {
            if done.iter().any(|c| c.table == table) {
                let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table} HAVING MAX(id) IS NOT NULL");
                to.execute_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
            }
        }
    }
    verify(from, to, &done).await?;
    Ok(done)
}

/// Copies the key store `from` into the empty key store `to` (the master key stays the same),
/// verifying the counts. Refuses a target that holds keys already.
pub async fn copy_keys(from: &impl ConnectionTrait, to: &impl ConnectionTrait, progress: &mut dyn FnMut(&str, u64, u64)) -> DomainResult<Vec<Copied>> {
    use crate::entities::{customer_key, data_key, key_check};
    if key_check::Entity::find().count(to).await? > 0 || data_key::Entity::find().count(to).await? > 0 {
        return Err(DomainError::invalid_state("the target key store already holds keys: move data into an empty one"));
    }
    let done = vec![
        copy_table::<key_check::Entity>(from, to, progress).await?,
        copy_table::<data_key::Entity>(from, to, progress).await?,
        copy_table::<customer_key::Entity>(from, to, progress).await?,
    ];
    verify_counts(from, to, &done).await?;
    Ok(done)
}

async fn copy_table<E>(from: &impl ConnectionTrait, to: &impl ConnectionTrait, progress: &mut dyn FnMut(&str, u64, u64)) -> DomainResult<Copied>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let table = E::default().table_name();
    let total = E::find().count(from).await?;
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    let mut pages = query.paginate(from, BATCH);
    let mut rows = 0;
    progress(table, 0, total);
    while let Some(models) = pages.fetch_and_next().await? {
        rows += models.len() as u64;
        let actives: Vec<E::ActiveModel> = models.into_iter().map(|m| m.into_active_model().reset_all()).collect();
        if !actives.is_empty() {
            E::insert_many(actives).exec_without_returning(to).await?;
        }
        progress(table, rows, total);
    }
    Ok(Copied { table: table.to_string(), rows })
}

/// Customers refer to customers (`referred_by`), not always to older ones (a merge moves
/// referrals): rows go in without the link, then the links are set.
async fn copy_customers(from: &impl ConnectionTrait, to: &impl ConnectionTrait, progress: &mut dyn FnMut(&str, u64, u64)) -> DomainResult<Copied> {
    let total = customer::Entity::find().count(from).await?;
    let mut pages = customer::Entity::find().order_by_asc(customer::Column::Id).paginate(from, BATCH);
    let (mut rows, mut links) = (0, Vec::new());
    progress("customers", 0, total);
    while let Some(models) = pages.fetch_and_next().await? {
        rows += models.len() as u64;
        let actives: Vec<customer::ActiveModel> = models
            .into_iter()
            .map(|mut m| {
                if let Some(by) = m.referred_by.take() {
                    links.push((m.id, by));
                }
                m.into_active_model().reset_all()
            })
            .collect();
        if !actives.is_empty() {
            customer::Entity::insert_many(actives).exec_without_returning(to).await?;
        }
        progress("customers", rows, total);
    }
    for (id, by) in links {
        let update =
            Query::update().table(customer::Entity).value(customer::Column::ReferredBy, Expr::value(by)).and_where(customer::Column::Id.eq(id)).to_owned();
        to.execute(&update).await?;
    }
    Ok(Copied { table: "customers".into(), rows })
}

/// Same rows in every table, and every balance equal to its ledger.
async fn verify(from: &impl ConnectionTrait, to: &impl ConnectionTrait, copied: &[Copied]) -> DomainResult<()> {
    verify_counts(from, to, copied).await?;
    let off = super::ledger::unbalanced(to).await?;
    if !off.is_empty() {
        return Err(DomainError::internal(format!("balances differ from the ledger for customers {off:?}")));
    }
    Ok(())
}

async fn verify_counts(from: &impl ConnectionTrait, to: &impl ConnectionTrait, copied: &[Copied]) -> DomainResult<()> {
    for c in copied {
        // The mark of a move under way is the target's own row.
        let except = if c.table == "service_settings" { format!(" WHERE key <> '{MOVING}'") } else { String::new() };
        let count = |db_backend: DbBackend| Statement::from_string(db_backend, format!("SELECT COUNT(*) FROM {}{except}", c.table));
        let n = |row: Option<sea_orm::QueryResult>| row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(-1);
        let (a, b) = (n(from.query_one_raw(count(from.get_database_backend())).await?), n(to.query_one_raw(count(to.get_database_backend())).await?));
        if a != b {
            return Err(DomainError::internal(format!("{}: {a} rows in the source, {b} in the target", c.table)));
        }
    }
    Ok(())
}

/// The data's tables in the order [`copy_all`] fills them (foreign keys point backwards): every
/// table of a migrated database but the migrations' own and the key store's
/// (`entity/tests/transfer_tables.rs` checks it).
pub const TABLES: [&str; 25] = [
    "restaurants",
    "service_settings",
    "api_keys",
    "segments",
    "rewards",
    "campaigns",
    "campaign_sends",
    "customers",
    "customer_personal",
    "customer_labels",
    "point_transactions",
    "visits",
    "customer_notes",
    "favorite_items",
    "special_occasions",
    "feedback",
    "vouchers",
    "email_deliveries",
    "idempotency_keys",
    "job_runs",
    "audit_log",
    "webhook_endpoints",
    "webhook_deliveries",
    "model_fits",
    "customer_predictions",
];

/// The `service_settings` row that marks a move under way in its target.
const MOVING: &str = "migrate_data_in_progress";

/// Whether the target holds the rows of a move that did not finish (it was killed or failed
/// before it could undo itself).
pub async fn interrupted(to: &impl ConnectionTrait) -> DomainResult<bool> {
    Ok(service_setting::Entity::find_by_id(MOVING.to_string()).one(to).await?.is_some())
}

/// Whether a target holds nothing a move would overwrite: no restaurant, customer or
/// restaurant key (what `loyalty migrate` leaves, settings and a key check, does not count).
pub async fn is_empty(to: &impl ConnectionTrait, keys: &impl ConnectionTrait) -> DomainResult<bool> {
    use crate::entities::{customer_key, data_key};
    Ok(restaurant::Entity::find().count(to).await? == 0
        && customer::Entity::find().count(to).await? == 0
        && customer_key::Entity::find().count(keys).await? == 0
        && data_key::Entity::find().filter(data_key::Column::Purpose.ne("secret")).count(keys).await? == 0)
}

/// Marks the target as being filled; [`finish`] removes the mark once the move is verified.
pub async fn begin(to: &impl ConnectionTrait) -> DomainResult<()> {
    let mark =
        service_setting::ActiveModel { key: sea_orm::ActiveValue::Set(MOVING.into()), value: sea_orm::ActiveValue::Set(chrono::Utc::now().to_rfc3339()) };
    service_setting::Entity::insert(mark).exec_without_returning(to).await?;
    Ok(())
}

/// Removes the mark of [`begin`]: the target is a complete, verified copy.
pub async fn finish(to: &impl ConnectionTrait) -> DomainResult<()> {
    service_setting::Entity::delete_by_id(MOVING.to_string()).exec(to).await?;
    Ok(())
}

/// Empties the target's data and key store (what a failed or interrupted move left), so the
/// move can start again.
pub async fn undo(to: &impl ConnectionTrait, keys: &impl ConnectionTrait) -> DomainResult<()> {
    to.execute_unprepared("UPDATE customers SET referred_by = NULL").await?;
    for table in TABLES.iter().rev() {
        to.execute_unprepared(&format!("DELETE FROM {table}")).await?;
    }
    for table in ["customer_keys", "data_keys", "key_checks"] {
        keys.execute_unprepared(&format!("DELETE FROM {table}")).await?;
    }
    Ok(())
}

/// Opens every customer's sealed values with `vault` (the target's key store): the number of
/// customers opened, or the first value that does not open.
pub async fn verify_sealed(db: &impl ConnectionTrait, vault: &crate::vault::Vault) -> DomainResult<u64> {
    use sea_orm::QuerySelect;
    let mut opened = 0;
    for r in restaurant::Entity::find().all(db).await? {
        let scope = crate::Scope::new(r.id.clone(), "migrate-data", vault.clone());
        let mut after = 0;
        loop {
            let rows = customer::Entity::find()
                .filter(customer::Column::RestaurantId.eq(&r.id))
                .filter(customer::Column::Id.gt(after))
                .order_by_asc(customer::Column::Id)
                .limit(1_000)
                .all(db)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            super::customers::personal::open_many(db, &scope, &rows).await?;
            opened += rows.len() as u64;
        }
    }
    Ok(opened)
}
