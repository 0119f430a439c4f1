//! A restaurant's programme settings as the rules use them: its time zone (what "today" is and
//! when a calendar day starts), earn and redemption rates, tier discounts, the dormancy and
//! at-risk thresholds, and when its daily jobs run. Built from the `restaurants` row, whose
//! values [`super::restaurant::check`] has validated.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::expiry::ExpiryPolicy;
use crate::entities::{Tier, restaurant};

/// What the rules need to know of one restaurant.
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    pub timezone: Tz,
    /// Points per whole currency unit of an order.
    pub points_per_dollar: i64,
    /// Points that make one currency unit of discount.
    pub points_per_redeemed_dollar: i64,
    /// Points a referrer earns.
    pub referral_bonus: i64,
    /// Occasion discount in percent, bronze to VIP.
    pub tier_discounts: [u8; 5],
    /// A last visit more than this many calendar days ago makes a member dormant.
    pub dormant_days: i64,
    /// A last visit at least this many calendar days ago makes a member at risk.
    pub at_risk_days: i64,
    /// Occasion emails go this many days ahead.
    pub occasion_lead_days: u32,
    /// At most one win-back email per this many days.
    pub win_back_days: u32,
    /// How many marketing emails a member may get in a window.
    pub cap: FrequencyCap,
    /// The win-back email's voucher, in percent off (0: none).
    pub win_back_percent: u8,
    /// The at-risk and win-back automations by predicted activity (none: by days).
    pub churn: Option<Churn>,
    /// Days a birthday or win-back voucher stays valid.
    pub benefit_days: u32,
    /// Whether a refund may lower a member's tier.
    pub refunds_lower_tier: bool,
    /// When balances expire.
    pub expiry: ExpiryPolicy,
    /// Members are warned this many days before their points expire.
    pub expiry_warning_days: u32,
    /// Days after a first visit the second welcome email goes to members who have not returned.
    pub welcome_follow_up_days: u32,
    /// Points from a reward or the next tier at which a member is "nearing" it.
    pub nearing_points: i64,
    /// How long what piles up is kept.
    pub retention: Retention,
    /// How emails write dates and numbers.
    pub locale: crate::entities::Locale,
}

/// Thresholds on the predicted probability that a member is still active: at or above
/// `win_back_below` and below `at_risk_below` a member is at risk; below `win_back_below`, lost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Churn {
    pub at_risk_below: f64,
    pub win_back_below: f64,
}

/// How long a restaurant keeps what piles up, and when inactive members are erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub idempotency_days: u32,
    pub job_run_days: u32,
    pub delivery_days: u32,
    /// 0: never.
    pub erase_inactive_months: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self { idempotency_days: 30, job_run_days: 90, delivery_days: 400, erase_inactive_months: 0 }
    }
}

/// At most `emails` marketing emails per member per `days` days (`days` 0: no cap); occasion
/// emails (birthday, anniversary) count and are capped only with `occasions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrequencyCap {
    pub emails: u32,
    pub days: u32,
    pub occasions: bool,
}

impl Default for Programme {
    /// The spec's values, in UTC.
    fn default() -> Self {
        Self {
            timezone: Tz::UTC,
            points_per_dollar: 1,
            points_per_redeemed_dollar: 100,
            referral_bonus: 100,
            tier_discounts: [0, 5, 10, 15, 20],
            dormant_days: 90,
            at_risk_days: 45,
            occasion_lead_days: 0,
            win_back_days: 30,
            cap: FrequencyCap { emails: 2, days: 7, occasions: false },
            win_back_percent: 0,
            churn: None,
            benefit_days: 30,
            refunds_lower_tier: false,
            expiry: ExpiryPolicy::default(),
            expiry_warning_days: 30,
            welcome_follow_up_days: 14,
            nearing_points: 100,
            retention: Retention::default(),
            locale: crate::entities::Locale::EnUs,
        }
    }
}

impl From<&restaurant::Model> for Programme {
    fn from(r: &restaurant::Model) -> Self {
        let pct = |v: i16| v.clamp(0, 100) as u8;
        Self {
            timezone: r.timezone.parse().unwrap_or(Tz::UTC),
            points_per_dollar: r.points_per_dollar,
            points_per_redeemed_dollar: r.points_per_redeemed_dollar.max(1),
            referral_bonus: r.referral_bonus,
            tier_discounts: [r.discount_bronze, r.discount_silver, r.discount_gold, r.discount_platinum, r.discount_vip].map(pct),
            dormant_days: i64::from(r.dormant_days),
            at_risk_days: i64::from(r.at_risk_days),
            occasion_lead_days: r.occasion_lead_days.max(0) as u32,
            win_back_days: r.win_back_days.max(1) as u32,
            cap: FrequencyCap { emails: r.cap_emails.max(1) as u32, days: r.cap_days.max(0) as u32, occasions: r.cap_occasions },
            win_back_percent: pct(r.win_back_percent),
            churn: r.churn_by_prediction.then(|| Churn {
                at_risk_below: f64::from(r.at_risk_probability_bp) / 10_000.0,
                win_back_below: f64::from(r.win_back_probability_bp) / 10_000.0,
            }),
            benefit_days: r.benefit_days.max(1) as u32,
            refunds_lower_tier: r.refunds_lower_tier,
            expiry: ExpiryPolicy {
                months: r.expiry_months.max(0) as u32,
                started_at: r.expiry_started_at,
                shortened_at: r.expiry_shortened_at,
                previous_months: r.expiry_previous_months.max(0) as u32,
            },
            expiry_warning_days: r.expiry_warning_days.max(0) as u32,
            welcome_follow_up_days: r.welcome_follow_up_days.max(1) as u32,
            nearing_points: i64::from(r.nearing_points.max(1)),
            retention: Retention {
                idempotency_days: r.keep_idempotency_days.max(1) as u32,
                job_run_days: r.keep_job_run_days.max(1) as u32,
                delivery_days: r.keep_delivery_days.max(1) as u32,
                erase_inactive_months: r.erase_inactive_months.max(0) as u32,
            },
            locale: r.locale,
        }
    }
}

impl Programme {
    /// The restaurant's calendar date at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.timezone).date_naive()
    }

    /// Whole calendar days, in the restaurant's zone, from `at` to `now`: 0 today, 1 yesterday.
    pub fn days_since(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        (self.today(now) - self.today(at)).num_days()
    }

    /// The instant local `date` begins.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        local_instant(self.timezone, date.and_time(NaiveTime::MIN))
    }

    /// The instant the local calendar day `days` days before today began (for set-based
    /// queries: "last visit before this instant" is "more than `days - 1` days ago").
    pub fn start_of_day_ago(&self, now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        self.start_of(self.today(now) - Duration::days(days))
    }

    /// The discount in percent a tier earns on occasion offers.
    pub fn discount_percent(&self, tier: Tier) -> u8 {
        self.tier_discounts[tier_index(tier)]
    }

    /// Points an order of `amount_cents` earns (per whole unit, rounded down as the spec's
    /// `Math.floor`).
    pub fn points_for_amount(&self, amount_cents: i64) -> i64 {
        amount_cents / 100 * self.points_per_dollar
    }

    /// The discount, in cents, that `points` are worth when redeemed (rounded down).
    pub fn redemption_value_cents(&self, points: i64) -> i64 {
        points * 100 / self.points_per_redeemed_dollar
    }
}

fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::Bronze => 0,
        Tier::Silver => 1,
        Tier::Gold => 2,
        Tier::Platinum => 3,
        Tier::Vip => 4,
    }
}

/// The instant a local wall-clock time happens in `tz`: the earlier one when clocks go back
/// (the time happens twice), and the first instant after the gap when clocks go forward (the
/// time does not happen that day), so every local date has exactly one slot.
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..=180 {
        if let Some(at) = tz.from_local_datetime(&probe).earliest() {
            return at.with_timezone(&Utc);
        }
        probe += Duration::minutes(1);
    }
    local.and_utc()
}

/// The instant of a daily job at local `time` on local `date`.
pub fn slot_on(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    local_instant(tz, date.and_time(time))
}

/// Parses a local time of day written `HH:MM` (00:00 to 23:59).
pub fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0).earliest().unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_are_counted_in_the_restaurant_zone() {
        let auckland = Programme { timezone: chrono_tz::Pacific::Auckland, ..Programme::default() };
        let now = at(chrono_tz::Pacific::Auckland, 2026, 11, 26, 8, 0);
        let last_night = at(chrono_tz::Pacific::Auckland, 2026, 11, 25, 23, 0);
        assert_eq!(auckland.days_since(last_night, now), 1, "yesterday in Auckland");
        assert_eq!(Programme::default().days_since(last_night, now), 0, "the same UTC day");
        assert_eq!(auckland.today(now), NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        assert_eq!(auckland.start_of_day_ago(now, 1), at(chrono_tz::Pacific::Auckland, 2026, 11, 25, 0, 0));
    }

    #[test]
    fn slots_exist_once_on_every_local_date() {
        let ny = chrono_tz::America::New_York;
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let half_past_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        assert_eq!(slot_on(ny, spring, half_past_two), at(ny, 2026, 3, 8, 3, 0), "the skipped time runs right after the gap");
        let autumn = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let half_past_one = NaiveTime::from_hms_opt(1, 30, 0).unwrap();
        assert_eq!(slot_on(ny, autumn, half_past_one), Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap(), "the first of the repeated times");
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        assert_eq!(
            slot_on(chrono_tz::Pacific::Auckland, NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(), nine),
            Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 0).unwrap()
        );
    }

    #[test]
    fn rates_and_discounts_follow_the_settings() {
        let p = Programme { points_per_dollar: 3, points_per_redeemed_dollar: 50, tier_discounts: [1, 2, 3, 4, 5], ..Programme::default() };
        assert_eq!(p.points_for_amount(4599), 135);
        assert_eq!(p.redemption_value_cents(500), 1000);
        assert_eq!(p.discount_percent(Tier::Platinum), 4);
        assert_eq!(Programme::default().redemption_value_cents(150), 150);
    }

    #[test]
    fn times_of_day_are_hh_mm() {
        assert_eq!(parse_time_of_day("09:05"), NaiveTime::from_hms_opt(9, 5, 0));
        assert_eq!(parse_time_of_day("23:59"), NaiveTime::from_hms_opt(23, 59, 0));
        for bad in ["24:00", "9:00", "09:60", "0900", "", "09:00:00", "aa:bb"] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
    }
}
