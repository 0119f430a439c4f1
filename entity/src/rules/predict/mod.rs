//! Predicting members' visits and spend from their own visit history, with the field's
//! published models: BG/NBD for "is this member still coming, and how often" (Fader, Hardie &
//! Lee, *Counting Your Customers the Easy Way*, Marketing Science 2005) and Gamma-Gamma for
//! spend per visit (Fader, Hardie & Lee, *RFM and CLV: Using Iso-Value Curves*, JMR 2005).
//!
//! Time is counted in whole days (several visits on one day are one visit) and the models work
//! in weeks, as the papers do. Everything here is pure: `ops::predict` reads the histories and
//! stores the fits.

pub mod bgnbd;
pub mod calibration;
pub mod dataset;
pub mod gamma_gamma;
mod optimise;
mod special;
pub mod value;

use std::collections::HashMap;

/// Days in the models' unit of time.
pub const DAYS_PER_WEEK: f64 = 7.0;

/// One member's history up to the end of a calibration period, in whole days: `x` repeat visit
/// days (days with a visit after the first), `recency` days from the first visit day to the
/// last, `age` days from the first visit day to the period's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct History {
    pub x: u32,
    pub recency: u32,
    pub age: u32,
}

impl History {
    /// The history of sorted, distinct visit days (any day numbering) seen at day `end`; `None`
    /// when the first visit is after `end`. Days after `end` are not counted.
    pub fn from_days(days: &[i64], end: i64) -> Option<Self> {
        let first = *days.first()?;
        if first > end {
            return None;
        }
        let seen: Vec<i64> = days.iter().copied().take_while(|d| *d <= end).collect();
        let last = *seen.last()?;
        Some(Self {
            x: u32::try_from(seen.len() - 1).unwrap_or(u32::MAX),
            recency: u32::try_from(last - first).unwrap_or(u32::MAX),
            age: u32::try_from(end - first).unwrap_or(u32::MAX),
        })
    }

    /// Repeat visits, recency and age in the models' units (`x`, `t_x` and `T` weeks).
    pub fn weeks(self) -> (f64, f64, f64) {
        (f64::from(self.x), f64::from(self.recency) / DAYS_PER_WEEK, f64::from(self.age) / DAYS_PER_WEEK)
    }
}

/// Members with the same history share one likelihood term: the histories with their counts,
/// in a stable order.
pub fn group(histories: impl IntoIterator<Item = History>) -> Vec<(History, u64)> {
    let mut counts: HashMap<History, u64> = HashMap::new();
    for h in histories {
        *counts.entry(h).or_default() += 1;
    }
    let mut grouped: Vec<_> = counts.into_iter().collect();
    grouped.sort_unstable();
    grouped
}

/// Why a model could not be fitted: the last good fit stays in use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("too few members to fit: {members} (at least {needed})")]
    TooFewMembers { members: u64, needed: u64 },
    #[error("too few members came back to fit: {repeaters} with a repeat visit (at least {needed})")]
    TooFewRepeaters { repeaters: u64, needed: u64 },
    #[error("the fit did not converge: {0}")]
    NoConvergence(String),
}

/// Fewest members a fit takes.
pub const MIN_MEMBERS: u64 = 30;
/// Fewest members with a repeat visit a fit takes.
pub const MIN_REPEATERS: u64 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_counts_days_up_to_the_end() {
        let h = History::from_days(&[10, 12, 30, 50], 40).unwrap();
        assert_eq!(h, History { x: 2, recency: 20, age: 30 });
        assert_eq!(History::from_days(&[10], 10).unwrap(), History { x: 0, recency: 0, age: 0 });
        assert_eq!(History::from_days(&[41], 40), None);
        assert_eq!(History::from_days(&[], 40), None);
        let (x, t_x, t) = History { x: 2, recency: 14, age: 21 }.weeks();
        assert_eq!((x, t_x, t), (2.0, 2.0, 3.0));
    }

    #[test]
    fn equal_histories_share_a_term() {
        let a = History { x: 1, recency: 3, age: 9 };
        let b = History { x: 0, recency: 0, age: 9 };
        assert_eq!(group([a, b, a, a]), vec![(b, 1), (a, 3)]);
    }
}
