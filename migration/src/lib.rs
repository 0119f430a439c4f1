//! Database migrations, applied from code by `loyalty migrate` and on `loyalty serve` start.
//! One module per change; never edit a migration that has shipped, add a new one.

pub use sea_orm_migration::prelude::*;

pub mod keystore;
mod m20261125_000001_customers;
mod m20261125_000002_activity;
mod m20261125_000003_campaigns;
mod m20261125_000004_occasions;
mod m20261125_000005_segments;
mod m20261125_000006_api_keys;
mod m20261125_000007_audit_log;
mod m20261125_000008_search_indexes;
mod m20261125_000009_feedback;
mod m20261126_000010_restaurants;
mod m20261126_000011_user_id_index;
mod m20261126_000012_rewards;
mod m20261126_000013_job_run_indexes;
mod m20261126_000014_marketing;
mod m20261126_000015_benefit_vouchers;
mod m20261126_000016_refunds;
mod m20261126_000017_points_expiry;
mod m20261126_000018_delivery_consent;
mod m20261126_000019_holdout;
mod m20261126_000020_staff_digest;
mod m20261201_000021_automation_settings;
mod m20261201_000022_retention;
mod m20261201_000023_sealed_personal_data;
mod m20261202_000024_hot_point_updates;
mod m20261206_000025_name_search_statistics;
mod m20261206_000026_list_order_indexes;
mod m20261206_000027_lean_delivery_indexes;
mod m20261206_000028_refunded_items;
mod m20261207_000029_restaurant_letterhead;
mod m20261207_000030_narrow_customers;
mod m20261207_000031_delivery_sent_to;
mod m20261207_000032_external_ids;
mod m20261207_000033_webhooks;
mod m20261208_000034_model_fits;
mod m20261208_000035_customer_predictions;
mod m20261208_000036_one_api_run;
mod m20261208_000037_order_place;
mod m20261208_000038_change_feeds;
mod m20261208_000039_webhook_personal;
mod m20261208_000040_churn_by_prediction;

/// All migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_customers::Migration),
            Box::new(m20261125_000002_activity::Migration),
            Box::new(m20261125_000003_campaigns::Migration),
            Box::new(m20261125_000004_occasions::Migration),
            Box::new(m20261125_000005_segments::Migration),
            Box::new(m20261125_000006_api_keys::Migration),
            Box::new(m20261125_000007_audit_log::Migration),
            Box::new(m20261125_000008_search_indexes::Migration),
            Box::new(m20261125_000009_feedback::Migration),
            Box::new(m20261126_000010_restaurants::Migration),
            Box::new(m20261126_000011_user_id_index::Migration),
            Box::new(m20261126_000012_rewards::Migration),
            Box::new(m20261126_000013_job_run_indexes::Migration),
            Box::new(m20261126_000014_marketing::Migration),
            Box::new(m20261126_000015_benefit_vouchers::Migration),
            Box::new(m20261126_000016_refunds::Migration),
            Box::new(m20261126_000017_points_expiry::Migration),
            Box::new(m20261126_000018_delivery_consent::Migration),
            Box::new(m20261126_000019_holdout::Migration),
            Box::new(m20261126_000020_staff_digest::Migration),
            Box::new(m20261201_000021_automation_settings::Migration),
            Box::new(m20261201_000022_retention::Migration),
            Box::new(m20261201_000023_sealed_personal_data::Migration),
            Box::new(m20261202_000024_hot_point_updates::Migration),
            Box::new(m20261206_000025_name_search_statistics::Migration),
            Box::new(m20261206_000026_list_order_indexes::Migration),
            Box::new(m20261206_000027_lean_delivery_indexes::Migration),
            Box::new(m20261206_000028_refunded_items::Migration),
            Box::new(m20261207_000029_restaurant_letterhead::Migration),
            Box::new(m20261207_000030_narrow_customers::Migration),
            Box::new(m20261207_000031_delivery_sent_to::Migration),
            Box::new(m20261207_000032_external_ids::Migration),
            Box::new(m20261207_000033_webhooks::Migration),
            Box::new(m20261208_000034_model_fits::Migration),
            Box::new(m20261208_000035_customer_predictions::Migration),
            Box::new(m20261208_000036_one_api_run::Migration),
            Box::new(m20261208_000037_order_place::Migration),
            Box::new(m20261208_000038_change_feeds::Migration),
            Box::new(m20261208_000039_webhook_personal::Migration),
            Box::new(m20261208_000040_churn_by_prediction::Migration),
        ]
    }
}
