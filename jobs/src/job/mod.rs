//! The jobs there are: one [`BackgroundJob`] impl per job (what it is called, when it runs,
//! what it does), and [`Job`], the name a caller picks one by.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use entity::Scope;
use entity::entities::restaurant;
use entity::marketing::kinds::Campaign;
use entity::rules::programme::Programme;
use serde::Serialize;

use crate::{JobContext, JobError, JobReport};

mod automation;
mod housekeeping;
mod sending;

/// A boxed future, so a job can be a trait object.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<JobReport, JobError>> + Send + 'a>>;

/// One kind of background work, run for one restaurant at a time by [`crate::run_job`], which
/// records the run, beats its heartbeat and reports it.
pub trait BackgroundJob: Sync {
    /// The job's name, as used on the command line and in job runs.
    fn name(&self) -> &'static str;
    /// What the job does, in one line.
    fn description(&self) -> &'static str;
    /// When the scheduler runs it.
    fn schedule(&self) -> Schedule;
    /// The built-in campaign it sends, if it sends one.
    fn campaign(&self) -> Option<Campaign> {
        None
    }
    /// Does the work; with `run.dry_run` it changes and sends nothing and lists who it would
    /// change or email.
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a>;
}

/// What one run of a job works with.
pub struct Run<'a> {
    pub ctx: &'a JobContext,
    pub restaurant: &'a restaurant::Model,
    pub scope: &'a Scope,
    pub programme: Programme,
    pub now: DateTime<Utc>,
    /// The restaurant's local date of the slot (of `now` for a manual run): a slot run late
    /// after midnight still greets the people of its own day.
    pub today: NaiveDate,
    pub dry_run: bool,
}

/// When the scheduler runs a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Daily at one of the restaurant's local times of day. A scheduler that starts late runs
    /// every missed day when `every_missed_day` (each day has its own birthdays), else only
    /// the latest slot (the job brings the present up to date whenever it runs).
    Daily { at: TimeOfDay, every_missed_day: bool },
    /// On the deployment's delivery cron (UTC), for every restaurant.
    DeliveryCron,
    /// Every minute, for the restaurants whose campaigns have work.
    WhenDue,
}

/// The local times of day a restaurant sets for its daily jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOfDay {
    /// `dormancyAt`: housekeeping before opening.
    Housekeeping,
    /// `birthdayAt`.
    Birthday,
    /// `anniversaryAt`.
    Anniversary,
    /// `winBackAt`.
    WinBack,
}

impl TimeOfDay {
    /// The restaurant's setting (`HH:MM`).
    pub fn of(self, r: &restaurant::Model) -> &str {
        match self {
            TimeOfDay::Housekeeping => &r.dormancy_at,
            TimeOfDay::Birthday => &r.birthday_at,
            TimeOfDay::Anniversary => &r.anniversary_at,
            TimeOfDay::WinBack => &r.win_back_at,
        }
    }
}

/// The jobs there are, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Job {
    Dormancy,
    Birthday,
    Anniversary,
    WinBack,
    Deliveries,
    Campaigns,
    PointsExpiry,
    Welcome,
    AtRisk,
    Occasions,
    WelcomeFollowUp,
    StaffDigest,
    MemberAnniversary,
    NearingReward,
    Retention,
    ModelFit,
}

impl Job {
    /// Every job, in the order `loyalty jobs list` shows them (and a late scheduler runs the
    /// jobs of one slot).
    pub const ALL: [Job; 16] = [
        Job::Dormancy,
        Job::StaffDigest,
        Job::PointsExpiry,
        Job::Retention,
        Job::ModelFit,
        Job::Birthday,
        Job::Anniversary,
        Job::Occasions,
        Job::MemberAnniversary,
        Job::WinBack,
        Job::NearingReward,
        Job::Welcome,
        Job::WelcomeFollowUp,
        Job::AtRisk,
        Job::Deliveries,
        Job::Campaigns,
    ];

    /// The job itself.
    pub fn work(self) -> &'static dyn BackgroundJob {
        match self {
            Job::Dormancy => &housekeeping::Dormancy,
            Job::StaffDigest => &housekeeping::StaffDigest,
            Job::PointsExpiry => &housekeeping::PointsExpiry,
            Job::Retention => &housekeeping::Retention,
            Job::ModelFit => &housekeeping::ModelFit,
            Job::Deliveries => &sending::Deliveries,
            Job::Campaigns => &sending::Campaigns,
            Job::Birthday => &automation::BIRTHDAY,
            Job::Anniversary => &automation::ANNIVERSARY,
            Job::Occasions => &automation::OCCASIONS,
            Job::MemberAnniversary => &automation::MEMBER_ANNIVERSARY,
            Job::WinBack => &automation::WIN_BACK,
            Job::NearingReward => &automation::NEARING_REWARD,
            Job::Welcome => &automation::WELCOME,
            Job::WelcomeFollowUp => &automation::WELCOME_FOLLOW_UP,
            Job::AtRisk => &automation::AT_RISK,
        }
    }

    /// The job's name, as used on the command line and in job runs.
    pub fn name(self) -> &'static str {
        self.work().name()
    }

    /// What the job does, in one line.
    pub fn description(self) -> &'static str {
        self.work().description()
    }

    /// The campaign a job sends, if it sends one.
    pub fn campaign(self) -> Option<Campaign> {
        self.work().campaign()
    }

    /// When the scheduler runs it.
    pub fn schedule(self) -> Schedule {
        self.work().schedule()
    }
}

impl FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Job::ALL.into_iter().find(|j| j.name() == s).ok_or_else(|| format!("unknown job {s:?}; jobs: {}", Job::ALL.map(Job::name).join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_has_its_own_name_and_parses_back() {
        let names: std::collections::HashSet<&str> = Job::ALL.iter().map(|j| j.name()).collect();
        assert_eq!(names.len(), Job::ALL.len());
        for job in Job::ALL {
            assert_eq!(job.name().parse::<Job>(), Ok(job));
        }
        assert!("nope".parse::<Job>().unwrap_err().contains("dormancy"));
    }
}
