//! Fresh, migrated databases for the entity crate's own tests: a SQLite file in the temp
//! directory, and a PostgreSQL database of its own when `TEST_DATABASE_URL` is set.

#![allow(dead_code, reason = "every test binary compiles this module and uses a part of it")]

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// One migrated database per backend, named after `test`; dropped by [`Fresh::close`].
pub struct Fresh {
    pub name: &'static str,
    pub db: DatabaseConnection,
    drop: Option<(DatabaseConnection, String)>,
    file: Option<std::path::PathBuf>,
}

impl Fresh {
    pub async fn close(self) {
        self.db.close().await.unwrap();
        if let Some((admin, name)) = self.drop {
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        }
        if let Some(path) = self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// SQLite, and PostgreSQL when `TEST_DATABASE_URL` names a server.
pub async fn databases(test: &str) -> Vec<Fresh> {
    databases_at(test, None).await
}

/// [`databases`] with only the first `steps` migrations applied (`None`: all).
pub async fn databases_at(test: &str, steps: Option<u32>) -> Vec<Fresh> {
    let path = std::env::temp_dir().join(format!("entity-{test}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    Migrator::up(&db, steps).await.unwrap();
    let mut out = vec![Fresh { name: "sqlite", db, drop: None, file: Some(path) }];
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let admin = Database::connect(&url).await.unwrap();
        let name = format!("entity_{}_{}", test, std::process::id());
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        let db = Database::connect(format!("{base}/{name}")).await.unwrap();
        Migrator::up(&db, steps).await.unwrap();
        out.push(Fresh { name: "postgres", db, drop: Some((admin, name)), file: None });
    }
    out
}
