//! The scheduler inside `loyalty serve`.
//!
//! tokio-cron-scheduler fixes a time zone's UTC offset when a job is created (so a schedule
//! drifts by an hour across daylight-saving changes) and it has been seen to fire a time-zone
//! job twice. So it drives one UTC tick a minute, and each tick evaluates the configured cron
//! expressions in the configured time zone itself ([`due_jobs`]). Each scheduled run is keyed by
//! its UTC minute in `job_runs`, so a double tick or a second replica runs a slot once.
//!
//! A scheduler that starts runs the slots no replica ran in the last `catch_up_hours`
//! ([`catch_up`]): a deploy or an outage at 09:00 does not cost that day's birthday emails.

use std::collections::HashSet;

use chrono::{DateTime, Duration, SubsecRound, Timelike, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use tokio_cron_scheduler::JobScheduler;

use crate::{Job, JobContext, JobError, Trigger, run_job, runs};

/// Parses a cron expression with seconds (`sec min hour day month weekday`).
pub fn parse_cron(expr: &str) -> Result<Cron, JobError> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr)
        .map_err(|e| JobError::Config(format!("cron expression {expr:?}: {e}")))
}

/// The jobs whose schedule matches the UTC minute `minute` in time zone `tz`.
pub fn due_jobs(schedules: &[(Job, Cron)], tz: chrono_tz::Tz, minute: DateTime<Utc>) -> Vec<Job> {
    let local = minute.with_timezone(&tz);
    schedules
        .iter()
        .filter(|(_, cron)| cron.is_time_matching(&local).unwrap_or(false))
        .map(|(job, _)| *job)
        .collect()
}

/// Most missed slots of one date-bound campaign run late at a start (a schedule of every few
/// minutes must not turn a restart into a storm of runs).
const MAX_CATCH_UP_SLOTS: usize = 64;

/// The slots of the last `window` before `now` (inclusive) worth running late, oldest first:
/// every one of the date-bound campaigns (each day has its own birthdays and anniversaries),
/// only the latest of the other jobs (they bring the present up to date whenever they run).
pub fn catch_up_slots(schedules: &[(Job, Cron)], tz: chrono_tz::Tz, now: DateTime<Utc>, window: Duration) -> Vec<(Job, DateTime<Utc>)> {
    let mut slots = Vec::new();
    for (job, cron) in schedules {
        let recent = cron
            .iter_before(now.with_timezone(&tz) + Duration::seconds(1))
            .map(|local| local.with_timezone(&Utc))
            .take_while(|slot| *slot > now - window)
            .take(if matches!(job, Job::Birthday | Job::Anniversary) { MAX_CATCH_UP_SLOTS } else { 1 });
        slots.extend(recent.map(|slot| (*job, slot)));
    }
    slots.sort_by_key(|(_, slot)| *slot);
    slots
}

/// Runs the slots of [`catch_up_slots`] that no replica has run yet (recorded as `catch-up`).
pub async fn catch_up(ctx: &JobContext, schedules: &[(Job, Cron)], now: DateTime<Utc>) -> Result<usize, JobError> {
    let window = Duration::hours(i64::from(ctx.config.catch_up_hours));
    if window.is_zero() {
        return Ok(0);
    }
    let done: HashSet<(String, DateTime<Utc>)> = runs::slots_since(&ctx.db, now - window)
        .await?
        .into_iter()
        .collect();
    let mut ran = 0;
    for (job, slot) in catch_up_slots(schedules, ctx.config.timezone, now, window) {
        if done.contains(&(job.name().to_string(), slot)) {
            continue;
        }
        tracing::info!(job = job.name(), %slot, "running a slot missed while no scheduler was up");
        match run_job(ctx, job, Trigger::CatchUp, false, Some(slot)).await {
            Ok(Some(_)) => ran += 1,
            Ok(None) => {}
            Err(e) => tracing::error!(job = job.name(), %slot, error = %e, "catch-up run failed"),
        }
    }
    Ok(ran)
}

/// Starts the scheduler; it runs until the returned handle is shut down.
pub async fn start(ctx: JobContext) -> Result<JobScheduler, JobError> {
    let schedules: Vec<(Job, Cron)> = ctx
        .config
        .schedules
        .iter()
        .map(|(job, expr)| Ok((*job, parse_cron(expr)?)))
        .collect::<Result<_, JobError>>()?;
    for (job, expr) in &ctx.config.schedules {
        tracing::info!(job = job.name(), schedule = %expr, timezone = %ctx.config.timezone, "job scheduled");
    }
    {
        let (ctx, schedules) = (ctx.clone(), schedules.clone());
        tokio::spawn(async move {
            if let Err(e) = catch_up(&ctx, &schedules, Utc::now().trunc_subsecs(0)).await {
                tracing::error!(error = %e, "catching up missed scheduled runs failed");
            }
        });
    }
    let sched = JobScheduler::new().await.map_err(|e| JobError::Config(e.to_string()))?;
    let tick = tokio_cron_scheduler::Job::new_async("0 * * * * *", move |_, _| {
        let (ctx, schedules) = (ctx.clone(), schedules.clone());
        Box::pin(async move {
            let now = Utc::now().trunc_subsecs(0);
            let minute = now.with_second(0).unwrap_or(now);
            for job in due_jobs(&schedules, ctx.config.timezone, minute) {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    if let Err(e) = run_job(&ctx, job, Trigger::Schedule, false, Some(minute)).await {
                        tracing::error!(job = job.name(), error = %e, "scheduled job failed");
                    }
                });
            }
        })
    })
    .map_err(|e| JobError::Config(e.to_string()))?;
    sched.add(tick).await.map_err(|e| JobError::Config(e.to_string()))?;
    sched.start().await.map_err(|e| JobError::Config(e.to_string()))?;
    Ok(sched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn matches_in_day(expr: &str, tz: chrono_tz::Tz, day_start_utc: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let schedules = vec![(Job::Birthday, parse_cron(expr).unwrap())];
        (0..(26 * 60))
            .map(|m| day_start_utc + Duration::minutes(m))
            .filter(|minute| !due_jobs(&schedules, tz, *minute).is_empty())
            .collect()
    }

    #[test]
    fn schedules_run_in_local_time_across_daylight_saving() {
        let paris = chrono_tz::Europe::Paris;
        let winter = matches_in_day("0 0 9 * * *", paris, Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap());
        assert_eq!(winter, vec![Utc.with_ymd_and_hms(2026, 1, 15, 8, 0, 0).unwrap()]);
        let summer = matches_in_day("0 0 9 * * *", paris, Utc.with_ymd_and_hms(2026, 7, 15, 0, 0, 0).unwrap());
        assert_eq!(summer, vec![Utc.with_ymd_and_hms(2026, 7, 15, 7, 0, 0).unwrap()]);
    }

    #[test]
    fn the_day_clocks_change_fires_once() {
        let paris = chrono_tz::Europe::Paris;
        let change = matches_in_day("0 0 9 * * *", paris, Utc.with_ymd_and_hms(2026, 10, 25, 0, 0, 0).unwrap());
        assert_eq!(change, vec![Utc.with_ymd_and_hms(2026, 10, 25, 8, 0, 0).unwrap()]);
    }

    #[test]
    fn catch_up_runs_every_missed_day_of_occasions_and_the_latest_of_the_rest() {
        let schedules = vec![
            (Job::Birthday, parse_cron("0 0 9 * * *").unwrap()),
            (Job::Dormancy, parse_cron("0 30 2 * * *").unwrap()),
            (Job::Deliveries, parse_cron("0 */5 * * * *").unwrap()),
        ];
        let at = |d, h, m| Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap();
        let slots = catch_up_slots(&schedules, chrono_tz::UTC, at(3, 10, 2), Duration::hours(48));
        assert_eq!(
            slots,
            vec![(Job::Birthday, at(2, 9, 0)), (Job::Dormancy, at(3, 2, 30)), (Job::Birthday, at(3, 9, 0)), (Job::Deliveries, at(3, 10, 0))]
        );
        let exact = catch_up_slots(&schedules, chrono_tz::UTC, at(3, 9, 0), Duration::hours(1));
        assert_eq!(exact, vec![(Job::Birthday, at(3, 9, 0)), (Job::Deliveries, at(3, 9, 0))], "a slot at this very minute counts");
        let paris = catch_up_slots(&schedules[..1], chrono_tz::Europe::Paris, at(3, 10, 2), Duration::hours(24));
        assert_eq!(paris, vec![(Job::Birthday, at(3, 8, 0))], "slots are local times");
    }

    #[test]
    fn bad_expressions_are_refused() {
        assert!(parse_cron("every day").is_err());
        assert!(parse_cron("0 0 9 * *").is_err(), "seconds are required");
    }
}
