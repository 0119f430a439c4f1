//! One-click unsubscribe links: `{base}/unsubscribe?token=ID.SIGNATURE` (in a delivery's email
//! `?d=DELIVERY&token=…`, so its campaign counts the unsubscribe), where the base is the
//! restaurant's public URL (or the service's) and the signature an HMAC-SHA256 of the customer
//! id under the deployment's secret. A forged or altered token is refused. Opting out
//! (`entity::ops::privacy::unsubscribe`) turns `emailOptIn` off at once; no login needed. A
//! test email's link (`?test=CAMPAIGN.SIGNATURE`) is signed too and works, but unsubscribes no
//! one: its page says so.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Makes and checks unsubscribe links.
#[derive(Clone)]
pub struct Links {
    secret: Vec<u8>,
}

impl Links {
    /// Links signed with `secret`.
    pub fn new(secret: &str) -> Self {
        Self { secret: secret.as_bytes().to_vec() }
    }

    fn signature(&self, customer_id: i64) -> String {
        self.sign(&format!("unsubscribe:v1:{customer_id}"))
    }

    fn sign(&self, what: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(what.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The link in a test email of campaign `campaign_id`: a working page that unsubscribes no one.
    pub fn test_url(&self, base: &str, campaign_id: i64) -> String {
        format!("{}/unsubscribe?test={campaign_id}.{}", base.trim_end_matches('/'), self.sign(&format!("unsubscribe-test:v1:{campaign_id}")))
    }

    /// The campaign a test email's token was made for, if it is genuine.
    pub fn verify_test(&self, token: &str) -> Option<i64> {
        let (id, sig) = token.trim().split_once('.')?;
        let id: i64 = id.parse().ok()?;
        same(&self.sign(&format!("unsubscribe-test:v1:{id}")), sig).then_some(id)
    }

    /// The token for a customer.
    pub fn token(&self, customer_id: i64) -> String {
        format!("{customer_id}.{}", self.signature(customer_id))
    }

    /// The link for a customer, under `base` (e.g. `https://loyalty.example.com`).
    pub fn url(&self, base: &str, customer_id: i64) -> String {
        format!("{}/unsubscribe?token={}", base.trim_end_matches('/'), self.token(customer_id))
    }

    /// The link in one delivery's email: also names the delivery, so the campaign's report
    /// counts the unsubscribe (the delivery id is not signed: it only attributes, and only to
    /// the customer's own deliveries).
    pub fn url_for_delivery(&self, base: &str, customer_id: i64, delivery_id: i64) -> String {
        format!("{}/unsubscribe?d={delivery_id}&token={}", base.trim_end_matches('/'), self.token(customer_id))
    }

    /// The customer a token was made for, if it is genuine.
    pub fn verify(&self, token: &str) -> Option<i64> {
        let (id, sig) = token.trim().split_once('.')?;
        let id: i64 = id.parse().ok()?;
        same(&self.signature(id), sig).then_some(id)
    }
}

/// Whether two signatures are equal, in time independent of where they differ.
fn same(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genuine_tokens_verify_and_forged_ones_do_not() {
        let links = Links::new("secret");
        let token = links.token(42);
        assert_eq!(links.verify(&token), Some(42));
        assert_eq!(links.url("http://x/", 42), format!("http://x/unsubscribe?token={token}"));
        let sig = token.split_once('.').unwrap().1;
        assert_eq!(links.verify(&format!("43.{sig}")), None, "another id");
        assert_eq!(links.verify("42.deadbeef"), None);
        assert_eq!(links.verify("garbage"), None);
        assert_eq!(Links::new("other").verify(&token), None, "another secret");
        let test = links.test_url("http://x", 7);
        let test_token = test.split_once("?test=").unwrap().1;
        assert_eq!(links.verify_test(test_token), Some(7));
        assert_eq!(links.verify(test_token), None, "a test token unsubscribes no member");
        assert_eq!(links.verify_test(&token), None, "a member's token is no test token");
    }
}
