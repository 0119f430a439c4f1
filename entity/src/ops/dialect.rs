//! What differs between SQLite and PostgreSQL in hand-written SQL. Everything else is built
//! with SeaORM's query builder, which writes each database's dialect itself.

use sea_orm::{ConnectionTrait, DbBackend};

use crate::DomainResult;

/// The `n`th (1-based) bind parameter: `$n` on PostgreSQL, `?` on SQLite (numbered in order).
pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".into(),
    }
}

/// Whether the database keeps planner statistics worth refreshing after mass changes.
pub(crate) fn has_planner_statistics(backend: DbBackend) -> bool {
    backend == DbBackend::Postgres
}

/// Rows written at once past which a table's planner statistics are refreshed.
const ANALYZE_AFTER: u64 = 10_000;

/// Refreshes `table`'s planner statistics after a write of `written` rows, where the database
/// keeps them. Plans made against the row counts from before a mass write can be wildly wrong:
/// right after 386,000 win-back emails were enqueued, a campaign's frequency-cap count over a
/// million members probed a status index per member and ran for minutes; after `ANALYZE` it
/// takes 3 s.
pub(crate) async fn refresh_statistics(db: &impl ConnectionTrait, table: &str, written: u64) -> DomainResult<()> {
    if written > ANALYZE_AFTER {
        analyze(db, table).await?;
    }
    Ok(())
}

/// Refreshes `table`'s planner statistics now, where the database keeps them.
pub(crate) async fn analyze(db: &impl ConnectionTrait, table: &str) -> DomainResult<()> {
    if has_planner_statistics(db.get_database_backend()) {
        db.execute_unprepared(&format!("ANALYZE {table}")).await?;
    }
    Ok(())
}
