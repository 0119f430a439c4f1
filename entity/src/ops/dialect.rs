//! What differs between SQLite and PostgreSQL in hand-written SQL. Everything else is built
//! with SeaORM's query builder, which writes each database's dialect itself.

use sea_orm::DbBackend;

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
