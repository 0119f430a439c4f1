//! Campaign content: the subject, text body and HTML body a marketer writes, as minijinja
//! templates over a small set of variables ([`VARIABLES`]). Rendering is sandboxed: no loader
//! (so no file access, `include` or `extends`), strict undefined variables, bounded work (fuel)
//! and output; HTML bodies escape every variable. [`check`] refuses, on save, a template that
//! does not compile, names an unknown variable or fails on a sample member, naming the line.
//! The unsubscribe footer is added by the mailer whatever the template says.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::entities::customer;
use crate::rules::programme::Programme;
use crate::rules::tier;
use crate::{DomainError, DomainResult};

/// The variables a template may use, with what they hold.
pub const VARIABLES: &[(&str, &str)] = &[
    ("first_name", "the member's first name"),
    ("name", "the member's full name"),
    ("tier", "the member's tier, e.g. Gold"),
    ("points", "the member's current points"),
    ("next_tier", "the tier after the member's (empty at the top)"),
    ("points_to_next_tier", "lifetime points still needed for the next tier (0 at the top)"),
    ("referral_code", "the member's referral code"),
    ("restaurant", "the restaurant's name"),
    ("offer", "the campaign's offer text (empty when it has none)"),
    ("discount_percent", "the member's tier discount on occasion offers, in percent (restaurant setting)"),
    ("years", "birthday and anniversary emails: age or years married on the day (0 when unknown)"),
    ("voucher_code", "birthday, anniversary and win-back emails: the code of the member's voucher (empty when none)"),
    ("voucher_percent", "the voucher's percentage off (0 when none)"),
    ("voucher_expires", "the voucher's last day in the restaurant's locale, e.g. Wednesday 6 January 2027 (empty when none)"),
    ("expiring_points", "points-expiry warnings: the points that will expire (0 otherwise)"),
    ("expires_on", "points-expiry warnings: the day they expire, in the restaurant's locale (empty otherwise)"),
    ("occasion", "custom occasion emails: the occasion's name, e.g. Graduation (empty otherwise)"),
    ("occasion_date", "occasion emails: the day it is celebrated, in the restaurant's locale (empty otherwise)"),
    ("days_until_occasion", "occasion emails: days from the sending day to the occasion (0: it is today)"),
    ("referral_bonus", "points the member earns for each friend who joins with their code (restaurant setting)"),
    ("follow_up_days", "days after a first visit the second welcome email goes out (restaurant setting)"),
    ("reward", "nearing-a-reward emails: the reward the member is close to (empty when it is a tier, and otherwise)"),
    ("points_to_reward", "nearing-a-reward emails: points the member still needs for it (0 otherwise)"),
    ("unsubscribe_url", "the member's one-click unsubscribe link (the footer carries it anyway)"),
    ("preferences_url", "the member's link to choose which emails they get (the footer carries it anyway)"),
    ("program", "\"program\" or \"programme\", as the restaurant's locale spells it"),
    ("locale", "the restaurant's locale, e.g. en-NZ; numbers print with its thousands separators (10,612)"),
];

/// Longest subject template, in bytes.
pub const MAX_SUBJECT: usize = 500;
/// Longest body template, in bytes.
pub const MAX_BODY: usize = 100_000;
/// Longest rendered part, in bytes.
pub const MAX_OUTPUT: usize = 256 * 1024;
/// Work one rendering may do (minijinja instructions).
pub const FUEL: u64 = 200_000;

/// What one member's email is rendered with.
#[derive(Debug, Clone, Serialize)]
pub struct Vars {
    pub first_name: String,
    pub name: String,
    pub tier: String,
    pub points: i64,
    pub next_tier: String,
    pub points_to_next_tier: i64,
    pub referral_code: String,
    pub restaurant: String,
    pub offer: String,
    pub discount_percent: u8,
    pub years: i32,
    pub voucher_code: String,
    pub voucher_percent: u8,
    pub voucher_expires: String,
    pub expiring_points: i64,
    pub expires_on: String,
    pub occasion: String,
    pub occasion_date: String,
    pub days_until_occasion: i64,
    pub referral_bonus: i64,
    pub follow_up_days: u32,
    pub reward: String,
    pub points_to_reward: i64,
    pub unsubscribe_url: String,
    pub preferences_url: String,
    pub program: String,
    pub locale: String,
}

impl Vars {
    /// The variables of member `c`'s email from `restaurant` (programme `p`) with `offer`.
    pub fn of(c: &customer::Model, p: &Programme, restaurant: &str, offer: Option<&str>, unsubscribe_url: &str) -> Self {
        Self {
            first_name: c.name.split_whitespace().next().unwrap_or(&c.name).to_string(),
            name: c.name.clone(),
            tier: tier::display_name(c.tier).to_string(),
            points: c.points_current,
            next_tier: tier::above(c.tier).map(|t| tier::display_name(t).to_string()).unwrap_or_default(),
            points_to_next_tier: tier::points_to_next_tier(c.points_lifetime).unwrap_or(0),
            referral_code: c.referral_code.clone(),
            restaurant: restaurant.to_string(),
            offer: offer.unwrap_or_default().to_string(),
            discount_percent: p.discount_percent(c.tier),
            years: 0,
            voucher_code: String::new(),
            voucher_percent: 0,
            voucher_expires: String::new(),
            expiring_points: 0,
            expires_on: String::new(),
            occasion: String::new(),
            occasion_date: String::new(),
            days_until_occasion: 0,
            referral_bonus: p.referral_bonus,
            follow_up_days: p.welcome_follow_up_days,
            reward: String::new(),
            points_to_reward: 0,
            unsubscribe_url: unsubscribe_url.to_string(),
            preferences_url: preferences_of(unsubscribe_url),
            program: p.locale.spell("programme").to_string(),
            locale: p.locale.tag().to_string(),
        }
    }

    /// A made-up member, for checking templates and for test emails.
    pub fn sample(restaurant: &str, offer: Option<&str>) -> Self {
        Self {
            first_name: "Alex".into(),
            name: "Alex Sample".into(),
            tier: "Gold".into(),
            points: 2_750,
            next_tier: "Platinum".into(),
            points_to_next_tier: 2_250,
            referral_code: "ALEX2750".into(),
            restaurant: restaurant.to_string(),
            offer: offer.unwrap_or_default().to_string(),
            discount_percent: 10,
            years: 30,
            voucher_code: "SAMPL-E1234".into(),
            voucher_percent: 10,
            voucher_expires: "2030-12-31".into(),
            expiring_points: 2_750,
            expires_on: "2030-12-31".into(),
            occasion: "Graduation".into(),
            occasion_date: "2030-06-15".into(),
            days_until_occasion: 3,
            referral_bonus: 100,
            follow_up_days: 14,
            reward: "Free dessert".into(),
            points_to_reward: 120,
            unsubscribe_url: "https://example.com/unsubscribe".into(),
            preferences_url: "https://example.com/preferences".into(),
            program: "program".into(),
            locale: "en-US".into(),
        }
    }
}

/// The preferences link that goes with an unsubscribe link (same token, other page).
pub fn preferences_of(unsubscribe_url: &str) -> String {
    unsubscribe_url.replacen("/unsubscribe?", "/preferences?", 1)
}

/// Longest preheader (the line inboxes show after the subject), in characters.
pub const PREHEADER: usize = 110;

/// The preheader of an email whose text part is `text`: its first words after the greeting
/// ("Hi Ann,"), cut at a word.
pub fn preheader(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty()).peekable();
    if lines.peek().is_some_and(|l| l.ends_with(',') && l.split_whitespace().count() <= 4) {
        lines.next();
    }
    let words = lines.flat_map(str::split_whitespace);
    let mut out = String::new();
    for word in words {
        if out.chars().count() + word.chars().count() + 1 > PREHEADER {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// How emails print values: whole numbers the locale's way (10,612), text escaped by
/// [`escape_html`] in HTML (links keep their slashes), the rest as minijinja does.
pub fn email_formatter(out: &mut minijinja::Output, state: &mut minijinja::State, value: &minijinja::Value) -> Result<(), minijinja::Error> {
    if value.kind() == minijinja::value::ValueKind::Number
        && let Ok(n) = i64::try_from(value.clone())
    {
        let locale = state.lookup("locale").and_then(|l| l.as_str().and_then(crate::entities::Locale::parse)).unwrap_or_default();
        return out.write_str(&locale.number(n)).map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "output failed"));
    }
    if matches!(state.auto_escape(), AutoEscape::Html)
        && !value.is_safe()
        && let Some(text) = value.as_str()
    {
        return out.write_str(&escape_html(text)).map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "output failed"));
    }
    minijinja::escape_formatter(out, state, value)
}

/// `text` escaped for HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Which part of an email a template is: the kind decides escaping and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Subject,
    Text,
    Html,
}

fn environment(part: Part) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_formatter(email_formatter);
    let html = part == Part::Html;
    env.set_auto_escape_callback(move |_| if html { AutoEscape::Html } else { AutoEscape::None });
    env
}

fn located(e: &minijinja::Error) -> String {
    let detail = e.detail().map_or_else(|| e.kind().to_string(), str::to_string);
    match e.line() {
        Some(line) => format!("line {line}: {detail}"),
        None => detail,
    }
}

/// A campaign's three templates compiled once, for rendering many members' emails (compiling
/// costs more than rendering).
pub struct Compiled {
    env: Environment<'static>,
}

/// The rendered parts of one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    pub subject: String,
    pub text: String,
    pub html: String,
}

const PARTS: [(&str, Part); 3] = [("subject", Part::Subject), ("text", Part::Text), ("html", Part::Html)];

impl Compiled {
    /// Compiles the subject, text and HTML templates.
    pub fn new(subject: &str, text: &str, html: &str) -> Result<Self, String> {
        let mut env = environment(Part::Text);
        env.set_auto_escape_callback(|name| if name == "html" { AutoEscape::Html } else { AutoEscape::None });
        for ((name, _), source) in PARTS.iter().zip([subject, text, html]) {
            env.add_template_owned(*name, source.to_string()).map_err(|e| format!("{name}: {}", located(&e)))?;
        }
        Ok(Self { env })
    }

    /// One member's email.
    pub fn render(&self, vars: &Vars) -> Result<Parts, String> {
        let mut out = Vec::with_capacity(3);
        for (name, part) in PARTS {
            let text = self.env.get_template(name).and_then(|t| t.render(minijinja::value::Serde(vars))).map_err(|e| format!("{name}: {}", located(&e)))?;
            if text.len() > MAX_OUTPUT {
                return Err(format!("{name}: the rendered text is over {} KiB", MAX_OUTPUT / 1024));
            }
            out.push(if part == Part::Subject { text.split_whitespace().collect::<Vec<_>>().join(" ") } else { text });
        }
        let html = out.pop().unwrap_or_default();
        let text = out.pop().unwrap_or_default();
        let subject = out.pop().unwrap_or_default();
        Ok(Parts { subject, text, html })
    }
}

/// Renders `source` for one member; the error says what failed, and where.
pub fn render(part: Part, source: &str, vars: &Vars) -> Result<String, String> {
    let env = environment(part);
    let template = env.template_from_str(source).map_err(|e| located(&e))?;
    let out = template.render(minijinja::value::Serde(vars)).map_err(|e| located(&e))?;
    if out.len() > MAX_OUTPUT {
        return Err(format!("the rendered text is over {} KiB", MAX_OUTPUT / 1024));
    }
    Ok(match part {
        Part::Subject => out.split_whitespace().collect::<Vec<_>>().join(" "),
        Part::Text | Part::Html => out,
    })
}

/// Checks a template on save: size, syntax, only known variables, and a sample rendering.
/// Refusals are `VALIDATION` on `field`, with the line.
pub fn check(field: &str, part: Part, source: &str) -> DomainResult<()> {
    let max = if part == Part::Subject { MAX_SUBJECT } else { MAX_BODY };
    if source.len() > max {
        return Err(DomainError::validation(field, format!("must be at most {max} bytes")));
    }
    if source.trim().is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    let env = environment(part);
    let template = env.template_from_str(source).map_err(|e| DomainError::validation(field, located(&e)))?;
    let mut unknown: Vec<String> =
        template.undeclared_variables(false).into_iter().filter(|v| !VARIABLES.iter().any(|(k, _)| k == v) && env.globals().all(|(g, _)| g != v)).collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        let line = source.lines().position(|l| l.contains(name.as_str())).map_or(String::new(), |i| format!("line {}: ", i + 1));
        let known: Vec<&str> = VARIABLES.iter().map(|(k, _)| *k).collect();
        return Err(DomainError::validation(field, format!("{line}unknown variable `{name}`; the variables are {}", known.join(", "))));
    }
    render(part, source, &Vars::sample("Sample Bistro", Some("a free dessert"))).map(|_| ()).map_err(|e| DomainError::validation(field, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(part: Part, source: &str) -> String {
        match check("body", part, source) {
            Err(DomainError::Validation { message, .. }) => message,
            other => panic!("accepted {source:?}: {other:?}"),
        }
    }

    #[test]
    fn variables_render_and_html_is_escaped() {
        let mut vars = Vars::sample("Chez <Test>", None);
        vars.first_name = "Ann & Bo".into();
        assert_eq!(render(Part::Subject, "Hi {{ first_name }},\n  {{ tier }}!", &vars).unwrap(), "Hi Ann & Bo, Gold!");
        assert_eq!(render(Part::Html, "<p>{{ restaurant }}</p>", &vars).unwrap(), "<p>Chez &lt;Test&gt;</p>");
        assert_eq!(render(Part::Text, "{% if offer %}x{% else %}none{% endif %} {{ points_to_next_tier }}", &vars).unwrap(), "none 2,250");
        assert_eq!(render(Part::Text, "{% if points > 1000 %}{{ points }} {{ years }}{% endif %}", &vars).unwrap(), "2,750 30");
        check("subject", Part::Subject, "{{ first_name | upper }}, {{ points }} points").unwrap();
    }

    #[test]
    fn the_preheader_skips_the_greeting_and_stops_at_a_word() {
        assert_eq!(preheader("Hi Ann,\n\nYour table is\nwaiting."), "Your table is waiting.");
        let long = preheader(&"word ".repeat(60));
        assert!(long.ends_with("word…") && long.chars().count() <= PREHEADER + 1, "{long}");
    }

    #[test]
    fn broken_and_unknown_are_refused_with_the_line() {
        assert!(refused(Part::Text, "Hello\n{% if %}").starts_with("line 2:"), "{}", refused(Part::Text, "Hello\n{% if %}"));
        let unknown = refused(Part::Html, "<p>Hi</p>\n<p>{{ favourite_dish }}</p>");
        assert!(unknown.starts_with("line 2: unknown variable `favourite_dish`"), "{unknown}");
        assert!(refused(Part::Text, "{{ name | no_such_filter }}").contains("no_such_filter"));
        assert!(refused(Part::Text, "{% include \"/etc/passwd\" %}").contains("line 1"), "no file access");
        assert!(refused(Part::Text, "  ").contains("empty"));
        assert!(refused(Part::Subject, &"x".repeat(MAX_SUBJECT + 1)).contains("at most"));
    }

    #[test]
    fn compiled_templates_render_like_single_ones() {
        let vars = Vars::sample("Chez <Test>", Some("a <free> dessert"));
        let c = Compiled::new("{{ first_name }} at\n {{ restaurant }}", "{{ offer }}", "<p>{{ offer }}</p>").unwrap();
        let parts = c.render(&vars).unwrap();
        assert_eq!(parts.subject, render(Part::Subject, "{{ first_name }} at\n {{ restaurant }}", &vars).unwrap());
        assert_eq!((parts.text.as_str(), parts.html.as_str()), ("a <free> dessert", "<p>a &lt;free&gt; dessert</p>"));
        assert!(Compiled::new("{% if %}", "", "").err().unwrap().starts_with("subject: line 1"));
    }

    #[test]
    fn work_and_output_are_bounded() {
        let busy = "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}";
        assert!(render(Part::Text, busy, &Vars::sample("R", None)).is_err(), "out of fuel");
        let big = "{% for a in range(9000) %}{{ name }}{{ name }}{{ name }}{{ name }}{{ name }}{{ name }}{% endfor %}";
        assert!(render(Part::Text, big, &Vars::sample("R", None)).is_err(), "output bounded");
    }
}
