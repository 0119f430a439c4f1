//! The dormancy job: keeps the time-based auto-tags current for every restaurant with a few
//! set-based statements (never a loop over rows). It applies the same rules as the API
//! (`entity::rules::tags`): `dormant` after 90 calendar days without a visit (status
//! `dormant`), back to `active` when that is no longer true, and `new-customer` expiring 30
//! days after the first visit. A second run on the same day changes nothing.

use chrono::{DateTime, Utc};
use entity::entities::{CustomerStatus, LabelKind, customer, customer_label};
use entity::rules::tags::{DORMANT, NEW_CUSTOMER, dormant_cutoff, new_customer_cutoff};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionSession, TransactionTrait,
};

use crate::{JobError, JobReport, Recipient};

/// Most customers a dry run lists.
const DRY_RUN_LIST: u64 = 10_000;

fn has_label(name: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(customer_label::Column::CustomerId)
        .from(customer_label::Entity)
        .and_where(customer_label::Column::Kind.eq(LabelKind::Tag))
        .and_where(customer_label::Column::Name.eq(name))
        .to_owned()
}

/// Runs the dormancy rules at `now`.
pub async fn run<C: ConnectionTrait + TransactionTrait>(db: &C, now: DateTime<Utc>, dry_run: bool) -> Result<JobReport, JobError> {
    use customer::Column as C;
    let cutoff = dormant_cutoff(now);
    let newly_dormant = Condition::all()
        .add(C::LastVisitAt.lt(cutoff))
        .add(C::Id.not_in_subquery(has_label(DORMANT)));
    let no_longer_dormant = Condition::all()
        .add(Condition::any().add(C::LastVisitAt.gte(cutoff)).add(C::LastVisitAt.is_null()))
        .add(C::Id.in_subquery(has_label(DORMANT)));
    let new_expired = Condition::all()
        .add(C::FirstVisitAt.lt(new_customer_cutoff(now)))
        .add(C::Id.in_subquery(has_label(NEW_CUSTOMER)));

    if dry_run {
        let rows = customer::Entity::find()
            .filter(Condition::any().add(newly_dormant).add(no_longer_dormant).add(new_expired))
            .limit(DRY_RUN_LIST)
            .all(db)
            .await?;
        return Ok(JobReport {
            changed: rows.len() as u64,
            recipients: rows
                .into_iter()
                .map(|c| Recipient { customer_id: c.id, restaurant_id: c.restaurant_id, name: c.name, email: c.email, occasion_date: None })
                .collect(),
            ..JobReport::default()
        });
    }

    let txn = entity::ops::begin_write(db).await?;
    let tag = |name: &str, cond: Condition| {
        Query::insert()
            .into_table(customer_label::Entity)
            .columns([customer_label::Column::CustomerId, customer_label::Column::Kind, customer_label::Column::Name, customer_label::Column::RestaurantId])
            .select_from(
                Query::select()
                    .column(C::Id)
                    .expr(Expr::value(LabelKind::Tag))
                    .expr(Expr::value(name))
                    .column(C::RestaurantId)
                    .from(customer::Entity)
                    .cond_where(cond)
                    .to_owned(),
            )
            .expect("columns match")
            .to_owned()
    };
    let untag = |name: &str, cond: Condition| {
        Query::delete()
            .from_table(customer_label::Entity)
            .and_where(customer_label::Column::Kind.eq(LabelKind::Tag))
            .and_where(customer_label::Column::Name.eq(name))
            .and_where(customer_label::Column::CustomerId.in_subquery(Query::select().column(C::Id).from(customer::Entity).cond_where(cond).to_owned()))
            .to_owned()
    };

    let tagged = txn.execute(&tag(DORMANT, newly_dormant)).await?.rows_affected();
    let untagged = txn.execute(&untag(DORMANT, no_longer_dormant)).await?.rows_affected();
    let expired = txn.execute(&untag(NEW_CUSTOMER, new_expired)).await?.rows_affected();
    let status = |from: CustomerStatus, to: CustomerStatus, cond: Condition| {
        Query::update()
            .table(customer::Entity)
            .value(C::Status, Expr::value(to))
            .value(C::UpdatedAt, Expr::value(now))
            .and_where(C::Status.eq(from))
            .cond_where(cond)
            .to_owned()
    };
    txn.execute(&status(CustomerStatus::Active, CustomerStatus::Dormant, Condition::all().add(C::LastVisitAt.lt(cutoff)))).await?;
    txn.execute(&status(
        CustomerStatus::Dormant,
        CustomerStatus::Active,
        Condition::any().add(C::LastVisitAt.gte(cutoff)).add(C::LastVisitAt.is_null()),
    ))
    .await?;
    txn.commit().await?;
    Ok(JobReport { changed: tagged + untagged + expired, ..JobReport::default() })
}
