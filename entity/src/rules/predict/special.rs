//! The special functions the models need: `ln Γ` from `libm`, and Gauss's hypergeometric
//! series, which no small, kept crate provides (GSL's binding and `mathru` bring BLAS and C).

/// Gauss's hypergeometric function 2F1(a, b; c; z) for 0 ≤ z < 1 by its series, summed until a
/// term no longer changes the sum. The models call it only after Euler's transformation
/// (`bgnbd::expected_visits`), where `a` and `b` stay small whatever the member's history, so
/// the terms neither overflow nor need more than a few thousand steps.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    debug_assert!((0.0..1.0).contains(&z), "the series converges for |z| < 1");
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..200_000 {
        let k = f64::from(k);
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() <= f64::EPSILON * sum.abs() {
            break;
        }
    }
    sum
}

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// ln(e^a + e^b) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_matches_closed_forms() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z; 2F1(a, b; b; z) = (1 - z)^-a.
        for z in [0.01f64, 0.3, 0.7, 0.95] {
            let want = -(1.0 - z).ln() / z;
            assert!((hyp2f1(1.0, 1.0, 2.0, z) - want).abs() < 1e-12 * want, "z = {z}");
            let want = (1.0 - z).powf(-0.7);
            assert!((hyp2f1(0.7, 2.5, 2.5, z) - want).abs() < 1e-12 * want, "z = {z}");
        }
        assert_eq!(hyp2f1(0.0, 3.0, 4.0, 0.5), 1.0);
    }

    #[test]
    fn gamma_and_sums_in_log_space() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-14);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert!((log_add_exp(-3.0, 2.0) - (2f64.exp() + (-3f64).exp()).ln()).abs() < 1e-14);
    }
}
