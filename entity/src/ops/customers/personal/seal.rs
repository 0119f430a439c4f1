//! Writing personal values: sealed under the customer's key into its `customer_personal` row,
//! their blind indexes and the key id onto its `customers` row.

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait};

use super::values::{ALLERGIES, ANNIVERSARY, BIRTH, DIETARY, EMAIL, Indexes, PHONE, Personal, open_with, rows as personal_rows};
use crate::entities::customer::{self, Sealed};
use crate::entities::customer_personal;
use crate::ops::dialect::placeholder;
use crate::vault::CustomerKey;
use crate::{DomainError, DomainResult, Scope};

/// The sealed values to write to one customer's personal row: only the columns set are written.
pub type Values = customer_personal::ActiveModel;

/// Sets every sealed value of `values` and every blind index of `active` from `p`, under `key`.
pub fn seal_into(active: &mut customer::ActiveModel, values: &mut Values, p: &Personal, key: &CustomerKey, indexes: &Indexes) {
    let seal = |field: &str, text: &str| Sealed(key.seal(field, text));
    let list = |v: &Vec<String>| serde_json::to_string(v).expect("a list of strings serialises");
    values.phone = Set(seal(PHONE, &p.phone));
    values.email = Set(p.email.as_deref().map(|e| seal(EMAIL, e)));
    values.date_of_birth = Set(p.date_of_birth.map(|d| seal(BIRTH, &d.format("%Y-%m-%d").to_string())));
    values.anniversary = Set(p.anniversary.map(|d| seal(ANNIVERSARY, &d.format("%Y-%m-%d").to_string())));
    values.dietary_restrictions = Set(seal(DIETARY, &list(&p.dietary_restrictions)));
    values.allergies = Set(seal(ALLERGIES, &list(&p.allergies)));
    active.phone_index = Set(Some(indexes.phone(&p.phone)));
    active.email_index = Set(p.email.as_deref().map(|e| indexes.email(e)));
    active.phone_last4 = Set(indexes.last4(&p.phone));
    active.key_id = Set(Some(key.id.clone()));
}

/// Sets the sealed values (and their blind indexes) that differ between `before` and `after`,
/// under `key`; every one when the row had no key yet (`first`). A value that did not change is
/// not written, so a concurrent change of it (a new phone number) stands.
pub fn seal_changed(
    active: &mut customer::ActiveModel,
    values: &mut Values,
    before: &Personal,
    after: &Personal,
    key: &CustomerKey,
    indexes: &Indexes,
    first: bool,
) {
    if first {
        return seal_into(active, values, after, key, indexes);
    }
    let (mut all, mut sealed): (_, Values) = (active.clone(), Default::default());
    seal_into(&mut all, &mut sealed, after, key, indexes);
    if before.phone != after.phone {
        (active.phone_index, active.phone_last4, values.phone) = (all.phone_index, all.phone_last4, sealed.phone);
    }
    if before.email != after.email {
        (active.email_index, values.email) = (all.email_index, sealed.email);
    }
    if before.date_of_birth != after.date_of_birth {
        values.date_of_birth = sealed.date_of_birth;
    }
    if before.anniversary != after.anniversary {
        values.anniversary = sealed.anniversary;
    }
    if before.dietary_restrictions != after.dietary_restrictions {
        values.dietary_restrictions = sealed.dietary_restrictions;
    }
    if before.allergies != after.allergies {
        values.allergies = sealed.allergies;
    }
}

/// Writes `values` to customer `customer_id`'s personal row: the new row when `insert`, else
/// the columns set (none set: nothing written).
pub async fn write(db: &impl ConnectionTrait, scope: &Scope, customer_id: i64, mut values: Values, insert: bool) -> DomainResult<()> {
    if insert {
        values.customer_id = Set(customer_id);
        values.restaurant_id = Set(scope.restaurant_id.clone());
        customer_personal::Entity::insert(values).exec_without_returning(db).await?;
        return Ok(());
    }
    if !values.is_changed() {
        return Ok(());
    }
    values.customer_id = NotSet;
    values.restaurant_id = NotSet;
    customer_personal::Entity::update_many()
        .set(values)
        .filter(customer_personal::Column::CustomerId.eq(customer_id))
        .filter(customer_personal::Column::RestaurantId.eq(&scope.restaurant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes customer `customer_id`'s personal row, before the customer's own row goes (the
/// foreign key's cascade does the same; this does not rely on a connection enforcing it).
pub async fn delete(db: &impl ConnectionTrait, scope: &Scope, customer_id: i64) -> DomainResult<()> {
    customer_personal::Entity::delete_many()
        .filter(customer_personal::Column::CustomerId.eq(customer_id))
        .filter(customer_personal::Column::RestaurantId.eq(&scope.restaurant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Seals up to `batch` of the scope's customers after id `after` whose values were written
/// before encryption (no key, no blind index; erased ones have an index and stay as they are);
/// returns how many it sealed and the last id it looked at (`None`: no more). One transaction
/// of two statements: the indexes and key ids (only where no key came first: another replica
/// sealing the same rows at once), then the values of exactly the rows that statement wrote.
pub async fn seal_unsealed<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, after: i64, batch: u64) -> DomainResult<(u64, Option<i64>)> {
    let rows = customer::Entity::find()
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer::Column::Id.gt(after))
        .filter(customer::Column::KeyId.is_null())
        .filter(customer::Column::PhoneIndex.is_null())
        .order_by_asc(customer::Column::Id)
        .limit(batch)
        .all(db)
        .await?;
    let Some(last) = rows.last().map(|c| c.id) else { return Ok((0, None)) };
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let clear = personal_rows(db, scope, &ids).await?;
    let indexes = Indexes::of(scope).await?;
    let keys = scope.vault.new_customer_keys(&scope.restaurant_id, rows.len()).await?;
    let (mut on_customers, mut on_personal) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
    for (row, key) in rows.iter().zip(&keys) {
        let Some(p) = clear.get(&row.id) else { return Err(DomainError::internal(format!("customer {} has no personal row", row.id))) };
        let (mut active, mut values): (customer::ActiveModel, Values) = (Default::default(), Default::default());
        seal_into(&mut active, &mut values, &open_with(p, None)?, key, &indexes);
        on_customers.push(std::iter::once(row.id.into()).chain(INDEX_COLUMNS.iter().map(|c| value_of(&active, c))).collect::<Vec<_>>());
        on_personal.push(std::iter::once(row.id.into()).chain(VALUE_COLUMNS.iter().map(|c| value_of(&values, c))).collect::<Vec<_>>());
    }
    let txn = crate::ops::begin_write(db).await?;
    let sql = update_from_values(&txn, "customers", "id", &INDEX_COLUMNS, on_customers.len(), "customers.key_id IS NULL RETURNING customers.id");
    let sealed: Vec<i64> = txn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(txn.get_database_backend(), sql, on_customers.concat()))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0))
        .collect::<Result<_, _>>()?;
    on_personal.retain(|v| matches!(v[0], sea_orm::Value::BigInt(Some(id)) if sealed.contains(&id)));
    if !on_personal.is_empty() {
        let sql = update_from_values(&txn, "customer_personal", "customer_id", &VALUE_COLUMNS, on_personal.len(), "TRUE");
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(txn.get_database_backend(), sql, on_personal.concat())).await?;
    }
    txn.commit().await?;
    Ok((sealed.len() as u64, Some(last)))
}

/// The columns of `customers` [`seal_into`] sets.
const INDEX_COLUMNS: [&str; 4] = ["phone_index", "email_index", "phone_last4", "key_id"];
/// The columns of `customer_personal` [`seal_into`] sets.
const VALUE_COLUMNS: [&str; 6] = ["phone", "email", "date_of_birth", "anniversary", "dietary_restrictions", "allergies"];

/// The value `active` sets for the column named `name`.
fn value_of<A: ActiveModelTrait>(active: &A, name: &str) -> sea_orm::Value {
    use sea_orm::Iterable;
    let column = <A::Entity as EntityTrait>::Column::iter().find(|c| sea_orm::IdenStatic::as_str(c) == name).expect("a column of the table");
    active.get(column).into_value().expect("seal_into sets every sealed column")
}

/// `UPDATE table SET columns FROM (VALUES …) WHERE table.key = v.id AND condition` for `rows`
/// tuples of (id, columns…): one round trip for a whole batch.
fn update_from_values(db: &impl ConnectionTrait, table: &str, key: &str, columns: &[&str], rows: usize, condition: &str) -> String {
    let backend = db.get_database_backend();
    let width = columns.len() + 1;
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|n| placeholder(backend, r * width + n)).collect();
            format!("(CAST({} AS BIGINT), {})", marks[0], marks[1..].join(", "))
        })
        .collect();
    let sets: Vec<String> = columns.iter().map(|n| format!("{n} = v.{n}")).collect();
    format!(
        "WITH v(id, {}) AS (VALUES {}) UPDATE {table} SET {} FROM v WHERE {table}.{key} = v.id AND {condition}",
        columns.join(", "),
        tuples.join(", "),
        sets.join(", ")
    )
}
