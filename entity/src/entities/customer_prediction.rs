//! `customer_predictions`: each member's latest prediction, written by the `model-fit` job
//! (`ops::predict::score`) for lists and segments to filter on; one row per member with a visit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_predictions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    pub restaurant_id: String,
    /// The fit (`model_fits.id`) it came from.
    pub fit_id: i64,
    /// The restaurant's date it was computed for.
    pub scored_on: Date,
    pub active_probability: f64,
    pub expected_visits_90: f64,
    pub value_12_months: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
