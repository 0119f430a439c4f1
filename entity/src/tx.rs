//! Transactions that write.

use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// Begins a transaction that will write: `BEGIN IMMEDIATE` on SQLite (the write lock up front,
/// so concurrent writers queue on the busy timeout instead of failing), plain `BEGIN` elsewhere.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() }).await
}
