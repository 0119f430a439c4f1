//! Webhooks: the events there are, what an endpoint may be, the retry schedule, and the
//! Standard Webhooks signature (`webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">`, secrets written `whsec_<base64>`), so receivers verify with that
//! specification's own libraries.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::entities::LedgerKind;
use crate::{DomainError, DomainResult};

/// Every event type an endpoint can receive.
pub const EVENTS: &[&str] = &[
    "customer.created",
    "customer.updated",
    "customer.erased",
    "consent.changed",
    "points.earned",
    "points.redeemed",
    "points.adjusted",
    "points.expired",
    "points.refunded",
    "tier.changed",
    "voucher.issued",
    "voucher.redeemed",
    "voucher.voided",
    "order.refunded",
    "order.voided",
    "campaign.sent",
];

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2000;
/// Endpoints per restaurant at most.
pub const MAX_ENDPOINTS: u64 = 20;

/// Waits before each retry (after the first attempt fails: 5 s, then 5 min, …): about three
/// days in all, then the delivery is failed for good.
pub const RETRY_AFTER: &[Duration] = &[
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(24 * 3600),
];

/// The event a ledger entry of `kind` reports (imports report none: they are not news).
pub fn event_of(kind: LedgerKind) -> Option<&'static str> {
    Some(match kind {
        LedgerKind::Earn | LedgerKind::ReferralBonus => "points.earned",
        LedgerKind::Redeem => "points.redeemed",
        LedgerKind::Adjust => "points.adjusted",
        LedgerKind::Expire => "points.expired",
        LedgerKind::Refund => "points.refunded",
        LedgerKind::Import => return None,
    })
}

/// Checks the event types an endpoint asks for (`*`: all of them); returns them as stored
/// (sorted, comma-separated).
pub fn check_events(events: &[String]) -> DomainResult<String> {
    let mut names: Vec<&str> = events.iter().map(|e| e.trim()).collect();
    if names.is_empty() {
        return Err(DomainError::validation("events", "name at least one event type, or \"*\" for all"));
    }
    if let Some(unknown) = names.iter().find(|e| **e != "*" && !EVENTS.contains(e)) {
        return Err(DomainError::validation("events", format!("\"{unknown}\" is not an event type; they are: {}", EVENTS.join(", "))));
    }
    if names.contains(&"*") {
        return Ok("*".into());
    }
    names.sort_unstable();
    names.dedup();
    Ok(names.join(","))
}

/// Whether an endpoint with stored `events` receives `event`.
pub fn receives(events: &str, event: &str) -> bool {
    events == "*" || events.split(',').any(|e| e == event)
}

/// Checks an endpoint URL: http or https, a host, no credentials in it; unless
/// `allow_private`, not a loopback, private or link-local address (the service must not be
/// made to call into its own network).
pub fn check_url(text: &str, allow_private: bool) -> DomainResult<url::Url> {
    let bad = |why: &str| DomainError::validation("url", why.to_string());
    if text.len() > MAX_URL_LEN {
        return Err(bad(&format!("must be at most {MAX_URL_LEN} characters")));
    }
    let url = url::Url::parse(text.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("must start with https:// (or http://)"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password; the signature authenticates the messages"));
    }
    let host = url.host().ok_or_else(|| bad("has no host"))?;
    if !allow_private {
        let private = match host {
            url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost"),
            url::Host::Ipv4(ip) => !is_public(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => !is_public(IpAddr::V6(ip)),
        };
        if private {
            return Err(bad("points into a private network; webhooks go to public addresses"));
        }
    }
    Ok(url)
}

/// Whether `ip` is a public address (not loopback, private, link-local, shared, unspecified
/// or multicast).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
            }
        },
    }
}

/// A secret as receivers are given it.
pub fn secret_text(secret: &[u8]) -> String {
    format!("whsec_{}", B64.encode(secret))
}

/// The signature of one message under `secret`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// When the next attempt is due after `attempts` failed ones, with `jitter` in [0, 1) spreading
/// it by up to ±10 %; `None` when no attempt is left.
pub fn retry_after(attempts: i32, jitter: f64) -> Option<Duration> {
    let wait = RETRY_AFTER.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    Some(wait.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (and of its reference libraries'
    /// tests): this secret, id, timestamp and body give this signature.
    #[test]
    fn signs_as_the_specification_does() {
        let secret = B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, r#"{"test": 2432232314}"#);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(secret_text(&secret), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }

    #[test]
    fn events_are_checked_and_stored_sorted() {
        assert_eq!(check_events(&["points.redeemed".into(), "customer.created".into(), "points.redeemed".into()]).unwrap(), "customer.created,points.redeemed");
        assert_eq!(check_events(&["*".into(), "points.earned".into()]).unwrap(), "*");
        assert!(check_events(&[]).is_err());
        assert!(check_events(&["points.stolen".into()]).unwrap_err().to_string().contains("points.stolen"));
        assert!(receives("customer.created,points.redeemed", "points.redeemed"));
        assert!(!receives("customer.created,points.redeemed", "points.earned"));
        assert!(receives("*", "points.earned"));
    }

    #[test]
    fn urls_must_be_public_http() {
        assert!(check_url("https://hooks.example.com/loyalty", false).is_ok());
        for bad in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
            "http://127.0.0.1:9000/",
            "http://localhost/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[::ffff:192.168.0.1]/",
            "http://100.64.0.1/",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/", true).is_ok(), "allowed where configured (tests, private deployments)");
    }

    #[test]
    fn retries_back_off_then_stop() {
        assert_eq!(retry_after(0, 0.5), None);
        assert_eq!(retry_after(1, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(2, 0.0), Some(Duration::from_secs(270)));
        assert_eq!(retry_after(2, 1.0), Some(Duration::from_secs(330)));
        let total: Duration = RETRY_AFTER.iter().sum();
        assert!(total > Duration::from_secs(3 * 24 * 3600) && total < Duration::from_secs(4 * 24 * 3600), "{total:?}");
        assert_eq!(retry_after(RETRY_AFTER.len() as i32 + 1, 0.5), None);
    }
}
