//! `restaurants`: one row per tenant with its display, email and programme settings. Every
//! rule that depends on a setting reads the caller's restaurant's row (see
//! [`crate::rules::programme::Programme`]).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "restaurants")]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// The slug API keys and tokens carry, e.g. `harbour-bistro`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Display name, used in emails and on the unsubscribe pages.
    pub name: String,
    /// IANA time zone: schedules run, "today" is decided and series are bucketed in it.
    pub timezone: String,
    /// Name shown as the sender of emails.
    pub sender_name: String,
    /// From address of emails.
    pub mail_from: String,
    /// Reply-To address of emails, when replies should go elsewhere.
    pub reply_to: Option<String>,
    /// Base URL of links in emails (unsubscribe); the service's own address when `None`.
    pub public_url: Option<String>,
    /// ISO 4217 code amounts are shown in, e.g. `USD`.
    pub currency: String,
    /// Points an order earns per whole currency unit.
    pub points_per_dollar: i64,
    /// Points that make one currency unit of discount when redeemed.
    pub points_per_redeemed_dollar: i64,
    /// Points a member earns when someone joins with their referral code.
    pub referral_bonus: i64,
    /// Occasion discount in percent per tier.
    pub discount_bronze: i16,
    pub discount_silver: i16,
    pub discount_gold: i16,
    pub discount_platinum: i16,
    pub discount_vip: i16,
    /// A last visit more than this many days ago makes a member dormant.
    pub dormant_days: i32,
    /// A last visit at least this many days ago (and not dormant) makes a member at risk.
    pub at_risk_days: i32,
    /// Birthday and anniversary emails go this many days ahead.
    pub occasion_lead_days: i32,
    /// A dormant member gets at most one win-back email per this many days.
    pub win_back_days: i32,
    /// The at-risk and win-back automations follow the predicted probability that a member is
    /// still active (the last fit's) instead of `at_risk_days` and dormancy.
    pub churn_by_prediction: bool,
    /// Below this probability (basis points) a member is at risk.
    pub at_risk_probability_bp: i32,
    /// Below this probability (basis points) a member is lost: due a win-back.
    pub win_back_probability_bp: i32,
    /// Local time of day (`HH:MM`) each daily job runs.
    pub dormancy_at: String,
    pub birthday_at: String,
    pub anniversary_at: String,
    pub win_back_at: String,
    /// Frequency cap: at most `cap_emails` marketing emails per member per `cap_days` days
    /// (0 days: no cap); occasion emails count only with `cap_occasions`.
    pub cap_emails: i32,
    pub cap_days: i32,
    pub cap_occasions: bool,
    /// The win-back email's voucher, in percent off (0: none).
    pub win_back_percent: i16,
    /// Days a birthday or win-back voucher stays valid.
    pub benefit_days: i32,
    /// Whether a refund may lower a member's tier (it never does otherwise).
    pub refunds_lower_tier: bool,
    /// Points expire after this many months without activity (0: never); see
    /// [`crate::rules::expiry`] for the bookkeeping columns.
    pub expiry_months: i32,
    /// Members are warned this many days before their points expire.
    pub expiry_warning_days: i32,
    pub expiry_started_at: Option<DateTimeUtc>,
    pub expiry_shortened_at: Option<DateTimeUtc>,
    pub expiry_previous_months: i32,
    /// Staff addresses the morning digest goes to, comma-separated (empty: none).
    pub digest_emails: String,
    /// Days after a first visit the second welcome email goes to members who have not returned.
    pub welcome_follow_up_days: i32,
    /// A member this many points (or fewer) from a reward or their next tier gets the
    /// "nearing a reward" email.
    pub nearing_points: i32,
    /// Days an idempotency key is kept (a retry after that is a new request).
    pub keep_idempotency_days: i32,
    /// Days a job run is kept.
    pub keep_job_run_days: i32,
    /// Days a finished delivery (sent, failed, skipped, held out) is kept.
    pub keep_delivery_days: i32,
    /// Members without activity for this many months are erased (0: never).
    pub erase_inactive_months: i32,
    /// Postal address every marketing email's footer shows; without it no marketing email goes
    /// out (CAN-SPAM and the GDPR's transparency expect it).
    pub postal_address: Option<String>,
    /// Phone number shown in emails' footers.
    pub phone: Option<String>,
    /// Website linked from emails.
    pub website_url: Option<String>,
    /// Where members book a table or order: emails' call-to-action button (the website when
    /// `None`).
    pub booking_url: Option<String>,
    /// Logo shown at the top of emails (an https URL of an image).
    pub logo_url: Option<String>,
    /// Brand colour (`#rrggbb`) of emails' headline rule and button.
    pub brand_color: String,
    /// How emails write dates and numbers.
    pub locale: Locale,
    /// Whether emails show a voucher's code as a QR code too, for POS scanners.
    pub voucher_qr_code: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The locales emails are written in: English wording, dates and numbers the local way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Locale {
    /// United States: "January 6, 2027".
    #[default]
    #[sea_orm(string_value = "en-US")]
    #[serde(rename = "en-US")]
    EnUs,
    /// United Kingdom: "6 January 2027", British spelling.
    #[sea_orm(string_value = "en-GB")]
    #[serde(rename = "en-GB")]
    EnGb,
    /// Ireland.
    #[sea_orm(string_value = "en-IE")]
    #[serde(rename = "en-IE")]
    EnIe,
    /// Australia.
    #[sea_orm(string_value = "en-AU")]
    #[serde(rename = "en-AU")]
    EnAu,
    /// New Zealand.
    #[sea_orm(string_value = "en-NZ")]
    #[serde(rename = "en-NZ")]
    EnNz,
    /// Canada: "January 6, 2027", British spelling.
    #[sea_orm(string_value = "en-CA")]
    #[serde(rename = "en-CA")]
    EnCa,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
