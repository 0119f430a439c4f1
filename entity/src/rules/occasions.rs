//! Yearly occasions (birthdays, anniversaries): a month-day key that an index can serve, and
//! which dates a window of days covers, including 29 February in non-leap years.

use crate::{DomainError, DomainResult};
use chrono::{Datelike, Duration, NaiveDate};

/// `month * 100 + day`, e.g. 515 for 15 May; stored beside the date so lookups use an index.
pub fn month_day_key(date: NaiveDate) -> i32 {
    date.month() as i32 * 100 + date.day() as i32
}

/// Whether `year` has a 29 February.
pub fn is_leap_year(year: i32) -> bool {
    NaiveDate::from_ymd_opt(year, 2, 29).is_some()
}

/// The month-day keys celebrated on `day`: its own, and 229 on 28 February of a non-leap year
/// (a 29 February birthday is celebrated on the 28th then).
pub fn keys_celebrated_on(day: NaiveDate) -> Vec<i32> {
    let mut keys = vec![month_day_key(day)];
    if day.month() == 2 && day.day() == 28 && !is_leap_year(day.year()) {
        keys.push(229);
    }
    keys
}

/// Every day from `today` to `today + lead_days`, each with the keys celebrated on it.
pub fn window(today: NaiveDate, lead_days: u32) -> Vec<(NaiveDate, Vec<i32>)> {
    (0..=i64::from(lead_days))
        .map(|offset| {
            let day = today + Duration::days(offset);
            (day, keys_celebrated_on(day))
        })
        .collect()
}

/// Which anniversary of `since` is celebrated on `celebrated_on` (an age on a birthday, years
/// married on an anniversary): the difference of the years, also when a 29 February date is
/// celebrated on 28 February.
pub fn years_at(since: NaiveDate, celebrated_on: NaiveDate) -> i32 {
    celebrated_on.year() - since.year()
}

/// The dates in the `years` years before `day`'s whose month-day key is one of `keys` (the
/// keys celebrated on `day`): the days members who joined on a past "same day" joined.
pub fn same_day_in_past_years(keys: &[i32], day: NaiveDate, years: i32) -> Vec<NaiveDate> {
    (day.year() - years..day.year()).flat_map(|y| keys.iter().filter_map(move |k| NaiveDate::from_ymd_opt(y, (*k / 100) as u32, (*k % 100) as u32))).collect()
}

/// Longest occasion name.
pub const MAX_NAME_LEN: usize = 100;

/// Checks an occasion name (1 to 100 characters, spaces folded).
pub fn check_name(name: &str) -> DomainResult<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(DomainError::validation("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(DomainError::validation("name", format!("must be at most {MAX_NAME_LEN} characters")));
    }
    Ok(name)
}

/// Checks an occasion date (years 1900 to 2200).
pub fn check_date(date: NaiveDate) -> DomainResult<NaiveDate> {
    use chrono::Datelike;
    if !(1900..=2200).contains(&date.year()) {
        return Err(DomainError::validation("date", "must be between the years 1900 and 2200"));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn keys_are_month_and_day() {
        assert_eq!(month_day_key(d(1990, 5, 15)), 515);
        assert_eq!(month_day_key(d(2000, 12, 31)), 1231);
    }

    #[test]
    fn leap_day_is_celebrated_on_the_28th_in_other_years() {
        assert_eq!(keys_celebrated_on(d(2026, 2, 28)), vec![228, 229]);
        assert_eq!(keys_celebrated_on(d(2028, 2, 28)), vec![228]);
        assert_eq!(keys_celebrated_on(d(2028, 2, 29)), vec![229]);
    }

    #[test]
    fn windows_cross_the_years_turn() {
        let w = window(d(2026, 12, 30), 3);
        let days: Vec<_> = w.iter().map(|(day, keys)| (*day, keys[0])).collect();
        assert_eq!(days, vec![(d(2026, 12, 30), 1230), (d(2026, 12, 31), 1231), (d(2027, 1, 1), 101), (d(2027, 1, 2), 102)]);
    }

    #[test]
    fn past_same_days_include_leap_days_on_the_28th_and_never_this_year() {
        let days = same_day_in_past_years(&keys_celebrated_on(d(2027, 2, 28)), d(2027, 2, 28), 4);
        assert_eq!(days, vec![d(2023, 2, 28), d(2024, 2, 28), d(2024, 2, 29), d(2025, 2, 28), d(2026, 2, 28)]);
        assert_eq!(same_day_in_past_years(&[1201], d(2026, 12, 1), 1), vec![d(2025, 12, 1)]);
        assert!(same_day_in_past_years(&[1201], d(2026, 12, 1), 0).is_empty());
    }

    #[test]
    fn years_count_the_celebration() {
        assert_eq!(years_at(d(1990, 5, 15), d(2026, 5, 15)), 36);
        assert_eq!(years_at(d(2000, 2, 29), d(2026, 2, 28)), 26);
    }
}
