//! Stopping cleanly. Once a stop begins (SIGTERM), delivery runs claim no more emails: the batch
//! being sent finishes and is recorded, the scheduler starts nothing new, and emails still
//! claimed when the grace period ends are handed back (`pending`), so another replica sends
//! them at once instead of after the stale window of a crashed worker.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// Whether this process is stopping, and what its delivery runs hold.
#[derive(Debug, Default)]
pub struct Lifecycle {
    stopping: AtomicBool,
    active: AtomicUsize,
    idle: Notify,
    claimed: Mutex<HashSet<i64>>,
}

/// Marks a delivery run as active until dropped.
pub struct Active(Arc<Lifecycle>);

impl Drop for Active {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Lifecycle {
    /// From now on, runs claim nothing more and the scheduler starts nothing.
    pub fn begin_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Whether a stop has begun.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn enter(self: &Arc<Self>) -> Active {
        self.active.fetch_add(1, Ordering::SeqCst);
        Active(self.clone())
    }

    pub(crate) fn claimed(&self, ids: impl IntoIterator<Item = i64>) {
        self.claimed.lock().unwrap_or_else(|e| e.into_inner()).extend(ids);
    }

    pub(crate) fn settled(&self, id: i64) {
        self.claimed.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    /// Stops: waits up to `grace` for the running delivery batches to finish, then hands back
    /// the emails still claimed; returns how many were handed back.
    pub async fn stop(&self, db: &impl sea_orm::ConnectionTrait, grace: Duration) -> Result<u64, entity::DomainError> {
        self.begin_stop();
        let wait = async {
            while self.active.load(Ordering::SeqCst) > 0 {
                let idle = self.idle.notified();
                if self.active.load(Ordering::SeqCst) == 0 {
                    break;
                }
                idle.await;
            }
        };
        if tokio::time::timeout(grace, wait).await.is_err() {
            tracing::warn!(grace_secs = grace.as_secs(), "delivery runs still busy at the end of the grace period");
        }
        let ids: Vec<i64> = self.claimed.lock().unwrap_or_else(|e| e.into_inner()).drain().collect();
        if ids.is_empty() {
            return Ok(0);
        }
        entity::marketing::outbox::hand_back(db, &ids).await
    }
}

#[cfg(test)]
mod tests {
    use entity::entities::{DeliveryStatus, email_delivery};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ActiveModelTrait, Database, EntityTrait, IntoActiveModel, Set};

    use super::*;

    #[tokio::test]
    async fn a_stop_hands_back_what_is_still_claimed_and_leaves_recorded_rows_alone() {
        let path = std::env::temp_dir().join(format!("loyalty-lifecycle-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let now = entity::ops::now();
        entity::testing::customer_fixture(now).into_active_model().reset_all().insert(&db).await.unwrap();
        let row = |status, key: &str| email_delivery::ActiveModel {
            restaurant_id: Set("r".into()),
            customer_id: Set(1),
            campaign: Set("birthday".into()),
            period_key: Set(key.into()),
            email: Set("ann@example.com".into()),
            status: Set(status),
            attempts: Set(1),
            next_attempt_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let held = row(DeliveryStatus::Sending, "2026").insert(&db).await.unwrap();
        let sent = row(DeliveryStatus::Sent, "2025").insert(&db).await.unwrap();
        let life = Arc::new(Lifecycle::default());
        life.claimed([held.id, sent.id]);
        let busy = life.enter();
        assert!(!life.is_stopping());
        let stopping = {
            let life = life.clone();
            let db = db.clone();
            tokio::spawn(async move { life.stop(&db, Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(life.is_stopping(), "runs see the stop at once");
        drop(busy);
        assert_eq!(stopping.await.unwrap().unwrap(), 1, "the stop waited for the batch, then handed back the row still sending");
        let status = |id| {
            let db = db.clone();
            async move { email_delivery::Entity::find_by_id(id).one(&db).await.unwrap().unwrap().status }
        };
        assert_eq!(status(held.id).await, DeliveryStatus::Pending);
        assert_eq!(status(sent.id).await, DeliveryStatus::Sent, "a recorded row is never handed back");
        let _ = std::fs::remove_file(&path);
    }
}
