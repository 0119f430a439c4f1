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
        entity::ops::deliveries::hand_back(db, &ids).await
    }
}
