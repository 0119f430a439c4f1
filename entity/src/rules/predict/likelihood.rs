//! The BG/NBD log-likelihood over many members, fast: the parts of a member's term that depend
//! only on `x` (the Gamma functions), only on `T` or only on `t_x` (the logarithms) are
//! computed once per distinct value and evaluation, so a term costs one `exp` and one `ln`
//! (a million members have ~10⁵ distinct histories but only dozens of `x` and hundreds of ages).

use std::collections::HashMap;

use super::History;
use super::bgnbd::Params;
use super::special::{ln_gamma, log_add_exp};

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
    use super::super::bgnbd::total_log_likelihood;
    use super::*;

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
