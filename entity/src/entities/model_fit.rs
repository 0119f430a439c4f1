//! `model_fits`: each fit of a restaurant's predictive models (BG/NBD for visits, Gamma-Gamma
//! for spend, `rules::predict`), with its parameters, or why it failed. Predictions use the
//! restaurant's latest fit with status `ok`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "model_fits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub fitted_at: DateTimeUtc,
    /// The last day (the restaurant's local date) of the visits fitted.
    pub calibration_end: Date,
    /// The last day of the holdout period the report compares against (= `calibration_end`
    /// when there is none).
    pub holdout_end: Date,
    /// `ok`, or `failed` with `reason`.
    pub status: String,
    pub reason: Option<String>,
    pub members: i64,
    /// Members with a repeat visit.
    pub repeaters: i64,
    /// Distinct histories, each one likelihood term.
    pub terms: i64,
    pub fit_ms: i64,
    pub bg_r: Option<f64>,
    /// Per week.
    pub bg_alpha: Option<f64>,
    pub bg_a: Option<f64>,
    pub bg_b: Option<f64>,
    pub bg_log_likelihood: Option<f64>,
    pub gg_p: Option<f64>,
    pub gg_q: Option<f64>,
    /// In the currency's unit (dollars, euros …).
    pub gg_gamma: Option<f64>,
    pub gg_log_likelihood: Option<f64>,
    pub gg_members: Option<i64>,
    /// The holdout table and tracking chart as JSON (`ops::predict::Report`).
    pub report: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
