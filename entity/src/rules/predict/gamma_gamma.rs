//! Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): a member's spend per visit varies
//! around their own mean as Gamma(p, ν), and ν varies across members as Gamma(q, γ). Fitted on
//! members with repeat visits, from the mean spend of those repeat visits.

use serde::{Deserialize, Serialize};

use super::special::ln_gamma;
use super::{FitError, MIN_REPEATERS, optimise};

/// The three parameters (`gamma` in the currency's unit, e.g. dollars).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

/// A fit: the parameters and the log-likelihood they reach over the members fitted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub params: Params,
    pub log_likelihood: f64,
    pub members: u64,
}

/// One member's log-likelihood: `x` repeat visits of mean spend `mean` (> 0).
pub fn log_likelihood(p: &Params, x: f64, mean: f64) -> f64 {
    let px = p.p * x;
    ln_gamma(px + p.q) - ln_gamma(px) - ln_gamma(p.q) + p.q * p.gamma.ln() + (px - 1.0) * mean.ln() + px * x.ln() - (px + p.q) * (x * mean + p.gamma).ln()
}

/// Fits on `(repeat visits, mean spend of them, members)`; members without a repeat visit or
/// with no spend are left out, as the model needs both.
pub fn fit(groups: &[(u32, f64, u64)]) -> Result<Fit, FitError> {
    let used: Vec<(f64, f64, f64)> = groups.iter().filter(|(x, m, _)| *x > 0 && *m > 0.0).map(|(x, m, n)| (f64::from(*x), *m, *n as f64)).collect();
    let members = used.iter().map(|(_, _, n)| *n as u64).sum();
    if members < MIN_REPEATERS {
        return Err(FitError::TooFewRepeaters { repeaters: members, needed: MIN_REPEATERS });
    }
    // The Gamma functions depend on x alone: once per distinct x and evaluation; a member's
    // term is then one logarithm (ln m and ln x are fixed, read once).
    let mut xs: Vec<(f64, f64)> = Vec::new();
    let terms: Vec<(usize, f64, f64, f64)> = used
        .iter()
        .map(|&(x, m, n)| {
            let i = xs.iter().position(|(v, _)| *v == x).unwrap_or_else(|| {
                xs.push((x, 0.0));
                xs.len() - 1
            });
            xs[i].1 += n;
            (i, x * m, m.ln(), n)
        })
        .collect();
    let total_n: f64 = used.iter().map(|(_, _, n)| n).sum();
    let ll = |v: &[f64]| {
        let (p, q, gamma) = (v[0], v[1], v[2]);
        let per_x: Vec<f64> = xs.iter().map(|&(x, _)| p * x).collect();
        let mut total = total_n * (q * gamma.ln() - ln_gamma(q));
        for (&(x, n), px) in xs.iter().zip(&per_x) {
            total += n * (ln_gamma(px + q) - ln_gamma(*px) + px * x.ln());
        }
        for &(i, xm, ln_m, n) in &terms {
            let px = per_x[i];
            total += n * ((px - 1.0) * ln_m - (px + q) * (xm + gamma).ln());
        }
        total
    };
    let optimum = optimise::maximise(ll, &[1.0, 1.0, 1.0])?;
    let v = optimum.params;
    Ok(Fit { params: Params { p: v[0], q: v[1], gamma: v[2] }, log_likelihood: optimum.log_likelihood, members })
}

/// Expected spend per visit of a member with `x` repeat visits of mean spend `mean`: the
/// population's mean `pγ / (q − 1)` pulled towards the member's own by how much they have
/// shown. For `q ≤ 1` the population's mean is unbounded and the member's own mean is used.
pub fn expected_spend(p: &Params, x: f64, mean: f64) -> f64 {
    if p.q <= 1.0 {
        return mean;
    }
    p.p * (p.gamma + x * mean) / (p.p * x + p.q - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: Params = Params { p: 6.25, q: 3.74, gamma: 15.44 };
    const LIFETIMES: Params = Params { p: 6.249572, q: 3.744225, gamma: 15.443521 };

    fn close(got: f64, want: f64, rel: f64) {
        assert!((got - want).abs() <= rel * want.abs(), "got {got}, want {want}");
    }

    #[test]
    fn the_likelihood_matches_lifetimes() {
        // lifetimes 0.11.3: -GammaGammaFitter._negative_log_likelihood(log(PAPER), [x], [m], [1], 0).
        close(log_likelihood(&PAPER, 1.0, 20.0), -3.5941964929491945, 1e-12);
        close(log_likelihood(&PAPER, 5.0, 35.0), -4.037145644542335, 1e-12);
        close(log_likelihood(&PAPER, 50.0, 10.0), -4.9005740953437, 1e-12);
    }

    #[test]
    fn expected_spend_matches_lifetimes() {
        // With its parameters set to LIFETIMES: conditional_expected_average_profit([1, 5, 50], [20, 35, 10]).
        close(expected_spend(&LIFETIMES, 1.0, 20.0), 24.62884546126758, 1e-12);
        close(expected_spend(&LIFETIMES, 5.0, 35.0), 35.01375383189975, 1e-12);
        close(expected_spend(&LIFETIMES, 50.0, 10.0), 10.219124825186793, 1e-12);
    }

    #[test]
    fn the_fit_maximises_the_members_likelihood() {
        let groups: Vec<(u32, f64, u64)> = (1..60u32).map(|i| (1 + i % 7, 10.0 + f64::from((i * 37) % 50), u64::from(1 + i % 3))).collect();
        let fit = fit(&groups).unwrap();
        let at = |p: &Params| groups.iter().map(|(x, m, n)| log_likelihood(p, f64::from(*x), *m) * *n as f64).sum::<f64>();
        assert!((fit.log_likelihood - at(&fit.params)).abs() < 1e-9 * fit.log_likelihood.abs(), "the fast sum is the members' sum");
        for nudge in [0.98, 1.02] {
            let near = Params { p: fit.params.p * nudge, ..fit.params };
            assert!(at(&near) < fit.log_likelihood);
        }
    }

    #[test]
    fn members_without_repeat_spend_are_not_fitted() {
        let err = fit(&[(0, 10.0, 100), (3, 0.0, 100), (2, 5.0, 3)]).err();
        assert_eq!(err, Some(FitError::TooFewRepeaters { repeaters: 3, needed: MIN_REPEATERS }));
    }
}
