//! The order import's writers: each member's orders go to one of several writers (by a hash of
//! how the row names the member), each writing its batches in turn on a connection of its own,
//! so batches of different members are written at once and two writers never wait on the same
//! member's row.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use entity::ops::import::Statistics;
use entity::ops::import_orders::{self, Outcome};
use entity::rules::import::orders::OrderRow;
use entity::{Policy, Scope};
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

/// A batch's lines and rows.
type Batch = Vec<(u64, OrderRow)>;
/// A written batch: its lines and how each row ended, or why the batch failed.
pub type Written = (Vec<u64>, anyhow::Result<Vec<Outcome>>);

/// What every writer shares.
#[derive(Clone)]
pub struct Context {
    pub db: DatabaseConnection,
    pub scope: Scope,
    pub policy: Policy,
    pub dry_run: bool,
    pub earn: bool,
}

/// The running writers and the batches they are filling.
pub struct Writers {
    inboxes: Vec<mpsc::Sender<Batch>>,
    pending: Vec<Batch>,
    batch: usize,
    done: mpsc::UnboundedReceiver<Written>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    /// Starts `n` writers of batches of `batch` rows.
    pub fn start(ctx: &Context, n: usize, batch: usize) -> Self {
        let (report, done) = mpsc::unbounded_channel();
        let (mut inboxes, mut tasks) = (Vec::new(), Vec::new());
        for _ in 0..n.max(1) {
            let (inbox, mut batches) = mpsc::channel::<Batch>(1);
            let (ctx, report) = (ctx.clone(), report.clone());
            tasks.push(tokio::spawn(async move {
                let mut statistics = Statistics::of(import_orders::GROWN);
                while let Some(batch) = batches.recv().await {
                    let lines = batch.iter().map(|(line, _)| *line).collect();
                    let rows: Vec<OrderRow> = batch.into_iter().map(|(_, row)| row).collect();
                    let written = import_orders::import(&ctx.db, &ctx.scope, &ctx.policy, &rows, ctx.dry_run, ctx.earn, &mut statistics).await;
                    if report.send((lines, written.map_err(anyhow::Error::from))).is_err() {
                        return;
                    }
                }
            }));
            inboxes.push(inbox);
        }
        let pending = vec![Vec::new(); inboxes.len()];
        Self { inboxes, pending, batch: batch.max(1), done, tasks }
    }

    /// Adds a row to its member's writer's batch, handing the batch over when full (waiting
    /// while that writer is still busy with two).
    pub async fn push(&mut self, line: u64, row: OrderRow) -> anyhow::Result<()> {
        let mut hasher = DefaultHasher::new();
        row.member.hash(&mut hasher);
        let i = (hasher.finish() % self.inboxes.len() as u64) as usize;
        self.pending[i].push((line, row));
        if self.pending[i].len() >= self.batch {
            let batch = std::mem::take(&mut self.pending[i]);
            self.inboxes[i].send(batch).await.map_err(|_| anyhow::anyhow!("an import writer stopped"))?;
        }
        Ok(())
    }

    /// The batches written since the last call.
    pub fn written(&mut self) -> Vec<Written> {
        std::iter::from_fn(|| self.done.try_recv().ok()).collect()
    }

    /// Hands over the part-filled batches, waits for every writer, and returns what is left
    /// to report.
    pub async fn finish(mut self) -> anyhow::Result<Vec<Written>> {
        for (inbox, batch) in self.inboxes.iter().zip(std::mem::take(&mut self.pending)) {
            if !batch.is_empty() {
                inbox.send(batch).await.map_err(|_| anyhow::anyhow!("an import writer stopped"))?;
            }
        }
        self.inboxes.clear();
        for task in self.tasks.drain(..) {
            task.await?;
        }
        Ok(self.written())
    }
}
