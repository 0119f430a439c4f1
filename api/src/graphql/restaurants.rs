//! The caller's restaurant and its settings: any role reads them, admins change them.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::restaurant;
use entity::ops::restaurants::{self, FrequencyCapPatch, RestaurantPatch, SchedulePatch, TierDiscountsPatch};

use super::context::{app, scope};
use crate::auth::{ADMIN, VIEWER};
use crate::error::IntoGql;

/// How a restaurant's emails write dates and numbers (English wording everywhere).
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::entities::Locale")]
pub enum Locale {
    /// United States: "Wednesday, January 6, 2027", "10,612".
    EnUs,
    /// United Kingdom: "Wednesday 6 January 2027", British spelling.
    EnGb,
    /// Ireland: as the United Kingdom.
    EnIe,
    /// Australia: as the United Kingdom.
    EnAu,
    /// New Zealand: as the United Kingdom.
    EnNz,
    /// Canada: month first, British spelling.
    EnCa,
}

/// Occasion discount per tier, in percent.
#[derive(SimpleObject)]
pub struct TierDiscounts {
    /// Bronze members' discount, in percent.
    pub bronze: i32,
    /// Silver members' discount, in percent.
    pub silver: i32,
    /// Gold members' discount, in percent.
    pub gold: i32,
    /// Platinum members' discount, in percent.
    pub platinum: i32,
    /// VIP members' discount, in percent.
    pub vip: i32,
}

/// Discounts per tier to change, in percent (0 to 100); tiers left out keep theirs.
#[derive(InputObject)]
pub struct TierDiscountsInput {
    /// Bronze members' discount, in percent.
    pub bronze: Option<i32>,
    /// Silver members' discount, in percent.
    pub silver: Option<i32>,
    /// Gold members' discount, in percent.
    pub gold: Option<i32>,
    /// Platinum members' discount, in percent.
    pub platinum: Option<i32>,
    /// VIP members' discount, in percent.
    pub vip: Option<i32>,
}

/// Local times of day (`HH:MM`, in the restaurant's time zone) its daily jobs run.
#[derive(SimpleObject)]
pub struct JobSchedule {
    /// Local time (HH:MM) of dormancy, points expiry, retention and the staff digest.
    pub dormancy: String,
    /// Local time (HH:MM) of birthday and welcome emails.
    pub birthday: String,
    /// Local time (HH:MM) of anniversary, occasion and membership emails.
    pub anniversary: String,
    /// Local time (HH:MM) of win-back, at-risk and nearing-reward emails.
    pub win_back: String,
}

/// Job times to change (`HH:MM`, in the restaurant's time zone); those left out stay.
#[derive(InputObject)]
pub struct JobScheduleInput {
    /// Local time (HH:MM) of dormancy, points expiry, retention and the staff digest.
    pub dormancy: Option<String>,
    /// Local time (HH:MM) of birthday and welcome emails.
    pub birthday: Option<String>,
    /// Local time (HH:MM) of anniversary, occasion and membership emails.
    pub anniversary: Option<String>,
    /// Local time (HH:MM) of win-back, at-risk and nearing-reward emails.
    pub win_back: Option<String>,
}

/// The frequency cap: at most `emails` marketing emails per member per `days` days (0 days: no
/// cap); birthday and anniversary emails count only with `includeOccasions`. Members over the
/// cap are left out of a send and counted as `capped`.
#[derive(SimpleObject)]
pub struct FrequencyCap {
    /// At most this many emails that count toward the cap …
    pub emails: i32,
    /// … in this many days (0: no cap).
    pub days: i32,
    /// Whether birthday, anniversary, occasion and membership emails count too.
    pub include_occasions: bool,
}

/// Frequency cap settings to change; those left out stay.
#[derive(InputObject)]
pub struct FrequencyCapInput {
    /// At most this many emails that count toward the cap …
    pub emails: Option<i32>,
    /// … in this many days (0: no cap).
    pub days: Option<i32>,
    /// Whether birthday, anniversary, occasion and membership emails count too.
    pub include_occasions: Option<bool>,
}

/// A restaurant and its programme settings.
#[derive(SimpleObject)]
pub struct Restaurant {
    /// The slug its keys carry.
    pub id: String,
    /// The restaurant's name, as members see it.
    pub name: String,
    /// IANA time zone: its jobs run, "today" is decided and series are bucketed in it.
    pub timezone: String,
    /// Sender name of its emails.
    pub sender_name: String,
    /// From address of its emails.
    pub mail_from: String,
    /// Reply-To address of its emails (null: none).
    pub reply_to: Option<String>,
    /// Base URL of links in its emails (the service's own address when null).
    pub public_url: Option<String>,
    /// ISO 4217 currency code, for display.
    pub currency: String,
    /// Points an order earns per whole currency unit.
    pub points_per_dollar: i64,
    /// Points that make one currency unit of discount.
    pub points_per_redeemed_dollar: i64,
    /// Points a member earns for a referral.
    pub referral_bonus: i64,
    /// Discount per tier, in percent.
    pub tier_discounts: TierDiscounts,
    /// A last visit more than this many days ago makes a member dormant.
    pub dormant_days: i32,
    /// A last visit at least this many days ago (and not dormant) makes a member at risk.
    pub at_risk_days: i32,
    /// Birthday and anniversary emails go this many days ahead.
    pub occasion_lead_days: i32,
    /// At most one win-back email per member per this many days.
    pub win_back_days: i32,
    /// The at-risk and win-back emails follow the predicted probability that a member is
    /// still active (the last model fit's) instead of `atRiskDays` and dormancy.
    pub predicted_churn: bool,
    /// With `predictedChurn`: below this probability a member is at risk.
    pub at_risk_probability: f64,
    /// With `predictedChurn`: below this probability a member is lost and gets the win-back.
    pub win_back_probability: f64,
    /// Local times of day its daily jobs run.
    pub schedule: JobSchedule,
    /// At most this many marketing emails per member in a window.
    pub frequency_cap: FrequencyCap,
    /// The win-back email's voucher, in percent off (0: none).
    pub win_back_voucher_percent: i32,
    /// Days a birthday or win-back voucher stays valid.
    pub benefit_voucher_days: i32,
    /// Whether a refund may lower a member's tier (it never does otherwise).
    pub refunds_lower_tier: bool,
    /// Points expire after this many months without activity (earning, redeeming, a visit);
    /// 0: never. Switching it on or shortening it never moves a member's date earlier.
    pub points_expiry_months: i32,
    /// Members are warned by email (with consent) this many days before.
    pub expiry_warning_days: i32,
    /// Staff addresses the morning digest goes to (today's and tomorrow's occasions).
    pub staff_digest_emails: Vec<String>,
    /// Days after a first visit the second welcome email goes to members who have not
    /// returned (automation `WELCOME_FOLLOW_UP`).
    pub welcome_follow_up_days: i32,
    /// A member this many points (or fewer) from a reward of the catalogue or from the next
    /// tier gets the "nearing a reward" email (automation `NEARING_REWARD`).
    pub nearing_reward_points: i32,
    /// Days idempotency keys are kept (30); a retry after that is a new request.
    pub idempotency_retention_days: i32,
    /// Days job runs are kept (90).
    pub job_run_retention_days: i32,
    /// Days finished deliveries are kept (400; at least 60 and the frequency cap's and win-back's
    /// windows). Campaign reports count only the deliveries still kept.
    pub delivery_retention_days: i32,
    /// Members without activity (earning, redeeming, a visit, a profile change) for this many
    /// months are erased like `eraseCustomer` by the daily `retention` job; 0 (the default):
    /// never.
    pub erase_inactive_after_months: i32,
    /// Postal address every marketing email's footer shows, lines separated by a line break;
    /// null: no marketing email goes out (sending answers `SETTING_REQUIRED`).
    pub postal_address: Option<String>,
    /// Phone number shown in emails' footers (null: none).
    pub phone: Option<String>,
    /// Website linked from emails' footers (null: none).
    pub website_url: Option<String>,
    /// Where members book a table or order: the button of every email (the website when null;
    /// no button when both are null).
    pub booking_url: Option<String>,
    /// Logo at the top of emails: an http(s) URL of an image (null: the name in text).
    pub logo_url: Option<String>,
    /// Brand colour of emails' button and headline rule, `#rrggbb`.
    pub brand_color: String,
    /// How emails write dates and numbers.
    pub locale: Locale,
    /// Whether emails show a voucher's code as a QR code too, for the POS to scan.
    pub voucher_qr_code: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its settings last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<restaurant::Model> for Restaurant {
    fn from(r: restaurant::Model) -> Self {
        Self {
            tier_discounts: TierDiscounts {
                bronze: r.discount_bronze.into(),
                silver: r.discount_silver.into(),
                gold: r.discount_gold.into(),
                platinum: r.discount_platinum.into(),
                vip: r.discount_vip.into(),
            },
            schedule: JobSchedule { dormancy: r.dormancy_at, birthday: r.birthday_at, anniversary: r.anniversary_at, win_back: r.win_back_at },
            frequency_cap: FrequencyCap { emails: r.cap_emails, days: r.cap_days, include_occasions: r.cap_occasions },
            win_back_voucher_percent: r.win_back_percent.into(),
            benefit_voucher_days: r.benefit_days,
            refunds_lower_tier: r.refunds_lower_tier,
            points_expiry_months: r.expiry_months,
            expiry_warning_days: r.expiry_warning_days,
            staff_digest_emails: r.digest_emails.split(',').filter(|a| !a.is_empty()).map(String::from).collect(),
            welcome_follow_up_days: r.welcome_follow_up_days,
            nearing_reward_points: r.nearing_points,
            idempotency_retention_days: r.keep_idempotency_days,
            job_run_retention_days: r.keep_job_run_days,
            delivery_retention_days: r.keep_delivery_days,
            erase_inactive_after_months: r.erase_inactive_months,
            postal_address: r.postal_address,
            phone: r.phone,
            website_url: r.website_url,
            booking_url: r.booking_url,
            logo_url: r.logo_url,
            brand_color: r.brand_color,
            locale: r.locale.into(),
            voucher_qr_code: r.voucher_qr_code,
            id: r.id,
            name: r.name,
            timezone: r.timezone,
            sender_name: r.sender_name,
            mail_from: r.mail_from,
            reply_to: r.reply_to,
            public_url: r.public_url,
            currency: r.currency,
            points_per_dollar: r.points_per_dollar,
            points_per_redeemed_dollar: r.points_per_redeemed_dollar,
            referral_bonus: r.referral_bonus,
            dormant_days: r.dormant_days,
            at_risk_days: r.at_risk_days,
            occasion_lead_days: r.occasion_lead_days,
            win_back_days: r.win_back_days,
            predicted_churn: r.churn_by_prediction,
            at_risk_probability: f64::from(r.at_risk_probability_bp) / 10_000.0,
            win_back_probability: f64::from(r.win_back_probability_bp) / 10_000.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Settings to change; omitted fields stay. An empty string clears an optional text setting
/// (`replyTo`, `publicUrl`, `postalAddress`, `phone`, `websiteUrl`, `bookingUrl`, `logoUrl`).
#[derive(InputObject)]
pub struct RestaurantInput {
    /// The restaurant's name, as members see it.
    pub name: Option<String>,
    /// IANA time zone: its jobs run, "today" is decided and series are bucketed in it.
    pub timezone: Option<String>,
    /// Sender name of its emails.
    pub sender_name: Option<String>,
    /// From address of its emails.
    pub mail_from: Option<String>,
    /// Reply-To address of its emails (empty: none).
    pub reply_to: Option<String>,
    /// Base URL of links in its emails (the service's own address when null).
    pub public_url: Option<String>,
    /// ISO 4217 currency code, for display.
    pub currency: Option<String>,
    /// Points an order earns per whole currency unit.
    pub points_per_dollar: Option<i64>,
    /// Points that make one currency unit of discount.
    pub points_per_redeemed_dollar: Option<i64>,
    /// Points a member earns for a referral.
    pub referral_bonus: Option<i64>,
    /// Discount per tier, in percent.
    pub tier_discounts: Option<TierDiscountsInput>,
    /// A last visit more than this many days ago makes a member dormant.
    pub dormant_days: Option<i32>,
    /// A last visit at least this many days ago (and not dormant) makes a member at risk.
    pub at_risk_days: Option<i32>,
    /// Birthday and anniversary emails go this many days ahead.
    pub occasion_lead_days: Option<i32>,
    /// At most one win-back email per member per this many days.
    pub win_back_days: Option<i32>,
    /// Whether the at-risk and win-back emails follow the predicted probability that a member
    /// is still active instead of fixed days.
    pub predicted_churn: Option<bool>,
    /// Below this probability a member is at risk (0 to 1, above `winBackProbability`).
    pub at_risk_probability: Option<f64>,
    /// Below this probability a member is lost and gets the win-back (0 to 1).
    pub win_back_probability: Option<f64>,
    /// Local times of day its daily jobs run.
    pub schedule: Option<JobScheduleInput>,
    /// At most this many marketing emails per member in a window.
    pub frequency_cap: Option<FrequencyCapInput>,
    /// The win-back email's voucher, in percent off (0: none).
    pub win_back_voucher_percent: Option<i32>,
    /// Days a birthday or win-back voucher stays valid.
    pub benefit_voucher_days: Option<i32>,
    /// Whether a refund may lower a member's tier (it never does otherwise).
    pub refunds_lower_tier: Option<bool>,
    /// Points expire after this many months without activity (earning, redeeming, a visit); 0: never. Switching it on or shortening it never moves a member's date earlier.
    pub points_expiry_months: Option<i32>,
    /// Members are warned by email (with consent) this many days before.
    pub expiry_warning_days: Option<i32>,
    /// Staff addresses the morning digest goes to (today's and tomorrow's occasions).
    pub staff_digest_emails: Option<Vec<String>>,
    /// Days after a first visit the second welcome email goes to members who have not returned (automation `WELCOME_FOLLOW_UP`).
    pub welcome_follow_up_days: Option<i32>,
    /// A member this many points (or fewer) from a reward of the catalogue or from the next tier gets the "nearing a reward" email (automation `NEARING_REWARD`).
    pub nearing_reward_points: Option<i32>,
    /// Days idempotency keys are kept (30); a retry after that is a new request.
    pub idempotency_retention_days: Option<i32>,
    /// Days job runs are kept (90).
    pub job_run_retention_days: Option<i32>,
    /// Days finished deliveries are kept (400; at least 60 and the frequency cap's and win-back's windows). Campaign reports count only the deliveries still kept.
    pub delivery_retention_days: Option<i32>,
    /// Members without activity (earning, redeeming, a visit, a profile change) for this many months are erased like `eraseCustomer` by the daily `retention` job; 0 (the default): never.
    pub erase_inactive_after_months: Option<i32>,
    /// Postal address for emails' footers (lines separated by a line break; blank lines are
    /// dropped); empty clears it, which stops marketing emails.
    pub postal_address: Option<String>,
    /// Phone number for emails' footers, as members should read it (empty: none).
    pub phone: Option<String>,
    /// Website, an http(s) URL (empty: none).
    pub website_url: Option<String>,
    /// Booking or ordering URL for emails' button, http(s) (empty: none).
    pub booking_url: Option<String>,
    /// Logo image URL, http(s) (empty: none).
    pub logo_url: Option<String>,
    /// Brand colour, `#rrggbb`.
    pub brand_color: Option<String>,
    /// How emails write dates and numbers.
    pub locale: Option<Locale>,
    /// Whether emails show a voucher's code as a QR code too, for the POS to scan.
    pub voucher_qr_code: Option<bool>,
}

/// A percentage that does not fit a small integer is out of range either way.
fn percent(v: Option<i32>) -> Option<i16> {
    v.map(|v| i16::try_from(v).unwrap_or(if v < 0 { -1 } else { 101 }))
}

impl From<RestaurantInput> for RestaurantPatch {
    fn from(i: RestaurantInput) -> Self {
        Self {
            name: i.name,
            timezone: i.timezone,
            sender_name: i.sender_name,
            mail_from: i.mail_from,
            reply_to: i.reply_to,
            public_url: i.public_url,
            currency: i.currency,
            points_per_dollar: i.points_per_dollar,
            points_per_redeemed_dollar: i.points_per_redeemed_dollar,
            referral_bonus: i.referral_bonus,
            tier_discounts: i.tier_discounts.map(|d| TierDiscountsPatch {
                bronze: percent(d.bronze),
                silver: percent(d.silver),
                gold: percent(d.gold),
                platinum: percent(d.platinum),
                vip: percent(d.vip),
            }),
            dormant_days: i.dormant_days,
            at_risk_days: i.at_risk_days,
            occasion_lead_days: i.occasion_lead_days,
            win_back_days: i.win_back_days,
            churn_by_prediction: i.predicted_churn,
            at_risk_probability_bp: i.at_risk_probability.map(basis_points),
            win_back_probability_bp: i.win_back_probability.map(basis_points),
            schedule: i.schedule.map(|s| SchedulePatch { dormancy: s.dormancy, birthday: s.birthday, anniversary: s.anniversary, win_back: s.win_back }),
            win_back_voucher_percent: percent(i.win_back_voucher_percent),
            benefit_voucher_days: i.benefit_voucher_days,
            refunds_lower_tier: i.refunds_lower_tier,
            points_expiry_months: i.points_expiry_months,
            expiry_warning_days: i.expiry_warning_days,
            staff_digest_emails: i.staff_digest_emails,
            welcome_follow_up_days: i.welcome_follow_up_days,
            nearing_reward_points: i.nearing_reward_points,
            idempotency_retention_days: i.idempotency_retention_days,
            job_run_retention_days: i.job_run_retention_days,
            delivery_retention_days: i.delivery_retention_days,
            erase_inactive_after_months: i.erase_inactive_after_months,
            postal_address: i.postal_address,
            phone: i.phone,
            website_url: i.website_url,
            booking_url: i.booking_url,
            logo_url: i.logo_url,
            brand_color: i.brand_color,
            locale: i.locale.map(Into::into),
            voucher_qr_code: i.voucher_qr_code,
            frequency_cap: i.frequency_cap.map(|c| FrequencyCapPatch { emails: c.emails, days: c.days, include_occasions: c.include_occasions }),
        }
    }
}

/// Restaurant queries.
#[derive(Default)]
pub struct RestaurantQuery;

#[Object]
impl RestaurantQuery {
    /// Your restaurant and its settings.
    #[graphql(guard = "VIEWER")]
    async fn restaurant(&self, ctx: &Context<'_>) -> async_graphql::Result<Restaurant> {
        Ok(restaurants::get(&app(ctx).db, &scope(ctx).restaurant_id).await.gql()?.into())
    }
}

/// Restaurant mutations.
#[derive(Default)]
pub struct RestaurantMutation;

#[Object]
impl RestaurantMutation {
    /// Changes your restaurant's settings (audited with old and new values). An invalid value
    /// is refused with `VALIDATION` naming the field, and nothing changes.
    #[graphql(guard = "ADMIN")]
    async fn update_restaurant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The settings to change; fields left out keep their value.")] input: RestaurantInput,
    ) -> async_graphql::Result<Restaurant> {
        Ok(restaurants::update(&app(ctx).db, scope(ctx), input.into()).await.gql()?.into())
    }
}

/// A probability in basis points (a value that is not a number gives 0, which the rules refuse).
fn basis_points(p: f64) -> i32 {
    if p.is_finite() { (p * 10_000.0).round().clamp(-1.0, 10_001.0) as i32 } else { 0 }
}
