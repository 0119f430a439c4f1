//! Report figures: the buckets of a series (days, weeks from Monday, months) as local dates of
//! the restaurant, the visit frequency of a period, averages rounded as reports show them.

use chrono::{Datelike, Duration, Months, NaiveDate};

/// Bucket size of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
}

/// The first day of the bucket that holds `day`.
pub fn bucket_start(day: NaiveDate, interval: Interval) -> NaiveDate {
    match interval {
        Interval::Day => day,
        Interval::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Interval::Month => day.with_day(1).unwrap_or(day),
    }
}

/// The first days of the buckets covering `from`–`to` (inclusive), in order, followed by the
/// first day after the last bucket; the first bucket may start before `from`.
pub fn bucket_bounds(from: NaiveDate, to: NaiveDate, interval: Interval) -> Vec<NaiveDate> {
    let mut bounds = vec![bucket_start(from, interval)];
    while let Some(&last) = bounds.last() {
        if last > to {
            break;
        }
        let next = match interval {
            Interval::Day => last + Duration::days(1),
            Interval::Week => last + Duration::days(7),
            Interval::Month => last.checked_add_months(Months::new(1)).unwrap_or(NaiveDate::MAX),
        };
        bounds.push(next);
    }
    bounds
}

/// A figure rounded to two decimals, as reports show averages.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The average star rating of `count` reviews totalling `total` stars; `None` without reviews.
pub fn average_rating(total: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| round2(total as f64 / count as f64))
}

/// Visits per visiting customer per 30 days over a period of `days` days (at least one 30-day
/// month), rounded to two decimals; 0 without visitors.
pub fn visit_frequency(visits: i64, visitors: i64, days: i64) -> f64 {
    if visitors <= 0 {
        return 0.0;
    }
    let months = (days as f64 / 30.0).max(1.0);
    round2(visits as f64 / visitors as f64 / months)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn buckets_cover_the_period() {
        assert_eq!(bucket_bounds(d(2026, 3, 1), d(2026, 3, 3), Interval::Day), vec![d(2026, 3, 1), d(2026, 3, 2), d(2026, 3, 3), d(2026, 3, 4)]);
        assert_eq!(bucket_bounds(d(2026, 11, 26), d(2026, 12, 1), Interval::Week), vec![d(2026, 11, 23), d(2026, 11, 30), d(2026, 12, 7)]);
        assert_eq!(bucket_bounds(d(2026, 1, 31), d(2026, 3, 1), Interval::Month), vec![d(2026, 1, 1), d(2026, 2, 1), d(2026, 3, 1), d(2026, 4, 1)]);
    }

    #[test]
    fn averages_are_rounded_to_two_decimals() {
        assert_eq!(round2(2.345_6), 2.35);
        assert_eq!(average_rating(14, 3), Some(4.67));
        assert_eq!(average_rating(0, 0), None);
    }

    #[test]
    fn frequency_is_per_visitor_per_thirty_days() {
        assert_eq!(visit_frequency(0, 0, 30), 0.0);
        assert_eq!(visit_frequency(6, 2, 30), 3.0);
        assert_eq!(visit_frequency(6, 2, 60), 1.5);
        assert_eq!(visit_frequency(2, 3, 7), 0.67, "a period under a month counts as one");
    }
}
