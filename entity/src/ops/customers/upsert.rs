//! Create-or-update by phone (spec endpoint 1), with patching, the audit diff, referral links
//! and custom segments; and members' own consent changes.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, SqlErr, TransactionSession, TransactionTrait,
};

use crate::entities::{CustomerStatus, LabelKind, LedgerKind, Tier, customer, customer_label};
use crate::ops::state::{self, Delta};
use crate::ops::{begin_write, ledger, now};
use crate::rules::programme::Programme;
use crate::rules::{contact, occasions, referral};
use crate::{DomainError, DomainResult, Policy, Scope};

use super::input::{CustomerInput, MarketingInput, Patch};
use super::lookup::{find_by_id, find_by_phone_index};
use super::personal::{self, Indexes, Personal};
use crate::vault::CustomerKey;

/// What a create-or-update returns.
#[derive(Debug, Clone)]
pub struct UpsertOutcome {
    pub customer: customer::Model,
    pub created: bool,
}

/// Input checked and normalised, ready to write.
struct Checked {
    phone: String,
    name: Option<String>,
    email: Patch<String>,
    user_id: Patch<String>,
    date_of_birth: Patch<NaiveDate>,
    anniversary: Patch<NaiveDate>,
    dietary_restrictions: Option<Vec<String>>,
    allergies: Option<Vec<String>>,
    segments: Option<Vec<String>>,
    referral_code: Option<String>,
}

fn check(input: &CustomerInput, policy: &Policy, today: NaiveDate) -> DomainResult<Checked> {
    let field = |name: &'static str| move |e: contact::ContactError| DomainError::validation(name, e);
    if input.status == Some(CustomerStatus::Dormant) {
        return Err(DomainError::validation("status", "dormant is set automatically from the last visit"));
    }
    let user_id = input.user_id.clone().map_result(|u| {
        let u = u.trim().to_string();
        if u.is_empty() || u.len() > 100 { Err(DomainError::validation("userId", "must be 1 to 100 characters")) } else { Ok(u) }
    })?;
    Ok(Checked {
        phone: contact::normalize_phone(&input.phone, policy.phone_region).map_err(field("phone"))?,
        name: input.name.as_deref().map(contact::normalize_name).transpose().map_err(field("name"))?,
        email: input.email.clone().map_result(|e| contact::normalize_email(&e)).map_err(field("email"))?,
        user_id,
        date_of_birth: input.date_of_birth.clone().map_result(|d| contact::check_past_date(d, today)).map_err(field("dateOfBirth"))?,
        anniversary: input.anniversary.clone().map_result(|d| contact::check_past_date(d, today)).map_err(field("anniversary"))?,
        dietary_restrictions: input.dietary_restrictions.as_deref().map(contact::normalize_list).transpose().map_err(field("dietaryRestrictions"))?,
        allergies: input.allergies.as_deref().map(contact::normalize_list).transpose().map_err(field("allergies"))?,
        segments: input.segments.as_deref().map(crate::rules::segments::check_names).transpose()?,
        referral_code: input.referral_code.as_deref().map(referral::normalize).filter(|c| !c.is_empty()),
    })
}

/// Creates the customer with `input.phone`, or updates the one that has it (spec endpoint 1).
/// Auto-tags are recomputed; a referral code links `referredBy` once and rewards the referrer.
pub async fn upsert<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, policy: &Policy, input: CustomerInput) -> DomainResult<UpsertOutcome> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match upsert_once(db, scope, policy, &input).await {
            // Two requests created the same phone (or drew the same referral code) at once:
            // the loser retries and now finds the winner's row.
            Err(DomainError::Database(e)) if attempt < 3 && matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                tracing::debug!(error = %e, "retrying customer upsert after a unique conflict");
            }
            other => return other,
        }
    }
}

async fn upsert_once<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, policy: &Policy, input: &CustomerInput) -> DomainResult<UpsertOutcome> {
    let at = now();
    let p = crate::ops::restaurants::programme(db, scope).await?;
    let checked = check(input, policy, p.today(at))?;
    let input = input.clone();
    let indexes = Indexes::of(scope).await?;
    let txn = begin_write(db).await?;
    let existing = find_by_phone_index(&txn, scope, &indexes.phone(&checked.phone)).await?;
    let created = existing.is_none();
    let (base, key, before) = match existing {
        Some(row) => {
            let key = personal::key_for(scope, Some(&row)).await?;
            let before = personal::open_for(&txn, scope, row.id, &key).await?;
            (row, key, before)
        }
        None => {
            let key = personal::key_for(scope, None).await?;
            let fresh = Personal { phone: checked.phone.clone(), ..Personal::default() };
            (insert_new(&txn, scope, &checked, &fresh, &key, &indexes, at).await?, key, fresh)
        }
    };
    let referred_by = match &checked.referral_code {
        Some(code) => link_referral(&txn, scope, &p, &base, code, at).await?,
        None => base.referred_by,
    };

    let mut active: customer::ActiveModel = base.clone().into();
    if let Some(name) = checked.name {
        active.name = Set(name);
    }
    let mut after = before.clone();
    checked.email.apply(&mut after.email);
    checked.user_id.apply_to(&mut active.user_id);
    apply_dates(&mut active, &mut after, checked.date_of_birth, checked.anniversary);
    input.spice_level.apply_to(&mut active.spice_level);
    input.preferred_seating.apply_to(&mut active.preferred_seating);
    if let Some(list) = checked.dietary_restrictions {
        after.dietary_restrictions = list;
    }
    if let Some(list) = checked.allergies {
        after.allergies = list;
    }
    let first = created || base.key_id.is_none();
    let mut values: personal::Values = Default::default();
    personal::seal_changed(&mut active, &mut values, &before, &after, &key, &indexes, first);
    input.marketing.apply_to(&mut active);
    if let Some(status) = input.status {
        active.status = Set(status);
    }
    active.referred_by = Set(referred_by);
    // A profile change is no loyalty activity: the points-expiry clock keeps running.
    active.updated_at = Set(at);
    let row = active.update(&txn).await?;
    personal::write(&txn, scope, row.id, values, false).await?;
    let segments_changed = checked.segments.clone();
    if let Some(segments) = checked.segments {
        replace_segments(&txn, scope, &row, segments).await?;
    }
    let audited_before = (!created).then_some((&base, &before));
    audit_changes(&txn, scope, audited_before, (&row, &after), &key, segments_changed).await?;
    let row = state::refresh(&txn, &p, row, at, false).await?;
    let event = if created { "customer.created" } else { "customer.updated" };
    crate::ops::webhooks::events::record(&txn, scope, event, crate::ops::webhooks::events::member(&row), at).await?;
    txn.commit().await?;
    Ok(UpsertOutcome { customer: row, created })
}

/// Profile fields the audit trail follows: (column as serialised, name in the API). The
/// personal ones ([`PERSONAL_AUDITED`]) are recorded sealed under the customer's key.
const AUDITED: [(&str, &str); 11] = [
    ("name", "name"),
    ("email", "email"),
    ("phone", "phone"),
    ("user_id", "userId"),
    ("date_of_birth", "dateOfBirth"),
    ("anniversary", "anniversary"),
    ("dietary_restrictions", "dietaryRestrictions"),
    ("allergies", "allergies"),
    ("spice_level", "spiceLevel"),
    ("preferred_seating", "preferredSeating"),
    ("status", "status"),
];

/// The audited fields whose values are personal data.
const PERSONAL_AUDITED: [&str; 6] = ["email", "phone", "date_of_birth", "anniversary", "dietary_restrictions", "allergies"];

/// Consent flags: (column as serialised, name in the API).
pub(crate) const CONSENT: [(&str, &str); 6] = [
    ("email_opt_in", "emailOptIn"),
    ("sms_opt_in", "smsOptIn"),
    ("push_opt_in", "pushNotifications"),
    ("special_offers", "specialOffers"),
    ("birthday_offers", "birthdayOffers"),
    ("anniversary_offers", "anniversaryOffers"),
];

/// Records what a create-or-update changed: one entry for the profile (each field with its old
/// and new value) and one per consent flag that changed, with its source.
async fn audit_changes(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    before: Option<(&customer::Model, &Personal)>,
    (after, after_personal): (&customer::Model, &Personal),
    key: &CustomerKey,
    segments: Option<Vec<String>>,
) -> DomainResult<()> {
    let old = before.map(|(c, p)| personal::clear_view(c, p)).transpose()?;
    let new = personal::clear_view(after, after_personal)?;
    let old_of = |key: &str| old.as_ref().map_or(serde_json::Value::Null, |o| o[key].clone());
    let seal = |v: serde_json::Value| match v {
        serde_json::Value::Null => v,
        v => serde_json::Value::String(key.seal(personal::AUDIT, &v.to_string())),
    };
    let mut changes = serde_json::Map::new();
    for (key, name) in AUDITED {
        if old_of(key) != new[key] {
            let (from, to) = if PERSONAL_AUDITED.contains(&key) { (seal(old_of(key)), seal(new[key].clone())) } else { (old_of(key), new[key].clone()) };
            changes.insert(name.into(), serde_json::json!({ "from": from, "to": to }));
        }
    }
    if let Some(segments) = segments {
        changes.insert("segments".into(), serde_json::json!({ "to": segments }));
    }
    let action = if before.is_none() { crate::entities::AuditAction::CustomerCreated } else { crate::entities::AuditAction::CustomerUpdated };
    if before.is_none() || !changes.is_empty() {
        crate::ops::audit::record(txn, scope, action, Some(after.id), serde_json::json!({ "changes": changes })).await?;
    }
    for (key, name) in CONSENT {
        let (from, to) = (old_of(key), new[key].clone());
        if from != to && !(before.is_none() && to == serde_json::Value::Bool(false)) {
            let details = serde_json::json!({ "flag": name, "from": from, "to": to, "source": "api" });
            crate::ops::audit::record(txn, scope, crate::entities::AuditAction::ConsentChanged, Some(after.id), details).await?;
        }
    }
    Ok(())
}

/// Sets (or clears) the dates (in `p`, sealed later) and their month-day keys together.
pub(crate) fn apply_dates(active: &mut customer::ActiveModel, p: &mut Personal, date_of_birth: Patch<NaiveDate>, anniversary: Patch<NaiveDate>) {
    date_of_birth.clone().map(occasions::month_day_key).apply_to(&mut active.birth_md);
    anniversary.clone().map(occasions::month_day_key).apply_to(&mut active.anniversary_md);
    date_of_birth.apply(&mut p.date_of_birth);
    anniversary.apply(&mut p.anniversary);
}

async fn insert_new(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    checked: &Checked,
    fresh: &Personal,
    key: &CustomerKey,
    indexes: &Indexes,
    at: chrono::DateTime<chrono::Utc>,
) -> DomainResult<customer::Model> {
    let name = checked.name.clone().ok_or_else(|| DomainError::validation("name", "is required to create a customer"))?;
    let referral_code = unused_referral_code(txn, &name).await?;
    let mut row = new_row(scope, name, referral_code, at);
    let mut values: personal::Values = Default::default();
    personal::seal_into(&mut row, &mut values, fresh, key, indexes);
    let row = row.insert(txn).await?;
    personal::write(txn, scope, row.id, values, true).await?;
    Ok(row)
}

/// A new member's row as created at `at`: no points, visits or consent yet, bronze, active;
/// the personal values and their indexes are the caller's to seal in.
pub(crate) fn new_row(scope: &Scope, name: String, referral_code: String, at: chrono::DateTime<chrono::Utc>) -> customer::ActiveModel {
    customer::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        user_id: Set(None),
        name: Set(name),
        birth_md: Set(None),
        anniversary_md: Set(None),
        tier: Set(Tier::Bronze),
        points_current: Set(0),
        points_lifetime: Set(0),
        points_redeemed: Set(0),
        member_since: Set(at),
        total_visits: Set(0),
        first_visit_at: Set(None),
        last_visit_at: Set(None),
        total_spent_cents: Set(0),
        spice_level: Set(None),
        preferred_seating: Set(None),
        email_opt_in: Set(false),
        sms_opt_in: Set(false),
        push_opt_in: Set(false),
        special_offers: Set(false),
        birthday_offers: Set(false),
        anniversary_offers: Set(false),
        referral_code: Set(referral_code),
        referred_by: Set(None),
        referrals_count: Set(0),
        referral_rewards: Set(0),
        rating_total: Set(0),
        review_count: Set(0),
        last_review_at: Set(None),
        status: Set(CustomerStatus::Active),
        last_activity_at: Set(at),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
}

/// A referral code no customer has yet (codes are unique across all restaurants).
async fn unused_referral_code(db: &impl ConnectionTrait, name: &str) -> DomainResult<String> {
    for _ in 0..16 {
        let code = referral::generate(name, &mut rand::rng());
        let taken = customer::Entity::find().filter(customer::Column::ReferralCode.eq(&code)).count(db).await?;
        if taken == 0 {
            return Ok(code);
        }
    }
    Err(DomainError::internal("no free referral code after 16 tries"))
}

/// Links `row` to the member whose code is `code` and rewards that member, once. Returns the
/// referrer's id.
async fn link_referral(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    p: &Programme,
    row: &customer::Model,
    code: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> DomainResult<Option<i64>> {
    let referrer = customer::Entity::find()
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer::Column::ReferralCode.eq(code))
        .one(txn)
        .await?
        .ok_or_else(|| DomainError::validation("referralCode", format!("no member has the referral code {code}")))?;
    if referrer.id == row.id {
        return Err(DomainError::validation("referralCode", "a customer cannot refer themselves"));
    }
    match row.referred_by {
        Some(id) if id == referrer.id => return Ok(Some(id)),
        Some(_) => return Err(DomainError::validation("referralCode", "this customer was already referred by another member")),
        None => {}
    }
    use customer::Column as C;
    let bonus = p.referral_bonus;
    customer::Entity::update_many()
        .col_expr(C::ReferralsCount, Expr::col(C::ReferralsCount).add(1))
        .col_expr(C::ReferralRewards, Expr::col(C::ReferralRewards).add(bonus))
        .filter(C::Id.eq(referrer.id))
        .exec(txn)
        .await?;
    if bonus > 0 && referrer.status != CustomerStatus::Blocked {
        let delta = Delta { earned: bonus, ..Delta::default() };
        let reason = Some(format!("Referral of customer {}", row.id));
        ledger::earn_in(txn, scope, p, referrer.id, delta, LedgerKind::ReferralBonus, reason, None, at).await?;
    }
    Ok(Some(referrer.id))
}

/// Replaces the customer's custom segments (automatic ones stay with the rules), creating
/// segments that do not exist yet.
async fn replace_segments(txn: &impl ConnectionTrait, scope: &Scope, row: &customer::Model, segments: Vec<String>) -> DomainResult<()> {
    use customer_label::Column as L;
    crate::ops::segments::ensure(txn, scope, &segments).await?;
    customer_label::Entity::delete_many()
        .filter(L::CustomerId.eq(row.id))
        .filter(L::Kind.eq(LabelKind::Segment))
        .filter(L::Name.is_not_in(crate::rules::segments::AUTO_SEGMENTS))
        .exec(txn)
        .await?;
    if segments.is_empty() {
        return Ok(());
    }
    let rows = segments.into_iter().map(|name| customer_label::ActiveModel {
        customer_id: Set(row.id),
        kind: Set(LabelKind::Segment),
        name: Set(name),
        restaurant_id: Set(row.restaurant_id.clone()),
    });
    customer_label::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// Changes a member's consent flags (`None` leaves a flag), audited per changed flag with
/// `source` (e.g. `customer-app`), in one transaction.
pub async fn update_consent<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    marketing: &MarketingInput,
    source: &str,
) -> DomainResult<customer::Model> {
    let txn = begin_write(db).await?;
    let before = find_by_id(&txn, scope, customer_id).await?;
    let mut active: customer::ActiveModel = before.clone().into();
    marketing.apply_to(&mut active);
    active.updated_at = Set(now());
    let after = active.update(&txn).await?;
    let (old, new) = (json_of(&before)?, json_of(&after)?);
    for (key, name) in CONSENT {
        if old[key] != new[key] {
            let details = serde_json::json!({ "flag": name, "from": old[key], "to": new[key], "source": source });
            crate::ops::audit::record(&txn, scope, crate::entities::AuditAction::ConsentChanged, Some(customer_id), details).await?;
        }
    }
    if CONSENT.iter().any(|(key, _)| old[key] != new[key]) {
        let mut data = crate::ops::webhooks::events::member(&after);
        data["consent"] = serde_json::json!(CONSENT.iter().map(|(key, name)| (name.to_string(), new[key].clone())).collect::<serde_json::Map<_, _>>());
        data["source"] = serde_json::json!(source);
        crate::ops::webhooks::events::record(&txn, scope, "consent.changed", data, after.updated_at).await?;
    }
    txn.commit().await?;
    Ok(after)
}

fn json_of(c: &customer::Model) -> DomainResult<serde_json::Value> {
    serde_json::to_value(c).map_err(DomainError::internal)
}
