//! One-click unsubscribe links: `{public_url}/unsubscribe?token=ID.SIGNATURE`, where the
//! signature is an HMAC-SHA256 of the customer id under the service's secret. A forged or
//! altered token is refused. Opting out turns `emailOptIn` off at once; no login needed.

use entity::entities::{customer, service_setting};
use hmac::{Hmac, Mac};
use rand::RngExt;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait};
use sha2::Sha256;

use crate::JobError;

const SECRET_KEY: &str = "unsubscribe_secret";

/// Makes and checks unsubscribe links.
#[derive(Clone)]
pub struct Links {
    base: String,
    secret: Vec<u8>,
}

impl Links {
    /// Links under `public_url`, signed with `secret`.
    pub fn new(public_url: &str, secret: &str) -> Self {
        Self { base: public_url.trim_end_matches('/').to_string(), secret: secret.as_bytes().to_vec() }
    }

    fn signature(&self, customer_id: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(format!("unsubscribe:v1:{customer_id}").as_bytes());
        mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// The token for a customer.
    pub fn token(&self, customer_id: i64) -> String {
        format!("{customer_id}.{}", self.signature(customer_id))
    }

    /// The link for a customer.
    pub fn url(&self, customer_id: i64) -> String {
        format!("{}/unsubscribe?token={}", self.base, self.token(customer_id))
    }

    /// The customer a token was made for, if it is genuine.
    pub fn verify(&self, token: &str) -> Option<i64> {
        let (id, sig) = token.trim().split_once('.')?;
        let id: i64 = id.parse().ok()?;
        let expected = self.signature(id);
        (expected.len() == sig.len() && expected.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0).then_some(id)
    }
}

/// The secret stored in the database, created on first use.
pub async fn stored_secret(db: &impl ConnectionTrait) -> Result<String, JobError> {
    let fresh: String = {
        let mut rng = rand::rng();
        (0..32).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
    };
    service_setting::Entity::insert(service_setting::ActiveModel { key: Set(SECRET_KEY.into()), value: Set(fresh) })
        .on_conflict(OnConflict::column(service_setting::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let row = service_setting::Entity::find_by_id(SECRET_KEY.to_string())
        .one(db)
        .await?
        .ok_or_else(|| JobError::Config("unsubscribe secret missing".into()))?;
    Ok(row.value)
}

/// Turns email marketing off for the customer; returns their email address (if any) for the
/// confirmation page, or `None` if the customer no longer exists.
pub async fn opt_out<D: ConnectionTrait + TransactionTrait>(db: &D, customer_id: i64) -> Result<Option<Option<String>>, JobError> {
    let txn = entity::ops::begin_write(db).await?;
    let Some(c) = customer::Entity::find_by_id(customer_id).one(&txn).await? else { return Ok(None) };
    if c.email_opt_in {
        let scope = entity::Scope::new(c.restaurant_id.clone(), "customer");
        let details = serde_json::json!({ "flag": "emailOptIn", "from": true, "to": false, "source": "unsubscribe-link" });
        entity::ops::audit::record(&txn, &scope, "consent.changed", Some(c.id), details).await?;
        customer::Entity::update_many()
            .col_expr(customer::Column::EmailOptIn, Expr::value(false))
            .col_expr(customer::Column::UpdatedAt, Expr::value(entity::ops::now()))
            .filter(customer::Column::Id.eq(customer_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(customer_id, "customer unsubscribed from email");
    Ok(Some(c.email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genuine_tokens_verify_and_forged_ones_do_not() {
        let links = Links::new("http://x/", "secret");
        let token = links.token(42);
        assert_eq!(links.verify(&token), Some(42));
        assert_eq!(links.url(42), format!("http://x/unsubscribe?token={token}"));
        let sig = token.split_once('.').unwrap().1;
        assert_eq!(links.verify(&format!("43.{sig}")), None, "another id");
        assert_eq!(links.verify("42.deadbeef"), None);
        assert_eq!(links.verify("garbage"), None);
        assert_eq!(Links::new("http://x", "other").verify(&token), None, "another secret");
    }
}
