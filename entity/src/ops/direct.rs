//! Hot reads straight on the pool: sea-orm's `query_all_raw` boxes and moves a ~15 KB future
//! three times on its way to sqlx (a fifth of a lookup's instructions, by callgrind). A read
//! on the pool itself (not in a transaction) builds its SQL with sea-query as before and runs
//! it with sqlx on the pool, handing back sea-orm's rows and errors unchanged.

use sea_orm::sea_query::{PostgresQueryBuilder, SelectStatement, SqliteQueryBuilder};
use sea_orm::sqlx;
use sea_orm::{ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, RuntimeErr};
use sea_query_sqlx::SqlxBinder;

/// Where a read's rows come from: `db` through sea-orm, or, with `pool` (a read on the pool
/// itself, outside any transaction), straight from the pool.
pub struct Source<'a, C> {
    pub db: &'a C,
    pub pool: Option<&'a DatabaseConnection>,
}

impl<'a, C: ConnectionTrait> Source<'a, C> {
    /// Reads through sea-orm (also inside a transaction).
    pub fn of(db: &'a C) -> Self {
        Self { db, pool: None }
    }

    /// The rows of `query`. The pool's query future (~10 KB: acquire, then sqlx's fetch) is
    /// boxed here, once, so the futures of the resolvers around it stay small: async-graphql
    /// boxes each root field's future, and a large one is copied on its way there.
    pub async fn rows(&self, query: &SelectStatement) -> Result<Vec<QueryResult>, DbErr> {
        match self.pool {
            Some(pool) => Box::pin(query_all(pool, query)).await,
            None => self.db.query_all_raw(self.db.get_database_backend().build(query)).await,
        }
    }
}

impl<'a> Source<'a, DatabaseConnection> {
    /// Reads straight from the pool.
    pub fn pool(db: &'a DatabaseConnection) -> Self {
        Self { db, pool: Some(db) }
    }
}

/// The rows of `query`, run with sqlx on the pool.
async fn query_all(pool: &DatabaseConnection, query: &SelectStatement) -> Result<Vec<QueryResult>, DbErr> {
    match pool.get_database_backend() {
        DbBackend::Postgres => {
            let (sql, values) = query.build_sqlx(PostgresQueryBuilder);
            let mut conn = pool.get_postgres_connection_pool().acquire().await.map_err(acquire_err)?;
            let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_all(&mut *conn).await.map_err(query_err)?;
            Ok(rows.into_iter().map(QueryResult::from).collect())
        }
        DbBackend::Sqlite => {
            let (sql, values) = query.build_sqlx(SqliteQueryBuilder);
            let mut conn = pool.get_sqlite_connection_pool().acquire().await.map_err(acquire_err)?;
            let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), values).fetch_all(&mut *conn).await.map_err(query_err)?;
            Ok(rows.into_iter().map(QueryResult::from).collect())
        }
        _ => pool.query_all_raw(pool.get_database_backend().build(query)).await,
    }
}

/// sea-orm's error for a connection not acquired (a pool timeout stays `ConnectionAcquire`,
/// which the API answers as busy).
fn acquire_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}

/// sea-orm's error for a failed query.
fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e.into()))
}
