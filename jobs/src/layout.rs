//! The one layout every member email is set in, built-in kinds and marketers' campaigns alike:
//! the restaurant's logo (or name), a headline (the subject), the campaign's content, one
//! offer block (the voucher's code, what it gives and until when, or the campaign's offer),
//! a call-to-action button to book or order, and a footer with why the member gets it, the
//! restaurant's postal address and contacts, "Manage preferences" and "Unsubscribe". A
//! preheader, `color-scheme` and a dark-mode style; a 560 px column that narrows to a phone.
//! The text part says the same in the same order. A campaign whose HTML is a whole document
//! keeps its own frame and gets the footer before `</body>`.

use std::sync::OnceLock;

use minijinja::value::{Serde, Value};
use minijinja::{Environment, context};
use serde::Serialize;

use entity::entities::{Locale, restaurant};
use entity::rules::content::{Compiled, Parts, Vars, preheader};
use entity::rules::restaurant::text_on;

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a restaurant's emails look like: name, logo, colour, address and links.
#[derive(Debug, Clone, Serialize)]
pub struct Look {
    pub restaurant: String,
    pub lang: &'static str,
    pub logo_url: Option<String>,
    pub brand_color: String,
    /// Text colour readable on the brand colour.
    pub on_brand: &'static str,
    /// Postal address, one entry per line.
    pub address: Vec<String>,
    pub phone: Option<String>,
    pub website_url: Option<String>,
    /// The website without its scheme, as the footer shows it.
    pub website_label: String,
    /// The button: booking URL, else the website (no button without either).
    pub cta_url: Option<String>,
    pub cta_label: &'static str,
    /// Whether a voucher's code comes with its QR code.
    pub qr: bool,
    /// "program" or "programme".
    pub program: &'static str,
    #[serde(skip)]
    pub locale: Locale,
}

impl Look {
    /// The look of restaurant `r`'s emails.
    pub fn of(r: &restaurant::Model) -> Self {
        let cta_label = if r.booking_url.is_some() { "Book a table" } else { "Visit our website" };
        Self {
            restaurant: r.name.clone(),
            lang: r.locale.tag(),
            logo_url: r.logo_url.clone(),
            brand_color: r.brand_color.clone(),
            on_brand: text_on(&r.brand_color),
            address: r.postal_address.as_deref().unwrap_or_default().lines().map(String::from).collect(),
            phone: r.phone.clone(),
            website_label: r
                .website_url
                .as_deref()
                .map(|u| u.split_once("://").map_or(u, |(_, rest)| rest).trim_end_matches('/').to_string())
                .unwrap_or_default(),
            website_url: r.website_url.clone(),
            cta_url: r.booking_url.clone().or_else(|| r.website_url.clone()),
            cta_label,
            qr: r.voucher_qr_code,
            program: r.locale.spell("programme"),
            locale: r.locale,
        }
    }
}

/// The offer block: a voucher's code, what it gives and its last day, or a campaign's offer.
#[derive(Debug, Clone, Serialize)]
struct Offer {
    what: String,
    code: String,
    until: String,
}

/// The email's one offer, unless its content shows it already (a wording that writes the code
/// itself keeps it there, never twice).
fn offer_of(vars: &Vars, text: &str) -> Option<Offer> {
    if !vars.voucher_code.is_empty() {
        return (!text.contains(&vars.voucher_code)).then(|| Offer {
            what: format!("{}% off", vars.voucher_percent),
            code: vars.voucher_code.clone(),
            until: vars.voucher_expires.clone(),
        });
    }
    (!vars.offer.is_empty() && !text.contains(&vars.offer)).then(|| Offer { what: vars.offer.clone(), code: String::new(), until: String::new() })
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_formatter(entity::rules::content::email_formatter);
        env.add_template("layout.html", include_str!("../templates/email/layout.html")).expect("the layout compiles");
        env.add_template("footer.html", include_str!("../templates/email/footer.html")).expect("the footer compiles");
        env.add_template("layout.txt", include_str!("../templates/email/layout.txt")).expect("the text layout compiles");
        env
    })
}

/// One member's email from campaign content ([`entity::rules::content`]), set in the layout.
pub fn compose(subject: &str, text: &str, html: &str, vars: &Vars, look: &Look) -> Result<Rendered, String> {
    compose_with(&Compiled::new(subject, text, html)?, vars, look)
}

/// [`compose`] with templates compiled once (a delivery batch compiles each campaign once).
pub fn compose_with(compiled: &Compiled, vars: &Vars, look: &Look) -> Result<Rendered, String> {
    let Parts { subject, text, html } = compiled.render(vars)?;
    let env = templates();
    let render = |name: &str, ctx: Value| env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| e.to_string());
    let offer = offer_of(vars, &text);
    let qr = offer.as_ref().filter(|o| look.qr && !o.code.is_empty()).and_then(|o| crate::qr::html(&o.code)).unwrap_or_default();
    let links =
        context! { look => Value::from(Serde(look)), tier => &vars.tier, unsubscribe_url => &vars.unsubscribe_url, preferences_url => &vars.preferences_url };
    let footer = render("footer.html", links.clone())?;
    let lower = html.to_ascii_lowercase();
    let html = match lower.rfind("</body>") {
        Some(at) if lower.contains("<html") => format!("{}<div class=\"footer\">{footer}</div>{}", &html[..at], &html[at..]),
        _ => render(
            "layout.html",
            context! { subject => &subject, preheader => preheader(&text), content => Value::from_safe_string(html), offer => Value::from(Serde(&offer)), qr => Value::from_safe_string(qr), footer => Value::from_safe_string(footer), ..links.clone() },
        )?,
    };
    let text = render("layout.txt", context! { subject => &subject, content => text.trim(), offer => Value::from(Serde(&offer)), ..links })?;
    Ok(Rendered { subject, text, html })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look() -> Look {
        let r = restaurant::Model {
            name: "Chez Test".into(),
            booking_url: Some("https://chez.example/book".into()),
            website_url: Some("https://chez.example/".into()),
            phone: Some("+64 9 555 0100".into()),
            postal_address: Some("1 Quay Street\nAuckland 1010".into()),
            ..entity::testing::restaurant_fixture()
        };
        Look::of(&r)
    }

    fn vars() -> Vars {
        let mut v = Vars::sample("Chez Test", None);
        (v.voucher_code, v.voucher_percent, v.voucher_expires) = (String::new(), 0, String::new());
        v.unsubscribe_url = "http://x/unsubscribe?token=t&a=b".into();
        v
    }

    #[test]
    fn the_layout_carries_headline_button_footer_and_links() {
        let r = compose("Hi {{ first_name }}", "Hello {{ first_name }}", "<p>Hello {{ first_name }}</p>", &vars(), &look()).unwrap();
        for part in [
            "<h1 class=\"headline\"",
            "href=\"https://chez.example/book\"",
            "Book a table",
            "1 Quay Street<br>Auckland 1010",
            "unsubscribe?token=t&amp;a=b",
            "Manage preferences",
        ] {
            assert!(r.html.contains(part), "html lacks {part}: {}", r.html);
        }
        for part in [
            "Hi Alex\n\nHello Alex",
            "Book a table: https://chez.example/book",
            "1 Quay Street\nAuckland 1010",
            "Unsubscribe: http://x/unsubscribe?token=t&a=b",
        ] {
            assert!(r.text.contains(part), "text lacks {part}: {}", r.text);
        }
    }

    #[test]
    fn one_offer_block_unless_the_content_shows_the_code() {
        let mut v = vars();
        (v.voucher_code, v.voucher_percent, v.voucher_expires) = ("ABCDE-12345".into(), 15, "Wednesday 6 January 2027".into());
        let r = compose("Hi", "Hello", "<p>Hello</p>", &v, &look()).unwrap();
        assert_eq!(r.html.matches("class=\"code\"").count(), 1);
        assert!(r.text.contains("15% off\nShow this code when you pay: ABCDE-12345\nValid until Wednesday 6 January 2027"), "{}", r.text);
        let own = compose("Hi", "Your code: {{ voucher_code }}", "<p>Your code: {{ voucher_code }}</p>", &v, &look()).unwrap();
        assert_eq!(own.html.matches("class=\"code\"").count(), 0, "the content's own code, no second block");
    }

    #[test]
    fn every_builtin_campaign_passes_the_checks_and_renders_in_the_layout() {
        use entity::rules::content::Part;
        for campaign in crate::Campaign::ALL {
            let w = campaign.kind().wording;
            for (part, source) in [(Part::Subject, w.subject), (Part::Text, w.text), (Part::Html, w.html)] {
                entity::rules::content::check("body", part, source).unwrap_or_else(|e| panic!("{campaign:?}: {e}"));
            }
            let r = compose(w.subject, w.text, w.html, &vars(), &look()).unwrap();
            assert!(r.subject.contains("Alex"), "{campaign:?}: {}", r.subject);
            assert!(r.text.contains("http://x/unsubscribe?token=t&a=b"), "{campaign:?} text has the raw link");
            assert!(r.html.contains("unsubscribe?token=t&amp;a=b"), "{campaign:?} html escapes the link");
            assert!(r.html.contains("<h1 class=\"headline\"") && r.html.contains("class=\"cta\""), "{campaign:?} html uses the layout");
        }
    }

    #[test]
    fn a_whole_document_keeps_its_own_frame_and_still_gets_the_footer() {
        let r = compose("Hi", "Hi", "<html><body><p>Mine</p></body></html>", &vars(), &look()).unwrap();
        assert!(r.html.starts_with("<html><body><p>Mine</p><div class=\"footer\">"), "{}", r.html);
        assert!(r.html.ends_with("</body></html>"));
        assert!(r.html.contains("Unsubscribe</a>") && r.html.contains("Auckland 1010"));
    }
}
