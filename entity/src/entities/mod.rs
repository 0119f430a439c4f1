//! SeaORM entities: one module per table. Relational form of the spec's customer document.

pub mod api_key;
pub mod audit_entry;
pub mod campaign;
pub mod campaign_send;
pub mod customer;
pub mod customer_key;
pub mod customer_label;
pub mod customer_personal;
pub mod data_key;
pub mod email_delivery;
pub mod favorite_item;
pub mod feedback;
pub mod idempotency_key;
pub mod job_run;
pub mod key_check;
pub mod note;
pub mod point_transaction;
pub mod restaurant;
pub mod reward;
pub mod segment;
pub mod service_setting;
pub mod special_occasion;
pub mod visit;
pub mod voucher;

pub use api_key::Role;
pub use audit_entry::AuditAction;
pub use campaign::{CampaignKind, CampaignState, ScheduleKind};
pub use campaign_send::SendState;
pub use customer::{CustomerStatus, Seating, SpiceLevel, StringList, Tier};
pub use customer_label::LabelKind;
pub use email_delivery::DeliveryStatus;
pub use job_run::{RunOutcome, RunTrigger};
pub use point_transaction::LedgerKind;
pub use restaurant::Locale;
pub use reward::RewardKind;
pub use voucher::VoucherStatus;
