//! What a fit and its report need, gathered one member at a time without keeping the members:
//! histories grouped (members with the same history share one likelihood term), repeat spend,
//! holdout counts and the days the tracking chart counts.

use std::collections::HashMap;

use super::calibration::{self, HoldoutRow, TrackingPoint};
use super::{FitError, History, bgnbd, gamma_gamma};

/// Lines of the holdout table: 0 … 7 repeat visits, the last "7 or more" (the papers' table).
pub const HOLDOUT_LINES: u32 = 7;

/// Members gathered for a fit calibrated on days up to `end` (inclusive), with the holdout
/// period `end + 1 ..= holdout_end` (empty when equal).
#[derive(Debug, Default)]
pub struct Dataset {
    end: i64,
    holdout_end: i64,
    start: Option<i64>,
    histories: HashMap<History, u64>,
    /// (repeat visits, mean spend per repeat visit in hundredths of a cent) → members.
    spend: HashMap<(u32, i64), u64>,
    holdout: HashMap<(History, u32), u64>,
    first_days: HashMap<i64, u64>,
    repeat_days: HashMap<i64, u64>,
}

/// Both models fitted on one data set, each on its own (a spend model can fail where the visit
/// model did not).
pub struct Fitted {
    pub visits: Result<bgnbd::Fit, FitError>,
    pub spend: Result<gamma_gamma::Fit, FitError>,
}

impl Dataset {
    pub fn new(end: i64, holdout_end: i64) -> Self {
        Self { end, holdout_end: holdout_end.max(end), ..Self::default() }
    }

    /// Adds one member's visits: `(day, spend in cents)` in day order (several on one day are one
    /// visit of their summed spend). A member whose first visit is after `end` is not counted.
    pub fn add(&mut self, visits: &[(i64, i64)]) {
        let days = visit_days(visits, self.holdout_end);
        let list: Vec<i64> = days.iter().map(|(d, _)| *d).collect();
        let Some(history) = History::from_days(&list, self.end) else { return };
        let first = list[0];
        self.start = Some(self.start.map_or(first, |s| s.min(first)));
        *self.histories.entry(history).or_default() += 1;
        *self.first_days.entry(first).or_default() += 1;
        let repeat: Vec<i64> = days[1..].iter().filter(|(d, _)| *d <= self.end).map(|(_, c)| *c).collect();
        if !repeat.is_empty() {
            let mean = repeat.iter().sum::<i64>() as f64 / repeat.len() as f64;
            *self.spend.entry((history.x, (mean * 100.0).round() as i64)).or_default() += 1;
        }
        for (day, _) in &days[1..] {
            *self.repeat_days.entry(*day).or_default() += 1;
        }
        let later = u32::try_from(list.iter().filter(|d| **d > self.end).count()).unwrap_or(u32::MAX);
        *self.holdout.entry((history, later)).or_default() += 1;
    }

    /// Members counted.
    pub fn members(&self) -> u64 {
        self.histories.values().sum()
    }

    /// Members with a repeat visit in the calibration period.
    pub fn repeaters(&self) -> u64 {
        self.histories.iter().filter(|(h, _)| h.x > 0).map(|(_, n)| n).sum()
    }

    /// Distinct histories (the likelihood's terms).
    pub fn terms(&self) -> usize {
        self.histories.len()
    }

    /// Fits both models.
    pub fn fit(&self) -> Fitted {
        let mut groups: Vec<(History, u64)> = self.histories.iter().map(|(h, n)| (*h, *n)).collect();
        groups.sort_unstable();
        let mut spend: Vec<(u32, f64, u64)> = self.spend.iter().map(|((x, m), n)| (*x, *m as f64 / 10_000.0, *n)).collect();
        spend.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        Fitted { visits: bgnbd::fit(&groups), spend: gamma_gamma::fit(&spend) }
    }

    /// The holdout table (empty without a holdout period).
    pub fn holdout_table(&self, bg: &bgnbd::Params) -> Vec<HoldoutRow> {
        if self.holdout_end == self.end {
            return Vec::new();
        }
        let members: Vec<(History, u32, u64)> = self.holdout.iter().map(|((h, a), n)| (*h, *a, *n)).collect();
        calibration::holdout_table(bg, &members, u32::try_from(self.holdout_end - self.end).unwrap_or(u32::MAX), HOLDOUT_LINES)
    }

    /// The tracking chart, week by week from the first member's first visit to `holdout_end`
    /// (empty without a holdout period: it shows how a fit tracks days it did not see).
    pub fn tracking(&self, bg: &bgnbd::Params) -> Vec<TrackingPoint> {
        let Some(start) = self.start.filter(|_| self.holdout_end > self.end) else { return Vec::new() };
        let weeks = u32::try_from((self.holdout_end - start + 1).div_euclid(7)).unwrap_or(0);
        let firsts: Vec<(i64, u64)> = self.first_days.iter().map(|(d, n)| (*d, *n)).collect();
        let repeats: Vec<(i64, u64)> = self.repeat_days.iter().map(|(d, n)| (*d, *n)).collect();
        calibration::tracking(bg, start, weeks, &firsts, &repeats)
    }
}

/// Visits `(day, cents)` in day order up to day `until`, one per day with the day's summed spend.
pub fn visit_days(visits: &[(i64, i64)], until: i64) -> Vec<(i64, i64)> {
    let mut days: Vec<(i64, i64)> = Vec::with_capacity(visits.len());
    for &(day, cents) in visits.iter().filter(|(d, _)| *d <= until) {
        match days.last_mut() {
            Some((last, sum)) if *last == day => *sum += cents,
            _ => days.push((day, cents)),
        }
    }
    days
}

/// One member's history at day `today` and the mean spend of their repeat visits in the
/// currency's unit (0 without any); `None` before their first visit.
pub fn member(visits: &[(i64, i64)], today: i64) -> Option<(History, f64)> {
    let days = visit_days(visits, today);
    let list: Vec<i64> = days.iter().map(|(d, _)| *d).collect();
    let history = History::from_days(&list, today)?;
    let repeat = &days[1..];
    let mean = if repeat.is_empty() { 0.0 } else { repeat.iter().map(|(_, c)| *c).sum::<i64>() as f64 / repeat.len() as f64 / 100.0 };
    Some((history, mean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_counted_once_per_day() {
        let mut d = Dataset::new(100, 150);
        d.add(&[(10, 500), (10, 250), (40, 1_000), (70, 3_000), (120, 2_000), (200, 9_999)]);
        d.add(&[(130, 700)]);
        assert_eq!(d.members(), 1, "a member first seen after the end is not fitted");
        assert_eq!(d.repeaters(), 1);
        assert_eq!(d.histories.get(&History { x: 2, recency: 60, age: 90 }), Some(&1));
        assert_eq!(d.spend.get(&(2, 200_000)), Some(&1), "mean of 10.00 and 30.00 dollars, in hundredths of a cent");
        assert_eq!(d.holdout.get(&(History { x: 2, recency: 60, age: 90 }, 1)), Some(&1), "day 200 is past the holdout");
        assert_eq!(d.first_days.get(&10), Some(&1));
        assert_eq!(d.repeat_days.len(), 3);
    }

    #[test]
    fn a_member_today() {
        let (h, mean) = member(&[(10, 500), (10, 250), (40, 1_000), (70, 3_000), (120, 2_000)], 100).unwrap();
        assert_eq!(h, History { x: 2, recency: 60, age: 90 });
        assert!((mean - 20.0).abs() < 1e-12);
        assert_eq!(member(&[(10, 500)], 12).unwrap(), (History { x: 0, recency: 0, age: 2 }, 0.0));
        assert_eq!(member(&[], 12), None);
    }
}
