//! The rewards catalogue and vouchers of one restaurant. Redeeming a reward takes its points
//! (one ledger row) and issues a voucher in one transaction; the POS checks a voucher and uses
//! it once (a conditional update, so concurrent terminals succeed exactly once); voiding an
//! unused voucher gives its points back in a ledger row.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::ledger::{self, PointsOutcome};
use super::state::{self, Delta};
use super::{begin_write, customers, idempotency, now};
use crate::entities::{LedgerKind, RewardKind, Tier, VoucherStatus, reward, voucher};
use crate::marketing::kinds::Benefit;
use crate::rules::inputs::check_key;
use crate::rules::rewards::{self, VoucherProblem};
use crate::{DomainError, DomainResult, Scope};

/// A catalogue entry to create, or the changes to one (`None` keeps a value).
#[derive(Debug, Clone, Default)]
pub struct RewardInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub points_cost: Option<i64>,
    pub kind: Option<RewardKind>,
    pub amount_cents: Option<i64>,
    pub percent: Option<i16>,
    pub item_id: Option<String>,
    pub min_tier: Option<Tier>,
    pub active_from: Option<DateTime<Utc>>,
    pub active_until: Option<DateTime<Utc>>,
    pub stock: Option<i64>,
    pub valid_days: Option<i32>,
    pub archived: Option<bool>,
}

impl RewardInput {
    fn apply_to(self, r: &mut reward::Model) {
        fn set<T>(target: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *target = v;
            }
        }
        set(&mut r.name, self.name.map(|n| n.trim().to_string()));
        if self.description.is_some() {
            r.description = self.description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        }
        set(&mut r.points_cost, self.points_cost);
        set(&mut r.kind, self.kind);
        if self.amount_cents.is_some() {
            r.amount_cents = self.amount_cents;
        }
        if self.percent.is_some() {
            r.percent = self.percent;
        }
        if self.item_id.is_some() {
            r.item_id = self.item_id.map(|i| i.trim().to_string());
        }
        set(&mut r.min_tier, self.min_tier);
        if self.active_from.is_some() {
            r.active_from = self.active_from;
        }
        if self.active_until.is_some() {
            r.active_until = self.active_until;
        }
        if self.stock.is_some() {
            r.stock = self.stock;
        }
        set(&mut r.valid_days, self.valid_days);
        set(&mut r.archived, self.archived);
    }
}

/// Adds a reward to the scope's catalogue.
pub async fn create(db: &impl ConnectionTrait, scope: &Scope, input: RewardInput) -> DomainResult<reward::Model> {
    let at = now();
    let mut r = reward::Model {
        id: 0,
        restaurant_id: scope.restaurant_id.clone(),
        name: String::new(),
        description: None,
        points_cost: 0,
        kind: RewardKind::AmountOff,
        amount_cents: None,
        percent: None,
        item_id: None,
        min_tier: Tier::Bronze,
        active_from: None,
        active_until: None,
        stock: None,
        valid_days: 30,
        archived: false,
        created_at: at,
        updated_at: at,
    };
    input.apply_to(&mut r);
    rewards::check(&r)?;
    let mut active = r.into_active_model();
    active.id = sea_orm::ActiveValue::NotSet;
    Ok(active.insert(db).await?)
}

/// A reward of the scope's catalogue, or `NotFound`.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<reward::Model> {
    reward::Entity::find_by_id(id)
        .filter(reward::Column::RestaurantId.eq(&scope.restaurant_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("reward {id}")))
}

/// Changes a reward (checked as a whole; nothing changes when refused).
pub async fn update(db: &impl ConnectionTrait, scope: &Scope, id: i64, input: RewardInput) -> DomainResult<reward::Model> {
    let old = get(db, scope, id).await?;
    let mut r = old.clone();
    input.apply_to(&mut r);
    rewards::check(&r)?;
    r.updated_at = now();
    let active: reward::ActiveModel = super::only_changes(old, &r);
    Ok(active.update(db).await?)
}

/// One page of the scope's catalogue, newest first, after the reward `after`; archived rewards
/// only when asked for.
pub async fn page(
    db: &impl ConnectionTrait,
    scope: &Scope,
    include_archived: bool,
    after: Option<i64>,
    first: u64,
) -> DomainResult<super::Paged<reward::Model>> {
    let mut q = reward::Entity::find().filter(reward::Column::RestaurantId.eq(&scope.restaurant_id));
    if !include_archived {
        q = q.filter(reward::Column::Archived.eq(false));
    }
    Ok(super::newest_page(db, q, reward::Column::Id, after, first).await?)
}

/// The scope's whole catalogue, newest first; archived rewards only when asked for.
pub async fn list(db: &impl ConnectionTrait, scope: &Scope, include_archived: bool) -> DomainResult<Vec<reward::Model>> {
    let mut q = reward::Entity::find().filter(reward::Column::RestaurantId.eq(&scope.restaurant_id));
    if !include_archived {
        q = q.filter(reward::Column::Archived.eq(false));
    }
    Ok(q.order_by_desc(reward::Column::Id).all(db).await?)
}

/// What redeeming a reward returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redeemed {
    pub voucher: voucher::Model,
    pub points: PointsOutcome,
}

/// Redeems `reward_id` for a member: takes its points (one ledger row) and issues a voucher,
/// in one transaction; once per idempotency key.
pub async fn redeem_reward<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    reward_id: i64,
    idempotency_key: Option<&str>,
) -> DomainResult<idempotency::Outcome<Redeemed>> {
    let key = idempotency_key.map(check_key).transpose()?;
    let p = super::restaurants::programme(db, scope).await?;
    idempotency::run(db, scope, key.as_deref(), "redeemReward", &(customer_id, reward_id), async |txn| {
        let at = now();
        let reward = get(txn, scope, reward_id).await?;
        let member = customers::find_by_id(txn, scope, customer_id).await?;
        if let Some(reason) = rewards::unavailable(&reward, member.tier, at) {
            return Err(DomainError::RewardUnavailable { reason });
        }
        if reward.stock.is_some() {
            let taken = reward::Entity::update_many()
                .col_expr(reward::Column::Stock, Expr::col(reward::Column::Stock).sub(1))
                .filter(reward::Column::Id.eq(reward.id))
                .filter(reward::Column::Stock.gt(0))
                .exec(txn)
                .await?;
            if taken.rows_affected == 0 {
                return Err(DomainError::RewardUnavailable { reason: "this reward is out of stock".into() });
            }
        }
        let row = state::apply(txn, scope, customer_id, Delta { redeemed: reward.points_cost, ..Delta::default() }, at).await?;
        let reason = Some(format!("Reward: {}", reward.name));
        let entry = ledger::append(txn, scope, &row, LedgerKind::Redeem, -reward.points_cost, reason, key.clone(), at).await?;
        let voucher = issue(txn, scope, customer_id, &reward, at).await?;
        Ok(Redeemed { voucher, points: PointsOutcome::new(&row, &entry, &p) })
    })
    .await
}

/// Inserts a voucher for `reward`, drawing a fresh code.
async fn issue(txn: &impl ConnectionTrait, scope: &Scope, customer_id: i64, reward: &reward::Model, at: DateTime<Utc>) -> DomainResult<voucher::Model> {
    for _ in 0..8 {
        let code = rewards::new_code();
        if voucher::Entity::find().filter(voucher::Column::Code.eq(&code)).one(txn).await?.is_some() {
            continue;
        }
        let row = voucher::ActiveModel {
            restaurant_id: Set(scope.restaurant_id.clone()),
            customer_id: Set(customer_id),
            reward_id: Set(Some(reward.id)),
            code: Set(code),
            source: Set("reward".into()),
            title: Set(reward.name.clone()),
            points_cost: Set(reward.points_cost),
            kind: Set(reward.kind),
            amount_cents: Set(reward.amount_cents),
            percent: Set(reward.percent),
            item_id: Set(reward.item_id.clone()),
            status: Set(VoucherStatus::Issued),
            issued_at: Set(at),
            expires_at: Set(at + Duration::days(i64::from(reward.valid_days))),
            redeemed_at: Set(None),
            redeemed_order_id: Set(None),
            voided_at: Set(None),
            ..Default::default()
        };
        let v = row.insert(txn).await?;
        super::webhooks::events::record(txn, scope, "voucher.issued", super::webhooks::events::voucher(&v), at).await?;
        return Ok(v);
    }
    Err(DomainError::internal("no free voucher code after 8 tries"))
}

/// The member's voucher for `benefit`: issued once per (member, source, period) — a retry, a
/// rerun or another replica gets the same voucher back.
pub async fn issue_benefit(db: &impl ConnectionTrait, scope: &Scope, customer_id: i64, benefit: &Benefit, at: DateTime<Utc>) -> DomainResult<voucher::Model> {
    use voucher::Column as V;
    let existing = || {
        voucher::Entity::find()
            .filter(V::RestaurantId.eq(&scope.restaurant_id))
            .filter(V::CustomerId.eq(customer_id))
            .filter(V::Source.eq(benefit.source))
            .filter(V::PeriodKey.eq(&benefit.period_key))
            .one(db)
    };
    if let Some(v) = existing().await? {
        return Ok(v);
    }
    let row = voucher::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        customer_id: Set(customer_id),
        reward_id: Set(None),
        code: Set(rewards::new_code()),
        source: Set(benefit.source.into()),
        title: Set(benefit.title.clone()),
        points_cost: Set(0),
        kind: Set(RewardKind::PercentOff),
        amount_cents: Set(None),
        percent: Set(Some(i16::from(benefit.percent))),
        item_id: Set(None),
        status: Set(VoucherStatus::Issued),
        issued_at: Set(at),
        expires_at: Set(at + Duration::days(i64::from(benefit.valid_days))),
        redeemed_at: Set(None),
        redeemed_order_id: Set(None),
        voided_at: Set(None),
        period_key: Set(Some(benefit.period_key.clone())),
        ..Default::default()
    };
    let inserted = voucher::Entity::insert(row)
        .on_conflict(OnConflict::columns([V::CustomerId, V::Source, V::PeriodKey]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let v = existing().await?.ok_or_else(|| DomainError::internal("benefit voucher missing after insert"))?;
    if inserted == 1 {
        super::webhooks::events::record(db, scope, "voucher.issued", super::webhooks::events::voucher(&v), at).await?;
    }
    Ok(v)
}

/// A member's vouchers, newest first.
pub async fn vouchers_of(db: &impl ConnectionTrait, scope: &Scope, customer_id: i64) -> DomainResult<Vec<voucher::Model>> {
    customers::find_by_id(db, scope, customer_id).await?;
    Ok(voucher::Entity::find()
        .filter(voucher::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(voucher::Column::CustomerId.eq(customer_id))
        .order_by_desc(voucher::Column::Id)
        .all(db)
        .await?)
}

/// A page of vouchers of each of several members (for a DataLoader), newest first: all, or
/// (`usable_at`) only those still usable at that time.
pub async fn vouchers_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    usable_at: Option<DateTime<Utc>>,
    page: (Option<i64>, u64),
) -> DomainResult<std::collections::HashMap<i64, super::Paged<voucher::Model>>> {
    let only = match usable_at {
        Some(at) => vec![("status =", VoucherStatus::Issued.into()), ("expires_at >", at.into())],
        None => Vec::new(),
    };
    Ok(super::newest_pages::<voucher::Entity>(db, scope, ids, (&super::BY_ID, &only), page, |v| v.customer_id).await?)
}

/// The scope's voucher with this code (as typed at the POS), or `NotFound`.
pub async fn find(db: &impl ConnectionTrait, scope: &Scope, code: &str) -> DomainResult<voucher::Model> {
    let normalized = rewards::normalize_code(code).ok_or_else(|| DomainError::not_found(format!("voucher {}", code.trim())))?;
    voucher::Entity::find()
        .filter(voucher::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(voucher::Column::Code.eq(&normalized))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("voucher {normalized}")))
}

fn problem(v: &voucher::Model, problem: VoucherProblem) -> DomainError {
    DomainError::Voucher { code: v.code.clone(), problem }
}

/// Uses a voucher once, for `order_id`: a second use for another order answers
/// `ALREADY_REDEEMED`, an expired voucher `VOUCHER_EXPIRED`. A retry for the same order returns
/// the voucher as that use left it (`replayed`), so a POS may repeat the call safely. The
/// conditional update makes concurrent uses succeed once.
pub async fn use_voucher<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    code: &str,
    order_id: &str,
) -> DomainResult<idempotency::Outcome<voucher::Model>> {
    let order_id = super::orders::check_order_id(order_id)?;
    let v = find(db, scope, code).await?;
    let replay = |v: voucher::Model| idempotency::Outcome { value: v, replayed: true };
    if used_for(&v, &order_id) {
        return Ok(replay(v));
    }
    let at = now();
    rewards::usable(&v, at).map_err(|p| problem(&v, p))?;
    let txn = begin_write(db).await?;
    let used = voucher::Entity::update_many()
        .col_expr(voucher::Column::Status, Expr::value(VoucherStatus::Redeemed))
        .col_expr(voucher::Column::RedeemedAt, Expr::value(at))
        .col_expr(voucher::Column::RedeemedOrderId, Expr::value(order_id.as_str()))
        .filter(voucher::Column::Id.eq(v.id))
        .filter(voucher::Column::Status.eq(VoucherStatus::Issued))
        .filter(voucher::Column::ExpiresAt.gt(at))
        .exec_with_returning(&txn)
        .await?;
    if let Some(after) = used.first() {
        super::webhooks::events::record(&txn, scope, "voucher.redeemed", super::webhooks::events::voucher(after), at).await?;
    }
    txn.commit().await?;
    match used.into_iter().next() {
        Some(after) => Ok(idempotency::Outcome { value: after, replayed: false }),
        // Another terminal used (or voided) it between the check and the update: a concurrent
        // retry of this same use is a replay, anything else a problem.
        None => {
            let now_ = find(db, scope, code).await?;
            if used_for(&now_, &order_id) {
                return Ok(replay(now_));
            }
            Err(problem(&now_, rewards::usable(&now_, at).err().unwrap_or(VoucherProblem::AlreadyRedeemed)))
        }
    }
}

/// Whether `v` was used on order `order_id`.
fn used_for(v: &voucher::Model, order_id: &str) -> bool {
    v.status == VoucherStatus::Redeemed && v.redeemed_order_id.as_deref() == Some(order_id)
}

/// Cancels an unused voucher and gives its points back (one ledger row), in one transaction.
pub async fn void_voucher<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, code: &str) -> DomainResult<voucher::Model> {
    let txn = begin_write(db).await?;
    let v = find(&txn, scope, code).await?;
    match v.status {
        VoucherStatus::Redeemed => return Err(problem(&v, VoucherProblem::AlreadyRedeemed)),
        VoucherStatus::Voided => return Err(problem(&v, VoucherProblem::Voided)),
        VoucherStatus::Issued => {}
    }
    let at = now();
    let voided = voucher::Entity::update_many()
        .col_expr(voucher::Column::Status, Expr::value(VoucherStatus::Voided))
        .col_expr(voucher::Column::VoidedAt, Expr::value(at))
        .filter(voucher::Column::Id.eq(v.id))
        .filter(voucher::Column::Status.eq(VoucherStatus::Issued))
        .exec(&txn)
        .await?;
    if voided.rows_affected == 0 {
        // Used or voided by another caller since the read: say which, as it stands now.
        let now_ = find(&txn, scope, code).await?;
        let why = if now_.status == VoucherStatus::Voided { VoucherProblem::Voided } else { VoucherProblem::AlreadyRedeemed };
        return Err(problem(&now_, why));
    }
    if v.points_cost > 0 {
        let row = state::apply(&txn, scope, v.customer_id, Delta { redeemed: -v.points_cost, ..Delta::default() }, at).await?;
        let reason = Some(format!("Voucher {} voided", v.code));
        ledger::append(&txn, scope, &row, LedgerKind::Redeem, v.points_cost, reason, None, at).await?;
    }
    if let Some(reward_id) = v.reward_id {
        reward::Entity::update_many()
            .col_expr(reward::Column::Stock, Expr::col(reward::Column::Stock).add(1))
            .filter(reward::Column::Id.eq(reward_id))
            .filter(reward::Column::Stock.is_not_null())
            .exec(&txn)
            .await?;
    }
    let after = find(&txn, scope, code).await?;
    super::webhooks::events::record(&txn, scope, "voucher.voided", super::webhooks::events::voucher(&after), at).await?;
    txn.commit().await?;
    Ok(after)
}
