//! A customer's personal values (phone, email, dates, allergies, dietary needs): sealed under
//! the customer's own key when written, opened when read, and found through keyed blind
//! indexes. The one place that knows which columns are sealed and how.

mod seal;
mod values;

use sea_orm::ConnectionTrait;

pub use seal::{Values, delete, seal_changed, seal_into, seal_unsealed, write};
pub use values::{AUDIT, COMMENT, Indexes, NOTE, PHONE, Personal, open_with, row, rows};
use values::{EMAIL, missing};

use crate::entities::customer;
use crate::vault::CustomerKey;
use crate::{DomainError, DomainResult, Scope};

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

/// Opens one customer's personal values (its row read here).
pub async fn open(db: &impl ConnectionTrait, scope: &Scope, c: &customer::Model) -> DomainResult<Personal> {
    let p = row(db, scope, c.id).await?;
    let key = match &c.key_id {
        Some(id) => scope.vault.customer_key(&scope.restaurant_id, id).await?,
        None => None,
    };
    open_with(&p, key.as_ref())
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

/// Customer `id`'s personal values opened with its `key` (the row read on `db`: a write's
/// transaction reads what it is about to change).
pub async fn open_for(db: &impl ConnectionTrait, scope: &Scope, id: i64, key: &CustomerKey) -> DomainResult<Personal> {
    open_with(&row(db, scope, id).await?, Some(key))
}

/// Opens many customers' personal values (their rows read in one query per thousand, the key
/// store once), in the order of `customers`.
pub async fn open_many(db: &impl ConnectionTrait, scope: &Scope, customers: &[customer::Model]) -> DomainResult<Vec<Personal>> {
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    let rows = rows(db, scope, &ids).await?;
    let key_ids: Vec<&str> = customers.iter().filter_map(|c| c.key_id.as_deref()).collect();
    let keys = scope.vault.customer_keys(&scope.restaurant_id, &key_ids).await?;
    customers.iter().map(|c| open_with(rows.get(&c.id).ok_or_else(|| missing(c.id))?, c.key_id.as_ref().and_then(|id| keys.get(id)))).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::customer::Sealed;
    use crate::testing::{customer_fixture, personal_fixture};
    use crate::vault::crypto::Key;
    use chrono::NaiveDate;

    #[test]
    fn indexes_of_last_digits_need_four() {
        let ix = Indexes(Key::generate());
        assert_eq!(ix.last4("+1 415 555 0123"), ix.last4("0123"));
        assert_eq!(ix.last4("123"), None);
        assert_ne!(ix.last4("0123"), ix.last4("0124"));
    }

    #[test]
    fn unsealed_values_written_before_encryption_read_as_they_are() {
        let mut p = personal_fixture();
        p.date_of_birth = Some(Sealed("1990-05-01".into()));
        p.allergies = Sealed(r#"["nuts"]"#.into());
        let opened = open_with(&p, None).unwrap();
        assert_eq!(opened.phone, "+14155550123");
        assert_eq!(opened.date_of_birth, NaiveDate::from_ymd_opt(1990, 5, 1));
        assert_eq!(opened.allergies, vec!["nuts".to_string()]);
    }

    #[test]
    fn a_sealed_row_opens_with_its_key_only() {
        let mut active: customer::ActiveModel = customer_fixture(chrono::Utc::now()).into();
        let mut values: Values = Default::default();
        let key = CustomerKey::for_tests("c1");
        let p = Personal { phone: "+14155550123".into(), email: Some("ann@example.com".into()), allergies: vec!["nuts".into()], ..Default::default() };
        seal_into(&mut active, &mut values, &p, &key, &Indexes(Key::generate()));
        let mut row = personal_fixture();
        (row.phone, row.email, row.allergies) = (values.phone.unwrap(), values.email.unwrap(), values.allergies.unwrap());
        assert!(!row.phone.0.contains("4155550123") && !row.allergies.0.contains("nuts"));
        assert_eq!(active.key_id.unwrap(), Some("c1".into()));
        assert_eq!(open_with(&row, Some(&key)).unwrap(), p);
        assert!(matches!(open_with(&row, None), Err(DomainError::Erased { .. })));
    }

    #[test]
    fn only_changed_values_are_written() {
        let key = CustomerKey::for_tests("c1");
        let ix = Indexes(Key::generate());
        let before = Personal { phone: "+14155550123".into(), email: Some("ann@example.com".into()), ..Default::default() };
        let after = Personal { email: Some("ann@example.org".into()), ..before.clone() };
        let mut active: customer::ActiveModel = customer_fixture(chrono::Utc::now()).into();
        let mut values: Values = Default::default();
        seal_changed(&mut active, &mut values, &before, &after, &key, &ix, false);
        assert!(values.email.is_set() && active.email_index.is_set());
        assert!(!values.phone.is_set() && !active.phone_index.is_set() && !values.allergies.is_set() && !values.date_of_birth.is_set());
    }
}
