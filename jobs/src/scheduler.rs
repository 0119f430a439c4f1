//! The scheduler inside `loyalty serve`.
//!
//! Each restaurant's daily jobs (dormancy, birthday, anniversary, win-back) run at the local
//! times of day in its settings, in its own time zone; the delivery retry runs on one cron
//! schedule (UTC) for every restaurant. tokio-cron-scheduler only drives one UTC tick a minute
//! (its own time-zone jobs fix the UTC offset at start-up, so they drift across daylight-saving
//! changes, and have been seen to fire twice); each tick works out which slots are due
//! ([`due_slots`]). A scheduled run is keyed by `(job, restaurant, slot)` in `job_runs`, so a
//! double tick or a second replica runs a slot once.
//!
//! A scheduler that starts runs the slots no replica ran in the last `catch_up_hours`
//! ([`catch_up`]): a deploy or an outage at 09:00 does not cost that day's birthday emails.
//! Each tick also marks runs whose heartbeat stopped as abandoned and runs their slots again.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveTime, SubsecRound, Timelike, Utc};
use croner::Cron;
use entity::Scope;
use entity::entities::{RunTrigger, restaurant};
use entity::marketing::sends;
use entity::ops::{job_runs, restaurants};
use entity::rules::programme::{Programme, parse_time_of_day, slot_on};
use tokio_cron_scheduler::JobScheduler;

use crate::{Job, JobContext, JobError, STALE_RUN_SECS, Schedule, run_job};

/// Parses a cron expression with seconds (`sec min hour day month weekday`). The scheduler
/// works in whole minutes, so a seconds field other than `0` is refused rather than silently
/// never (or only once a minute) run.
pub fn parse_cron(expr: &str) -> Result<Cron, JobError> {
    entity::rules::schedule::parse_cron(expr).map_err(JobError::Config)
}

/// The daily jobs, with the local time of day a restaurant runs each.
pub fn daily_times(r: &restaurant::Model) -> Vec<(Job, NaiveTime)> {
    Job::ALL
        .into_iter()
        .filter_map(|job| match job.schedule() {
            Schedule::Daily { at, .. } => Some((job, parse_time_of_day(at.of(r))?)),
            Schedule::DeliveryCron | Schedule::WhenDue => None,
        })
        .collect()
}

/// The jobs of a schedule that is not a time of day.
fn scheduled(schedule: Schedule) -> impl Iterator<Item = Job> {
    Job::ALL.into_iter().filter(move |job| job.schedule() == schedule)
}

/// The slots due at the UTC minute `minute`: each restaurant's daily jobs whose local time it
/// is there, and the delivery retry of every restaurant when `deliveries` matches.
pub fn due_slots<'a>(restaurants: &'a [restaurant::Model], deliveries: &Cron, minute: DateTime<Utc>) -> Vec<(Job, &'a restaurant::Model)> {
    let retry = deliveries.is_time_matching(&minute).unwrap_or(false);
    let mut due = Vec::new();
    for r in restaurants {
        let tz = Programme::from(r).timezone;
        let today = minute.with_timezone(&tz).date_naive();
        due.extend(daily_times(r).into_iter().filter(|(_, at)| slot_on(tz, today, *at) == minute).map(|(job, _)| (job, r)));
        if retry {
            due.extend(scheduled(Schedule::DeliveryCron).map(|job| (job, r)));
        }
    }
    due
}

/// Most missed slots of one date-bound campaign run late at a start.
const MAX_CATCH_UP_SLOTS: usize = 64;

/// A restaurant's slots of the last `window` before `now` (inclusive) worth running late,
/// oldest first: every one of the date-bound campaigns (each day has its own birthdays and
/// anniversaries), only the latest of the other jobs (they bring the present up to date
/// whenever they run).
pub fn catch_up_slots(r: &restaurant::Model, deliveries: &Cron, now: DateTime<Utc>, window: Duration) -> Vec<(Job, DateTime<Utc>)> {
    let tz = Programme::from(r).timezone;
    let today = now.with_timezone(&tz).date_naive();
    let days = window.num_days() + 2;
    let mut slots = Vec::new();
    for (job, at) in daily_times(r) {
        let recent: Vec<DateTime<Utc>> =
            (0..=days).map(|back| slot_on(tz, today - Duration::days(back), at)).filter(|slot| *slot <= now && *slot > now - window).collect();
        let keep = if matches!(job.schedule(), Schedule::Daily { every_missed_day: true, .. }) { MAX_CATCH_UP_SLOTS } else { 1 };
        slots.extend(recent.into_iter().take(keep).map(|slot| (job, slot)));
    }
    if let Some(slot) = deliveries.iter_before(now + Duration::seconds(1)).next().filter(|slot| *slot > now - window) {
        slots.extend(scheduled(Schedule::DeliveryCron).map(|job| (job, slot)));
    }
    slots.sort_by_key(|(_, slot)| *slot);
    slots
}

/// Runs, for every restaurant, the slots of [`catch_up_slots`] that no replica has run yet
/// (recorded as `catch-up`); returns how many ran.
pub async fn catch_up(ctx: &JobContext, deliveries: &Cron, now: DateTime<Utc>) -> Result<usize, JobError> {
    let window = Duration::hours(i64::from(ctx.config.catch_up_hours));
    if window.is_zero() {
        return Ok(0);
    }
    let mut ran = 0;
    for r in restaurants::list(&ctx.db).await? {
        let scope = Scope::new(r.id.clone(), "scheduler", ctx.vault.clone());
        let done: HashSet<(String, DateTime<Utc>)> = job_runs::slots_since(&ctx.db, &scope, now - window).await?.into_iter().collect();
        for (job, slot) in catch_up_slots(&r, deliveries, now, window) {
            if done.contains(&(job.name().to_string(), slot)) {
                continue;
            }
            tracing::info!(job = job.name(), restaurant = %r.id, %slot, "running a slot missed while no scheduler was up");
            match run_job(ctx, &r, job, RunTrigger::CatchUp, false, Some(slot)).await {
                Ok(Some(_)) => ran += 1,
                Ok(None) => {}
                Err(e) => tracing::error!(job = job.name(), restaurant = %r.id, %slot, error = %e, "catch-up run failed"),
            }
        }
    }
    Ok(ran)
}

/// One tick: marks runs whose replica died as abandoned (and runs their slots again), then
/// starts the slots due this minute.
async fn tick(ctx: &JobContext, deliveries: &Cron, now: DateTime<Utc>) -> Result<(), JobError> {
    if ctx.lifecycle.is_stopping() {
        return Ok(());
    }
    let minute = now.with_second(0).unwrap_or(now);
    if job_runs::abandon_stale(&ctx.db, now - Duration::seconds(STALE_RUN_SECS)).await? > 0 {
        tracing::warn!("runs whose replica stopped were marked abandoned; running their slots again");
        let (ctx, deliveries) = (ctx.clone(), deliveries.clone());
        tokio::spawn(async move {
            if let Err(e) = catch_up(&ctx, &deliveries, now).await {
                tracing::error!(error = %e, "running abandoned slots again failed");
            }
        });
    }
    let all = restaurants::list(&ctx.db).await?;
    let busy = sends::restaurants_with_work(&ctx.db, now).await?;
    let campaigns = all.iter().filter(|r| busy.contains(&r.id)).flat_map(|r| scheduled(Schedule::WhenDue).map(move |job| (job, r)));
    for (job, r) in due_slots(&all, deliveries, minute).into_iter().chain(campaigns) {
        let (ctx, r) = (ctx.clone(), r.clone());
        tokio::spawn(async move {
            if let Err(e) = run_job(&ctx, &r, job, RunTrigger::Schedule, false, Some(minute)).await {
                tracing::error!(job = job.name(), restaurant = %r.id, error = %e, "scheduled job failed");
            }
        });
    }
    Ok(())
}

/// Starts the scheduler; it runs until the returned handle is shut down. With `catch_up`, it
/// first runs the slots missed while no scheduler was up (not on a brand-new database).
pub async fn start(ctx: JobContext, catch_up_missed: bool) -> Result<JobScheduler, JobError> {
    let deliveries = parse_cron(&ctx.config.deliveries_cron)?;
    tracing::info!(deliveries = %ctx.config.deliveries_cron, "scheduler started: daily jobs at each restaurant's local times");
    {
        let (ctx, deliveries) = (ctx.clone(), deliveries.clone());
        tokio::spawn(async move {
            let now = Utc::now().trunc_subsecs(0);
            match job_runs::abandon_stale(&ctx.db, now - Duration::seconds(STALE_RUN_SECS)).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(runs = n, "runs whose replica stopped were marked abandoned; running their slots again"),
                Err(e) => tracing::error!(error = %e, "marking abandoned runs failed"),
            }
            if !catch_up_missed {
                return;
            }
            if let Err(e) = catch_up(&ctx, &deliveries, now).await {
                tracing::error!(error = %e, "catching up missed scheduled runs failed");
            }
        });
    }
    let sched = JobScheduler::new().await.map_err(|e| JobError::Config(e.to_string()))?;
    let job = tokio_cron_scheduler::Job::new_async("0 * * * * *", move |_, _| {
        let (ctx, deliveries) = (ctx.clone(), deliveries.clone());
        Box::pin(async move {
            if let Err(e) = tick(&ctx, &deliveries, Utc::now().trunc_subsecs(0)).await {
                tracing::error!(error = %e, "scheduler tick failed");
            }
        })
    })
    .map_err(|e| JobError::Config(e.to_string()))?;
    sched.add(job).await.map_err(|e| JobError::Config(e.to_string()))?;
    sched.start().await.map_err(|e| JobError::Config(e.to_string()))?;
    Ok(sched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn restaurant(id: &str, tz: &str) -> restaurant::Model {
        restaurant::Model { id: id.into(), name: id.into(), timezone: tz.into(), dormancy_at: "02:30".into(), ..entity::testing::restaurant_fixture() }
    }

    fn never() -> Cron {
        parse_cron("0 0 0 1 1 *").unwrap()
    }

    fn due_in_day(r: &restaurant::Model, job: Job, day_start_utc: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let rs = [r.clone()];
        (0..(26 * 60)).map(|m| day_start_utc + Duration::minutes(m)).filter(|minute| due_slots(&rs, &never(), *minute).iter().any(|(j, _)| *j == job)).collect()
    }

    #[test]
    fn each_restaurant_runs_at_its_own_local_time() {
        let auckland = restaurant("a", "Pacific/Auckland");
        let la = restaurant("b", "America/Los_Angeles");
        let day = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        assert_eq!(due_in_day(&auckland, Job::Birthday, day), vec![Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 0).unwrap()], "09:00 NZDT");
        assert_eq!(due_in_day(&la, Job::Birthday, day), vec![Utc.with_ymd_and_hms(2026, 11, 25, 17, 0, 0).unwrap()], "09:00 PST");
    }

    #[test]
    fn the_day_clocks_change_fires_once_and_a_skipped_time_still_runs() {
        let paris = restaurant("p", "Europe/Paris");
        let change = due_in_day(&paris, Job::Birthday, Utc.with_ymd_and_hms(2026, 10, 25, 0, 0, 0).unwrap());
        assert_eq!(change, vec![Utc.with_ymd_and_hms(2026, 10, 25, 8, 0, 0).unwrap()]);
        let spring = due_in_day(&paris, Job::Dormancy, Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).unwrap());
        assert_eq!(
            spring,
            vec![Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 3, 30, 0, 30, 0).unwrap()],
            "02:30 does not exist that night, so 03:00 CEST; the next night 02:30 CEST"
        );
    }

    #[test]
    fn deliveries_follow_the_cron_for_every_restaurant() {
        let rs = [restaurant("a", "UTC"), restaurant("b", "Asia/Tokyo")];
        let every_15 = parse_cron("0 */15 * * * *").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 3, 12, 15, 0).unwrap();
        let due: Vec<_> = due_slots(&rs, &every_15, at).into_iter().map(|(j, r)| (j, r.id.clone())).collect();
        assert_eq!(due, vec![(Job::Deliveries, "a".to_string()), (Job::Deliveries, "b".to_string())]);
        assert!(due_slots(&rs, &every_15, at + Duration::minutes(1)).is_empty());
    }

    #[test]
    fn catch_up_runs_every_missed_day_of_occasions_and_the_latest_of_the_rest() {
        let r = restaurant("a", "UTC");
        let every_5 = parse_cron("0 */5 * * * *").unwrap();
        let at = |d, h, m| Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap();
        let slots = catch_up_slots(&r, &every_5, at(3, 10, 2), Duration::hours(48));
        assert_eq!(
            slots,
            vec![
                (Job::Birthday, at(2, 9, 0)),
                (Job::Anniversary, at(2, 9, 5)),
                (Job::Occasions, at(2, 9, 5)),
                (Job::MemberAnniversary, at(2, 9, 5)),
                (Job::Dormancy, at(3, 2, 30)),
                (Job::StaffDigest, at(3, 2, 30)),
                (Job::PointsExpiry, at(3, 2, 30)),
                (Job::Retention, at(3, 2, 30)),
                (Job::ModelFit, at(3, 2, 30)),
                (Job::Birthday, at(3, 9, 0)),
                (Job::Welcome, at(3, 9, 0)),
                (Job::WelcomeFollowUp, at(3, 9, 0)),
                (Job::Anniversary, at(3, 9, 5)),
                (Job::Occasions, at(3, 9, 5)),
                (Job::MemberAnniversary, at(3, 9, 5)),
                (Job::WinBack, at(3, 10, 0)),
                (Job::NearingReward, at(3, 10, 0)),
                (Job::AtRisk, at(3, 10, 0)),
                (Job::Deliveries, at(3, 10, 0)),
            ]
        );
        let exact = catch_up_slots(&r, &never(), at(3, 9, 0), Duration::hours(1));
        assert_eq!(
            exact,
            vec![(Job::Birthday, at(3, 9, 0)), (Job::Welcome, at(3, 9, 0)), (Job::WelcomeFollowUp, at(3, 9, 0))],
            "a slot at this very minute counts"
        );
        let auckland = catch_up_slots(&restaurant("n", "Pacific/Auckland"), &never(), at(3, 10, 2), Duration::hours(24));
        assert!(auckland.contains(&(Job::Birthday, at(2, 20, 0))), "slots are the restaurant's local times: {auckland:?}");
    }

    #[test]
    fn bad_expressions_are_refused() {
        assert!(parse_cron("every day").is_err());
        assert!(parse_cron("0 0 9 * *").is_err(), "seconds are required");
        let err = parse_cron("30 * * * * *").unwrap_err().to_string();
        assert!(err.contains("must be 0"), "{err}");
        assert!(parse_cron("*/20 * * * * *").is_err());
    }
}
