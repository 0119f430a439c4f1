//! Scoring: each member's prediction from a fit, stored (`customer_predictions`) for lists and
//! segments to filter on, a page of members per statement.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{MemberPages, day_number, members, restaurants, spend_params, visit_params};
use crate::entities::{customer_prediction as cp, model_fit};
use crate::rules::predict::{dataset, value};
use crate::{DomainResult, Scope};

/// Writes every member's prediction from `fit` for today (members with a visit), values
/// discounted at `annual_rate`, replacing what an older fit wrote; how many were written. Rows
/// of an older fit whose member was not scored now (no visit left) are removed; a newer fit's
/// rows (a concurrent run) are left alone.
pub async fn score(db: &impl ConnectionTrait, scope: &Scope, fit: &model_fit::Model, now: DateTime<Utc>, annual_rate: f64) -> DomainResult<u64> {
    let Some(bg) = visit_params(fit) else { return Ok(0) };
    let gg = spend_params(fit);
    let p = restaurants::programme(db, scope).await?;
    let scored_on = p.today(now);
    let today = day_number(&p, now);
    let mut pages = MemberPages::default();
    let mut written = 0u64;
    let mut batch: Vec<cp::ActiveModel> = Vec::new();
    loop {
        // The database writes one page while it reads the next.
        let (done, rows) = tokio::join!(write(db, std::mem::take(&mut batch)), pages.next(db, scope, None));
        written += done?;
        let Some(rows) = rows? else { break };
        batch = members(&p, &rows)
            .filter_map(|(id, visits)| {
                let (history, mean) = dataset::member(&visits, today)?;
                let prediction = value::predict(&bg, gg.as_ref(), history, mean, annual_rate);
                Some(cp::ActiveModel {
                    customer_id: Set(id),
                    restaurant_id: Set(scope.restaurant_id.clone()),
                    fit_id: Set(fit.id),
                    scored_on: Set(scored_on),
                    active_probability: Set(prediction.active_probability),
                    expected_visits_90: Set(prediction.visits_90),
                    value_12_months: Set(prediction.value_12_months),
                })
            })
            .collect();
    }
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
