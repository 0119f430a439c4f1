//! Email: the staff digest, building messages (a member's email is set in [`crate::layout`])
//! and delivery over SMTP with lettre's pooled
//! async transport. Every marketing email is multipart (text + HTML) and carries
//! `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).

use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::OnceLock;

use minijinja::{Environment, context};

use entity::entities::{Locale, restaurant};

use crate::{JobError, JobsConfig};

pub use crate::layout::Rendered;

/// The staff digest's templates (staff-facing: no footer, no unsubscribe); `day` writes a
/// `YYYY-MM-DD` date the restaurant's way (its `locale` in the context).
fn digest_env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_filter("day", |state: &minijinja::State, day: String| {
            let locale = state.lookup("locale").and_then(|l| l.as_str().and_then(Locale::parse)).unwrap_or_default();
            day.parse::<chrono::NaiveDate>().map_or(day.clone(), |d| locale.date(d))
        });
        env.add_template("subject.txt", include_str!("../templates/staff-digest/subject.txt")).expect("digest subject compiles");
        env.add_template("body.txt", include_str!("../templates/staff-digest/body.txt")).expect("digest text compiles");
        env.add_template("body.html", include_str!("../templates/staff-digest/body.html")).expect("digest html compiles");
        env
    })
}

/// The staff digest of `restaurant` for `today` listing `guests`, in the restaurant's locale.
pub fn digest(restaurant: &restaurant::Model, today: chrono::NaiveDate, guests: &[entity::ops::digest::Guest]) -> Result<Rendered, String> {
    let env = digest_env();
    let people = entity::ops::digest::people(guests);
    let ctx = context! {
        restaurant => &restaurant.name, today => today.to_string(), people => people, guests => minijinja::value::Serde(guests),
        locale => restaurant.locale.tag(), favourites => restaurant.locale.spell("Favourites"),
    };
    let render = |name: &str| env.get_template(name).and_then(|t| t.render(&ctx)).map_err(|e| e.to_string());
    Ok(Rendered { subject: render("subject.txt")?.trim().to_string(), text: render("body.txt")?, html: render("body.html")? })
}

/// `List-Unsubscribe: <url>`.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

/// `X-Loyalty-Test: yes` on test emails (not deliveries, not counted).
#[derive(Clone)]
struct TestMarker;

impl Header for TestMarker {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Loyalty-Test")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "yes".to_string())
    }
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no SMTP server configured (set SMTP_URL)")]
    NotConfigured,
    #[error("invalid address: {0}")]
    Address(String),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("SMTP send timed out after {0} s")]
    Timeout(u64),
    /// The email's data (e.g. its voucher) could not be read or written.
    #[error("database: {0}")]
    Data(String),
}

impl SendError {
    /// Whether trying again later may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::NotConfigured | SendError::Smtp(_) | SendError::Timeout(_) | SendError::Data(_))
    }
}

/// Who a restaurant's emails come from.
#[derive(Debug, Clone)]
pub struct Sender {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
}

impl Sender {
    /// The restaurant's sender name and addresses.
    pub fn of(r: &restaurant::Model) -> Result<Self, SendError> {
        let address = |a: &str| a.parse().map_err(|e| SendError::Address(format!("{a}: {e}")));
        Ok(Self {
            from: Mailbox::new(Some(r.sender_name.clone()), address(&r.mail_from)?),
            reply_to: r.reply_to.as_deref().map(|a| address(a).map(|addr| Mailbox::new(Some(r.sender_name.clone()), addr))).transpose()?,
        })
    }
}

/// Refuses an SMTP URL that would send a password in clear to another machine: credentials
/// need `smtps://` or `?tls=required` unless the server is on loopback or `allow_plain` says so.
pub fn check_smtp_url(url: &str, allow_plain: bool) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else { return Err("SMTP_URL must look like smtp://host:port or smtps://user:pass@host".into()) };
    let (authority, query) = rest.split_once('?').map_or((rest, ""), |(a, q)| (a, q));
    let authority = authority.split('/').next().unwrap_or_default();
    let (credentials, host_port) = authority.rsplit_once('@').map_or((None, authority), |(c, h)| (Some(c), h));
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    let tls = scheme.eq_ignore_ascii_case("smtps") || query.split('&').any(|p| p.eq_ignore_ascii_case("tls=required"));
    let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if credentials.is_some_and(|c| !c.is_empty()) && !tls && !loopback && !allow_plain {
        return Err(format!(
            "SMTP_URL would send the password to {host} without TLS: use smtps://… or smtp://…?tls=required \
             (or set LOYALTY_ALLOW_PLAIN_SMTP=true if that network is trusted)"
        ));
    }
    Ok(())
}

/// Sends emails; without an SMTP URL it sends nothing and deliveries stay pending.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    timeout: Duration,
}

impl Mailer {
    /// Builds the transport from `config.smtp_url` (`smtp://host:port`, `smtps://…`,
    /// `smtp://…?tls=required`).
    pub fn new(config: &JobsConfig) -> Result<Self, JobError> {
        let transport = match config.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => Some({
                check_smtp_url(url, config.allow_plain_smtp).map_err(JobError::Config)?;
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| JobError::Config(format!("SMTP_URL: {e}")))?
                    .timeout(Some(Duration::from_secs(config.send_timeout_secs)))
                    .build()
            }),
        };
        Ok(Self { transport, timeout: Duration::from_secs(config.send_timeout_secs) })
    }

    /// Whether an SMTP server is configured.
    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Builds the campaign email for one recipient.
    pub fn build(&self, sender: &Sender, to: &str, to_name: &str, email: &Rendered, unsubscribe_url: &str, message_id: &str) -> Result<Message, SendError> {
        self.build_with(sender, to, to_name, email, unsubscribe_url, message_id, false)
    }

    /// Builds a message to staff (the digest): no unsubscribe headers.
    pub fn build_notice(&self, sender: &Sender, to: &str, email: &Rendered, message_id: &str) -> Result<Message, SendError> {
        let to: Mailbox = to.parse().map_err(|e| SendError::Address(format!("{to}: {e}")))?;
        Message::builder()
            .from(sender.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(message_id.to_string()))
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .map_err(|e| SendError::Build(e.to_string()))
    }

    /// Builds a test email: the subject starts with `[Test]` and it carries `X-Loyalty-Test`.
    pub fn build_test(&self, sender: &Sender, to: &str, email: &Rendered, unsubscribe_url: &str, message_id: &str) -> Result<Message, SendError> {
        let email = Rendered { subject: format!("[Test] {}", email.subject), ..email.clone() };
        self.build_with(sender, to, "", &email, unsubscribe_url, message_id, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn build_with(
        &self,
        sender: &Sender,
        to: &str,
        to_name: &str,
        email: &Rendered,
        unsubscribe_url: &str,
        message_id: &str,
        test: bool,
    ) -> Result<Message, SendError> {
        let to: Mailbox =
            format!("{} <{to}>", to_name.replace(['<', '>', '"'], "")).parse().or_else(|_| to.parse()).map_err(|e| SendError::Address(format!("{to}: {e}")))?;
        let mut builder = Message::builder().from(sender.from.clone());
        if let Some(reply_to) = &sender.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if test {
            builder = builder.header(TestMarker);
        }
        builder
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(message_id.to_string()))
            .header(ListUnsubscribe(format!("<{unsubscribe_url}>")))
            .header(ListUnsubscribePost)
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .map_err(|e| SendError::Build(e.to_string()))
    }

    /// Sends one message, bounded by the configured timeout (lettre's own covers only
    /// connecting). A pooled connection the server closed fails once and is retried at once.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let transport = self.transport.as_ref().ok_or(SendError::NotConfigured)?;
        let mut last = None;
        for _ in 0..2 {
            match tokio::time::timeout(self.timeout, transport.send(message.clone())).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) if e.is_permanent() => return Err(SendError::Address(e.to_string())),
                Ok(Err(e)) => last = Some(SendError::Smtp(e.to_string())),
                Err(_) => last = Some(SendError::Timeout(self.timeout.as_secs())),
            }
        }
        Err(last.unwrap_or(SendError::NotConfigured))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_travel_in_clear_to_another_machine() {
        assert!(check_smtp_url("smtp://user:secret@mail.example.com:587", false).unwrap_err().contains("without TLS"));
        assert!(check_smtp_url("smtp://user:secret@mail.example.com:587?tls=required", false).is_ok());
        assert!(check_smtp_url("smtps://user:secret@mail.example.com", false).is_ok());
        assert!(check_smtp_url("smtp://user:secret@127.0.0.1:2525", false).is_ok(), "loopback");
        assert!(check_smtp_url("smtp://user:secret@[::1]:2525", false).is_ok(), "loopback v6");
        assert!(check_smtp_url("smtp://user:secret@localhost:25", false).is_ok());
        assert!(check_smtp_url("smtp://relay.internal:25", false).is_ok(), "no credentials");
        assert!(check_smtp_url("smtp://user:secret@mail.example.com:587", true).is_ok(), "allowed explicitly");
        assert!(check_smtp_url("mail.example.com", false).is_err());
    }
}
