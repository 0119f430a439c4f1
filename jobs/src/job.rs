//! The jobs there are: names, descriptions, the campaign each sends.

use std::str::FromStr;

use entity::ops::campaigns::Campaign;
use serde::Serialize;

/// The jobs there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Job {
    /// Keeps `dormant`, `at-risk` (and the expiry of `new-customer`) current.
    Dormancy,
    /// Birthday emails.
    Birthday,
    /// Anniversary emails.
    Anniversary,
    /// Win-back emails to dormant customers.
    WinBack,
    /// Retries pending deliveries of every campaign.
    Deliveries,
    /// Starts the marketer-built campaigns that are due and sends their emails.
    Campaigns,
    /// Warns members whose points expire soon and expires the balances that are due.
    PointsExpiry,
    /// Automation: welcome emails after a first visit or sign-up (when switched on).
    Welcome,
    /// Automation: a nudge to members who entered the at-risk window (when switched on).
    AtRisk,
    /// Automation: custom occasions on their day (when switched on).
    Occasions,
    /// Automation: the second welcome email to members who have not returned (when switched on).
    WelcomeFollowUp,
    /// The morning brief to staff: today's and tomorrow's occasions with each guest's tier,
    /// favourites, allergies and latest note.
    StaffDigest,
    /// Automation: the yearly anniversary of joining (when switched on).
    MemberAnniversary,
    /// Automation: members close to a reward or their next tier (when switched on).
    NearingReward,
    /// Purges old idempotency keys, job runs and finished deliveries; erases inactive members
    /// when the restaurant's policy says so.
    Retention,
}

impl Job {
    /// Every job, in the order `loyalty jobs list` shows them.
    pub const ALL: [Job; 15] = [
        Job::Dormancy,
        Job::StaffDigest,
        Job::PointsExpiry,
        Job::Retention,
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

    /// The job's name, as used on the command line and in job runs.
    pub fn name(self) -> &'static str {
        match self {
            Job::Dormancy => "dormancy",
            Job::Birthday => "birthday",
            Job::Anniversary => "anniversary",
            Job::WinBack => "win-back",
            Job::Deliveries => "deliveries",
            Job::Campaigns => "campaigns",
            Job::PointsExpiry => "points-expiry",
            Job::Welcome => "welcome",
            Job::AtRisk => "at-risk",
            Job::Occasions => "occasions",
            Job::StaffDigest => "staff-digest",
            Job::WelcomeFollowUp => "welcome-follow-up",
            Job::MemberAnniversary => "member-anniversary",
            Job::NearingReward => "nearing-reward",
            Job::Retention => "retention",
        }
    }

    /// What the job does, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Job::Dormancy => "keep time-based tags and segments current: dormant, at-risk, new-customer expiry",
            Job::Birthday => "email birthday offers to opted-in customers",
            Job::Anniversary => "email anniversary offers to opted-in customers",
            Job::WinBack => "email win-back offers to dormant, opted-in customers",
            Job::Deliveries => "retry pending emails of every campaign",
            Job::Campaigns => "start due marketer-built campaigns and send their emails (checked every minute)",
            Job::PointsExpiry => "warn members whose points expire soon, then expire the balances that are due (restaurants with a policy)",
            Job::Welcome => "automation (off until switched on): welcome email after a first visit or sign-up",
            Job::AtRisk => "automation (off until switched on): nudge members who entered the at-risk window",
            Job::Occasions => "automation (off until switched on): email members on the custom occasions staff added",
            Job::WelcomeFollowUp => "automation (off until switched on): second welcome email welcomeFollowUpDays (14) after a first visit, if not returned",
            Job::MemberAnniversary => "automation (off until switched on): email members on the anniversary of the day they joined",
            Job::NearingReward => "automation (off until switched on): email members within nearingRewardPoints of a reward or their next tier",
            Job::Retention => {
                "purge idempotency keys, job runs and finished deliveries past their retention; erase members inactive for eraseInactiveAfterMonths (when set)"
            }
            Job::StaffDigest => "email the pre-shift brief (today's and tomorrow's occasions) to the restaurant's staff digest addresses",
        }
    }

    /// The campaign a job sends, if it sends one.
    pub fn campaign(self) -> Option<Campaign> {
        match self {
            Job::Birthday => Some(Campaign::Birthday),
            Job::Anniversary => Some(Campaign::Anniversary),
            Job::WinBack => Some(Campaign::WinBack),
            Job::PointsExpiry => Some(Campaign::PointsExpiry),
            Job::Welcome => Some(Campaign::Welcome),
            Job::AtRisk => Some(Campaign::AtRisk),
            Job::Occasions => Some(Campaign::Occasion),
            Job::WelcomeFollowUp => Some(Campaign::WelcomeFollowUp),
            Job::MemberAnniversary => Some(Campaign::MemberAnniversary),
            Job::NearingReward => Some(Campaign::NearingReward),
            Job::Dormancy | Job::Deliveries | Job::Campaigns | Job::StaffDigest | Job::Retention => None,
        }
    }
}

impl FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Job::ALL.into_iter().find(|j| j.name() == s).ok_or_else(|| format!("unknown job {s:?}; jobs: {}", Job::ALL.map(Job::name).join(", ")))
    }
}
