//! Scoring: each member's prediction from a fit, stored (`customer_predictions`) for lists and
//! segments to filter on, a page of members per statement.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{MemberPages, VisitRow, day_number, members, restaurants, spend_params, visit_params};
use crate::entities::{customer_prediction as cp, model_fit};
use crate::rules::predict::{bgnbd, dataset, gamma_gamma, value};
use crate::rules::programme::Programme;
use crate::{DomainError, DomainResult, Scope};

/// What scoring a page needs besides its rows (cheap to copy onto a blocking thread).
#[derive(Clone)]
struct Scorer {
    p: Programme,
    bg: bgnbd::Params,
    gg: Option<gamma_gamma::Params>,
    restaurant: String,
    fit_id: i64,
    scored_on: NaiveDate,
    today: i64,
    annual_rate: f64,
}

impl Scorer {
    /// The rows to store for one page of members' visits.
    fn page(&self, rows: &[VisitRow]) -> Vec<cp::ActiveModel> {
        members(&self.p, rows)
            .filter_map(|(id, visits)| {
                let (history, mean) = dataset::member(&visits, self.today)?;
                let prediction = value::predict(&self.bg, self.gg.as_ref(), history, mean, self.annual_rate);
                Some(cp::ActiveModel {
                    customer_id: Set(id),
                    restaurant_id: Set(self.restaurant.clone()),
                    fit_id: Set(self.fit_id),
                    scored_on: Set(self.scored_on),
                    active_probability: Set(prediction.active_probability),
                    expected_visits_90: Set(prediction.visits_90),
                    value_12_months: Set(prediction.value_12_months),
                })
            })
            .collect()
    }
}

/// Writes every member's prediction from `fit` for today (members with a visit), values
/// discounted at `annual_rate`, replacing what an older fit wrote; how many were written. Rows
/// of an older fit whose member was not scored now (no visit left) are removed; a newer fit's
/// rows (a concurrent run) are left alone. Three pages are in flight at once: the database
/// writes one and reads the one after next while a blocking thread scores the next.
pub async fn score(db: &impl ConnectionTrait, scope: &Scope, fit: &model_fit::Model, now: DateTime<Utc>, annual_rate: f64) -> DomainResult<u64> {
    let Some(bg) = visit_params(fit) else { return Ok(0) };
    let p = restaurants::programme(db, scope).await?;
    let scorer = Scorer {
        gg: spend_params(fit),
        restaurant: scope.restaurant_id.clone(),
        fit_id: fit.id,
        scored_on: p.today(now),
        today: day_number(&p, now),
        annual_rate,
        bg,
        p,
    };
    let started = Instant::now();
    let mut pages = MemberPages::default();
    let (mut written, mut computing) = (0u64, Duration::ZERO);
    let (mut batch, mut rows): (Vec<cp::ActiveModel>, Option<Vec<VisitRow>>) = (Vec::new(), pages.next(db, scope, None).await?);
    while let Some(page) = rows.take() {
        let s = scorer.clone();
        let compute = tokio::task::spawn_blocking(move || {
            let computed = Instant::now();
            (s.page(&page), computed.elapsed())
        });
        let (done, next, scored) = tokio::join!(write(db, std::mem::take(&mut batch)), pages.next(db, scope, None), compute);
        written += done?;
        rows = next?;
        let (scored, took) = scored.map_err(DomainError::internal)?;
        (batch, computing) = (scored, computing + took);
    }
    written += write(db, batch).await?;
    tracing::info!(members = written, seconds = started.elapsed().as_secs_f64(), computing_s = computing.as_secs_f64(), "scored");
    cp::Entity::delete_many().filter(cp::Column::RestaurantId.eq(&scope.restaurant_id)).filter(cp::Column::FitId.lt(fit.id)).exec(db).await?;
    Ok(written)
}

/// Writes `batch` (inserted, or replacing a member's row); how many rows.
async fn write(db: &impl ConnectionTrait, batch: Vec<cp::ActiveModel>) -> DomainResult<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let n = batch.len() as u64;
    let columns = [cp::Column::FitId, cp::Column::ScoredOn, cp::Column::ActiveProbability, cp::Column::ExpectedVisits90, cp::Column::Value12Months];
    cp::Entity::insert_many(batch)
        .on_conflict(OnConflict::column(cp::Column::CustomerId).update_columns(columns).to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(n)
}
