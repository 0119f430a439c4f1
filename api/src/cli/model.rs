//! `loyalty model fit | report`: fit --restaurant's predictive models now (BG/NBD for visits,
//! Gamma-Gamma for spend) and print what they say, or print the latest fit and draw its
//! tracking chart as SVG.

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Subcommand;
use entity::Scope;
use entity::entities::model_fit;
use entity::ops::predict::{self, Report};
use plotters::prelude::*;

use crate::config::Config;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Fit the models on --restaurant's visits now and print the parameters and, with
    /// --calibration-end, how they predict the days after it.
    Fit {
        /// Fit on visits up to this day (YYYY-MM-DD, the restaurant's local date) and compare
        /// the days after it with what the fit expected. Default: --holdout-end, no holdout.
        #[arg(long)]
        calibration_end: Option<NaiveDate>,
        /// The last day of the holdout period (default: today).
        #[arg(long)]
        holdout_end: Option<NaiveDate>,
        /// Also draw the tracking chart (expected against actual repeat visits) as SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Print --restaurant's latest fit (failed ones too) and its report.
    Report {
        /// Also draw the tracking chart as SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
}

/// Runs the command.
pub async fn run(config: &Config, action: ModelCommand) -> anyhow::Result<()> {
    let db = super::connect::data(config).await?;
    let scope = Scope::new(config.restaurant.clone(), "cli", entity::vault::Vault::detached());
    let (fit, svg) = match action {
        ModelCommand::Fit { calibration_end, holdout_end, svg } => {
            let period = predict::Period { calibration_end, holdout_end };
            (predict::fit(&db, &scope, period, chrono::Utc::now(), &predict::Turns::default()).await?, svg)
        }
        ModelCommand::Report { svg } => {
            let fit = predict::fits(&db, &scope, 1).await?.into_iter().next().context("no fit yet: run `loyalty model fit`")?;
            (fit, svg)
        }
    };
    print!("{}", describe(&fit));
    if let Some(path) = svg {
        std::fs::write(&path, chart(&fit, &predict::report(&fit))?).with_context(|| format!("writing {}", path.display()))?;
        println!("tracking chart written to {}", path.display());
    }
    Ok(())
}

/// The fit as an operator reads it: parameters, then the holdout table.
pub fn describe(fit: &model_fit::Model) -> String {
    let mut out = format!(
        "fit {} of {} at {}: {} (calibrated to {}, {} members, {} came back, {} likelihood terms, {} ms)\n",
        fit.id,
        fit.restaurant_id,
        fit.fitted_at.format("%Y-%m-%d %H:%M UTC"),
        fit.status,
        fit.calibration_end,
        fit.members,
        fit.repeaters,
        fit.terms,
        fit.fit_ms
    );
    if let Some(reason) = &fit.reason {
        out += &format!("  note: {reason}\n");
    }
    if let Some(b) = predict::visit_params(fit) {
        out += &format!(
            "  visits (BG/NBD):      r = {:.4}  alpha = {:.4} (weeks)  a = {:.4}  b = {:.4}  log-likelihood {:.2}\n",
            b.r,
            b.alpha,
            b.a,
            b.b,
            fit.bg_log_likelihood.unwrap_or(f64::NAN)
        );
    }
    if let Some(g) = predict::spend_params(fit) {
        out += &format!(
            "  spend (Gamma-Gamma):  p = {:.4}  q = {:.4}  gamma = {:.4}  log-likelihood {:.2} ({} members)\n",
            g.p,
            g.q,
            g.gamma,
            fit.gg_log_likelihood.unwrap_or(f64::NAN),
            fit.gg_members.unwrap_or(0)
        );
    }
    let report = predict::report(fit);
    if !report.holdout.is_empty() {
        out += &format!(
            "  holdout {} to {}: repeat visits by repeat visits before it\n",
            fit.calibration_end.succ_opt().unwrap_or(fit.calibration_end),
            fit.holdout_end
        );
        out += "    before   members     actual   expected\n";
        let last = report.holdout.len() - 1;
        for (i, r) in report.holdout.iter().enumerate() {
            let label = if i == last { format!("{}+", r.repeat_visits) } else { r.repeat_visits.to_string() };
            out += &format!("    {label:>6} {:>9} {:>10.0} {:>10.1}\n", r.members, r.actual, r.expected);
        }
        let (actual, expected) = report.holdout.iter().fold((0.0, 0.0), |(a, e), r| (a + r.actual, e + r.expected));
        out += &format!("    {:>6} {:>9} {actual:>10.0} {expected:>10.1}\n", "all", fit.members);
    }
    out
}

/// The tracking chart: cumulative repeat visits week by week, actual against expected, with
/// the end of calibration marked.
pub fn chart(fit: &model_fit::Model, report: &Report) -> anyhow::Result<String> {
    let points = &report.tracking;
    let weeks = points.last().map_or(1, |p| p.week);
    let top = points.iter().map(|p| p.actual.max(p.expected)).fold(1.0, f64::max) * 1.05;
    let calibration_weeks = points.len() as i64 - (fit.holdout_end - fit.calibration_end).num_days() / 7;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        let title = format!("{}: cumulative repeat visits, fit {} (calibrated to {})", fit.restaurant_id, fit.id, fit.calibration_end);
        let mut c = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0u32..weeks, 0f64..top)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        c.configure_mesh().x_desc("week").y_desc("repeat visits").draw().map_err(|e| anyhow::anyhow!("{e}"))?;
        c.draw_series(LineSeries::new(points.iter().map(|p| (p.week, p.actual)), BLACK.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("actual")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        c.draw_series(LineSeries::new(points.iter().map(|p| (p.week, p.expected)), BLUE.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("expected (BG/NBD)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        if let Ok(at) = u32::try_from(calibration_weeks)
            && at < weeks
        {
            c.draw_series(std::iter::once(PathElement::new(vec![(at, 0.0), (at, top)], RED.mix(0.6))))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label("end of calibration")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.mix(0.6)));
        }
        c.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(BLACK).draw().map_err(|e| anyhow::anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(svg)
}
