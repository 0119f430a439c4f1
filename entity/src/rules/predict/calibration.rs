//! How well a fit predicts a holdout period it did not see: expected against actual repeat
//! visits by number of visits in the calibration period (the papers' conditional table), and
//! cumulated week by week over both periods (their tracking chart).

use std::collections::HashMap;

use serde::Serialize;

use super::{DAYS_PER_WEEK, History, bgnbd};

/// One line of the conditional table: members with `repeat_visits` repeat visits in the
/// calibration period (the last line: that many or more), their visits in the holdout period
/// and what the fit expected, summed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HoldoutRow {
    pub repeat_visits: u32,
    pub members: u64,
    pub actual: f64,
    pub expected: f64,
}

/// The conditional table over `members` (a calibration history, the visit days in the holdout
/// period of `horizon` days, and how many members had both), with lines 0 … `last` (the last one
/// "or more").
pub fn holdout_table(bg: &bgnbd::Params, members: &[(History, u32, u64)], horizon: u32, last: u32) -> Vec<HoldoutRow> {
    let mut rows: Vec<HoldoutRow> = (0..=last).map(|repeat_visits| HoldoutRow { repeat_visits, members: 0, actual: 0.0, expected: 0.0 }).collect();
    let weeks = f64::from(horizon) / DAYS_PER_WEEK;
    for (history, actual, n) in members {
        let (x, t_x, t) = history.weeks();
        let row = &mut rows[history.x.min(last) as usize];
        row.members += n;
        row.actual += f64::from(*actual) * *n as f64;
        row.expected += bgnbd::expected_visits(bg, x, t_x, t, weeks) * *n as f64;
    }
    rows
}

/// One week of the tracking chart: repeat visits up to the end of week `week` (counted from the
/// first day), cumulated, actual and expected.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackingPoint {
    pub week: u32,
    pub actual: f64,
    pub expected: f64,
}

/// The tracking chart over `weeks` weeks from day `start`: `first_days` the members' first visit
/// days with how many members began that day, `repeat_days` the days of repeat visits with how
/// many members came back that day.
pub fn tracking(bg: &bgnbd::Params, start: i64, weeks: u32, first_days: &[(i64, u64)], repeat_days: &[(i64, u64)]) -> Vec<TrackingPoint> {
    let mut per_week = vec![0u64; weeks as usize];
    for (day, n) in repeat_days {
        let week = (day - start).div_euclid(7);
        if let Some(slot) = usize::try_from(week).ok().and_then(|w| per_week.get_mut(w)) {
            *slot += n;
        }
    }
    // The expectation depends only on a cohort's age in days: computed once per age (a chart
    // over years has thousands of weeks times hundreds of first days, but far fewer ages).
    let mut by_age: HashMap<i64, f64> = HashMap::new();
    let mut actual = 0u64;
    (1..=weeks)
        .map(|week| {
            actual += per_week[week as usize - 1];
            let end = start + i64::from(week) * 7;
            let expected = first_days
                .iter()
                .filter(|(first, _)| *first < end)
                .map(|(first, n)| {
                    let age = end - 1 - first;
                    *by_age.entry(age).or_insert_with(|| bgnbd::expected_visits_new(bg, age as f64 / DAYS_PER_WEEK)) * *n as f64
                })
                .sum();
            TrackingPoint { week, actual: actual as f64, expected }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BG: bgnbd::Params = bgnbd::Params { r: 0.242595, alpha: 4.413603, a: 0.792922, b: 2.425906 };

    #[test]
    fn the_table_sums_members_by_their_visits() {
        let members = [
            (History { x: 0, recency: 0, age: 200 }, 1, 1),
            (History { x: 3, recency: 150, age: 200 }, 2, 1),
            (History { x: 9, recency: 190, age: 200 }, 4, 1),
        ];
        let rows = holdout_table(&BG, &members, 273, 3);
        assert_eq!(rows.len(), 4);
        assert_eq!((rows[0].members, rows[0].actual), (1, 1.0));
        assert_eq!((rows[3].members, rows[3].actual), (2, 6.0), "3 and 9 share the last line");
        assert!(rows[3].expected > rows[0].expected);
    }

    #[test]
    fn tracking_cumulates_by_week() {
        let points = tracking(&BG, 0, 3, &[(0, 10), (8, 5)], &[(1, 1), (2, 1), (9, 1), (20, 1), (99, 1)]);
        let actual: Vec<f64> = points.iter().map(|p| p.actual).collect();
        assert_eq!(actual, vec![2.0, 3.0, 4.0]);
        assert!(points.windows(2).all(|w| w[0].expected < w[1].expected));
    }
}
