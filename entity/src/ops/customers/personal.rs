//! A customer's personal values (phone, email, dates, allergies, dietary needs): sealed under
//! the customer's own key when written, opened when read, and found through keyed blind
//! indexes. The one place that knows which columns are sealed and how.

use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;

use crate::entities::customer::{self, Sealed};
use crate::vault::CustomerKey;
use crate::vault::crypto::Key;
use crate::{DomainError, DomainResult, Scope};

/// Associated data of each sealed column (a value copied into another column does not open).
pub(crate) const PHONE: &str = "customers.phone";
const EMAIL: &str = "customers.email";
const BIRTH: &str = "customers.date_of_birth";
const ANNIVERSARY: &str = "customers.anniversary";
const DIETARY: &str = "customers.dietary_restrictions";
const ALLERGIES: &str = "customers.allergies";
/// Associated data of a staff note.
pub const NOTE: &str = "customer_notes.note";
/// Associated data of a review's comment.
pub const COMMENT: &str = "feedback.comment";
/// Associated data of personal values in audit details (sealed JSON values).
pub const AUDIT: &str = "audit";

/// A customer's personal values in clear.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Personal {
    pub phone: String,
    pub email: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub anniversary: Option<NaiveDate>,
    pub dietary_restrictions: Vec<String>,
    pub allergies: Vec<String>,
}

/// The blind indexes of one restaurant (its index key).
#[derive(Clone, Debug)]
pub struct Indexes(Key);

impl Indexes {
    /// The scope's restaurant's indexes.
    pub async fn of(scope: &Scope) -> DomainResult<Indexes> {
        Ok(Indexes(scope.vault.index_key(&scope.restaurant_id).await?))
    }

    /// Index of a normalised (E.164) phone number.
    pub fn phone(&self, e164: &str) -> String {
        self.0.blind_index("phone", e164)
    }

    /// Index of a normalised email address.
    pub fn email(&self, email: &str) -> String {
        self.0.blind_index("email", email)
    }

    /// A keyed digest of a personal `text` of kind `what`, for equality checks of stored
    /// requests (the idempotency record of a review with a comment).
    pub fn digest(&self, what: &str, text: &str) -> String {
        self.0.blind_index(what, text)
    }

    /// Index of the last four digits of a phone number (or of a search text's digits), `None`
    /// with fewer than four.
    pub fn last4(&self, text: &str) -> Option<String> {
        let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
        (digits.len() >= 4).then(|| self.0.blind_index("phone-last4", &digits[digits.len() - 4..].iter().collect::<String>()))
    }
}

/// Opens `c`'s personal values with its key (`None`: the row holds none sealed, or its key
/// was erased — an error then). Columns a projection did not read open as empty.
pub fn open_with(c: &customer::Model, key: Option<&CustomerKey>) -> DomainResult<Personal> {
    let open = |field: &str, sealed: &Sealed| -> DomainResult<String> {
        if !crate::vault::crypto::is_sealed(&sealed.0) {
            return Ok(sealed.0.clone());
        }
        match key {
            Some(k) => k.open(field, &sealed.0),
            None => Err(DomainError::Erased { what: format!("customer {}", c.id) }),
        }
    };
    let date = |field: &str, v: &Option<Sealed>| -> DomainResult<Option<NaiveDate>> {
        let Some(v) = v else { return Ok(None) };
        let text = open(field, v)?;
        if text.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map(Some).map_err(|_| DomainError::internal(format!("{field}: not a date")))
    };
    let list = |field: &str, v: &Sealed| -> DomainResult<Vec<String>> {
        let text = open(field, v)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        serde_json::from_str(&text).map_err(|_| DomainError::internal(format!("{field}: not a list")))
    };
    Ok(Personal {
        phone: open(PHONE, &c.phone)?,
        email: c.email.as_ref().map(|e| open(EMAIL, e)).transpose()?,
        date_of_birth: date(BIRTH, &c.date_of_birth)?,
        anniversary: date(ANNIVERSARY, &c.anniversary)?,
        dietary_restrictions: list(DIETARY, &c.dietary_restrictions)?,
        allergies: list(ALLERGIES, &c.allergies)?,
    })
}

/// The row as JSON (serialised column names) with its personal values in clear (for the
/// export and the audit trail's comparison); the blind indexes and key id left out.
pub fn clear_view(c: &customer::Model, p: &Personal) -> DomainResult<serde_json::Value> {
    let mut v = serde_json::to_value(c).map_err(|e| DomainError::internal(e.to_string()))?;
    let clear = serde_json::to_value(p).map_err(|e| DomainError::internal(e.to_string()))?;
    for (column, name) in [
        ("email", "email"),
        ("phone", "phone"),
        ("date_of_birth", "dateOfBirth"),
        ("anniversary", "anniversary"),
        ("dietary_restrictions", "dietaryRestrictions"),
        ("allergies", "allergies"),
    ] {
        v[column] = clear[name].clone();
    }
    if let Some(o) = v.as_object_mut() {
        for hidden in ["phone_index", "email_index", "phone_last4", "key_id"] {
            o.remove(hidden);
        }
    }
    Ok(v)
}

/// Opens one customer's personal values.
pub async fn open(scope: &Scope, c: &customer::Model) -> DomainResult<Personal> {
    let key = match &c.key_id {
        Some(id) => scope.vault.customer_key(&scope.restaurant_id, id).await?,
        None => None,
    };
    open_with(c, key.as_ref())
}

/// Opens, in place, every sealed value inside `doc` (audit details, a delivery's copy of the
/// email): each with the key its text names. Values whose key was erased become `null`.
pub async fn open_in(scope: &Scope, doc: &mut serde_json::Value) -> DomainResult<()> {
    let mut ids = Vec::new();
    collect_key_ids(doc, &mut ids);
    if ids.is_empty() {
        return Ok(());
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let keys = scope.vault.customer_keys(&scope.restaurant_id, &refs).await?;
    replace_sealed(doc, &keys);
    Ok(())
}

fn collect_key_ids(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            if let Ok(id) = crate::vault::crypto::key_id_of(s) {
                out.push(id.to_string());
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_key_ids(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| collect_key_ids(i, out)),
        _ => {}
    }
}

fn replace_sealed(v: &mut serde_json::Value, keys: &std::collections::HashMap<String, CustomerKey>) {
    match v {
        serde_json::Value::String(s) if crate::vault::crypto::is_sealed(s) => {
            let key = crate::vault::crypto::key_id_of(s).ok().and_then(|id| keys.get(id));
            let audit = key.and_then(|k| k.open(AUDIT, s).ok());
            let text = key.and_then(|k| [EMAIL, NOTE, COMMENT].iter().find_map(|field| k.open(field, s).ok()));
            *v = match (audit, text) {
                (Some(json), _) => serde_json::from_str(&json).unwrap_or(serde_json::Value::String(json)),
                (None, Some(text)) => serde_json::Value::String(text),
                (None, None) => serde_json::Value::Null,
            };
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| replace_sealed(i, keys)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|i| replace_sealed(i, keys)),
        _ => {}
    }
}

/// Opens, in place, copies of customers' sealed email addresses (the address a delivery was
/// written for); an address whose key was erased reads `erased`.
pub async fn open_emails<'a>(scope: &Scope, emails: impl IntoIterator<Item = &'a mut String>) -> DomainResult<()> {
    open_texts(scope, EMAIL, emails).await
}

/// Opens, in place, texts sealed for `field` (notes, comments), each under the key its text
/// names, reading the key store once; a text whose key was erased reads `erased`.
pub async fn open_texts<'a>(scope: &Scope, field: &str, texts: impl IntoIterator<Item = &'a mut String>) -> DomainResult<()> {
    let texts: Vec<&mut String> = texts.into_iter().filter(|e| crate::vault::crypto::is_sealed(e)).collect();
    if texts.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = texts.iter().filter_map(|e| crate::vault::crypto::key_id_of(e).ok().map(str::to_string)).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let keys = scope.vault.customer_keys(&scope.restaurant_id, &refs).await?;
    for t in texts {
        let key = crate::vault::crypto::key_id_of(t).ok().and_then(|id| keys.get(id));
        *t = match key {
            Some(k) => k.open(field, t)?,
            None => "erased".into(),
        };
    }
    Ok(())
}

/// `text` sealed for `field` under the key of customer `c` (made if it has none yet).
pub async fn seal_for(scope: &Scope, c: &customer::Model, field: &str, text: &str) -> DomainResult<String> {
    Ok(key_for(scope, Some(c)).await?.seal(field, text))
}

/// Opens many customers' personal values, reading the key store once.
pub async fn open_many(scope: &Scope, rows: &[customer::Model]) -> DomainResult<Vec<Personal>> {
    let ids: Vec<&str> = rows.iter().filter_map(|c| c.key_id.as_deref()).collect();
    let keys = scope.vault.customer_keys(&scope.restaurant_id, &ids).await?;
    rows.iter().map(|c| open_with(c, c.key_id.as_ref().and_then(|id| keys.get(id)))).collect()
}

/// The customer's key, or a new one when the row has none yet (new, or written before
/// encryption).
pub async fn key_for(scope: &Scope, c: Option<&customer::Model>) -> DomainResult<CustomerKey> {
    if let Some(id) = c.and_then(|c| c.key_id.as_deref()) {
        return scope
            .vault
            .customer_key(&scope.restaurant_id, id)
            .await?
            .ok_or_else(|| DomainError::Erased { what: format!("customer {}", c.map_or(0, |c| c.id)) });
    }
    scope.vault.new_customer_key(&scope.restaurant_id).await
}

/// Seals up to `batch` of the scope's customers after id `after` whose values were written
/// before encryption (no key, no blind index; erased ones have an index and stay as they are);
/// returns how many it sealed and the last id it looked at (`None`: no more). The batch is
/// written by one `UPDATE … FROM (VALUES …)` statement (one round trip, not one per row).
pub async fn seal_unsealed<D: sea_orm::ConnectionTrait>(db: &D, scope: &Scope, after: i64, batch: u64) -> DomainResult<(u64, Option<i64>)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
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
    let indexes = Indexes::of(scope).await?;
    let keys = scope.vault.new_customer_keys(&scope.restaurant_id, rows.len()).await?;
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * SEALED_COLUMNS.len());
    let mut tuples = Vec::with_capacity(rows.len());
    for (row, key) in rows.iter().zip(&keys) {
        let mut active: customer::ActiveModel = row.clone().into();
        seal_into(&mut active, &open_with(row, None)?, key, &indexes);
        let first = values.len() + 1;
        values.push(row.id.into());
        values
            .extend(SEALED_COLUMNS[1..].iter().map(|c| sea_orm::ActiveModelTrait::get(&active, *c).into_value().expect("seal_into sets every sealed column")));
        let marks: Vec<String> = (first..first + SEALED_COLUMNS.len()).map(|n| crate::ops::dialect::placeholder(backend, n)).collect();
        tuples.push(format!("(CAST({} AS BIGINT), {})", marks[0], marks[1..].join(", ")));
    }
    let names: Vec<&str> = SEALED_COLUMNS.iter().map(|c| sea_orm::IdenStatic::as_str(c)).collect();
    let sets: Vec<String> = names[1..].iter().map(|n| format!("{n} = v.{n}")).collect();
    let sql = format!(
        "WITH v({}) AS (VALUES {}) UPDATE customers SET {} FROM v WHERE customers.id = v.id AND customers.key_id IS NULL",
        names.join(", "),
        tuples.join(", "),
        sets.join(", ")
    );
    let n = db.execute_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
    Ok((n, Some(last)))
}

/// The id and the columns [`seal_into`] sets, in the order the backfill writes them.
const SEALED_COLUMNS: [customer::Column; 11] = {
    use customer::Column as C;
    [C::Id, C::Phone, C::Email, C::DateOfBirth, C::Anniversary, C::DietaryRestrictions, C::Allergies, C::PhoneIndex, C::EmailIndex, C::PhoneLast4, C::KeyId]
};

/// Sets the sealed columns (and their blind indexes) whose values differ between `before` and
/// `after`, under `key`; every one when the row had no key yet (`first`). A column whose value
/// did not change is not written, so a concurrent change of it (a new phone number) stands.
pub fn seal_changed(active: &mut customer::ActiveModel, before: &Personal, after: &Personal, key: &CustomerKey, indexes: &Indexes, first: bool) {
    if first {
        return seal_into(active, after, key, indexes);
    }
    let mut all = active.clone();
    seal_into(&mut all, after, key, indexes);
    if before.phone != after.phone {
        (active.phone, active.phone_index, active.phone_last4) = (all.phone, all.phone_index, all.phone_last4);
    }
    if before.email != after.email {
        (active.email, active.email_index) = (all.email, all.email_index);
    }
    if before.date_of_birth != after.date_of_birth {
        active.date_of_birth = all.date_of_birth;
    }
    if before.anniversary != after.anniversary {
        active.anniversary = all.anniversary;
    }
    if before.dietary_restrictions != after.dietary_restrictions {
        active.dietary_restrictions = all.dietary_restrictions;
    }
    if before.allergies != after.allergies {
        active.allergies = all.allergies;
    }
}

/// Sets every sealed column and blind index of `active` from `p`, under `key`.
pub fn seal_into(active: &mut customer::ActiveModel, p: &Personal, key: &CustomerKey, indexes: &Indexes) {
    let seal = |field: &str, text: &str| Sealed(key.seal(field, text));
    let list = |v: &Vec<String>| serde_json::to_string(v).expect("a list of strings serialises");
    active.phone = Set(seal(PHONE, &p.phone));
    active.email = Set(p.email.as_deref().map(|e| seal(EMAIL, e)));
    active.date_of_birth = Set(p.date_of_birth.map(|d| seal(BIRTH, &d.format("%Y-%m-%d").to_string())));
    active.anniversary = Set(p.anniversary.map(|d| seal(ANNIVERSARY, &d.format("%Y-%m-%d").to_string())));
    active.dietary_restrictions = Set(seal(DIETARY, &list(&p.dietary_restrictions)));
    active.allergies = Set(seal(ALLERGIES, &list(&p.allergies)));
    active.phone_index = Set(Some(indexes.phone(&p.phone)));
    active.email_index = Set(p.email.as_deref().map(|e| indexes.email(e)));
    active.phone_last4 = Set(indexes.last4(&p.phone));
    active.key_id = Set(Some(key.id.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::customer_fixture;

    #[test]
    fn indexes_of_last_digits_need_four() {
        let ix = Indexes(Key::generate());
        assert_eq!(ix.last4("+1 415 555 0123"), ix.last4("0123"));
        assert_eq!(ix.last4("123"), None);
        assert_ne!(ix.last4("0123"), ix.last4("0124"));
    }

    #[test]
    fn unsealed_values_written_before_encryption_read_as_they_are() {
        let mut c = customer_fixture(chrono::Utc::now());
        c.date_of_birth = Some(Sealed("1990-05-01".into()));
        c.allergies = Sealed(r#"["nuts"]"#.into());
        let p = open_with(&c, None).unwrap();
        assert_eq!(p.phone, "+14155550123");
        assert_eq!(p.date_of_birth, NaiveDate::from_ymd_opt(1990, 5, 1));
        assert_eq!(p.allergies, vec!["nuts".to_string()]);
    }

    #[test]
    fn a_sealed_row_opens_with_its_key_only() {
        let mut c = customer_fixture(chrono::Utc::now());
        let mut active: customer::ActiveModel = c.clone().into();
        let key = CustomerKey::for_tests("c1");
        let p = Personal { phone: "+14155550123".into(), email: Some("ann@example.com".into()), allergies: vec!["nuts".into()], ..Default::default() };
        seal_into(&mut active, &p, &key, &Indexes(Key::generate()));
        c.phone = active.phone.unwrap();
        c.email = active.email.unwrap();
        c.allergies = active.allergies.unwrap();
        c.key_id = Some("c1".into());
        assert!(!c.phone.0.contains("4155550123") && !c.allergies.0.contains("nuts"));
        assert_eq!(open_with(&c, Some(&key)).unwrap(), p);
        assert!(matches!(open_with(&c, None), Err(DomainError::Erased { .. })));
    }
}
