//! Restaurants and their settings. A restaurant's row decides its programme (earn and
//! redemption rates, referral bonus, tier discounts, dormancy and at-risk thresholds), its time
//! zone, its emails' sender and links, and when its daily jobs run.
//!
//! Operators create restaurants (`loyalty restaurants create`); a restaurant that has keys or
//! customers but no row (a database from before restaurants were tenants, or a key made with
//! the CLI for a new slug) gets one with the service's configured defaults ([`ensure`],
//! [`ensure_known`]). An admin changes their own restaurant with [`update`], audited with the
//! old and new value of every changed field.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryOrder, QuerySelect, TransactionTrait};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{audit, begin_write, now};
use crate::entities::{api_key, customer, restaurant};
use crate::rules::programme::Programme;
use crate::rules::restaurant::check;
use crate::{DomainError, DomainResult, Scope};

/// Tier discounts to change, in percent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierDiscountsPatch {
    pub bronze: Option<i16>,
    pub silver: Option<i16>,
    pub gold: Option<i16>,
    pub platinum: Option<i16>,
    pub vip: Option<i16>,
}

/// The frequency cap to change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrequencyCapPatch {
    pub emails: Option<i32>,
    pub days: Option<i32>,
    pub include_occasions: Option<bool>,
}

/// Local times of day (`HH:MM`) of the daily jobs to change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchedulePatch {
    pub dormancy: Option<String>,
    pub birthday: Option<String>,
    pub anniversary: Option<String>,
    pub win_back: Option<String>,
}

/// Settings to change; `None` keeps a value. For `replyTo` and `publicUrl` an empty string
/// clears the value. Field names are those of GraphQL's `RestaurantInput` and of
/// `loyalty restaurants update --set FIELD=VALUE`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestaurantPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub sender_name: Option<String>,
    pub mail_from: Option<String>,
    pub reply_to: Option<String>,
    pub public_url: Option<String>,
    pub currency: Option<String>,
    pub points_per_dollar: Option<i64>,
    pub points_per_redeemed_dollar: Option<i64>,
    pub referral_bonus: Option<i64>,
    pub tier_discounts: Option<TierDiscountsPatch>,
    pub dormant_days: Option<i32>,
    pub at_risk_days: Option<i32>,
    pub occasion_lead_days: Option<i32>,
    pub win_back_days: Option<i32>,
    pub churn_by_prediction: Option<bool>,
    pub at_risk_probability_bp: Option<i32>,
    pub win_back_probability_bp: Option<i32>,
    pub schedule: Option<SchedulePatch>,
    pub frequency_cap: Option<FrequencyCapPatch>,
    pub win_back_voucher_percent: Option<i16>,
    pub benefit_voucher_days: Option<i32>,
    pub refunds_lower_tier: Option<bool>,
    /// Months without activity after which points expire (0: never; 12 is usual).
    pub points_expiry_months: Option<i32>,
    pub expiry_warning_days: Option<i32>,
    /// Staff addresses of the morning digest (replaces the list; empty: no digest).
    pub staff_digest_emails: Option<Vec<String>>,
    /// Days after a first visit of the second welcome email (1 to 90).
    pub welcome_follow_up_days: Option<i32>,
    /// Points from a reward or the next tier that trigger the "nearing a reward" email.
    pub nearing_reward_points: Option<i32>,
    /// Days idempotency keys are kept (a retry after that is a new request).
    pub idempotency_retention_days: Option<i32>,
    /// Days job runs are kept.
    pub job_run_retention_days: Option<i32>,
    /// Days finished deliveries are kept (at least the frequency cap's and win-back's windows).
    pub delivery_retention_days: Option<i32>,
    /// Erase members inactive for this many months (0: never).
    pub erase_inactive_after_months: Option<i32>,
    /// Empty clears it (and stops marketing emails).
    pub postal_address: Option<String>,
    pub phone: Option<String>,
    pub website_url: Option<String>,
    pub booking_url: Option<String>,
    pub logo_url: Option<String>,
    pub brand_color: Option<String>,
    pub locale: Option<crate::entities::Locale>,
    pub voucher_qr_code: Option<bool>,
}

impl RestaurantPatch {
    /// Applies the changes to `r` (unchecked: [`check`] the result).
    pub fn apply_to(self, r: &mut restaurant::Model) {
        fn set<T>(target: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *target = v;
            }
        }
        let optional = |v: Option<String>, target: &mut Option<String>| {
            if let Some(v) = v {
                let v = v.trim().to_string();
                *target = (!v.is_empty()).then_some(v);
            }
        };
        set(&mut r.name, self.name);
        set(&mut r.timezone, self.timezone.map(|t| t.trim().to_string()));
        set(&mut r.sender_name, self.sender_name);
        set(&mut r.mail_from, self.mail_from.map(|m| m.trim().to_lowercase()));
        optional(self.reply_to.map(|m| m.to_lowercase()), &mut r.reply_to);
        optional(self.public_url, &mut r.public_url);
        if let Some(url) = &mut r.public_url {
            *url = url.trim_end_matches('/').to_string();
        }
        set(&mut r.currency, self.currency.map(|c| c.trim().to_uppercase()));
        set(&mut r.points_per_dollar, self.points_per_dollar);
        set(&mut r.points_per_redeemed_dollar, self.points_per_redeemed_dollar);
        set(&mut r.referral_bonus, self.referral_bonus);
        if let Some(d) = self.tier_discounts {
            set(&mut r.discount_bronze, d.bronze);
            set(&mut r.discount_silver, d.silver);
            set(&mut r.discount_gold, d.gold);
            set(&mut r.discount_platinum, d.platinum);
            set(&mut r.discount_vip, d.vip);
        }
        set(&mut r.dormant_days, self.dormant_days);
        set(&mut r.at_risk_days, self.at_risk_days);
        set(&mut r.occasion_lead_days, self.occasion_lead_days);
        set(&mut r.win_back_days, self.win_back_days);
        set(&mut r.churn_by_prediction, self.churn_by_prediction);
        set(&mut r.at_risk_probability_bp, self.at_risk_probability_bp);
        set(&mut r.win_back_probability_bp, self.win_back_probability_bp);
        if let Some(s) = self.schedule {
            set(&mut r.dormancy_at, s.dormancy);
            set(&mut r.birthday_at, s.birthday);
            set(&mut r.anniversary_at, s.anniversary);
            set(&mut r.win_back_at, s.win_back);
        }
        set(&mut r.win_back_percent, self.win_back_voucher_percent);
        set(&mut r.benefit_days, self.benefit_voucher_days);
        set(&mut r.refunds_lower_tier, self.refunds_lower_tier);
        set(&mut r.expiry_months, self.points_expiry_months);
        set(&mut r.expiry_warning_days, self.expiry_warning_days);
        set(&mut r.welcome_follow_up_days, self.welcome_follow_up_days);
        set(&mut r.nearing_points, self.nearing_reward_points);
        set(&mut r.keep_idempotency_days, self.idempotency_retention_days);
        set(&mut r.keep_job_run_days, self.job_run_retention_days);
        set(&mut r.keep_delivery_days, self.delivery_retention_days);
        set(&mut r.erase_inactive_months, self.erase_inactive_after_months);
        let address = self.postal_address.map(|a| a.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n"));
        optional(address, &mut r.postal_address);
        optional(self.phone, &mut r.phone);
        optional(self.website_url, &mut r.website_url);
        optional(self.booking_url, &mut r.booking_url);
        optional(self.logo_url, &mut r.logo_url);
        set(&mut r.brand_color, self.brand_color.map(|c| c.trim().to_lowercase()));
        set(&mut r.locale, self.locale);
        set(&mut r.voucher_qr_code, self.voucher_qr_code);
        if let Some(list) = self.staff_digest_emails {
            r.digest_emails = list.iter().map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty()).collect::<Vec<_>>().join(",");
        }
        if let Some(c) = self.frequency_cap {
            set(&mut r.cap_emails, c.emails);
            set(&mut r.cap_days, c.days);
            set(&mut r.cap_occasions, c.include_occasions);
        }
    }
}

/// The restaurant `id`, or `NotFound`.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> DomainResult<restaurant::Model> {
    restaurant::Entity::find_by_id(id.to_string()).one(db).await?.ok_or_else(|| DomainError::not_found(format!("restaurant {id:?}")))
}

/// How long a restaurant's programme is reused by the operations of this process. Every write
/// applies it, and a primary-key read per write cost 13-25% of their throughput (BENCHMARKS.md);
/// a change made here clears it at once, one made by another replica or command holds there
/// within this long. Keyed by restaurant id: one process serves one database.
pub const PROGRAMME_CACHE: std::time::Duration = std::time::Duration::from_secs(1);

type ProgrammeCache = std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Programme)>>;

fn programme_cache() -> &'static ProgrammeCache {
    static CACHE: std::sync::OnceLock<ProgrammeCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Forgets a restaurant's cached programme (after a change in this process).
fn forget(id: &str) {
    if let Ok(mut cache) = programme_cache().lock() {
        cache.remove(id);
    }
}

/// The scope's restaurant's programme, as the rules use it (reused for [`PROGRAMME_CACHE`]).
pub async fn programme(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<Programme> {
    let id = &scope.restaurant_id;
    if let Ok(cache) = programme_cache().lock()
        && let Some((at, p)) = cache.get(id)
        && at.elapsed() < PROGRAMME_CACHE
    {
        return Ok(p.clone());
    }
    let p = Programme::from(&get(db, id).await?);
    if let Ok(mut cache) = programme_cache().lock() {
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(id.clone(), (std::time::Instant::now(), p.clone()));
    }
    Ok(p)
}

/// Every restaurant, by id.
pub async fn list(db: &impl ConnectionTrait) -> DomainResult<Vec<restaurant::Model>> {
    Ok(restaurant::Entity::find().order_by_asc(restaurant::Column::Id).all(db).await?)
}

/// Creates restaurant `id` from `defaults` changed by `patch`, with its built-in campaign rows;
/// refuses an id that exists.
pub async fn create(db: &impl ConnectionTrait, id: &str, defaults: &restaurant::Model, patch: RestaurantPatch) -> DomainResult<restaurant::Model> {
    let at = now();
    let mut row = restaurant::Model { id: id.to_string(), created_at: at, updated_at: at, ..defaults.clone() };
    patch.apply_to(&mut row);
    check(&row)?;
    let inserted = restaurant::Entity::insert(row.clone().into_active_model())
        .on_conflict(OnConflict::column(restaurant::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Err(DomainError::validation("id", format!("restaurant {id:?} already exists")));
    }
    crate::marketing::builtins::install(db, id).await?;
    Ok(row)
}

/// Creates restaurant `id` with `defaults` (and its built-in campaign rows) unless it exists;
/// returns whether it was created.
pub async fn ensure(db: &impl ConnectionTrait, id: &str, defaults: &restaurant::Model) -> DomainResult<bool> {
    crate::rules::restaurant::check_id(id)?;
    let at = now();
    let row = restaurant::Model { id: id.to_string(), created_at: at, updated_at: at, ..defaults.clone() };
    let inserted = restaurant::Entity::insert(row.into_active_model())
        .on_conflict(OnConflict::column(restaurant::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted > 0 {
        crate::marketing::builtins::install(db, id).await?;
    }
    Ok(inserted > 0)
}

/// Gives every restaurant that has API keys or customers but no row one with `defaults`;
/// returns the ids it created. Customers are looked at only while no restaurant has a row (a
/// database from before restaurants had settings): since then a customer can only be created in
/// a restaurant that has one, and a scan of every customer on each start would be wasted.
pub async fn ensure_known(db: &impl ConnectionTrait, defaults: &restaurant::Model) -> DomainResult<Vec<String>> {
    let mut ids: Vec<String> = api_key::Entity::find().select_only().column(api_key::Column::RestaurantId).distinct().into_tuple().all(db).await?;
    if restaurant::Entity::find().one(db).await?.is_none() {
        ids.extend(customer::Entity::find().select_only().column(customer::Column::RestaurantId).distinct().into_tuple::<String>().all(db).await?);
    }
    ids.sort();
    ids.dedup();
    let have: Vec<String> = restaurant::Entity::find().all(db).await?.into_iter().map(|r| r.id).collect();
    let mut created = Vec::new();
    for id in ids.into_iter().filter(|id| !have.contains(id)) {
        if crate::rules::restaurant::check_id(&id).is_ok() && ensure(db, &id, defaults).await? {
            created.push(id);
        }
    }
    Ok(created)
}

/// The fields whose values differ, with both values (`{field: {from, to}}`), for the audit log.
fn changes(old: &restaurant::Model, new: &restaurant::Model) -> Map<String, Value> {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return Map::new();
    };
    new.into_iter()
        .filter(|(k, v)| k != "updatedAt" && old.get(k) != Some(v))
        .map(|(k, v)| {
            let from = old.get(&k).cloned().unwrap_or(Value::Null);
            (k, json!({ "from": from, "to": v }))
        })
        .collect()
}

/// Changes the scope's restaurant; refuses invalid values (naming the field) and then changes
/// nothing. Audited as `restaurant.updated` with every changed field's old and new value.
pub async fn update<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, patch: RestaurantPatch) -> DomainResult<restaurant::Model> {
    let txn = begin_write(db).await?;
    let old = get(&txn, &scope.restaurant_id).await?;
    let mut new = old.clone();
    patch.apply_to(&mut new);
    check(&new)?;
    if new.expiry_months != old.expiry_months {
        let policy = Programme::from(&old).expiry.change(new.expiry_months.max(0) as u32, now());
        new.expiry_started_at = policy.started_at;
        new.expiry_shortened_at = policy.shortened_at;
        new.expiry_previous_months = policy.previous_months as i32;
    }
    let changed = changes(&old, &new);
    if changed.is_empty() {
        return Ok(old);
    }
    new.updated_at = now();
    let active: restaurant::ActiveModel = super::only_changes(old, &new);
    let saved = active.update(&txn).await?;
    audit::record(&txn, scope, crate::entities::AuditAction::RestaurantUpdated, None, Value::Object(changed)).await?;
    sea_orm::TransactionSession::commit(txn).await?;
    forget(&saved.id);
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::restaurant_fixture;

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let mut r = restaurant_fixture();
        let patch: RestaurantPatch = serde_json::from_value(json!({
            "pointsPerDollar": 3, "tierDiscounts": { "gold": 12 }, "schedule": { "birthday": "08:30" }, "replyTo": "Desk@Harbour.Example"
        }))
        .unwrap();
        patch.apply_to(&mut r);
        assert_eq!((r.points_per_dollar, r.discount_gold, r.discount_silver), (3, 12, 5));
        assert_eq!(r.birthday_at, "08:30");
        assert_eq!(r.reply_to.as_deref(), Some("desk@harbour.example"));
        let clear: RestaurantPatch = serde_json::from_value(json!({ "replyTo": "" })).unwrap();
        clear.apply_to(&mut r);
        assert_eq!(r.reply_to, None);
        assert!(serde_json::from_value::<RestaurantPatch>(json!({ "pointsPerDolar": 3 })).is_err(), "unknown fields are refused");
    }

    #[test]
    fn changes_list_old_and_new_values() {
        let old = restaurant_fixture();
        let new = restaurant::Model { points_per_dollar: 2, name: "Harbour".into(), ..old.clone() };
        let diff = changes(&old, &new);
        assert_eq!(diff.len(), 2);
        assert_eq!(diff["pointsPerDollar"], json!({ "from": 1, "to": 2 }));
    }
}
