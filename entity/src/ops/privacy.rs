//! Privacy (spec "Privacy & Consent", "Data Quality"): export everything held about a
//! customer, erase a customer's personal data while aggregate figures stay right, and merge a
//! duplicate profile into another.

pub use crate::rules::erasure::{ERASED, is_erased};
use sea_orm::Condition;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionSession, TransactionTrait,
};
use serde_json::{Value, json};

use super::customers::Personal;
use super::{audit, begin_write, customers, now, state};
use crate::entities::customer::Sealed;
use crate::entities::{
    CustomerStatus, LabelKind, audit_entry, customer, customer_label, customer_prediction, email_delivery, favorite_item, feedback, note, point_transaction,
    special_occasion, visit,
};
use crate::rules::segments::AUTO_SEGMENTS;
use crate::vault::Vault;
use crate::{DomainError, DomainResult, Scope};

/// Members not erased, as a condition on `customers` (an erased member's phone index holds
/// the erasure's marker).
pub fn not_erased() -> Condition {
    Condition::any().add(customer::Column::PhoneIndex.is_null()).add(customer::Column::PhoneIndex.not_like(format!("{ERASED}%")))
}

/// Everything held about one customer, as one JSON document.
pub async fn export(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<Value> {
    let c = customers::find_by_id(db, scope, id).await?;
    let c = customers::personal::clear_view(&c, &customers::personal::open(db, scope, &c).await?)?;
    macro_rules! rows {
        ($entity:ident, $order:expr) => {
            $entity::Entity::find().filter($entity::Column::CustomerId.eq(id)).order_by_asc($order).all(db).await?
        };
    }
    let mut doc = json!({
        "exportedAt": now(),
        "customer": c,
        "labels": rows!(customer_label, customer_label::Column::Name),
        "pointsLedger": rows!(point_transaction, point_transaction::Column::Id),
        "visits": rows!(visit, visit::Column::Id),
        "notes": rows!(note, note::Column::Id),
        "feedback": rows!(feedback, feedback::Column::Id),
        "favoriteItems": rows!(favorite_item, favorite_item::Column::Id),
        "specialOccasions": rows!(special_occasion, special_occasion::Column::Id),
        "emailDeliveries": rows!(email_delivery, email_delivery::Column::Id),
        "auditLog": audit_entry::Entity::find()
            .filter(audit_entry::Column::RestaurantId.eq(&scope.restaurant_id))
            .filter(audit_entry::Column::CustomerId.eq(id))
            .order_by_asc(audit_entry::Column::Id)
            .all(db)
            .await?,
    });
    customers::personal::open_in(scope, &mut doc).await?;
    Ok(doc)
}

/// Removes a customer's personal data: name, phone, email, dates, preferences, notes,
/// occasions, favourite items, segments, consent and review comments (ratings stay); the
/// audit entries about the customer lose their details. Points, visits and spend stay, so aggregate figures stay right. The customer
/// can no longer be found by phone or email.
pub async fn erase<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, id: i64) -> DomainResult<customer::Model> {
    let txn = begin_write(db).await?;
    let c = customers::find_by_id(&txn, scope, id).await?;
    // The key goes first: once it is gone, nothing sealed under it opens, here or in any copy
    // of the database, even if the rest of the erasure must be retried.
    if let Some(key_id) = &c.key_id {
        scope.vault.shred(&scope.restaurant_id, key_id).await?;
    }
    let mut active: customer::ActiveModel = c.into();
    active.name = Set("Erased customer".into());
    active.phone_index = Set(Some(crate::rules::erasure::marker(id)));
    active.phone_last4 = Set(None);
    active.email_index = Set(None);
    active.key_id = Set(None);
    active.user_id = Set(None);
    active.birth_md = Set(None);
    active.anniversary_md = Set(None);
    active.spice_level = Set(None);
    active.preferred_seating = Set(None);
    active.email_opt_in = Set(false);
    active.sms_opt_in = Set(false);
    active.push_opt_in = Set(false);
    active.special_offers = Set(false);
    active.birthday_offers = Set(false);
    active.anniversary_offers = Set(false);
    active.status = Set(CustomerStatus::Inactive);
    active.updated_at = Set(now());
    let row = active.update(&txn).await?;
    let values = customers::personal::Values {
        phone: Set(Sealed(crate::rules::erasure::marker(id))),
        email: Set(None),
        date_of_birth: Set(None),
        anniversary: Set(None),
        dietary_restrictions: Set(Sealed("[]".into())),
        allergies: Set(Sealed("[]".into())),
        ..Default::default()
    };
    customers::personal::write(&txn, scope, id, values, false).await?;
    note::Entity::delete_many().filter(note::Column::CustomerId.eq(id)).exec(&txn).await?;
    feedback::Entity::update_many()
        .col_expr(feedback::Column::Comment, Expr::value(Option::<String>::None))
        .filter(feedback::Column::CustomerId.eq(id))
        .exec(&txn)
        .await?;
    special_occasion::Entity::delete_many().filter(special_occasion::Column::CustomerId.eq(id)).exec(&txn).await?;
    favorite_item::Entity::delete_many().filter(favorite_item::Column::CustomerId.eq(id)).exec(&txn).await?;
    customer_label::Entity::delete_many().filter(customer_label::Column::CustomerId.eq(id)).exec(&txn).await?;
    customer_prediction::Entity::delete_many().filter(customer_prediction::Column::CustomerId.eq(id)).exec(&txn).await?;
    email_delivery::Entity::delete_many()
        .filter(email_delivery::Column::CustomerId.eq(id))
        .filter(email_delivery::Column::Status.is_in(["pending", "sending"]))
        .exec(&txn)
        .await?;
    email_delivery::Entity::update_many()
        .col_expr(email_delivery::Column::SentTo, Expr::value(Option::<String>::None))
        .col_expr(email_delivery::Column::Email, Expr::value(""))
        .filter(email_delivery::Column::CustomerId.eq(id))
        .exec(&txn)
        .await?;
    audit_entry::Entity::update_many()
        .col_expr(audit_entry::Column::Details, Expr::value(json!({ "erased": true })))
        .filter(audit_entry::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(audit_entry::Column::CustomerId.eq(id))
        .exec(&txn)
        .await?;
    audit::record(&txn, scope, crate::entities::AuditAction::CustomerErased, Some(id), json!({})).await?;
    super::webhooks::events::record(&txn, scope, "customer.erased", super::webhooks::events::member(&row), row.updated_at).await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(FromQueryResult)]
struct LedgerSums {
    current: i64,
    lifetime: i64,
    redeemed: i64,
}

/// Merges customer `source_id` into `target_id` atomically: ledger, visits, notes, occasions,
/// favourite items, custom segments, deliveries, vouchers and referrals move; visit statistics add up;
/// missing contact details are taken over; balances are re-derived from the merged ledger. The
/// source profile is deleted.
pub async fn merge<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, source_id: i64, target_id: i64) -> DomainResult<customer::Model> {
    if source_id == target_id {
        return Err(DomainError::validation("sourceId", "a customer cannot be merged into itself"));
    }
    let txn = begin_write(db).await?;
    let (source, target) = lock_pair(&txn, scope, source_id, target_id).await?;
    let key = customers::personal::key_for(scope, Some(&target)).await?;
    reseal_texts(&txn, scope, &source, &key).await?;
    move_children(&txn, scope, source_id, target_id).await?;
    let sums = ledger_sums(&txn, target_id).await?;
    let mut a = combined(&source, &target, &sums);
    // Details taken over are opened with the source's key and sealed again under the target's.
    let from = customers::personal::open(&txn, scope, &source).await?;
    let mut into = customers::personal::open_for(&txn, scope, target_id, &key).await?;
    take_over_details(&mut a, &mut into, &source, &target, &from);
    let mut values: customers::personal::Values = Default::default();
    customers::personal::seal_into(&mut a, &mut values, &into, &key, &customers::Indexes::of(scope).await?);
    a.updated_at = Set(now());
    let row = a.update(&txn).await?;
    customers::personal::write(&txn, scope, target_id, values, false).await?;
    customers::personal::delete(&txn, scope, source_id).await?;
    customer::Entity::delete_by_id(source_id).exec(&txn).await?;
    let p = super::restaurants::programme(&txn, scope).await?;
    let row = state::refresh(&txn, &p, row, now(), false).await?;
    // The source's phone, for the audit log, sealed under the target's key.
    let source_phone = key.seal(customers::personal::AUDIT, &Value::String(from.phone).to_string());
    audit::record(&txn, scope, crate::entities::AuditAction::CustomerMerged, Some(target_id), json!({ "sourceId": source_id, "sourcePhone": source_phone }))
        .await?;
    txn.commit().await?;
    // The source's key goes with it: what it sealed now lives under the target's.
    if let Some(id) = &source.key_id {
        scope.vault.shred(&scope.restaurant_id, id).await?;
    }
    Ok(row)
}

/// Takes over the contact details and dates the target lacks from the source.
fn take_over_details(a: &mut customer::ActiveModel, into: &mut Personal, source: &customer::Model, target: &customer::Model, from: &Personal) {
    if into.email.is_none() {
        into.email.clone_from(&from.email);
    }
    if target.user_id.is_none() {
        a.user_id = Set(source.user_id.clone());
    }
    if into.date_of_birth.is_none() {
        into.date_of_birth = from.date_of_birth;
        a.birth_md = Set(source.birth_md);
    }
    if into.anniversary.is_none() {
        into.anniversary = from.anniversary;
        a.anniversary_md = Set(source.anniversary_md);
    }
}

/// Locks both rows (the lower id first), so the sums written by a merge cannot race a
/// concurrent change of points, visits, reviews or referrals; returns (source, target).
async fn lock_pair(txn: &impl ConnectionTrait, scope: &Scope, source_id: i64, target_id: i64) -> DomainResult<(customer::Model, customer::Model)> {
    Ok(if source_id < target_id {
        let s = super::state::lock(txn, scope, source_id).await?;
        (s, super::state::lock(txn, scope, target_id).await?)
    } else {
        let t = super::state::lock(txn, scope, target_id).await?;
        (super::state::lock(txn, scope, source_id).await?, t)
    })
}

/// A customer's balances as its ledger holds them.
async fn ledger_sums(txn: &impl ConnectionTrait, customer_id: i64) -> DomainResult<LedgerSums> {
    use crate::entities::LedgerKind;
    use point_transaction::Column as L;
    let sum = |e: sea_orm::sea_query::SimpleExpr| Expr::expr(Func::coalesce([Func::sum(e).into(), Expr::value(0)])).cast_as("BIGINT");
    let earned = Expr::case(L::Kind.eq(LedgerKind::Refund), Expr::col(L::Delta))
        .case(L::Delta.gt(0).and(L::Kind.ne(LedgerKind::Redeem)), Expr::col(L::Delta))
        .finally(0);
    let redeemed = L::Kind.eq(LedgerKind::Redeem).or(L::Kind.eq(LedgerKind::Import).and(L::Delta.lt(0)));
    let spent = Expr::case(redeemed, Expr::col(L::Delta).mul(-1)).finally(0);
    point_transaction::Entity::find()
        .select_only()
        .column_as(sum(Expr::col(L::Delta)), "current")
        .column_as(sum(earned.into()), "lifetime")
        .column_as(sum(spent.into()), "redeemed")
        .filter(L::CustomerId.eq(customer_id))
        .into_model::<LedgerSums>()
        .one(txn)
        .await?
        .ok_or_else(|| DomainError::not_found("ledger"))
}

/// The target's row with the merged balances (from the ledger), statistics and referrals.
fn combined(source: &customer::Model, target: &customer::Model, sums: &LedgerSums) -> customer::ActiveModel {
    let min_opt = |a: Option<_>, b: Option<_>| match (a, b) {
        (Some(x), Some(y)) => Some(std::cmp::min(x, y)),
        (x, y) => x.or(y),
    };
    let mut a: customer::ActiveModel = target.clone().into();
    a.points_current = Set(sums.current);
    a.points_lifetime = Set(sums.lifetime);
    a.points_redeemed = Set(sums.redeemed);
    a.total_visits = Set(target.total_visits + source.total_visits);
    a.total_spent_cents = Set(target.total_spent_cents + source.total_spent_cents);
    a.first_visit_at = Set(min_opt(target.first_visit_at, source.first_visit_at));
    a.last_visit_at = Set(std::cmp::max(target.last_visit_at, source.last_visit_at));
    a.member_since = Set(std::cmp::min(target.member_since, source.member_since));
    a.referrals_count = Set(target.referrals_count + source.referrals_count);
    a.referral_rewards = Set(target.referral_rewards + source.referral_rewards);
    a.rating_total = Set(target.rating_total + source.rating_total);
    a.review_count = Set(target.review_count + source.review_count);
    a.last_review_at = Set(std::cmp::max(target.last_review_at, source.last_review_at));
    a.referred_by = Set(target.referred_by.or(source.referred_by.filter(|r| *r != target.id)));
    a
}

/// Moves what belongs to customer `source_id` to `target_id` (both locked by the caller):
/// ledger, visits, notes, reviews, occasions, favourite items (counts added), custom segments,
/// deliveries and vouchers (but for a period the target has one of already) and referrals.
async fn move_children(txn: &impl ConnectionTrait, scope: &Scope, source_id: i64, target_id: i64) -> DomainResult<()> {
    macro_rules! move_rows {
        ($entity:ident) => {
            $entity::Entity::update_many()
                .col_expr($entity::Column::CustomerId, Expr::value(target_id))
                .filter($entity::Column::CustomerId.eq(source_id))
                .exec(txn)
                .await?;
        };
    }
    move_rows!(point_transaction);
    visit::Entity::update_many()
        .col_expr(visit::Column::CustomerId, Expr::value(target_id))
        .col_expr(visit::Column::UpdatedAt, Expr::value(crate::ops::now()))
        .filter(visit::Column::CustomerId.eq(source_id))
        .exec(txn)
        .await?;
    move_rows!(note);
    move_rows!(feedback);
    move_rows!(special_occasion);

    move_favourites(txn, source_id, target_id).await?;
    copy_custom_segments(txn, scope, source_id, target_id).await?;
    move_unless_held(txn, "email_deliveries", "campaign = email_deliveries.campaign AND e2.period_key = email_deliveries.period_key", source_id, target_id)
        .await?;
    email_delivery::Entity::delete_many().filter(email_delivery::Column::CustomerId.eq(source_id)).exec(txn).await?;
    // Vouchers follow too; a benefit voucher for a period the target already has one for (the
    // same year's birthday) stays behind and goes with the source (a voucher of no period always moves).
    move_unless_held(txn, "vouchers", "source = vouchers.source AND e2.period_key = vouchers.period_key", source_id, target_id).await?;

    customer::Entity::update_many()
        .col_expr(customer::Column::ReferredBy, Expr::value(target_id))
        .filter(customer::Column::ReferredBy.eq(source_id))
        .filter(customer::Column::Id.ne(target_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Moves the source's favourite items; an item both ordered gets the source's count added.
async fn move_favourites(txn: &impl ConnectionTrait, source_id: i64, target_id: i64) -> DomainResult<()> {
    for fav in favorite_item::Entity::find().filter(favorite_item::Column::CustomerId.eq(source_id)).all(txn).await? {
        let existing = favorite_item::Entity::find()
            .filter(favorite_item::Column::CustomerId.eq(target_id))
            .filter(favorite_item::Column::ItemId.eq(&fav.item_id))
            .one(txn)
            .await?;
        match existing {
            Some(t) => {
                // Counts add relatively: an order recorded meanwhile is not written over.
                favorite_item::Entity::update_many()
                    .col_expr(favorite_item::Column::OrderCount, Expr::col(favorite_item::Column::OrderCount).add(fav.order_count))
                    .col_expr(favorite_item::Column::LastOrderedAt, Expr::value(std::cmp::max(t.last_ordered_at, fav.last_ordered_at)))
                    .filter(favorite_item::Column::Id.eq(t.id))
                    .exec(txn)
                    .await?;
                favorite_item::Entity::delete_by_id(fav.id).exec(txn).await?;
            }
            None => {
                let mut a: favorite_item::ActiveModel = fav.into();
                a.customer_id = Set(target_id);
                a.update(txn).await?;
            }
        }
    }

    Ok(())
}

/// Gives the target the source's custom segments (the automatic ones are derived anew).
async fn copy_custom_segments(txn: &impl ConnectionTrait, scope: &Scope, source_id: i64, target_id: i64) -> DomainResult<()> {
    let custom: Vec<String> = customer_label::Entity::find()
        .filter(customer_label::Column::CustomerId.eq(source_id))
        .filter(customer_label::Column::Kind.eq(LabelKind::Segment))
        .filter(customer_label::Column::Name.is_not_in(AUTO_SEGMENTS))
        .all(txn)
        .await?
        .into_iter()
        .map(|l| l.name)
        .collect();
    if !custom.is_empty() {
        let rows = custom.into_iter().map(|name| customer_label::ActiveModel {
            customer_id: Set(target_id),
            kind: Set(LabelKind::Segment),
            name: Set(name),
            restaurant_id: Set(scope.restaurant_id.clone()),
        });
        customer_label::Entity::insert_many(rows)
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([customer_label::Column::CustomerId, customer_label::Column::Kind, customer_label::Column::Name])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }

    Ok(())
}

/// Moves the source's rows of `table` to the target, but for those the target already holds
/// one of (`same`: the condition on the target's row `e2`).
async fn move_unless_held(txn: &impl ConnectionTrait, table: &str, same: &str, source_id: i64, target_id: i64) -> DomainResult<()> {
    let backend = txn.get_database_backend();
    let sql = format!(
        "UPDATE {table} SET customer_id = {t} WHERE customer_id = {s} AND NOT EXISTS \
         (SELECT 1 FROM {table} e2 WHERE e2.customer_id = {t2} AND e2.{same})",
        t = super::dialect::placeholder(backend, 1),
        s = super::dialect::placeholder(backend, 2),
        t2 = super::dialect::placeholder(backend, 3)
    );
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, [target_id.into(), source_id.into(), target_id.into()])).await?;
    Ok(())
}

/// Seals the source's notes and review comments again under the target's key, before they move.
async fn reseal_texts(txn: &impl ConnectionTrait, scope: &Scope, source: &customer::Model, key: &crate::vault::CustomerKey) -> DomainResult<()> {
    use customers::personal::{COMMENT, NOTE, open_texts};
    let mut notes = note::Entity::find().filter(note::Column::CustomerId.eq(source.id)).all(txn).await?;
    let mut reviews =
        feedback::Entity::find().filter(feedback::Column::CustomerId.eq(source.id)).filter(feedback::Column::Comment.is_not_null()).all(txn).await?;
    open_texts(scope, NOTE, notes.iter_mut().map(|n| &mut n.note)).await?;
    open_texts(scope, COMMENT, reviews.iter_mut().filter_map(|r| r.comment.as_mut())).await?;
    for n in notes {
        let sealed = key.seal(NOTE, &n.note);
        note::Entity::update_many().col_expr(note::Column::Note, Expr::value(sealed)).filter(note::Column::Id.eq(n.id)).exec(txn).await?;
    }
    for r in reviews {
        let Some(text) = r.comment else { continue };
        let sealed = key.seal(COMMENT, &text);
        feedback::Entity::update_many().col_expr(feedback::Column::Comment, Expr::value(sealed)).filter(feedback::Column::Id.eq(r.id)).exec(txn).await?;
    }
    Ok(())
}

/// Who an unsubscribe link opted out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The restaurant whose emails the customer no longer receives.
    pub restaurant: crate::entities::restaurant::Model,
    /// The address, for the confirmation page.
    pub email: Option<String>,
}

/// Turns email marketing off for the customer of a signed unsubscribe link, in the customer's
/// own restaurant, audited with source `unsubscribe-link`. `None` if the customer no longer
/// exists.
pub async fn unsubscribe<D: ConnectionTrait + TransactionTrait>(
    db: &D,
    vault: &Vault,
    customer_id: i64,
    delivery: Option<i64>,
) -> DomainResult<Option<Unsubscribed>> {
    let txn = begin_write(db).await?;
    let Some(c) = customer::Entity::find_by_id(customer_id).one(&txn).await? else { return Ok(None) };
    let scope = Scope::new(c.restaurant_id.clone(), "customer", vault.clone());
    let email = customers::personal::open(&txn, &scope, &c).await?.email;
    let restaurant = super::restaurants::get(&txn, &scope.restaurant_id).await?;
    if c.email_opt_in {
        let details = json!({ "flag": "emailOptIn", "from": true, "to": false, "source": "unsubscribe-link" });
        audit::record(&txn, &scope, crate::entities::AuditAction::ConsentChanged, Some(c.id), details).await?;
        customer::Entity::update_many()
            .col_expr(customer::Column::EmailOptIn, Expr::value(false))
            .col_expr(customer::Column::UpdatedAt, Expr::value(now()))
            .filter(customer::Column::Id.eq(customer_id))
            .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
            .exec(&txn)
            .await?;
        if let Some(id) = delivery {
            email_delivery::Entity::update_many()
                .col_expr(email_delivery::Column::UnsubscribedAt, Expr::value(now()))
                .filter(email_delivery::Column::Id.eq(id))
                .filter(email_delivery::Column::CustomerId.eq(customer_id))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(Some(Unsubscribed { restaurant, email }))
}

/// The restaurant of a customer an unsubscribe link names, for its confirmation page.
pub async fn restaurant_of(db: &impl ConnectionTrait, customer_id: i64) -> DomainResult<Option<crate::entities::restaurant::Model>> {
    let Some(c) = customer::Entity::find_by_id(customer_id).one(db).await? else { return Ok(None) };
    Ok(Some(super::restaurants::get(db, &c.restaurant_id).await?))
}
