//! The time-based labels of one restaurant, kept current with a few set-based statements
//! (never a loop over rows), by the same rules as the API (`rules::tags`, `rules::segments`)
//! with the restaurant's thresholds and calendar: `dormant` after `dormantDays` calendar days
//! without a visit (status `dormant`), back to `active` when that no longer holds, `at-risk`
//! from `atRiskDays`, and `new-customer` expiring 30 days after the first visit. A second run
//! on the same day changes nothing.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, TransactionSession, TransactionTrait};

use crate::entities::{CustomerStatus, LabelKind, customer, customer_label};
use crate::marketing::automations::{DRY_RUN_LIST, Recipient};
use crate::rules::programme::Programme;
use crate::rules::segments::{AT_RISK, at_risk_cutoff};
use crate::rules::tags::{DORMANT, NEW_CUSTOMER, dormant_cutoff, new_customer_cutoff};
use crate::{DomainError, DomainResult, Scope};

/// What a run changed (or, in a dry run, would change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Labels added and removed.
    pub changed: u64,
    /// Dry runs: whose labels would change.
    pub recipients: Vec<Recipient>,
}

/// `EXISTS (label of this customer)`: a correlated semi-join the planner serves from the label
/// index (`NOT IN (subquery)` cannot be turned into an anti-join and crawls at a million rows).
fn has_label(kind: LabelKind, name: &str) -> Condition {
    let label = Query::select()
        .expr(Expr::value(1))
        .from(customer_label::Entity)
        .and_where(Expr::col((customer_label::Entity, customer_label::Column::CustomerId)).equals((customer::Entity, customer::Column::Id)))
        .and_where(customer_label::Column::Kind.eq(kind))
        .and_where(customer_label::Column::Name.eq(name))
        .to_owned();
    Condition::all().add(Expr::exists(label))
}

/// A label that time alone can make right or wrong: who should have it (if the job adds it)
/// and who should not.
struct TimeRule {
    kind: LabelKind,
    name: &'static str,
    add_when: Option<Condition>,
    remove_when: Condition,
}

fn time_rules(p: &Programme, now: DateTime<Utc>) -> Vec<TimeRule> {
    use customer::Column as C;
    let dormant = dormant_cutoff(p, now);
    let at_risk = at_risk_cutoff(p, now);
    let is_dormant = || Condition::all().add(C::LastVisitAt.lt(dormant));
    let not_dormant = || Condition::any().add(C::LastVisitAt.gte(dormant)).add(C::LastVisitAt.is_null());
    let expired = || Condition::all().add(C::FirstVisitAt.lt(new_customer_cutoff(p, now)));
    let mut rules = Vec::new();
    for kind in [LabelKind::Tag, LabelKind::Segment] {
        rules.push(TimeRule { kind, name: DORMANT, add_when: Some(is_dormant()), remove_when: not_dormant() });
        rules.push(TimeRule { kind, name: NEW_CUSTOMER, add_when: None, remove_when: expired() });
    }
    rules.push(TimeRule {
        kind: LabelKind::Segment,
        name: AT_RISK,
        add_when: Some(Condition::all().add(C::LastVisitAt.lt(at_risk)).add(C::LastVisitAt.gte(dormant))),
        remove_when: Condition::any().add(C::LastVisitAt.gte(at_risk)).add(C::LastVisitAt.lt(dormant)).add(C::LastVisitAt.is_null()),
    });
    rules
}

/// Applies the time-based rules to the scope's restaurant at `now`.
pub async fn run<C: ConnectionTrait + TransactionTrait>(db: &C, scope: &Scope, p: &Programme, now: DateTime<Utc>, dry_run: bool) -> DomainResult<Changes> {
    use customer::Column as C;
    let ours = || Condition::all().add(C::RestaurantId.eq(&scope.restaurant_id));
    let rules = time_rules(p, now);
    let to_add = |r: &TimeRule| r.add_when.clone().map(|c| ours().add(c).add(has_label(r.kind, r.name).not()));
    let to_remove = |r: &TimeRule| ours().add(r.remove_when.clone()).add(has_label(r.kind, r.name));

    if dry_run {
        let mut report = Changes::default();
        let mut any = Condition::any();
        for rule in &rules {
            for cond in to_add(rule).into_iter().chain([to_remove(rule)]) {
                report.changed += customer::Entity::find().filter(cond.clone()).count(db).await?;
                any = any.add(cond);
            }
        }
        let rows = customer::Entity::find().filter(any).limit(DRY_RUN_LIST).all(db).await?;
        report.recipients = Recipient::of_all(db, scope, rows, None).await?;
        return Ok(report);
    }

    let txn = super::begin_write(db).await?;
    let mut changed = 0;
    for rule in &rules {
        if let Some(cond) = to_add(rule) {
            let insert = Query::insert()
                .into_table(customer_label::Entity)
                .columns([customer_label::Column::CustomerId, customer_label::Column::Kind, customer_label::Column::Name, customer_label::Column::RestaurantId])
                .select_from(
                    Query::select()
                        .column(C::Id)
                        .expr(Expr::value(rule.kind))
                        .expr(Expr::value(rule.name))
                        .column(C::RestaurantId)
                        .from(customer::Entity)
                        .cond_where(cond)
                        .to_owned(),
                )
                .map_err(DomainError::internal)?
                .to_owned();
            // A manual run racing another replica's, or a member's own refresh, adds the same
            // labels: each is added once.
            let conflict = OnConflict::columns([customer_label::Column::CustomerId, customer_label::Column::Kind, customer_label::Column::Name]);
            changed += crate::tx::insert_once(&txn, &insert, conflict).await?;
        }
        let delete = Query::delete()
            .from_table(customer_label::Entity)
            .and_where(customer_label::Column::RestaurantId.eq(&scope.restaurant_id))
            .and_where(customer_label::Column::Kind.eq(rule.kind))
            .and_where(customer_label::Column::Name.eq(rule.name))
            .and_where(
                customer_label::Column::CustomerId
                    .in_subquery(Query::select().column(C::Id).from(customer::Entity).cond_where(ours().add(rule.remove_when.clone())).to_owned()),
            )
            .to_owned();
        changed += txn.execute(&delete).await?.rows_affected();
    }
    let cutoff = dormant_cutoff(p, now);
    let status = |from: CustomerStatus, to: CustomerStatus, cond: Condition| {
        Query::update()
            .table(customer::Entity)
            .value(C::Status, Expr::value(to))
            // Stamped when written, not with the rules' `now`: a sync read holds back only
            // changes stamped after their transaction's start (`ops::settled`).
            .value(C::UpdatedAt, Expr::value(super::now()))
            .and_where(C::Status.eq(from))
            .cond_where(ours().add(cond))
            .to_owned()
    };
    txn.execute(&status(CustomerStatus::Active, CustomerStatus::Dormant, Condition::all().add(C::LastVisitAt.lt(cutoff)))).await?;
    txn.execute(&status(CustomerStatus::Dormant, CustomerStatus::Active, Condition::any().add(C::LastVisitAt.gte(cutoff)).add(C::LastVisitAt.is_null())))
        .await?;
    txn.commit().await?;
    // After a mass change the planner's statistics are stale; the next run (and every label
    // filter) would plan against the old row counts.
    super::dialect::refresh_statistics(db, "customer_labels", changed).await?;
    Ok(Changes { changed, recipients: Vec::new() })
}
