//! Points expiry: a restaurant's balance expires after `months` without activity (earning,
//! redeeming, a visit). Never retroactive: switching the policy on starts every member's clock
//! at that moment, and shortening it applies to activity after the change only (activity before
//! keeps the longer period), so a policy edit never moves anyone's expiry date earlier.

use chrono::{DateTime, Months, Utc};

/// A restaurant's expiry policy with the bookkeeping of its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpiryPolicy {
    /// Months without activity after which the balance expires; 0: never.
    pub months: u32,
    /// When the policy was (last) switched on.
    pub started_at: Option<DateTime<Utc>>,
    /// When it was last shortened, and the longest period that applied before (it still
    /// applies to activity before that moment).
    pub shortened_at: Option<DateTime<Utc>>,
    pub previous_months: u32,
}

fn plus(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    at.checked_add_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn minus(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    at.checked_sub_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl ExpiryPolicy {
    /// When a balance last active at `last_activity` expires; `None` when the policy is off.
    pub fn expires_at(&self, last_activity: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.months == 0 {
            return None;
        }
        let started = self.started_at.unwrap_or(last_activity);
        let mut at = plus(std::cmp::max(last_activity, started), self.months);
        if let Some(shortened) = self.shortened_at
            && last_activity < shortened
        {
            at = std::cmp::max(at, plus(std::cmp::max(last_activity, started), self.previous_months));
        }
        Some(at)
    }

    /// The policy after setting `months` at `now`: switching on starts the clock now; shortening
    /// keeps the longer period for activity before now; lengthening only moves dates later.
    pub fn change(self, months: u32, now: DateTime<Utc>) -> Self {
        match (self.months, months) {
            (_, 0) => Self::default(),
            (0, m) => Self { months: m, started_at: Some(now), shortened_at: None, previous_months: 0 },
            (old, m) if m < old => Self { months: m, shortened_at: Some(now), previous_months: std::cmp::max(old, self.previous_months), ..self },
            (_, m) => Self { months: m, ..self },
        }
    }

    /// Whether a balance whose last activity was `last_activity` has expired by `at`, as bounds
    /// on `last_activity` the database can compare: expired ⇔ `last_activity ≤ latest` and,
    /// when `shortened` is `Some((t, latest_before))`, (`last_activity ≥ t` or `last_activity ≤
    /// latest_before`). `None`: nobody has expired by `at`.
    pub fn expired_by(&self, at: DateTime<Utc>) -> Option<ExpiredBy> {
        if self.months == 0 {
            return None;
        }
        if self.started_at.is_some_and(|s| plus(s, self.months) > at) {
            return None;
        }
        let shortened = match self.shortened_at {
            Some(t) if self.started_at.is_none_or(|s| plus(s, self.previous_months) <= at) => Some((t, minus(at, self.previous_months))),
            Some(t) => Some((t, DateTime::<Utc>::MIN_UTC)),
            None => None,
        };
        Some(ExpiredBy { latest: minus(at, self.months), shortened })
    }
}

/// See [`ExpiryPolicy::expired_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiredBy {
    pub latest: DateTime<Utc>,
    pub shortened: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl ExpiredBy {
    /// The same test in Rust (for checking the bounds against [`ExpiryPolicy::expires_at`]).
    pub fn holds(&self, last_activity: DateTime<Utc>) -> bool {
        last_activity <= self.latest && self.shortened.is_none_or(|(t, before)| last_activity >= t || last_activity <= before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn switching_on_starts_the_clock_then() {
        let p = ExpiryPolicy::default().change(12, day(2026, 6, 1));
        assert_eq!(p.expires_at(day(2024, 1, 1)), Some(day(2027, 6, 1)), "idle for years: still a full period from the switch");
        assert_eq!(p.expires_at(day(2026, 9, 1)), Some(day(2027, 9, 1)));
        assert_eq!(p.expired_by(day(2027, 5, 31)), None, "nobody expires before a full period has passed");
        assert!(p.expired_by(day(2027, 6, 1)).unwrap().holds(day(2024, 1, 1)));
        assert_eq!(ExpiryPolicy::default().expires_at(day(2020, 1, 1)), None);
    }

    #[test]
    fn a_policy_edit_never_moves_a_date_earlier() {
        let on = ExpiryPolicy::default().change(24, day(2024, 1, 1));
        let active = day(2025, 1, 1);
        let before = on.expires_at(active).unwrap();
        let shorter = on.change(6, day(2025, 3, 1));
        assert_eq!(shorter.expires_at(active), Some(before), "activity before the change keeps its date");
        assert_eq!(shorter.expires_at(day(2025, 4, 1)), Some(day(2025, 10, 1)), "activity after it: the new period");
        let shorter_again = shorter.change(3, day(2025, 5, 1));
        assert!(shorter_again.expires_at(active).unwrap() >= before, "a second shortening keeps the longest");
        let longer = shorter.change(36, day(2025, 5, 1));
        assert!(longer.expires_at(active).unwrap() >= before);
        assert!(longer.expires_at(day(2025, 4, 1)).unwrap() >= shorter.expires_at(day(2025, 4, 1)).unwrap());
    }

    #[test]
    fn the_sql_bounds_agree_with_the_dates() {
        let p = ExpiryPolicy::default().change(24, day(2022, 1, 1)).change(6, day(2025, 3, 1));
        for at in [day(2024, 1, 2), day(2025, 6, 1), day(2025, 12, 1), day(2027, 6, 1)] {
            for last in [day(2021, 5, 1), day(2023, 1, 1), day(2024, 11, 1), day(2025, 2, 28), day(2025, 3, 2), day(2025, 5, 1), day(2027, 1, 1)] {
                let expired = p.expires_at(last).unwrap() <= at;
                let bounds = p.expired_by(at).is_some_and(|b| b.holds(last));
                assert_eq!(bounds, expired, "at {at}, last activity {last}");
            }
        }
    }
}
