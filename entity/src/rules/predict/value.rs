//! A member's predictions from the fitted models: still active, visits ahead, spend per visit,
//! the next twelve months' value discounted, and the reason in words.

use serde::Serialize;

use super::{DAYS_PER_WEEK, History, bgnbd, gamma_gamma};

/// Days in an average month, for the value's monthly discounting.
const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// What the models say of one member today.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub active_probability: f64,
    pub visits_30: f64,
    pub visits_90: f64,
    pub visits_365: f64,
    /// Expected spend per visit, in the currency's unit; `None` without a spend model.
    pub spend_per_visit: Option<f64>,
    /// The next twelve months' expected spend, each month discounted at `annual_rate`.
    pub value_12_months: Option<f64>,
    pub reason: String,
}

/// Predicts for a member whose `history` ends today, with `mean_spend` the mean spend of their
/// repeat visits (0 without any) and `annual_rate` the discount rate (0.1 = 10 % a year).
pub fn predict(bg: &bgnbd::Params, gg: Option<&gamma_gamma::Params>, history: History, mean_spend: f64, annual_rate: f64) -> Prediction {
    let (x, t_x, t) = history.weeks();
    let visits = |days: f64| bgnbd::expected_visits(bg, x, t_x, t, days / DAYS_PER_WEEK);
    let spend = gg.map(|g| gamma_gamma::expected_spend(g, x, mean_spend));
    let value = spend.map(|s| {
        let monthly = (1.0 + annual_rate).powf(1.0 / 12.0) - 1.0;
        let mut before = 0.0;
        let mut total = 0.0;
        for month in 1..=12 {
            let upto = visits(DAYS_PER_MONTH * f64::from(month));
            total += (upto - before) * s / (1.0 + monthly).powi(month);
            before = upto;
        }
        total
    });
    Prediction {
        active_probability: bgnbd::p_alive(bg, x, t_x, t),
        visits_30: visits(30.0),
        visits_90: visits(90.0),
        visits_365: visits(365.0),
        spend_per_visit: spend,
        value_12_months: value,
        reason: reason(history),
    }
}

/// The history in a sentence a host or marketer reads at a glance.
pub fn reason(history: History) -> String {
    let since = history.age - history.recency;
    let ago = match since {
        0 => "today".to_string(),
        1 => "yesterday".to_string(),
        n => format!("{n} days ago"),
    };
    if history.x == 0 {
        return format!("one visit so far, {ago}");
    }
    let every = (f64::from(history.recency) / f64::from(history.x)).round();
    format!("usually every ~{every} days; last visit {ago}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BG: bgnbd::Params = bgnbd::Params { r: 0.242595, alpha: 4.413603, a: 0.792922, b: 2.425906 };
    const GG: gamma_gamma::Params = gamma_gamma::Params { p: 6.249572, q: 3.744225, gamma: 15.443521 };

    #[test]
    fn the_reason_reads_the_history() {
        assert_eq!(reason(History { x: 4, recency: 72, age: 136 }), "usually every ~18 days; last visit 64 days ago");
        assert_eq!(reason(History { x: 0, recency: 0, age: 1 }), "one visit so far, yesterday");
        assert_eq!(reason(History { x: 2, recency: 10, age: 10 }), "usually every ~5 days; last visit today");
    }

    #[test]
    fn value_is_spend_times_visits_discounted() {
        let regular = History { x: 12, recency: 260, age: 270 };
        let undiscounted = predict(&BG, Some(&GG), regular, 30.0, 0.0);
        let discounted = predict(&BG, Some(&GG), regular, 30.0, 0.1);
        let spend = undiscounted.spend_per_visit.unwrap();
        let visits_year = bgnbd::expected_visits(&BG, 12.0, 260.0 / 7.0, 270.0 / 7.0, 12.0 * DAYS_PER_MONTH / 7.0);
        let value = undiscounted.value_12_months.unwrap();
        assert!((value - spend * visits_year).abs() < 1e-9 * value, "{value}");
        assert!(discounted.value_12_months.unwrap() < value);
        assert!(undiscounted.visits_30 < undiscounted.visits_90 && undiscounted.visits_90 < undiscounted.visits_365);
        // A member who stopped coming long ago is less likely active than one seen last week.
        let lapsed = predict(&BG, None, History { x: 12, recency: 60, age: 270 }, 30.0, 0.1);
        assert!(lapsed.active_probability < undiscounted.active_probability);
        assert_eq!(lapsed.value_12_months, None);
    }
}
