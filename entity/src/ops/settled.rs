//! The instant before which every change has committed: what a sync client may page up to
//! without a later commit landing behind its cursor.
//!
//! A write stamps `updated_at` with the application's clock shortly before its statement runs,
//! and commits later: a reader that pages up to "now" could pass a row whose transaction is
//! still open and never see it. So a read in change order stops at the *settled* instant:
//! earlier than the start of every write transaction still open (PostgreSQL reports them), and
//! earlier than now by the longest a timestamp may precede its transaction ([`MARGIN`]: waiting
//! for a pooled connection, plus clock skew between replicas and the database; on SQLite, whose
//! transactions are invisible to other connections, also the busy timeout a writer may wait).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::DomainResult;

/// Longest a pooled connection is waited for (the pool's acquire timeout).
pub const POOL_WAIT: Duration = Duration::from_secs(10);
/// Longest a SQLite writer waits for the write lock (its busy timeout).
pub const SQLITE_BUSY: Duration = Duration::from_secs(15);
/// Clock difference allowed between a replica and the database.
pub const CLOCK_SKEW: Duration = Duration::from_secs(2);

/// How long before its transaction starts (PostgreSQL) or commits (SQLite) a write's
/// timestamp may have been taken.
pub fn margin(backend: DbBackend) -> Duration {
    match backend {
        DbBackend::Postgres => POOL_WAIT + CLOCK_SKEW,
        _ => POOL_WAIT + SQLITE_BUSY + CLOCK_SKEW,
    }
}

/// The settled instant of the database `db` (see the module's documentation).
pub async fn instant(db: &impl ConnectionTrait) -> DomainResult<DateTime<Utc>> {
    let backend = db.get_database_backend();
    let start = match backend {
        DbBackend::Postgres => oldest_open_transaction(db).await?,
        _ => None,
    };
    let now = super::now();
    let from = start.map_or(now, |start| start.min(now));
    Ok(from - chrono::Duration::from_std(margin(backend)).expect("a margin of seconds"))
}

/// When the oldest transaction of another client of this database began, if one is open
/// (only client sessions: autovacuum and replication workers write no rows of ours).
async fn oldest_open_transaction(db: &impl ConnectionTrait) -> DomainResult<Option<DateTime<Utc>>> {
    let sql = "SELECT min(xact_start) AS start FROM pg_stat_activity \
               WHERE datname = current_database() AND backend_type = 'client backend' \
               AND pid <> pg_backend_pid() AND xact_start IS NOT NULL";
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<DateTime<Utc>>>("", "start")?,
        None => None,
    })
}
