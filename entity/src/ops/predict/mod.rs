//! Fitting a restaurant's predictive models (`rules::predict`) on its members' visits, keeping
//! each fit, and what the latest good fit predicts for one member. A fit reads the visits a
//! page of members at a time and holds no lock: the POS's writes never wait on it; so does
//! scoring ([`score`]), which stores each member's prediction for lists and segments to filter on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::restaurants;

mod score;
use crate::entities::{customer, model_fit, visit};
use crate::rules::predict::calibration::{HoldoutRow, TrackingPoint};
use crate::rules::predict::dataset::{self, Dataset};
use crate::rules::predict::value::{self, Prediction};
use crate::rules::predict::{bgnbd, gamma_gamma};
use crate::rules::programme::Programme;
use crate::{DomainError, DomainResult, Scope};
pub use score::score;

/// Members read per query.
const PAGE: u64 = 2_000;

/// Fits take turns in a process: each reads every visit and is seconds of every core at a
/// million members, so a second one waits (at most `wait`) rather than running beside it.
#[derive(Debug, Clone)]
pub struct Turns {
    permits: Arc<tokio::sync::Semaphore>,
    wait: Duration,
}

impl Default for Turns {
    /// One fit at a time; the next waits up to an hour (the daily job, the CLI).
    fn default() -> Self {
        Self { permits: Arc::new(tokio::sync::Semaphore::new(1)), wait: Duration::from_secs(3_600) }
    }
}

impl Turns {
    /// The same turns, waiting at most `wait` for one (a request cannot wait long).
    pub fn waiting(&self, wait: Duration) -> Self {
        Self { permits: self.permits.clone(), wait }
    }

    /// Takes the turn (kept until the permit drops), or refuses with `InvalidState` when another
    /// fit keeps it past the wait.
    pub async fn take(&self) -> DomainResult<tokio::sync::OwnedSemaphorePermit> {
        let busy = || DomainError::invalid_state("another model fit is running in this service: try again when it has finished (about a minute)");
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(busy()),
        }
    }
}

/// A fit's report: the holdout table (empty without a holdout period) and the tracking chart.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub holdout: Vec<HoldoutRowData>,
    pub tracking: Vec<TrackingPointData>,
}

/// A line of the holdout table as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HoldoutRowData {
    pub repeat_visits: u32,
    pub members: u64,
    pub actual: f64,
    pub expected: f64,
}

/// A week of the tracking chart as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrackingPointData {
    pub week: u32,
    pub actual: f64,
    pub expected: f64,
}

impl From<HoldoutRow> for HoldoutRowData {
    fn from(r: HoldoutRow) -> Self {
        Self { repeat_visits: r.repeat_visits, members: r.members, actual: r.actual, expected: r.expected }
    }
}

impl From<TrackingPoint> for TrackingPointData {
    fn from(p: TrackingPoint) -> Self {
        Self { week: p.week, actual: p.actual, expected: p.expected }
    }
}

/// The restaurant's local day number of an instant (days are what the models count).
fn day_number(p: &Programme, at: DateTime<Utc>) -> i64 {
    i64::from(p.today(at).num_days_from_ce())
}

fn date_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

/// One member's visits: `(customer, when, cents, refunded cents)`.
type VisitRow = (i64, DateTime<Utc>, i64, i64);

/// The restaurant's members' visits a page of members at a time, in member order.
#[derive(Default)]
struct MemberPages {
    after: i64,
}

impl MemberPages {
    /// The next page's visits before `until` (all when `None`); `None` after the last member.
    async fn next(&mut self, db: &impl ConnectionTrait, scope: &Scope, until: Option<DateTime<Utc>>) -> DomainResult<Option<Vec<VisitRow>>> {
        let ids: Vec<i64> = customer::Entity::find()
            .select_only()
            .column(customer::Column::Id)
            .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
            .filter(customer::Column::Id.gt(self.after))
            .order_by_asc(customer::Column::Id)
            .limit(PAGE)
            .into_tuple()
            .all(db)
            .await?;
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else { return Ok(None) };
        let mut query = visit::Entity::find()
            .select_only()
            .columns([visit::Column::CustomerId, visit::Column::VisitedAt, visit::Column::AmountCents, visit::Column::RefundedCents])
            .filter(visit::Column::RestaurantId.eq(&scope.restaurant_id))
            .filter(visit::Column::CustomerId.between(first, last));
        if let Some(until) = until {
            query = query.filter(visit::Column::VisitedAt.lt(until));
        }
        let rows = query.order_by_asc(visit::Column::CustomerId).order_by_asc(visit::Column::VisitedAt).into_tuple().all(db).await?;
        self.after = last;
        Ok(Some(rows))
    }
}

/// Each member's visits in `rows` as `(day, cents)`, with the member's id.
fn members<'a>(p: &'a Programme, rows: &'a [VisitRow]) -> impl Iterator<Item = (i64, Vec<(i64, i64)>)> + 'a {
    rows.chunk_by(|a, b| a.0 == b.0)
        .map(move |member| (member[0].0, member.iter().map(|(_, at, cents, refunded)| (day_number(p, *at), cents - refunded)).collect()))
}

/// Every member's visits up to the end of `holdout_end`, gathered a page of members at a time.
async fn gather(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, end: NaiveDate, holdout_end: NaiveDate) -> DomainResult<Dataset> {
    let mut data = Dataset::new(date_number(end), date_number(holdout_end));
    let until = p.start_of(holdout_end.checked_add_days(Days::new(1)).unwrap_or(holdout_end));
    let mut pages = MemberPages::default();
    while let Some(rows) = pages.next(db, scope, Some(until)).await? {
        for (_, visits) in members(p, &rows) {
            data.add(&visits);
        }
    }
    Ok(data)
}

/// The days a fit learns from and is checked against (the restaurant's local dates).
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    /// The last day of the visits fitted (default: today).
    pub calibration_end: Option<NaiveDate>,
    /// The last day of the holdout period after it (default: today).
    pub holdout_end: Option<NaiveDate>,
}

/// Fits the scope's restaurant's models on visits up to the period's calibration end,
/// reporting against the days after it to the holdout end, and stores the fit — also a failed
/// one, with its reason (predictions go on using the last good fit). Fits take `turns`.
pub async fn fit(db: &impl ConnectionTrait, scope: &Scope, period: Period, now: DateTime<Utc>, turns: &Turns) -> DomainResult<model_fit::Model> {
    let p = restaurants::programme(db, scope).await?;
    let today = p.today(now);
    let holdout_end = period.holdout_end.unwrap_or(today);
    let end = period.calibration_end.unwrap_or(holdout_end);
    if holdout_end > today {
        return Err(DomainError::validation("holdoutEnd", format!("{holdout_end} is after today ({today})")));
    }
    if end > holdout_end {
        return Err(DomainError::validation("calibrationEnd", format!("{end} is after the holdout period's end ({holdout_end})")));
    }
    let turn = turns.take().await?;
    let started = Instant::now();
    let data = gather(db, scope, &p, end, holdout_end).await?;
    // Seconds of arithmetic at a million members: off the async workers, which serve requests.
    // The turn goes with it: it ends when the arithmetic does, even if the caller went away.
    let (data, fitted) = tokio::task::spawn_blocking(move || {
        let fitted = data.fit();
        drop(turn);
        (data, fitted)
    })
    .await
    .map_err(DomainError::internal)?;
    let mut row = model_fit::ActiveModel {
        id: NotSet,
        restaurant_id: Set(scope.restaurant_id.clone()),
        fitted_at: Set(super::now()),
        calibration_end: Set(end),
        holdout_end: Set(holdout_end),
        status: Set("ok".into()),
        reason: Set(None),
        members: Set(i64::try_from(data.members()).unwrap_or(i64::MAX)),
        repeaters: Set(i64::try_from(data.repeaters()).unwrap_or(i64::MAX)),
        terms: Set(i64::try_from(data.terms()).unwrap_or(i64::MAX)),
        fit_ms: NotSet,
        bg_r: Set(None),
        bg_alpha: Set(None),
        bg_a: Set(None),
        bg_b: Set(None),
        bg_log_likelihood: Set(None),
        gg_p: Set(None),
        gg_q: Set(None),
        gg_gamma: Set(None),
        gg_log_likelihood: Set(None),
        gg_members: Set(None),
        report: Set(None),
    };
    match &fitted.visits {
        Ok(fit) => {
            let b = fit.params;
            (row.bg_r, row.bg_alpha, row.bg_a, row.bg_b) = (Set(Some(b.r)), Set(Some(b.alpha)), Set(Some(b.a)), Set(Some(b.b)));
            row.bg_log_likelihood = Set(Some(fit.log_likelihood));
            let report = Report {
                holdout: data.holdout_table(&b).into_iter().map(Into::into).collect(),
                tracking: data.tracking(&b).into_iter().map(Into::into).collect(),
            };
            row.report = Set(Some(serde_json::to_string(&report).map_err(DomainError::internal)?));
        }
        Err(e) => (row.status, row.reason) = (Set("failed".into()), Set(Some(e.to_string()))),
    }
    match &fitted.spend {
        Ok(fit) => {
            let g = fit.params;
            (row.gg_p, row.gg_q, row.gg_gamma) = (Set(Some(g.p)), Set(Some(g.q)), Set(Some(g.gamma)));
            row.gg_log_likelihood = Set(Some(fit.log_likelihood));
            row.gg_members = Set(Some(i64::try_from(fit.members).unwrap_or(i64::MAX)));
        }
        Err(e) if fitted.visits.is_ok() => row.reason = Set(Some(format!("spend model: {e}"))),
        Err(_) => {}
    }
    row.fit_ms = Set(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
    Ok(model_fit::Entity::insert(row).exec_with_returning(db).await?)
}

/// The restaurant's latest good fit.
pub async fn latest(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<Option<model_fit::Model>> {
    Ok(model_fit::Entity::find()
        .filter(model_fit::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(model_fit::Column::Status.eq("ok"))
        .order_by_desc(model_fit::Column::Id)
        .one(db)
        .await?)
}

/// The restaurant's fits, newest first (failed ones too).
pub async fn fits(db: &impl ConnectionTrait, scope: &Scope, limit: u64) -> DomainResult<Vec<model_fit::Model>> {
    Ok(model_fit::Entity::find()
        .filter(model_fit::Column::RestaurantId.eq(&scope.restaurant_id))
        .order_by_desc(model_fit::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The ids of the scope's members whose latest score has a probability of still coming below
/// `active_below` and a 12-month value (in the currency) above `value_above`: the sub-select of
/// the customers filter and of audience rules.
pub fn scored(scope: &Scope, active_below: Option<f64>, value_above: Option<f64>) -> SelectStatement {
    use crate::entities::customer_prediction::{Column as P, Entity};
    let mut ids = Query::select().column(P::CustomerId).from(Entity).and_where(P::RestaurantId.eq(&scope.restaurant_id)).to_owned();
    if let Some(below) = active_below {
        ids.and_where(P::ActiveProbability.lt(below));
    }
    if let Some(above) = value_above {
        ids.and_where(P::Value12Months.gt(above));
    }
    ids
}

/// A fit's visit model (none for a failed fit).
pub fn visit_params(fit: &model_fit::Model) -> Option<bgnbd::Params> {
    Some(bgnbd::Params { r: fit.bg_r?, alpha: fit.bg_alpha?, a: fit.bg_a?, b: fit.bg_b? })
}

/// A fit's spend model (none when it could not be fitted).
pub fn spend_params(fit: &model_fit::Model) -> Option<gamma_gamma::Params> {
    Some(gamma_gamma::Params { p: fit.gg_p?, q: fit.gg_q?, gamma: fit.gg_gamma? })
}

/// A fit's report.
pub fn report(fit: &model_fit::Model) -> Report {
    fit.report.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default()
}

/// What the latest good fit predicts today for each of the members `ids` who has visited (one
/// query for all of them), values discounted at `annual_rate`; empty without a good fit.
pub async fn predict(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64], now: DateTime<Utc>, annual_rate: f64) -> DomainResult<HashMap<i64, Prediction>> {
    let Some(fit) = latest(db, scope).await? else { return Ok(HashMap::new()) };
    let Some(bg) = visit_params(&fit) else { return Ok(HashMap::new()) };
    let gg = spend_params(&fit);
    let p = restaurants::programme(db, scope).await?;
    let rows: Vec<VisitRow> = visit::Entity::find()
        .select_only()
        .columns([visit::Column::CustomerId, visit::Column::VisitedAt, visit::Column::AmountCents, visit::Column::RefundedCents])
        .filter(visit::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(visit::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(visit::Column::CustomerId)
        .order_by_asc(visit::Column::VisitedAt)
        .into_tuple()
        .all(db)
        .await?;
    let today = day_number(&p, now);
    let mut out = HashMap::new();
    for (id, visits) in members(&p, &rows) {
        if let Some((history, mean)) = dataset::member(&visits, today) {
            out.insert(id, value::predict(&bg, gg.as_ref(), history, mean, annual_rate));
        }
    }
    Ok(out)
}
