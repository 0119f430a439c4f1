//! Email: templates (minijinja, embedded at compile time, one folder per campaign with
//! `subject.txt`, `body.txt` and `body.html`) and delivery over SMTP with lettre's pooled
//! async transport. Every marketing email is multipart (text + HTML) and carries
//! `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::Environment;
use serde::Serialize;

use entity::entities::restaurant;
use entity::rules::content::{Part, Vars, render};

use crate::{Campaign, JobError, JobsConfig};

/// Templates, by name, compiled into the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("footer.txt", include_str!("../templates/footer.txt")),
    ("birthday/subject.txt", include_str!("../templates/birthday/subject.txt")),
    ("birthday/body.txt", include_str!("../templates/birthday/body.txt")),
    ("birthday/body.html", include_str!("../templates/birthday/body.html")),
    ("anniversary/subject.txt", include_str!("../templates/anniversary/subject.txt")),
    ("anniversary/body.txt", include_str!("../templates/anniversary/body.txt")),
    ("anniversary/body.html", include_str!("../templates/anniversary/body.html")),
    ("win-back/subject.txt", include_str!("../templates/win-back/subject.txt")),
    ("win-back/body.txt", include_str!("../templates/win-back/body.txt")),
    ("win-back/body.html", include_str!("../templates/win-back/body.html")),
];

/// What the templates can use.
#[derive(Debug, Clone, Serialize)]
pub struct EmailContext {
    pub first_name: String,
    pub name: String,
    pub restaurant: String,
    /// Display name of the tier, e.g. `Gold`.
    pub tier: String,
    pub discount_percent: u8,
    pub points: i64,
    /// Age or years married on the occasion, when known.
    pub years: Option<i32>,
    pub unsubscribe_url: String,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders the campaign templates.
#[derive(Clone)]
pub struct Templates {
    env: Arc<Environment<'static>>,
}

impl Templates {
    /// Loads the embedded templates.
    pub fn new() -> Result<Self, JobError> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env: Arc::new(env) })
    }

    /// Renders `campaign` for one customer.
    pub fn render(&self, campaign: Campaign, ctx: &EmailContext) -> Result<Rendered, JobError> {
        let render = |part: &str| self.env.get_template(&format!("{}/{part}", campaign.name()))?.render(minijinja::value::Serde(ctx));
        Ok(Rendered {
            subject: render("subject.txt")?.trim().to_string(),
            text: render("body.txt")?,
            html: render("body.html")?,
        })
    }
}

/// Renders marketer-written content ([`entity::rules::content`]) for one member.
pub fn render_content(subject: &str, text: &str, html: &str, vars: &Vars) -> Result<Rendered, String> {
    Ok(Rendered { subject: render(Part::Subject, subject, vars)?, text: render(Part::Text, text, vars)?, html: render(Part::Html, html, vars)? })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Adds the footer every marketing email carries whatever its template says: why the member
/// gets it and the unsubscribe link (text and HTML; in the HTML before `</body>` when there is
/// one).
pub fn with_footer(mut email: Rendered, restaurant: &str, unsubscribe_url: &str) -> Rendered {
    email.text = format!(
        "{}\n\n--\nYou receive this email because you joined the {restaurant} loyalty program.\nUnsubscribe from marketing emails: {unsubscribe_url}\n",
        email.text.trim_end()
    );
    let footer = format!(
        "<p style=\"font-size: 12px; color: #777; margin-top: 32px;\">You receive this email because you joined the {} loyalty program. \
         <a href=\"{}\">Unsubscribe</a> from marketing emails at any time.</p>",
        escape(restaurant),
        escape(unsubscribe_url)
    );
    email.html = match email.html.to_ascii_lowercase().rfind("</body>") {
        Some(at) => format!("{}{footer}{}", &email.html[..at], &email.html[at..]),
        None => format!("{}\n{footer}", email.html),
    };
    email
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
}

impl SendError {
    /// Whether trying again later may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::NotConfigured | SendError::Smtp(_) | SendError::Timeout(_))
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

/// Sends emails; without an SMTP URL it sends nothing and deliveries stay pending.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    timeout: Duration,
    pub templates: Templates,
}

impl Mailer {
    /// Builds the transport from `config.smtp_url` (`smtp://host:port`, `smtps://…`,
    /// `smtp://…?tls=required`).
    pub fn new(config: &JobsConfig) -> Result<Self, JobError> {
        let transport = match config.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| JobError::Config(format!("SMTP_URL: {e}")))?
                    .timeout(Some(Duration::from_secs(config.send_timeout_secs)))
                    .build(),
            ),
        };
        Ok(Self { transport, timeout: Duration::from_secs(config.send_timeout_secs), templates: Templates::new()? })
    }

    /// Whether an SMTP server is configured.
    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Builds the campaign email for one recipient.
    pub fn build(&self, sender: &Sender, to: &str, to_name: &str, email: &Rendered, unsubscribe_url: &str, message_id: &str) -> Result<Message, SendError> {
        self.build_with(sender, to, to_name, email, unsubscribe_url, message_id, false)
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
        let to: Mailbox = format!("{} <{to}>", to_name.replace(['<', '>', '"'], ""))
            .parse()
            .or_else(|_| to.parse())
            .map_err(|e| SendError::Address(format!("{to}: {e}")))?;
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

    fn ctx() -> EmailContext {
        EmailContext {
            first_name: "Ann".into(),
            name: "Ann <Lee>".into(),
            restaurant: "Chez Test".into(),
            tier: "Gold".into(),
            discount_percent: 10,
            points: 1234,
            years: Some(10),
            unsubscribe_url: "http://x/unsubscribe?token=t&a=b".into(),
        }
    }

    #[test]
    fn every_campaign_renders_both_parts() {
        let t = Templates::new().unwrap();
        for campaign in Campaign::ALL {
            let r = t.render(campaign, &ctx()).unwrap();
            assert!(r.subject.contains("Ann"), "{campaign:?}: {}", r.subject);
            assert!(r.text.contains("http://x/unsubscribe?token=t&a=b"), "{campaign:?} text has the raw link");
            assert!(r.html.contains("unsubscribe?token=t&amp;a=b"), "{campaign:?} html escapes the link");
            assert!(r.html.contains("<html"), "{campaign:?} html uses the layout");
        }
    }

    #[test]
    fn discounts_follow_the_tier() {
        let t = Templates::new().unwrap();
        let r = t.render(Campaign::Birthday, &ctx()).unwrap();
        assert!(r.text.contains("10% off"));
        let bronze = EmailContext { discount_percent: 0, tier: "Bronze".into(), ..ctx() };
        let r = t.render(Campaign::Birthday, &bronze).unwrap();
        assert!(!r.text.contains("% off"));
        assert!(r.text.contains("dessert is on the house"));
    }
}
