//! What the jobs count for the service's `/metrics`: runs by job, restaurant and outcome, and
//! emails by what became of them. Label values come from fixed sets (job names, outcomes) and
//! the restaurants' ids, never from customer data.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of a job run.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    pub job: String,
    pub restaurant: String,
    /// `succeeded` or `failed`.
    pub outcome: String,
}

/// Labels of an email count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EmailLabels {
    /// `enqueued`, `sent`, `skipped`, `retrying` or `failed`.
    pub outcome: String,
}

struct JobMetrics {
    runs: Family<RunLabels, Counter>,
    emails: Family<EmailLabels, Counter>,
}

static METRICS: LazyLock<JobMetrics> = LazyLock::new(|| JobMetrics { runs: Family::default(), emails: Family::default() });

/// Counts one finished run.
pub fn job_run(job: &str, restaurant: &str, outcome: &str) {
    METRICS.runs.get_or_create(&RunLabels { job: job.into(), restaurant: restaurant.into(), outcome: outcome.into() }).inc();
}

/// Counts what became of one email.
pub fn email(outcome: &str) {
    METRICS.emails.get_or_create(&EmailLabels { outcome: outcome.into() }).inc();
}

/// Counts emails a run wrote.
pub fn enqueued(n: u64) {
    if n > 0 {
        METRICS.emails.get_or_create(&EmailLabels { outcome: "enqueued".into() }).inc_by(n);
    }
}

/// Adds the jobs' families to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register("loyalty_job_runs", "Job runs by job, restaurant and outcome", METRICS.runs.clone());
    registry.register(
        "loyalty_emails",
        "Emails by outcome: enqueued by jobs, sent, skipped (consent withdrawn …), retrying, failed for good",
        METRICS.emails.clone(),
    );
}
