//! The predictive models reproduce the papers on their own data: CDNOW's sample, calibrated on
//! the first 39 weeks (BG/NBD: Fader, Hardie & Lee 2005, table of estimates; Gamma-Gamma:
//! Fader, Hardie & Lee 2005, "RFM and CLV"), and agree with an independent implementation
//! (lifetimes 0.11.3) on other calibration dates.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use entity::rules::predict::dataset::Dataset;

/// Each customer's purchase days (day numbers) with the dollars spent that day.
fn purchases() -> BTreeMap<u32, BTreeMap<i64, f64>> {
    let mut customers: BTreeMap<u32, BTreeMap<i64, f64>> = BTreeMap::new();
    for line in include_str!("fixtures/cdnow_sample.txt").lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let id: u32 = f[1].parse().unwrap();
        let day = day(f[2]);
        *customers.entry(id).or_default().entry(day).or_default() += f[4].parse::<f64>().unwrap();
    }
    customers
}

fn day(yyyymmdd: &str) -> i64 {
    i64::from(NaiveDate::parse_from_str(yyyymmdd, "%Y%m%d").unwrap().num_days_from_ce())
}

/// CDNOW gathered as the service gathers a restaurant's visits (`ops::predict`), calibrated on
/// days up to `end`, with the holdout period after it to `holdout_end`.
fn dataset(end: &str, holdout_end: &str) -> Dataset {
    let mut data = Dataset::new(day(end), day(holdout_end));
    for days in purchases().values() {
        let visits: Vec<(i64, i64)> = days.iter().map(|(d, dollars)| (*d, (dollars * 100.0).round() as i64)).collect();
        data.add(&visits);
    }
    data
}

/// `value` rounded to three significant figures.
fn sig3(value: f64) -> f64 {
    let scale = 10f64.powi(2 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

#[test]
fn bgnbd_and_gamma_gamma_give_the_papers_estimates() {
    let data = dataset("19970930", "19980630");
    assert_eq!(data.members(), 2_357);
    let fitted = data.fit();
    let fit = fitted.visits.unwrap();
    let p = fit.params;
    assert_eq!([sig3(p.r), sig3(p.alpha), sig3(p.a), sig3(p.b)], [0.243, 4.41, 0.793, 2.43], "{p:?}");
    assert!((fit.log_likelihood - -9582.4).abs() < 0.05, "the paper's log-likelihood: {}", fit.log_likelihood);

    let gg = fitted.spend.unwrap();
    assert_eq!(gg.members, 946);
    let g = gg.params;
    assert_eq!([sig3(g.p), sig3(g.q), sig3(g.gamma)], [6.25, 3.74, 15.4], "{g:?}");

    // Weeks 40-78: about 1,653 expected against 1,882 actual repeat purchase days.
    let rows = data.holdout_table(&p);
    let actual: f64 = rows.iter().map(|r| r.actual).sum();
    let expected: f64 = rows.iter().map(|r| r.expected).sum();
    assert_eq!(actual, 1_882.0);
    assert!((expected - 1_653.4).abs() < 1.0, "{expected}");
    assert_eq!(rows[0].members, 2_357 - 946);
    // The tracking chart ends with every repeat purchase of the 78 weeks.
    let tracking = data.tracking(&p);
    assert_eq!(tracking.len(), 78);
    let last = tracking.last().unwrap();
    assert_eq!(last.actual, 4_339.0);
    assert!((last.expected - last.actual).abs() < 0.1 * last.actual, "{last:?}");
}

#[test]
fn any_calibration_date_agrees_with_lifetimes() {
    // lifetimes 0.11.3: calibration_and_holdout_data(freq='D'), recency and T / 7, then
    // BetaGeoFitter and GammaGammaFitter with their defaults.
    for (end, holdout_end, bg, gg, expected, actual) in [
        ("19970630", "19980630", [0.230082, 3.730586, 0.928085, 2.366835], [7.912778, 3.395984, 10.578467], 2_193.0, 2_607.0),
        ("19971231", "19980630", [0.248371, 4.762927, 0.616696, 2.198472], [5.038148, 3.978620, 21.088782], 1_163.8, 1_151.0),
    ] {
        let data = dataset(end, holdout_end);
        let fitted = data.fit();
        let p = fitted.visits.unwrap().params;
        assert_eq!([sig3(p.r), sig3(p.alpha), sig3(p.a), sig3(p.b)], bg.map(sig3), "{end}: {p:?}");
        let g = fitted.spend.unwrap().params;
        assert_eq!([sig3(g.p), sig3(g.q), sig3(g.gamma)], gg.map(sig3), "{end}: {g:?}");
        let rows = data.holdout_table(&p);
        assert_eq!(rows.iter().map(|r| r.actual).sum::<f64>(), actual);
        let sum: f64 = rows.iter().map(|r| r.expected).sum();
        assert!((sum - expected).abs() < 1.0, "{end}: {sum}");
    }
}
