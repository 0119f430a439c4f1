//! Marketing segments: the automatic ones kept by the rules ([`crate::rules::segments`]) and a
//! restaurant's custom ones, created, renamed and deleted here. A custom segment is a list
//! (members added and removed by hand) or a rule ([`crate::rules::audience`]) whose members are
//! whoever matches it now, counted live in SQL.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession,
    TransactionTrait,
};

use super::{Paged, begin_write, customers, now};
use crate::entities::{CampaignState, LabelKind, campaign, customer_label, segment};
use crate::rules::audience::{self as rules, AudienceRule};
use crate::rules::programme::Programme;
use crate::rules::segments::{check_description, check_name};
use crate::{DomainError, DomainResult, Scope};

/// Most customers added or removed in one call.
pub const MAX_BATCH: usize = 1_000;

/// A segment with its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    pub name: String,
    pub automatic: bool,
    pub description: Option<String>,
    pub customer_count: i64,
    /// A rule segment's rule.
    pub rule: Option<AudienceRule>,
}

fn description(auto: &str) -> &'static str {
    match auto {
        "new-customer" => "first visit less than 30 days ago",
        "frequent-visitor" => "more than 20 visits",
        "high-value" => "average order value above $50",
        "vip" => "VIP tier (10,000+ lifetime points)",
        "at-risk" => "last visit 45 to 90 days ago",
        _ => "last visit more than 90 days ago",
    }
}

/// One page of the restaurant's segments: automatic ones first, then custom ones by name.
/// Each comes with its cursor id: an automatic segment's is its position, negative (-1 …), a
/// custom one's its row id; `after` is such an id. Sizes are counted for the page only (a rule
/// segment's live, in SQL).
pub async fn page(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, after: Option<i64>, first: u64) -> DomainResult<Paged<(i64, SegmentInfo)>> {
    let autos = crate::rules::segments::AUTO_SEGMENTS;
    let skip = match after {
        Some(a) if a < 0 => usize::try_from(-a).unwrap_or(autos.len()),
        Some(_) => autos.len(),
        None => 0,
    };
    let mut items: Vec<(i64, SegmentInfo)> = autos
        .iter()
        .enumerate()
        .skip(skip)
        .take(first as usize)
        .map(|(i, n)| {
            (-(i as i64) - 1, SegmentInfo { name: n.to_string(), automatic: true, description: Some(description(n).into()), customer_count: 0, rule: None })
        })
        .collect();
    let mut q = segment::Entity::find().filter(segment::Column::RestaurantId.eq(&scope.restaurant_id));
    if let Some(a) = after.filter(|a| *a > 0) {
        let last = segment::Entity::find_by_id(a).filter(segment::Column::RestaurantId.eq(&scope.restaurant_id)).one(db).await?;
        let last = last.ok_or_else(|| DomainError::validation("after", "names a segment that no longer exists; start again without it"))?;
        q = q.filter(segment::Column::Name.gt(last.name));
    }
    let room = first - items.len() as u64;
    let custom = q.order_by_asc(segment::Column::Name).limit(room + 1).all(db).await?;
    let has_next = skip + items.len() < autos.len() || custom.len() as u64 > room;
    for s in custom.into_iter().take(room as usize) {
        let rule = s.rule.as_deref().map(AudienceRule::from_json).transpose()?;
        items.push((s.id, SegmentInfo { customer_count: 0, name: s.name, automatic: false, description: s.description, rule }));
    }
    count_members(db, scope, p, &mut items).await?;
    Ok(Paged { items, has_next })
}

/// Fills in the sizes of `items`: list and automatic segments from their labels (one grouped
/// query), rule segments live.
async fn count_members(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, items: &mut [(i64, SegmentInfo)]) -> DomainResult<()> {
    use customer_label::Column as L;
    let names: Vec<String> = items.iter().filter(|(_, s)| s.rule.is_none()).map(|(_, s)| s.name.clone()).collect();
    let counts: HashMap<String, i64> = customer_label::Entity::find()
        .select_only()
        .column(L::Name)
        .column_as(L::CustomerId.count(), "n")
        .filter(L::RestaurantId.eq(&scope.restaurant_id))
        .filter(L::Kind.eq(LabelKind::Segment))
        .filter(L::Name.is_in(names))
        .group_by(L::Name)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for (_, s) in items.iter_mut() {
        s.customer_count = match &s.rule {
            Some(r) => crate::marketing::audience::count_rule(db, scope, p, r, now()).await? as i64,
            None => counts.get(&s.name).copied().unwrap_or(0),
        };
    }
    Ok(())
}

async fn find(db: &impl ConnectionTrait, scope: &Scope, name: &str) -> DomainResult<segment::Model> {
    segment::Entity::find()
        .filter(segment::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(segment::Column::Name.eq(name.trim().to_lowercase()))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("segment {}", name.trim())))
}

/// Makes sure the custom segments `names` exist (used when a profile names new ones).
pub(crate) async fn ensure(db: &impl ConnectionTrait, scope: &Scope, names: &[String]) -> DomainResult<()> {
    if names.is_empty() {
        return Ok(());
    }
    let at = now();
    let rows = names.iter().map(|n| segment::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        name: Set(n.clone()),
        description: Set(None),
        created_at: Set(at),
        ..Default::default()
    });
    segment::Entity::insert_many(rows)
        .on_conflict(OnConflict::columns([segment::Column::RestaurantId, segment::Column::Name]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Creates a custom segment: a list, or with `rule` a rule segment (its size counted now).
pub async fn create(
    db: &impl ConnectionTrait,
    scope: &Scope,
    p: &Programme,
    name: &str,
    description: Option<&str>,
    rule: Option<AudienceRule>,
) -> DomainResult<SegmentInfo> {
    let name = check_name("name", name)?;
    let description = check_description(description)?;
    let rule = rule.map(rules::check).transpose()?;
    if find(db, scope, &name).await.is_ok() {
        return Err(DomainError::validation("name", format!("a segment named {name} already exists")));
    }
    if let Some(r) = &rule {
        check_no_self_reference(&name, r)?;
    }
    segment::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        name: Set(name.clone()),
        description: Set(description.clone()),
        rule: Set(rule.as_ref().map(AudienceRule::to_json)),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let customer_count = match &rule {
        Some(r) => crate::marketing::audience::count_rule(db, scope, p, r, now()).await? as i64,
        None => 0,
    };
    Ok(SegmentInfo { name, automatic: false, description, customer_count, rule })
}

fn check_no_self_reference(name: &str, rule: &AudienceRule) -> DomainResult<()> {
    if rule.segments.iter().any(|s| s == name) || rule.any_of.iter().any(|r| check_no_self_reference(name, r).is_err()) {
        return Err(DomainError::validation("rule.segments", format!("segment {name} cannot contain itself")));
    }
    Ok(())
}

/// Replaces a rule segment's rule (a list segment stays a list).
pub async fn set_rule(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, name: &str, rule: AudienceRule) -> DomainResult<SegmentInfo> {
    let current = find(db, scope, name).await?;
    if current.rule.is_none() {
        return Err(DomainError::validation("name", format!("segment {} is a list; its members are added by hand", current.name)));
    }
    let rule = rules::check(rule)?;
    check_no_self_reference(&current.name, &rule)?;
    let mut active: segment::ActiveModel = current.clone().into();
    active.rule = Set(Some(rule.to_json()));
    active.update(db).await?;
    let customer_count = crate::marketing::audience::count_rule(db, scope, p, &rule, now()).await? as i64;
    Ok(SegmentInfo { name: current.name, automatic: false, description: current.description, customer_count, rule: Some(rule) })
}

/// Renames a custom segment; its members follow.
pub async fn rename<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, name: &str, new_name: &str) -> DomainResult<()> {
    let new_name = check_name("newName", new_name)?;
    let txn = begin_write(db).await?;
    let current = find(&txn, scope, name).await?;
    if current.name == new_name {
        return Ok(());
    }
    if find(&txn, scope, &new_name).await.is_ok() {
        return Err(DomainError::validation("newName", format!("a segment named {new_name} already exists")));
    }
    use customer_label::Column as L;
    customer_label::Entity::update_many()
        .col_expr(L::Name, Expr::value(new_name.clone()))
        .filter(L::RestaurantId.eq(&scope.restaurant_id))
        .filter(L::Kind.eq(LabelKind::Segment))
        .filter(L::Name.eq(&current.name))
        .exec(&txn)
        .await?;
    campaign::Entity::update_many()
        .col_expr(campaign::Column::AudienceSegment, Expr::value(new_name.clone()))
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::AudienceSegment.eq(&current.name))
        .exec(&txn)
        .await?;
    let mut active: segment::ActiveModel = current.into();
    active.name = Set(new_name);
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a custom segment and its memberships.
pub async fn delete<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, name: &str) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let current = find(&txn, scope, name).await?;
    let users = campaign::Entity::find()
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::AudienceSegment.eq(&current.name))
        .filter(campaign::Column::State.is_in([CampaignState::Draft, CampaignState::Scheduled, CampaignState::Sending, CampaignState::Paused]))
        .count(&txn)
        .await?;
    if users > 0 {
        return Err(DomainError::invalid_state(format!("segment {} is the audience of {users} unsent campaign(s); change their audience first", current.name)));
    }
    use customer_label::Column as L;
    customer_label::Entity::delete_many()
        .filter(L::RestaurantId.eq(&scope.restaurant_id))
        .filter(L::Kind.eq(LabelKind::Segment))
        .filter(L::Name.eq(&current.name))
        .exec(&txn)
        .await?;
    segment::Entity::delete_by_id(current.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// The ids of `ids` that are customers of the scope's restaurant, and those that are not.
async fn split_members(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<(Vec<i64>, Vec<i64>)> {
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(DomainError::validation("customerIds", format!("give 1 to {MAX_BATCH} customers")));
    }
    let found: Vec<i64> = customers::by_ids(db, scope, ids, &customers::Projection::only(Vec::new())).await?.into_iter().map(|c| c.id).collect();
    Ok(ids.iter().partition(|id| found.contains(id)))
}

/// What adding or removing members did: how many memberships changed, and the ids that are
/// no customers of the restaurant (left out; the others were applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersChanged {
    pub changed: u64,
    pub unknown: Vec<i64>,
}

/// Adds customers to a custom list segment; counts those not in it yet.
pub async fn add_members<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, name: &str, ids: &[i64]) -> DomainResult<MembersChanged> {
    let txn = begin_write(db).await?;
    let seg = find(&txn, scope, name).await?;
    if seg.rule.is_some() {
        return Err(DomainError::validation("segment", format!("segment {} is a rule segment; its members are whoever matches its rule", seg.name)));
    }
    let (known, unknown) = split_members(&txn, scope, ids).await?;
    if known.is_empty() {
        return Ok(MembersChanged { changed: 0, unknown });
    }
    let rows = known.iter().map(|id| customer_label::ActiveModel {
        customer_id: Set(*id),
        kind: Set(LabelKind::Segment),
        name: Set(seg.name.clone()),
        restaurant_id: Set(scope.restaurant_id.clone()),
    });
    use customer_label::Column as L;
    let changed = customer_label::Entity::insert_many(rows)
        .on_conflict(OnConflict::columns([L::CustomerId, L::Kind, L::Name]).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(MembersChanged { changed, unknown })
}

/// Removes customers from a custom segment; counts those that were in it.
pub async fn remove_members<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, name: &str, ids: &[i64]) -> DomainResult<MembersChanged> {
    let seg = find(db, scope, name).await?;
    let (known, unknown) = split_members(db, scope, ids).await?;
    use customer_label::Column as L;
    let changed = customer_label::Entity::delete_many()
        .filter(L::RestaurantId.eq(&scope.restaurant_id))
        .filter(L::Kind.eq(LabelKind::Segment))
        .filter(L::Name.eq(&seg.name))
        .filter(L::CustomerId.is_in(known))
        .exec(db)
        .await?
        .rows_affected;
    Ok(MembersChanged { changed, unknown })
}

/// One custom segment with its size now.
pub async fn one(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, name: &str) -> DomainResult<SegmentInfo> {
    let s = find(db, scope, name).await?;
    let rule = s.rule.as_deref().map(AudienceRule::from_json).transpose()?;
    let customer_count = match &rule {
        Some(r) => crate::marketing::audience::count_rule(db, scope, p, r, now()).await? as i64,
        None => {
            use customer_label::Column as L;
            customer_label::Entity::find()
                .filter(L::RestaurantId.eq(&scope.restaurant_id))
                .filter(L::Kind.eq(LabelKind::Segment))
                .filter(L::Name.eq(&s.name))
                .count(db)
                .await? as i64
        }
    };
    Ok(SegmentInfo { name: s.name, automatic: false, description: s.description, customer_count, rule })
}
