//! Customer profiles: create-or-update by phone (spec endpoint 1), lookups (endpoint 2), the
//! filtered, paginated list (endpoint 3) and batched reads for DataLoaders.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    TransactionSession,
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, SqlErr, QueryFilter, QueryOrder, QuerySelect, Select, TransactionTrait,
};
use serde::Serialize;

use super::cursor::{self, Cursor};
use super::state::{self, Delta};
use super::{begin_write, ledger, now};
use crate::entities::{
    CustomerStatus, LabelKind, LedgerKind, Seating, SpiceLevel, StringList, Tier, customer, customer_label,
    favorite_item, special_occasion,
};
use crate::rules::{contact, occasions, referral};
use crate::rules::programme::Programme;
use crate::{DomainError, DomainResult, Policy, Scope};

/// A change to an optional field: leave it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(f(v)),
        }
    }

    fn map_result<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(f(v)?),
        })
    }

    fn apply_to(self, target: &mut sea_orm::ActiveValue<Option<T>>)
    where
        Option<T>: Into<sea_orm::Value>,
    {
        match self {
            Patch::Keep => {}
            Patch::Clear => *target = Set(None),
            Patch::Set(v) => *target = Set(Some(v)),
        }
    }
}

/// Marketing consent flags; `None` leaves a flag as it is (new customers start opted out).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MarketingInput {
    pub email_opt_in: Option<bool>,
    pub sms_opt_in: Option<bool>,
    pub push_notifications: Option<bool>,
    pub special_offers: Option<bool>,
    pub birthday_offers: Option<bool>,
    pub anniversary_offers: Option<bool>,
}

/// Fields of a create-or-update. `phone` identifies the customer; `name` is required to create.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerInput {
    pub phone: String,
    pub name: Option<String>,
    pub email: Patch<String>,
    pub user_id: Patch<String>,
    pub date_of_birth: Patch<NaiveDate>,
    pub anniversary: Patch<NaiveDate>,
    pub dietary_restrictions: Option<Vec<String>>,
    pub allergies: Option<Vec<String>>,
    pub spice_level: Patch<SpiceLevel>,
    pub preferred_seating: Patch<Seating>,
    pub marketing: MarketingInput,
    /// Replaces the customer's marketing segments.
    pub segments: Option<Vec<String>>,
    /// `active`, `inactive` or `blocked`; `dormant` is set by the rules only.
    pub status: Option<CustomerStatus>,
    /// Referral code of the existing member who referred this customer.
    pub referral_code: Option<String>,
}

/// What a create-or-update returns.
#[derive(Debug, Clone)]
pub struct UpsertOutcome {
    pub customer: customer::Model,
    pub created: bool,
}

/// Customer `id` in the scope's restaurant, or `NotFound`.
pub async fn find_by_id(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<customer::Model> {
    customer::Entity::find_by_id(id)
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("customer {id}")))
}

/// How a frontend names a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Id(i64),
    /// Any format the policy's region reads.
    Phone(String),
    Email(String),
    ReferralCode(String),
    /// The login service's id of the person.
    UserId(String),
}

impl std::fmt::Display for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Id(id) => write!(f, "customer {id}"),
            Lookup::Phone(v) => write!(f, "customer with phone {v}"),
            Lookup::Email(v) => write!(f, "customer with email {v}"),
            Lookup::ReferralCode(v) => write!(f, "customer with referral code {v}"),
            Lookup::UserId(v) => write!(f, "customer with userId {v}"),
        }
    }
}

/// The scope's member named by `lookup`, or `None` (the POS's "not a member yet"). A
/// malformed phone or email is a `VALIDATION` error, not a miss.
pub async fn find(db: &impl ConnectionTrait, scope: &Scope, policy: &Policy, lookup: Lookup) -> DomainResult<Option<customer::Model>> {
    use customer::Column as C;
    let column_is = |column: C, value: String| {
        customer::Entity::find().filter(C::RestaurantId.eq(&scope.restaurant_id)).filter(column.eq(value))
    };
    let query = match lookup {
        Lookup::Id(id) => customer::Entity::find_by_id(id).filter(C::RestaurantId.eq(&scope.restaurant_id)),
        Lookup::Phone(phone) => {
            let phone = contact::normalize_phone(&phone, policy.phone_region).map_err(|e| DomainError::validation("phone", e))?;
            column_is(C::Phone, phone)
        }
        Lookup::Email(email) => column_is(C::Email, contact::normalize_email(&email).map_err(|e| DomainError::validation("email", e))?),
        Lookup::ReferralCode(code) => {
            let code = code.trim().to_uppercase();
            if code.is_empty() || code.len() > 20 {
                return Err(DomainError::validation("referralCode", "must be 1 to 20 characters"));
            }
            column_is(C::ReferralCode, code)
        }
        Lookup::UserId(user) => {
            let user = user.trim().to_string();
            if user.is_empty() || user.len() > 100 {
                return Err(DomainError::validation("userId", "must be 1 to 100 characters"));
            }
            column_is(C::UserId, user)
        }
    };
    Ok(query.one(db).await?)
}

/// The member a customer token stands for, or `NotFound` (erased, merged away, or never
/// linked to the login service's user).
pub async fn find_member(db: &impl ConnectionTrait, scope: &Scope, member: &super::keys::MemberRef) -> DomainResult<customer::Model> {
    let lookup = match member {
        super::keys::MemberRef::Id(id) => Lookup::Id(*id),
        super::keys::MemberRef::UserId(user) => Lookup::UserId(user.clone()),
    };
    let label = lookup.to_string();
    find(db, scope, &Policy::default(), lookup).await?.ok_or_else(|| DomainError::not_found(label))
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
    let m = marketing;
    for (value, target) in [
        (m.email_opt_in, &mut active.email_opt_in),
        (m.sms_opt_in, &mut active.sms_opt_in),
        (m.push_notifications, &mut active.push_opt_in),
        (m.special_offers, &mut active.special_offers),
        (m.birthday_offers, &mut active.birthday_offers),
        (m.anniversary_offers, &mut active.anniversary_offers),
    ] {
        if let Some(v) = value {
            *target = Set(v);
        }
    }
    active.updated_at = Set(now());
    let after = active.update(&txn).await?;
    let (old, new) = (json_of(&before)?, json_of(&after)?);
    for (key, name) in CONSENT {
        if old[key] != new[key] {
            let details = serde_json::json!({ "flag": name, "from": old[key], "to": new[key], "source": source });
            super::audit::record(&txn, scope, "consent.changed", Some(customer_id), details).await?;
        }
    }
    txn.commit().await?;
    Ok(after)
}

fn json_of(c: &customer::Model) -> DomainResult<serde_json::Value> {
    serde_json::to_value(c).map_err(DomainError::internal)
}

/// The customer with this phone number (any format the policy's region reads), or `NotFound`.
pub async fn find_by_phone(
    db: &impl ConnectionTrait,
    scope: &Scope,
    policy: &Policy,
    phone: &str,
) -> DomainResult<customer::Model> {
    let phone = contact::normalize_phone(phone, policy.phone_region).map_err(|e| DomainError::validation("phone", e))?;
    find_by_normalized_phone(db, scope, &phone)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("customer with phone {phone}")))
}

async fn find_by_normalized_phone(db: &impl ConnectionTrait, scope: &Scope, phone: &str) -> DomainResult<Option<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer::Column::Phone.eq(phone))
        .one(db)
        .await?)
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
        segments: input.segments.as_deref().map(super::segments::check_names).transpose()?,
        referral_code: input.referral_code.as_deref().map(referral::normalize).filter(|c| !c.is_empty()),
    })
}

/// Creates the customer with `input.phone`, or updates the one that has it (spec endpoint 1).
/// Auto-tags are recomputed; a referral code links `referredBy` once and rewards the referrer.
pub async fn upsert<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    policy: &Policy,
    input: CustomerInput,
) -> DomainResult<UpsertOutcome> {
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

async fn upsert_once<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    policy: &Policy,
    input: &CustomerInput,
) -> DomainResult<UpsertOutcome> {
    let at = now();
    let p = super::restaurants::programme(db, scope).await?;
    let checked = check(input, policy, p.today(at))?;
    let input = input.clone();
    let txn = begin_write(db).await?;
    let existing = find_by_normalized_phone(&txn, scope, &checked.phone).await?;
    let created = existing.is_none();
    let base = match existing {
        Some(row) => row,
        None => insert_new(&txn, scope, &checked, at).await?,
    };
    let referred_by = match &checked.referral_code {
        Some(code) => link_referral(&txn, scope, &p, &base, code, at).await?,
        None => base.referred_by,
    };

    let mut active: customer::ActiveModel = base.clone().into();
    if let Some(name) = checked.name {
        active.name = Set(name);
    }
    checked.email.apply_to(&mut active.email);
    checked.user_id.apply_to(&mut active.user_id);
    apply_dates(&mut active, checked.date_of_birth, checked.anniversary);
    input.spice_level.apply_to(&mut active.spice_level);
    input.preferred_seating.apply_to(&mut active.preferred_seating);
    if let Some(list) = checked.dietary_restrictions {
        active.dietary_restrictions = Set(StringList(list));
    }
    if let Some(list) = checked.allergies {
        active.allergies = Set(StringList(list));
    }
    let m = &input.marketing;
    for (value, target) in [
        (m.email_opt_in, &mut active.email_opt_in),
        (m.sms_opt_in, &mut active.sms_opt_in),
        (m.push_notifications, &mut active.push_opt_in),
        (m.special_offers, &mut active.special_offers),
        (m.birthday_offers, &mut active.birthday_offers),
        (m.anniversary_offers, &mut active.anniversary_offers),
    ] {
        if let Some(v) = value {
            *target = Set(v);
        }
    }
    if let Some(status) = input.status {
        active.status = Set(status);
    }
    active.referred_by = Set(referred_by);
    active.updated_at = Set(at);
    active.last_activity_at = Set(at);
    let row = active.update(&txn).await?;
    let segments_changed = checked.segments.clone();
    if let Some(segments) = checked.segments {
        replace_segments(&txn, scope, &row, segments).await?;
    }
    audit_changes(&txn, scope, if created { None } else { Some(&base) }, &row, segments_changed).await?;
    let row = state::refresh(&txn, &p, row, at, false).await?;
    txn.commit().await?;
    Ok(UpsertOutcome { customer: row, created })
}

/// Profile fields the audit trail follows: (column as serialised, name in the API).
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
    before: Option<&customer::Model>,
    after: &customer::Model,
    segments: Option<Vec<String>>,
) -> DomainResult<()> {
    let old = before.map(serde_json::to_value).transpose().map_err(|e| DomainError::internal(e.to_string()))?;
    let new = serde_json::to_value(after).map_err(|e| DomainError::internal(e.to_string()))?;
    let old_of = |key: &str| old.as_ref().map_or(serde_json::Value::Null, |o| o[key].clone());
    let mut changes = serde_json::Map::new();
    for (key, name) in AUDITED {
        if old_of(key) != new[key] {
            changes.insert(name.into(), serde_json::json!({ "from": old_of(key), "to": new[key] }));
        }
    }
    if let Some(segments) = segments {
        changes.insert("segments".into(), serde_json::json!({ "to": segments }));
    }
    let action = if before.is_none() { "customer.created" } else { "customer.updated" };
    if before.is_none() || !changes.is_empty() {
        super::audit::record(txn, scope, action, Some(after.id), serde_json::json!({ "changes": changes })).await?;
    }
    for (key, name) in CONSENT {
        let (from, to) = (old_of(key), new[key].clone());
        if from != to && !(before.is_none() && to == serde_json::Value::Bool(false)) {
            let details = serde_json::json!({ "flag": name, "from": from, "to": to, "source": "api" });
            super::audit::record(txn, scope, "consent.changed", Some(after.id), details).await?;
        }
    }
    Ok(())
}

/// Sets (or clears) the dates and their month-day keys together.
pub(crate) fn apply_dates(active: &mut customer::ActiveModel, date_of_birth: Patch<NaiveDate>, anniversary: Patch<NaiveDate>) {
    date_of_birth.clone().map(occasions::month_day_key).apply_to(&mut active.birth_md);
    anniversary.clone().map(occasions::month_day_key).apply_to(&mut active.anniversary_md);
    date_of_birth.apply_to(&mut active.date_of_birth);
    anniversary.apply_to(&mut active.anniversary);
}

async fn insert_new(txn: &impl ConnectionTrait, scope: &Scope, checked: &Checked, at: chrono::DateTime<chrono::Utc>) -> DomainResult<customer::Model> {
    let name = checked
        .name
        .clone()
        .ok_or_else(|| DomainError::validation("name", "is required to create a customer"))?;
    let referral_code = unused_referral_code(txn, &name).await?;
    Ok(customer::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        user_id: Set(None),
        phone: Set(checked.phone.clone()),
        email: Set(None),
        name: Set(name),
        date_of_birth: Set(None),
        anniversary: Set(None),
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
        dietary_restrictions: Set(StringList::default()),
        allergies: Set(StringList::default()),
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
    .insert(txn)
    .await?)
}

/// A referral code no customer has yet (codes are unique across all restaurants).
async fn unused_referral_code(db: &impl ConnectionTrait, name: &str) -> DomainResult<String> {
    for _ in 0..16 {
        let code = referral::generate(name, &mut rand::rng());
        let taken = customer::Entity::find()
            .filter(customer::Column::ReferralCode.eq(&code))
            .count(db)
            .await?;
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
    super::segments::ensure(txn, scope, &segments).await?;
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

/// Filters of the customer list (spec endpoint 3); all given ones must match.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub tier: Option<Tier>,
    pub status: Option<CustomerStatus>,
    pub segment: Option<String>,
    pub tag: Option<String>,
    /// Case-insensitive fragment of the name, email or phone number.
    pub search: Option<String>,
}

pub use super::cursor::CustomerSort;

/// One page of customers.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<customer::Model>,
    /// The page number (from 1); `None` for a page asked for with a cursor.
    pub page: Option<u64>,
    pub limit: u64,
    pub has_next_page: bool,
    /// Where the next page starts (the last item's position), if the page has items.
    pub end_cursor: Option<Cursor>,
}

/// Which page of the list: a page number (`OFFSET`) or the rows after a cursor (keyset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    Number(u64),
    After(Cursor),
}

/// Checks `page` (from 1) and `limit` (1 to the policy's maximum).
pub fn check_page(policy: &Policy, page: i64, limit: i64) -> DomainResult<(u64, u64)> {
    if !(1..=1_000_000).contains(&page) {
        return Err(DomainError::validation("page", "must be between 1 and 1000000"));
    }
    let max = policy.max_page_size as i64;
    if !(1..=max).contains(&limit) {
        return Err(DomainError::validation("limit", format!("must be between 1 and {max}")));
    }
    Ok((page as u64, limit as u64))
}

/// The scope's customers matching `filter`. `ids_below` repeats a newest-first cursor's bound
/// inside the label subqueries: PostgreSQL merges them with the customers in id order and does
/// not carry the bound over by itself (a deep cursor page read 40k labels to skip them).
fn filtered(scope: &Scope, filter: &CustomerFilter, ids_below: Option<i64>) -> Select<customer::Entity> {
    use customer::Column as C;
    let mut select = customer::Entity::find().filter(C::RestaurantId.eq(&scope.restaurant_id));
    if let Some(tier) = filter.tier {
        select = select.filter(C::Tier.eq(tier));
    }
    if let Some(status) = filter.status {
        select = select.filter(C::Status.eq(status));
    }
    for (kind, name) in [(LabelKind::Tag, &filter.tag), (LabelKind::Segment, &filter.segment)] {
        if let Some(name) = name {
            let mut labelled = Query::select()
                .column(customer_label::Column::CustomerId)
                .from(customer_label::Entity)
                .and_where(customer_label::Column::RestaurantId.eq(&scope.restaurant_id))
                .and_where(customer_label::Column::Kind.eq(kind))
                .and_where(customer_label::Column::Name.eq(name.trim().to_lowercase()))
                .to_owned();
            if let Some(id) = ids_below {
                labelled.and_where(customer_label::Column::CustomerId.lt(id));
            }
            select = select.filter(C::Id.in_subquery(labelled));
        }
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        select = select.filter(search_condition(search));
    }
    select
}

/// Longest search text accepted (longer ones are refused rather than sent to the database,
/// whose pattern matching has its own, differing limits).
pub const MAX_SEARCH_LEN: usize = 100;

/// Name or email contains the text (case-insensitive), or the phone contains its digits.
fn search_condition(search: &str) -> Condition {
    use customer::Column as C;
    let escaped: String = search
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
    let mut any = Condition::any()
        .add(Expr::expr(Func::lower(Expr::col(C::Name))).like(pattern()))
        .add(Expr::expr(Func::lower(Expr::col(C::Email))).like(pattern()));
    let digits: String = search.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 3 {
        any = any.add(C::Phone.contains(&digits));
    }
    any
}

/// One page of the scope's customers matching `filter`, by page number or after a cursor.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &CustomerFilter,
    sort: CustomerSort,
    at: PageAt,
    limit: u64,
) -> DomainResult<Page> {
    check_filter(filter)?;
    let ids_below = match &at {
        PageAt::After(Cursor::Newest { id }) => Some(*id),
        _ => None,
    };
    let select = cursor::order(filtered(scope, filter, ids_below), sort);
    let (select, page) = match at {
        PageAt::Number(page) => (select.offset((page - 1) * limit), Some(page)),
        PageAt::After(after) => (select.filter(after.condition()), None),
    };
    let mut items = select.limit(limit + 1).all(db).await?;
    let has_next_page = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let end_cursor = items.last().map(|row| Cursor::after(sort, row));
    Ok(Page { items, page, limit, has_next_page, end_cursor })
}

/// Checks the free text of a filter.
fn check_filter(filter: &CustomerFilter) -> DomainResult<()> {
    if filter.search.as_deref().is_some_and(|s| s.trim().chars().count() > MAX_SEARCH_LEN) {
        return Err(DomainError::validation("search", format!("must be at most {MAX_SEARCH_LEN} characters")));
    }
    for (field, value) in [("tag", &filter.tag), ("segment", &filter.segment)] {
        if value.as_deref().is_some_and(|v| v.chars().count() > 64) {
            return Err(DomainError::validation(field, "must be at most 64 characters"));
        }
    }
    Ok(())
}

/// How many of the scope's customers match `filter`.
pub async fn count(db: &impl ConnectionTrait, scope: &Scope, filter: &CustomerFilter) -> DomainResult<u64> {
    check_filter(filter)?;
    Ok(filtered(scope, filter, None).count(db).await?)
}

/// Customers by id (for a DataLoader); ids of other restaurants are left out.
pub async fn by_ids(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<Vec<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Tags and segments of several customers, sorted by name.
pub async fn labels_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<customer_label::Model>>> {
    let rows = customer_label::Entity::find()
        .filter(customer_label::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer_label::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(customer_label::Column::Name)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.customer_id))
}

/// Favourite items of several customers, most ordered first.
pub async fn favorites_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<favorite_item::Model>>> {
    let rows = favorite_item::Entity::find()
        .filter(favorite_item::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(favorite_item::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_desc(favorite_item::Column::OrderCount)
        .order_by_asc(favorite_item::Column::ItemId)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.customer_id))
}

/// Special occasions of several customers, by date.
pub async fn occasions_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<special_occasion::Model>>> {
    let rows = special_occasion::Entity::find()
        .filter(special_occasion::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(special_occasion::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(special_occasion::Column::Date)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.customer_id))
}

/// Groups rows by a key, keeping their order.
pub fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut map: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// Customers referred by several customers (for a DataLoader), oldest first.
pub async fn referrals_for(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<HashMap<i64, Vec<customer::Model>>> {
    let rows = customer::Entity::find()
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer::Column::ReferredBy.is_in(ids.iter().copied()))
        .order_by_asc(customer::Column::Id)
        .all(db)
        .await?;
    Ok(group(rows, |c| c.referred_by.unwrap_or_default()))
}
