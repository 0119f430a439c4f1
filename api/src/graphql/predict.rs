//! Predicted churn and lifetime value: each fit of the restaurant's models (BG/NBD for visits,
//! Gamma-Gamma for spend) with how it predicted a holdout period, fitting on demand for
//! admins, and a member's own prediction (`Customer.prediction`).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::model_fit;
use entity::ops::predict;
use entity::rules::predict::value::Prediction;

use super::context::{app, scope};
use super::scalars::Date;
use crate::auth::{ADMIN, SEGMENTS};
use crate::error::IntoGql;

/// What the restaurant's models predict for a member today.
#[derive(SimpleObject)]
pub struct CustomerPrediction {
    /// The probability that the member still comes (BG/NBD), 0 to 1.
    pub active_probability: f64,
    /// Visits expected in the next 30 days.
    pub expected_visits_30_days: f64,
    /// Visits expected in the next 90 days.
    pub expected_visits_90_days: f64,
    /// Visits expected in the next 365 days.
    pub expected_visits_365_days: f64,
    /// Expected spend per visit in the restaurant's currency (Gamma-Gamma); null when the
    /// spend model could not be fitted.
    pub spend_per_visit: Option<f64>,
    /// The next twelve months' expected spend, discounted monthly at the deployment's yearly
    /// rate (`LOYALTY_VALUE_DISCOUNT_PERCENT`).
    pub value_12_months: Option<f64>,
    /// The history behind it, in words: "usually every ~18 days; last visit 64 days ago".
    pub reason: String,
}

impl From<Prediction> for CustomerPrediction {
    fn from(p: Prediction) -> Self {
        Self {
            active_probability: p.active_probability,
            expected_visits_30_days: p.visits_30,
            expected_visits_90_days: p.visits_90,
            expected_visits_365_days: p.visits_365,
            spend_per_visit: p.spend_per_visit,
            value_12_months: p.value_12_months,
            reason: p.reason,
        }
    }
}

/// Whether a fit gave a model.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ModelFitStatus {
    /// Fitted: predictions use the latest such fit.
    Ok,
    /// Not fitted (see `reason`); the previous good fit stays in use.
    Failed,
}

/// The visit model's parameters (time in weeks).
#[derive(SimpleObject)]
pub struct VisitModel {
    /// Shape of the Gamma distribution of visit rates across members.
    pub r: f64,
    /// Scale of that distribution, in weeks.
    pub alpha: f64,
    /// First shape of the Beta distribution of the chance to stop after a visit.
    pub a: f64,
    /// Second shape of that distribution.
    pub b: f64,
    /// The log-likelihood the parameters reach.
    pub log_likelihood: f64,
}

/// The spend model's parameters (`gamma` in the currency).
#[derive(SimpleObject)]
pub struct SpendModel {
    /// Shape of the Gamma distribution of spend per visit around a member's mean.
    pub p: f64,
    /// Shape of the Gamma distribution of that mean's scale across members.
    pub q: f64,
    /// Scale of that distribution, in the currency.
    pub gamma: f64,
    /// The log-likelihood the parameters reach.
    pub log_likelihood: f64,
    /// Members with repeat visits it was fitted on.
    pub members: i64,
}

/// A line of the holdout table: members with `repeatVisits` repeat visits before the holdout
/// period (the last line: that many or more) and their visits in it, actual and expected.
#[derive(SimpleObject)]
pub struct HoldoutLine {
    /// Repeat visits before the holdout period.
    pub repeat_visits: i32,
    /// Members with that many.
    pub members: i64,
    /// Their visits in the holdout period.
    pub actual: f64,
    /// The visits the fit expected of them.
    pub expected: f64,
}

/// A week of the tracking chart: repeat visits cumulated to the end of `week`.
#[derive(SimpleObject)]
pub struct TrackingWeek {
    /// Weeks since the first member's first visit.
    pub week: i32,
    /// Repeat visits to the end of the week.
    pub actual: f64,
    /// The repeat visits the fit expected by then.
    pub expected: f64,
}

/// One fit of the restaurant's predictive models.
#[derive(SimpleObject)]
pub struct PredictionModel {
    /// The fit's id.
    pub id: ID,
    /// When it was fitted.
    pub fitted_at: DateTime<Utc>,
    /// The last day of the visits fitted.
    pub calibration_end: Date,
    /// The last day of the holdout period the report compares with (= `calibrationEnd`: none).
    pub holdout_end: Date,
    /// Whether it gave a model.
    pub status: ModelFitStatus,
    /// Why it failed, or a note (the spend model could not be fitted).
    pub reason: Option<String>,
    /// Members with a visit by `calibrationEnd`.
    pub members: i64,
    /// Of them, members with a repeat visit.
    pub repeaters: i64,
    /// How long the fit took, in milliseconds.
    pub fit_ms: i64,
    /// The visit model (BG/NBD); null when the fit failed.
    pub visits: Option<VisitModel>,
    /// The spend model (Gamma-Gamma); null when it could not be fitted.
    pub spend: Option<SpendModel>,
    /// Expected against actual visits in the holdout period by visits before it.
    pub holdout: Vec<HoldoutLine>,
    /// Cumulative repeat visits week by week, actual and expected.
    pub tracking: Vec<TrackingWeek>,
}

impl From<model_fit::Model> for PredictionModel {
    fn from(f: model_fit::Model) -> Self {
        let report = predict::report(&f);
        let visits =
            predict::visit_params(&f).map(|b| VisitModel { r: b.r, alpha: b.alpha, a: b.a, b: b.b, log_likelihood: f.bg_log_likelihood.unwrap_or(0.0) });
        let spend = predict::spend_params(&f).map(|g| SpendModel {
            p: g.p,
            q: g.q,
            gamma: g.gamma,
            log_likelihood: f.gg_log_likelihood.unwrap_or(0.0),
            members: f.gg_members.unwrap_or(0),
        });
        Self {
            id: ID(f.id.to_string()),
            fitted_at: f.fitted_at,
            calibration_end: Date(f.calibration_end),
            holdout_end: Date(f.holdout_end),
            status: if f.status == "ok" { ModelFitStatus::Ok } else { ModelFitStatus::Failed },
            reason: f.reason,
            members: f.members,
            repeaters: f.repeaters,
            fit_ms: f.fit_ms,
            visits,
            spend,
            holdout: report
                .holdout
                .into_iter()
                .map(|r| HoldoutLine { repeat_visits: r.repeat_visits as i32, members: r.members as i64, actual: r.actual, expected: r.expected })
                .collect(),
            tracking: report.tracking.into_iter().map(|t| TrackingWeek { week: t.week as i32, actual: t.actual, expected: t.expected }).collect(),
        }
    }
}

/// How long a request waits for another fit in this process to end before it is refused.
const REQUEST_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Most fits one read returns.
const MAX_FITS: i64 = 50;

#[derive(Default)]
pub struct PredictQuery;

#[Object]
impl PredictQuery {
    /// The restaurant's model fits, newest first (failed ones too); predictions use the newest
    /// with status `OK`.
    #[graphql(guard = "SEGMENTS")]
    async fn prediction_models(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many to return (1 to 50).", validator(minimum = 1, maximum = 50))] first: i64,
    ) -> async_graphql::Result<Vec<PredictionModel>> {
        let fits = predict::fits(&app(ctx).db, scope(ctx), first.clamp(1, MAX_FITS) as u64).await.gql()?;
        Ok(fits.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct PredictMutation;

#[Object]
impl PredictMutation {
    /// Fits the restaurant's models now (the daily `model-fit` job does it every day): on
    /// visits up to `calibrationEnd`, reporting against the days after it to `holdoutEnd`.
    /// A fit that fails is kept with its reason; predictions go on using the last good one.
    /// Fits take turns in the service: while another runs past 5 seconds this answers
    /// `INVALID_STATE`.
    #[graphql(guard = "ADMIN")]
    async fn fit_prediction_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The last day (the restaurant's date) of the visits to fit on (default: `holdoutEnd`).")] calibration_end: Option<Date>,
        #[graphql(desc = "The last day of the holdout period the fit is checked against (default: today).")] holdout_end: Option<Date>,
    ) -> async_graphql::Result<PredictionModel> {
        let period = predict::Period { calibration_end: calibration_end.map(Into::into), holdout_end: holdout_end.map(Into::into) };
        let turns = app(ctx).jobs.fits.waiting(REQUEST_WAIT);
        let fit = predict::fit(&app(ctx).db, scope(ctx), period, entity::ops::now(), &turns).await.gql()?;
        Ok(fit.into())
    }
}
