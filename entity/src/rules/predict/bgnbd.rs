//! BG/NBD (Fader, Hardie & Lee 2005): while active, a member visits as a Poisson process whose
//! rate varies across members as Gamma(r, α); after each visit they drop out with a probability
//! that varies as Beta(a, b). Time in weeks.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use super::special::{hyp2f1, ln_gamma, log_add_exp};
use super::{FitError, History, MIN_MEMBERS, MIN_REPEATERS, optimise};

/// The four parameters (`alpha` per week).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// A fit: the parameters and the log-likelihood they reach over the members fitted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub params: Params,
    pub log_likelihood: f64,
    pub members: u64,
}

/// One member's log-likelihood: `x` repeat visits, the last at `t_x`, observed for `t` weeks.
pub fn log_likelihood(p: &Params, x: f64, t_x: f64, t: f64) -> f64 {
    let a1 = ln_gamma(p.r + x) - ln_gamma(p.r) + p.r * p.alpha.ln();
    let a2 = ln_gamma(p.a + p.b) + ln_gamma(p.b + x) - ln_gamma(p.b) - ln_gamma(p.a + p.b + x);
    let a3 = -(p.r + x) * (p.alpha + t).ln();
    if x > 0.0 {
        let a4 = p.a.ln() - (p.b + x - 1.0).ln() - (p.r + x) * (p.alpha + t_x).ln();
        a1 + a2 + log_add_exp(a3, a4)
    } else {
        a1 + a2 + a3
    }
}

/// The log-likelihood of grouped histories.
pub fn total_log_likelihood(p: &Params, groups: &[(History, u64)]) -> f64 {
    groups
        .iter()
        .map(|(h, n)| {
            let (x, t_x, t) = h.weeks();
            log_likelihood(p, x, t_x, t) * *n as f64
        })
        .sum()
}

/// Fits by maximum likelihood; refuses data too thin to say anything.
pub fn fit(groups: &[(History, u64)]) -> Result<Fit, FitError> {
    let members: u64 = groups.iter().map(|(_, n)| n).sum();
    let repeaters: u64 = groups.iter().filter(|(h, _)| h.x > 0).map(|(_, n)| n).sum();
    if members < MIN_MEMBERS {
        return Err(FitError::TooFewMembers { members, needed: MIN_MEMBERS });
    }
    if repeaters < MIN_REPEATERS {
        return Err(FitError::TooFewRepeaters { repeaters, needed: MIN_REPEATERS });
    }
    let prepared = Prepared::new(groups);
    let ll = |v: &[f64]| prepared.log_likelihood(&Params { r: v[0], alpha: v[1], a: v[2], b: v[3] });
    let optimum = optimise::maximise(ll, &[1.0, 1.0, 1.0, 1.0])?;
    let v = optimum.params;
    Ok(Fit { params: Params { r: v[0], alpha: v[1], a: v[2], b: v[3] }, log_likelihood: optimum.log_likelihood, members })
}

/// ln of the odds that a member with this history has dropped out (−∞ for no repeat visit).
fn log_odds_inactive(p: &Params, x: f64, t_x: f64, t: f64) -> f64 {
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    p.a.ln() - (p.b + x - 1.0).ln() + (p.r + x) * ((p.alpha + t).ln() - (p.alpha + t_x).ln())
}

/// The probability that a member with this history is still active.
pub fn p_alive(p: &Params, x: f64, t_x: f64, t: f64) -> f64 {
    1.0 / (1.0 + log_odds_inactive(p, x, t_x, t).exp())
}

/// Expected visits in the next `horizon` weeks of a member with this history.
///
/// The paper's 2F1(r + x, b + x; a + b + x − 1; z) grows without bound with `x` while the
/// factor before it shrinks; by Euler's transformation their product is
/// `((α + T) / (α + T + t))^(a − 1) · 2F1(a + b − 1 − r, a − 1; a + b + x − 1; z)`, whose
/// numerator parameters do not depend on the history, so a member with hundreds of visits costs
/// no more and cannot overflow.
pub fn expected_visits(p: &Params, x: f64, t_x: f64, t: f64, horizon: f64) -> f64 {
    if horizon <= 0.0 {
        return 0.0;
    }
    // a = 1 is a removable singularity; the expectation is continuous through it.
    let a = if (p.a - 1.0).abs() < 1e-9 { 1.0 + 1e-9 } else { p.a };
    let z = horizon / (p.alpha + t + horizon);
    let ratio = (p.alpha + t) / (p.alpha + t + horizon);
    let series = hyp2f1(a + p.b - 1.0 - p.r, a - 1.0, a + p.b + x - 1.0, z);
    let bracket = 1.0 - ratio.powf(a - 1.0) * series;
    (a + p.b + x - 1.0) / (a - 1.0) * bracket * p_alive(p, x, t_x, t)
}

/// Expected visits in `horizon` weeks after a member's first visit (for members not yet seen).
pub fn expected_visits_new(p: &Params, horizon: f64) -> f64 {
    expected_visits(p, 0.0, 0.0, 0.0, horizon)
}

/// The log-likelihood over many members, fast: the parts of a member's term that depend only on
/// `x` (the Gamma functions), only on `T` or only on `t_x` (the logarithms) are computed once per
/// distinct value and evaluation, so a term costs one `exp` and one `ln` (a million members have
/// ~10⁵ distinct histories but only dozens of `x` and hundreds of ages).
/// Grouped histories, indexed for [`Prepared::log_likelihood`].
pub struct Prepared {
    xs: Vec<f64>,
    /// Members per distinct `x`.
    x_counts: Vec<f64>,
    ages: Vec<f64>,
    recencies: Vec<f64>,
    /// `(x, age, recency)` indexes and the members sharing them.
    terms: Vec<(u32, u32, u32, f64)>,
}

fn index_of<K: std::hash::Hash + Eq + Copy>(map: &mut HashMap<K, u32>, values: &mut Vec<f64>, key: K, value: f64) -> u32 {
    *map.entry(key).or_insert_with(|| {
        values.push(value);
        u32::try_from(values.len() - 1).unwrap_or(u32::MAX)
    })
}

impl Prepared {
    pub fn new(groups: &[(History, u64)]) -> Self {
        let (mut x_map, mut age_map, mut rec_map) = (HashMap::new(), HashMap::new(), HashMap::new());
        let mut p = Prepared { xs: vec![], x_counts: vec![], ages: vec![], recencies: vec![], terms: Vec::with_capacity(groups.len()) };
        for (h, n) in groups {
            let (x, t_x, t) = h.weeks();
            let xi = index_of(&mut x_map, &mut p.xs, h.x, x);
            if p.x_counts.len() <= xi as usize {
                p.x_counts.push(0.0);
            }
            p.x_counts[xi as usize] += *n as f64;
            let ti = index_of(&mut age_map, &mut p.ages, h.age, t);
            let ri = index_of(&mut rec_map, &mut p.recencies, h.recency, t_x);
            p.terms.push((xi, ti, ri, *n as f64));
        }
        p
    }

    /// The log-likelihood of every member at `p`.
    pub fn log_likelihood(&self, p: &Params) -> f64 {
        let base = ln_gamma(p.r) - p.r * p.alpha.ln() + ln_gamma(p.b) - ln_gamma(p.a + p.b);
        let mut total = 0.0;
        // Per x: the Gamma-function parts, and ln(a / (b + x - 1)) of members who came back.
        let per_x: Vec<(f64, f64)> = self
            .xs
            .iter()
            .zip(&self.x_counts)
            .map(|(&x, &n)| {
                total += n * (ln_gamma(p.r + x) + ln_gamma(p.b + x) - ln_gamma(p.a + p.b + x) - base);
                (p.r + x, if x > 0.0 { p.a.ln() - (p.b + x - 1.0).ln() } else { f64::NAN })
            })
            .collect();
        let ln_ages: Vec<f64> = self.ages.iter().map(|t| (p.alpha + t).ln()).collect();
        let ln_recencies: Vec<f64> = self.recencies.iter().map(|t| (p.alpha + t).ln()).collect();
        let sum = |terms: &[(u32, u32, u32, f64)]| {
            terms
                .iter()
                .map(|&(xi, ti, ri, n)| {
                    let (rx, odds) = per_x[xi as usize];
                    let a3 = -rx * ln_ages[ti as usize];
                    n * if odds.is_nan() { a3 } else { log_add_exp(a3, odds - rx * ln_recencies[ri as usize]) }
                })
                .sum::<f64>()
        };
        // Many terms are summed on every core, in a fixed split (the same sum every time).
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(8);
        if cores == 1 || self.terms.len() < PARALLEL_TERMS {
            return total + sum(&self.terms);
        }
        let chunk = self.terms.len().div_ceil(cores);
        total
            + std::thread::scope(|s| {
                let parts: Vec<_> = self.terms.chunks(chunk).map(|part| s.spawn(move || sum(part))).collect();
                parts.into_iter().map(|h| h.join().unwrap_or(f64::NAN)).sum::<f64>()
            })
    }
}

/// Terms from which an evaluation is split across cores (below, a thread costs more than it
/// saves).
const PARALLEL_TERMS: usize = 50_000;

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's estimates on CDNOW's 39 weeks.
    const PAPER: Params = Params { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    /// lifetimes 0.11.3's fit of the same data (`BetaGeoFitter`, time in days / 7).
    const LIFETIMES: Params = Params { r: 0.242595, alpha: 4.413603, a: 0.792922, b: 2.425906 };

    fn close(got: f64, want: f64, rel: f64) {
        assert!((got - want).abs() <= rel * want.abs(), "got {got}, want {want}");
    }

    #[test]
    fn the_likelihood_matches_lifetimes() {
        // lifetimes 0.11.3: -BetaGeoFitter._negative_log_likelihood(log(PAPER), [x], [t_x], [T], [1], 0).
        close(log_likelihood(&PAPER, 0.0, 0.0, 38.86), -0.5547132764381585, 1e-12);
        close(log_likelihood(&PAPER, 2.0, 30.43, 38.86), -9.45860630706627, 1e-12);
        close(log_likelihood(&PAPER, 1.0, 1.71, 38.86), -4.469093275032588, 1e-12);
        close(log_likelihood(&PAPER, 50.0, 38.0, 39.0), -47.317391800116496, 1e-12);
        close(log_likelihood(&PAPER, 300.0, 38.5, 39.0), 273.70265819017095, 1e-12);
    }

    #[test]
    fn expectations_match_lifetimes() {
        // lifetimes 0.11.3 with its parameters set to LIFETIMES:
        // conditional_expected_number_of_purchases_up_to_time and conditional_probability_alive
        // (scipy's hyp2f1 on the paper's form, without the transformation).
        close(expected_visits(&LIFETIMES, 0.0, 0.0, 38.86, 39.0), 0.19478240343150635, 1e-10);
        close(expected_visits(&LIFETIMES, 2.0, 30.43, 38.86, 39.0), 1.225906920430772, 1e-10);
        close(expected_visits(&LIFETIMES, 1.0, 1.71, 38.86, 10.0), 0.05820387924877576, 1e-10);
        close(expected_visits(&LIFETIMES, 50.0, 38.0, 39.0, 52.0), 41.32393619774848, 1e-10);
        close(expected_visits(&LIFETIMES, 300.0, 38.5, 39.0, 52.0), 237.01559080675506, 1e-10);
        close(p_alive(&LIFETIMES, 2.0, 30.43, 38.86), 0.7266091037994358, 1e-12);
        close(p_alive(&LIFETIMES, 1.0, 1.71, 38.86), 0.21223176037483793, 1e-12);
        close(p_alive(&LIFETIMES, 300.0, 38.5, 39.0), 0.9214747733328469, 1e-12);
        assert_eq!(p_alive(&LIFETIMES, 0.0, 0.0, 38.86), 1.0);
        // expected_number_of_purchases_up_to_time([1, 39, 78]).
        close(expected_visits_new(&LIFETIMES, 1.0), 0.0531843837115117, 1e-10);
        close(expected_visits_new(&LIFETIMES, 39.0), 1.1950119085250133, 1e-10);
        close(expected_visits_new(&LIFETIMES, 78.0), 1.8579611817103057, 1e-10);
    }

    #[test]
    fn thousands_of_visits_stay_finite() {
        let e = expected_visits(&LIFETIMES, 5_000.0, 38.9, 39.0, 52.0);
        assert!(e.is_finite() && e > 0.0, "{e}");
        assert!(log_likelihood(&LIFETIMES, 5_000.0, 38.9, 39.0).is_finite());
        assert!(p_alive(&LIFETIMES, 5_000.0, 1.0, 39.0) < 1e-6);
    }

    #[test]
    fn thin_data_is_refused_with_a_reason() {
        let one = History { x: 0, recency: 0, age: 10 };
        assert_eq!(fit(&[(one, 5)]).err(), Some(FitError::TooFewMembers { members: 5, needed: MIN_MEMBERS }));
        assert_eq!(fit(&[(one, 500)]).err(), Some(FitError::TooFewRepeaters { repeaters: 0, needed: MIN_REPEATERS }));
    }

    #[test]
    fn equals_the_sum_of_members_terms() {
        let groups: Vec<(History, u64)> = (0..(PARALLEL_TERMS as u32 + 200))
            .map(|i| (History { x: i % 13, recency: if i % 13 == 0 { 0 } else { (i * 7) % 300 }, age: 300 + (i * 11) % 400 }, u64::from(1 + i % 5)))
            .collect();
        let prepared = Prepared::new(&groups);
        for p in [Params { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, Params { r: 2.0, alpha: 0.5, a: 3.0, b: 40.0 }] {
            let (fast, plain) = (prepared.log_likelihood(&p), total_log_likelihood(&p, &groups));
            assert!((fast - plain).abs() < 1e-9 * plain.abs(), "{fast} against {plain}");
        }
    }
}
