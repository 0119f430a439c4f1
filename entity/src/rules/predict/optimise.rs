//! Maximum likelihood by argmin's Nelder–Mead on the logarithms of the parameters (so every
//! parameter stays positive), restarted from its own best point until a restart no longer
//! improves the likelihood: a simplex can stall short of the optimum, a fresh one does not.

use argmin::core::{CostFunction, Error, Executor, State};
use argmin::solver::neldermead::NelderMead;

use super::FitError;

/// The best point found: the parameters (not their logarithms) and the log-likelihood there.
pub struct Optimum {
    pub params: Vec<f64>,
    pub log_likelihood: f64,
}

/// Largest |ln parameter| tried.
const MAX_LOG: f64 = 20.0;

/// Simplex steps per run, and runs: a restart that no longer improves the optimum ends it. Short
/// runs: where the optimum lies at infinity (a flat ridge), a run creeps along it to its step
/// limit, and the next run's gain, too small to matter, ends the search.
const MAX_ITERS: u64 = 300;
const MAX_RUNS: usize = 20;

struct Negated<F>(F);

impl<F: Fn(&[f64]) -> f64> CostFunction for Negated<F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Self::Param) -> Result<f64, Error> {
        // Parameters beyond e^±20 mean data without the signal a parameter describes (no
        // member ever stops, say): a flat ridge the simplex would wander along for ever.
        if log_params.iter().any(|v| v.abs() > MAX_LOG) {
            return Ok(f64::MAX);
        }
        let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        let value = -(self.0)(&params);
        // A point where the likelihood is not a number is as bad as can be, not an error.
        Ok(if value.is_finite() { value } else { f64::MAX })
    }
}

/// Maximises `log_likelihood` over positive parameters from `start`.
pub fn maximise(log_likelihood: impl Fn(&[f64]) -> f64, start: &[f64]) -> Result<Optimum, FitError> {
    let problem = Negated(log_likelihood);
    let mut best: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let mut best_cost = problem.cost(&best).map_err(|e| FitError::NoConvergence(e.to_string()))?;
    for _ in 0..MAX_RUNS {
        let (point, cost) = run(&problem, &best, best_cost)?;
        let gain = best_cost - cost;
        if cost < best_cost {
            best = point;
            best_cost = cost;
        }
        if gain.abs() <= 1e-9 * best_cost.abs().max(1.0) {
            break;
        }
    }
    if best_cost >= f64::MAX {
        return Err(FitError::NoConvergence("the likelihood is not finite anywhere tried".into()));
    }
    Ok(Optimum { params: best.iter().map(|v| v.exp()).collect(), log_likelihood: -best_cost })
}

/// One simplex from `from`, stopped when its vertices' costs differ by less than f64 can tell
/// apart at the scale of `scale` (a sum over many members is large, so the stop is relative).
fn run<F: Fn(&[f64]) -> f64>(problem: &Negated<F>, from: &[f64], scale: f64) -> Result<(Vec<f64>, f64), FitError> {
    let failed = |e: Error| FitError::NoConvergence(e.to_string());
    let mut simplex = vec![from.to_vec()];
    for i in 0..from.len() {
        let mut vertex = from.to_vec();
        vertex[i] += 0.5;
        simplex.push(vertex);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-10 * scale.abs().clamp(1.0, 1e12)).map_err(failed)?;
    let result = Executor::new(Negated(&problem.0), solver).configure(|state| state.max_iters(MAX_ITERS)).run().map_err(failed)?;
    let state = result.state();
    let point = state.get_best_param().cloned().ok_or_else(|| FitError::NoConvergence("no point evaluated".into()))?;
    Ok((point, state.get_best_cost()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_known_maximum() {
        // The log-likelihood of a Poisson sample (mean 3.5) as a function of its rate.
        let counts = [2.0, 5.0, 3.0, 4.0];
        let ll = |p: &[f64]| counts.iter().map(|k| k * p[0].ln() - p[0]).sum::<f64>();
        let optimum = maximise(ll, &[1.0]).unwrap();
        assert!((optimum.params[0] - 3.5).abs() < 1e-4, "{}", optimum.params[0]);
    }

    #[test]
    fn a_likelihood_that_is_never_finite_is_an_error() {
        let err = maximise(|_| f64::NAN, &[1.0, 1.0]).err().unwrap();
        assert!(matches!(err, FitError::NoConvergence(_)));
    }
}
