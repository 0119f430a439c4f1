//! The customer row's counters and the state derived from them.
//!
//! [`apply`] changes points and visit counters with one atomic `UPDATE ... RETURNING`, so
//! concurrent requests never lose an update and a redemption never takes the balance below
//! zero. [`refresh`] then derives tier, auto-tags, automatic segments and status from the returned row with the
//! rules in [`crate::rules`] and saves what changed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::{CustomerStatus, LabelKind, customer, customer_label};
use crate::rules::programme::Programme;
use crate::rules::{segments, status::derived_status, tags, tier};
use crate::{DomainError, DomainResult, Scope};

/// A change to a customer's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delta {
    /// Points added to current and lifetime.
    pub earned: i64,
    /// Points taken from current and added to redeemed; refused if the balance is short. A
    /// negative value gives redeemed points back (a voided voucher).
    pub redeemed: i64,
    /// A staff correction of current: added to lifetime too when positive; refused when it
    /// would take the balance below zero.
    pub adjusted: i64,
    /// A visit with this amount in cents.
    pub visit_cents: Option<i64>,
    /// When the visit (an order recorded late) happened, if before now: first and last visit,
    /// member-since and last activity then move only as far as it reaches, as if it had come on
    /// time.
    pub visited_at: Option<DateTime<Utc>>,
}

/// The later of a nullable column and `at` (portable: SQLite's two-argument `MAX` is NULL when
/// either is).
fn later(col: customer::Column, at: DateTime<Utc>) -> Expr {
    Expr::case(Expr::col(col).is_null().or(Expr::col(col).lt(at)), at).finally(Expr::col(col)).into()
}

/// The earlier of a nullable column and `at`.
fn earlier(col: customer::Column, at: DateTime<Utc>) -> Expr {
    Expr::case(Expr::col(col).is_null().or(Expr::col(col).gt(at)), at).finally(Expr::col(col)).into()
}

/// The scope's customer `id`, locked for the rest of the transaction (an update of its
/// `updated_at`, stamped now: PostgreSQL holds the row lock until commit; SQLite's write
/// transactions are exclusive already), so a change computed from its values cannot race another.
pub async fn lock(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<customer::Model> {
    customer::Entity::update_many()
        .col_expr(customer::Column::UpdatedAt, Expr::value(super::now()))
        .filter(customer::Column::Id.eq(id))
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DomainError::not_found(format!("customer {id}")))
}

/// Takes back what a refunded order gave a [`lock`]ed customer `c`: `points` from current and
/// lifetime (at most the balance), `cents` of spend, and with `remove_visit` the visit (first
/// and last visit then come from the visits left); sets `tier`.
#[allow(clippy::too_many_arguments)]
pub async fn unearn(
    db: &impl ConnectionTrait,
    scope: &Scope,
    c: &customer::Model,
    points: i64,
    cents: i64,
    remove_visit: bool,
    tier: crate::entities::Tier,
    now: DateTime<Utc>,
) -> DomainResult<customer::Model> {
    use customer::Column as C;
    let mut update = customer::Entity::update_many()
        .col_expr(C::PointsCurrent, Expr::value(c.points_current - points))
        .col_expr(C::PointsLifetime, Expr::value(c.points_lifetime - points))
        .col_expr(C::TotalSpentCents, Expr::value(std::cmp::Ord::max(c.total_spent_cents - cents, 0)))
        .col_expr(C::Tier, Expr::value(tier))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(c.id))
        .filter(C::RestaurantId.eq(&scope.restaurant_id));
    if remove_visit {
        let (first, last) = visit_bounds(db, c.id).await?;
        update = update
            .col_expr(C::TotalVisits, Expr::value(std::cmp::Ord::max(c.total_visits - 1, 0)))
            .col_expr(C::FirstVisitAt, Expr::value(first))
            .col_expr(C::LastVisitAt, Expr::value(last));
    }
    let row = update.exec_with_returning(db).await?.into_iter().next().ok_or_else(|| DomainError::not_found(format!("customer {}", c.id)))?;
    if row.tier != c.tier {
        tier_event(db, &row, c.tier, now).await?;
    }
    Ok(row)
}

/// A member's first and last visit, if any.
type Bounds = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The first and last visit of a member from their remaining visits (after a void).
pub(crate) async fn visit_bounds(txn: &impl ConnectionTrait, customer_id: i64) -> DomainResult<Bounds> {
    let bounds: Option<Bounds> = crate::entities::visit::Entity::find()
        .select_only()
        .column_as(crate::entities::visit::Column::VisitedAt.min(), "first")
        .column_as(crate::entities::visit::Column::VisitedAt.max(), "last")
        .filter(crate::entities::visit::Column::CustomerId.eq(customer_id))
        .into_tuple()
        .one(txn)
        .await?;
    Ok(bounds.unwrap_or((None, None)))
}

/// The tier-up automation: when it is switched on for the member's restaurant and the member may
/// be emailed, writes the congratulations email for `tier` (once per member and tier; the
/// delivery job sends it).
async fn tier_up(db: &impl ConnectionTrait, row: &customer::Model, tier: crate::entities::Tier, now: DateTime<Utc>) -> DomainResult<()> {
    use crate::entities::{CampaignState, campaign};
    use crate::marketing::kinds::Campaign;
    use crate::marketing::outbox::write::{self as outbox, Letter};
    if !Campaign::TierUp.may_email(row) {
        return Ok(());
    }
    let on = campaign::Entity::find()
        .filter(campaign::Column::RestaurantId.eq(&row.restaurant_id))
        .filter(campaign::Column::Kind.eq(Campaign::TierUp.kind().stored))
        .filter(campaign::Column::State.eq(CampaignState::BuiltIn))
        .one(db)
        .await?
        .is_some();
    if on {
        let letter = Letter::builtin(Campaign::TierUp, Expr::value(sea_orm::ActiveEnum::to_value(&tier)), None);
        outbox::enqueue(db, &row.restaurant_id, &letter, &[row.id], now).await?;
    }
    Ok(())
}

/// Applies `delta` to customer `id` atomically and returns the updated row. Fails with
/// `NotFound`, `CustomerBlocked` or `InsufficientPoints` and then changes nothing.
pub async fn apply(db: &impl ConnectionTrait, scope: &Scope, id: i64, delta: Delta, now: DateTime<Utc>) -> DomainResult<customer::Model> {
    use customer::Column as C;
    let mut update = customer::Entity::update_many()
        .col_expr(C::LastActivityAt, delta.visited_at.map_or_else(|| Expr::value(now), |at| later(C::LastActivityAt, at)))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .filter(C::Status.ne(CustomerStatus::Blocked));
    if delta.earned != 0 {
        update = update
            .col_expr(C::PointsCurrent, Expr::col(C::PointsCurrent).add(delta.earned))
            .col_expr(C::PointsLifetime, Expr::col(C::PointsLifetime).add(delta.earned));
    }
    if delta.redeemed != 0 {
        update = update
            .col_expr(C::PointsCurrent, Expr::col(C::PointsCurrent).sub(delta.redeemed))
            .col_expr(C::PointsRedeemed, Expr::col(C::PointsRedeemed).add(delta.redeemed))
            .filter(C::PointsCurrent.gte(delta.redeemed));
    }
    if delta.adjusted > 0 {
        update = update
            .col_expr(C::PointsCurrent, Expr::col(C::PointsCurrent).add(delta.adjusted))
            .col_expr(C::PointsLifetime, Expr::col(C::PointsLifetime).add(delta.adjusted));
    } else if delta.adjusted < 0 {
        update = update.col_expr(C::PointsCurrent, Expr::col(C::PointsCurrent).add(delta.adjusted)).filter(C::PointsCurrent.gte(-delta.adjusted));
    }
    if let Some(cents) = delta.visit_cents {
        update = update.col_expr(C::TotalVisits, Expr::col(C::TotalVisits).add(1)).col_expr(C::TotalSpentCents, Expr::col(C::TotalSpentCents).add(cents));
        update = match delta.visited_at {
            Some(at) => update
                .col_expr(C::LastVisitAt, later(C::LastVisitAt, at))
                .col_expr(C::FirstVisitAt, earlier(C::FirstVisitAt, at))
                .col_expr(C::MemberSince, earlier(C::MemberSince, at)),
            None => update
                .col_expr(C::LastVisitAt, Expr::value(now))
                .col_expr(C::FirstVisitAt, Func::coalesce([Expr::col(C::FirstVisitAt), Expr::value(now)]).into()),
        };
    }
    match update.exec_with_returning(db).await?.into_iter().next() {
        Some(row) => Ok(row),
        None => Err(explain_refusal(db, scope, id, std::cmp::Ord::max(delta.redeemed, -delta.adjusted)).await?),
    }
}

/// Why [`apply`] matched no row.
async fn explain_refusal(db: &impl ConnectionTrait, scope: &Scope, id: i64, requested: i64) -> DomainResult<DomainError> {
    let found = customer::Entity::find_by_id(id).filter(customer::Column::RestaurantId.eq(&scope.restaurant_id)).one(db).await?;
    Ok(match found {
        None => DomainError::not_found(format!("customer {id}")),
        Some(c) if c.status == CustomerStatus::Blocked => DomainError::CustomerBlocked { id },
        Some(c) => DomainError::InsufficientPoints { available: c.points_current, requested },
    })
}

/// Derives tier, auto-tags, automatic segments and status of `row` at `now` (with the
/// restaurant's thresholds and calendar) and saves what changed; returns the row as saved. `visited_now` tells the status rule that a visit was just
/// recorded.
pub async fn refresh(db: &impl ConnectionTrait, p: &Programme, row: customer::Model, now: DateTime<Utc>, visited_now: bool) -> DomainResult<customer::Model> {
    let tier = tier::next_tier(row.tier, row.points_lifetime);
    let wanted_tags = tags::auto_tags(&row, p, now);
    let wanted_segments = segments::auto_segments(&customer::Model { tier, ..row.clone() }, &wanted_tags, p, now);
    sync_labels(db, &row, &wanted_tags, &wanted_segments).await?;

    let status = derived_status(row.status, wanted_tags.contains(&tags::DORMANT), visited_now);
    if tier > row.tier {
        tier_up(db, &row, tier, now).await?;
    }
    if tier == row.tier && status == row.status {
        return Ok(row);
    }
    let from = row.tier;
    let mut active: customer::ActiveModel = row.into();
    active.tier = Set(tier);
    active.status = Set(status);
    let row = active.update(db).await?;
    if tier != from {
        tier_event(db, &row, from, now).await?;
    }
    Ok(row)
}

/// The `tier.changed` webhook event of `row`, whose tier was `from`.
pub(crate) async fn tier_event(db: &impl ConnectionTrait, row: &customer::Model, from: crate::entities::Tier, at: DateTime<Utc>) -> DomainResult<()> {
    use crate::ops::webhooks::events;
    events::record_for(db, &row.restaurant_id, "tier.changed", events::tier_changed(row, from), at).await?;
    Ok(())
}

/// The automatic tags and segments of a member just written (none yet), for a batch to insert
/// together; what [`refresh`] would add.
pub(crate) fn labels_of_new(row: &customer::Model, p: &Programme, now: DateTime<Utc>) -> Vec<customer_label::ActiveModel> {
    let tags = tags::auto_tags(row, p, now);
    let segments = segments::auto_segments(row, &tags, p, now);
    let label = |kind: LabelKind, name: &&str| customer_label::ActiveModel {
        customer_id: Set(row.id),
        kind: Set(kind),
        name: Set(name.to_string()),
        restaurant_id: Set(row.restaurant_id.clone()),
    };
    tags.iter().map(|n| label(LabelKind::Tag, n)).chain(segments.iter().map(|n| label(LabelKind::Segment, n))).collect()
}

/// Makes the customer's automatic tags and segments exactly the wanted ones, touching only the
/// rows that change (custom segments are left alone).
async fn sync_labels(db: &impl ConnectionTrait, row: &customer::Model, wanted_tags: &[&str], wanted_segments: &[&str]) -> DomainResult<()> {
    use customer_label::Column as L;
    let managed = |kind: LabelKind| if kind == LabelKind::Tag { &tags::AUTO_TAGS[..] } else { &segments::AUTO_SEGMENTS[..] };
    let wanted = |kind: LabelKind| if kind == LabelKind::Tag { wanted_tags } else { wanted_segments };
    let have: Vec<(LabelKind, String)> = customer_label::Entity::find()
        .filter(L::CustomerId.eq(row.id))
        .filter(L::Name.is_in(segments::AUTO_SEGMENTS))
        .all(db)
        .await?
        .into_iter()
        .filter(|l| managed(l.kind).contains(&l.name.as_str()))
        .map(|l| (l.kind, l.name))
        .collect();
    for kind in [LabelKind::Tag, LabelKind::Segment] {
        let stale: Vec<&String> = have.iter().filter(|(k, n)| *k == kind && !wanted(kind).contains(&n.as_str())).map(|(_, n)| n).collect();
        if !stale.is_empty() {
            customer_label::Entity::delete_many().filter(L::CustomerId.eq(row.id)).filter(L::Kind.eq(kind)).filter(L::Name.is_in(stale)).exec(db).await?;
        }
    }
    let missing: Vec<customer_label::ActiveModel> = [LabelKind::Tag, LabelKind::Segment]
        .into_iter()
        .flat_map(|kind| wanted(kind).iter().map(move |n| (kind, *n)))
        .filter(|(kind, n)| !have.iter().any(|(k, h)| k == kind && h == n))
        .map(|(kind, n)| customer_label::ActiveModel {
            customer_id: Set(row.id),
            kind: Set(kind),
            name: Set(n.to_string()),
            restaurant_id: Set(row.restaurant_id.clone()),
        })
        .collect();
    if !missing.is_empty() {
        customer_label::Entity::insert_many(missing).exec_without_returning(db).await?;
    }
    Ok(())
}
