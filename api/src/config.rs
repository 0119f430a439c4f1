//! The service's configuration: one typed struct, read from flags and environment variables.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};
use entity::Policy;
use entity::entities::restaurant;
use entity::rules::contact::{RegionId, parse_region};
use entity::rules::programme::Programme;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// A locale tag such as `en-NZ`.
fn parse_locale(tag: &str) -> Result<entity::entities::Locale, String> {
    entity::entities::Locale::parse(tag).ok_or_else(|| format!("{tag:?} is not one of en-US, en-GB, en-IE, en-AU, en-NZ, en-CA"))
}

/// Everything the service can be told; every flag has an environment variable.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://loyalty.db?mode=rwc", global = true)]
    pub database_url: String,

    /// The master key that wraps the keys of personal data: 64 hex digits or base64 of 32
    /// bytes. Never stored in the database. Unset (and no key file), the embedded SQLite
    /// database uses the file `<database>.master-key`, created on first start.
    #[arg(long, env = "LOYALTY_MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<String>,

    /// A file holding the master key (instead of `LOYALTY_MASTER_KEY`).
    #[arg(long, env = "LOYALTY_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<std::path::PathBuf>,

    /// The key store's database (customer and restaurant keys). Default: the file
    /// `<database>.keys` beside a SQLite database, the same database on PostgreSQL. Kept apart
    /// from the data, backups of the data carry no key that an erasure destroys.
    #[arg(long, env = "LOYALTY_KEYSTORE_URL", global = true)]
    pub keystore_url: Option<String>,

    /// Address the HTTP server listens on.
    #[arg(long, env = "LOYALTY_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,

    /// Restaurant of the first admin key (created on the first start) and of `demo-data`;
    /// requests act for the restaurant of their API key.
    #[arg(long, env = "LOYALTY_RESTAURANT", default_value = "default", global = true)]
    pub restaurant: String,

    /// Secret of the login service whose signed tokens (JWT, HS256) are accepted besides API
    /// keys; unset, only API keys are.
    #[arg(long, env = "LOYALTY_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Required `iss` claim of signed tokens, when set.
    #[arg(long, env = "LOYALTY_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// Seconds a checked API key is remembered (saves a database query per request); a key
    /// revoked with the CLI stops working after at most this long, one revoked through GraphQL
    /// at once. 0 checks every request against the database.
    #[arg(long, env = "LOYALTY_KEY_CACHE_SECS", default_value_t = 5, global = true)]
    pub key_cache_secs: u64,

    /// Seconds the whole-programme figures of `loyaltyStats` (tier and status distribution,
    /// summary) are reused per restaurant; each aggregates every customer row. Up to twice
    /// this old they are still answered while a background query refreshes them. 0 computes
    /// them on every request.
    #[arg(long, env = "LOYALTY_STATS_CACHE_SECS", default_value_t = 30, global = true)]
    pub stats_cache_secs: u64,

    /// Yearly discount rate, in percent, of a member's predicted 12-month value.
    #[arg(long, env = "LOYALTY_VALUE_DISCOUNT_PERCENT", default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=100), global = true)]
    pub value_discount_percent: u8,

    /// How many days back a live order may say it happened (`recordOrder(occurredAt)`); older
    /// orders are imported.
    #[arg(long, env = "LOYALTY_LATE_ORDER_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650), global = true)]
    pub late_order_days: u32,

    /// Requests per second per API key (bursts up to twice that); 0 turns the limit off.
    #[arg(long, env = "LOYALTY_RATE_LIMIT", default_value_t = 100, global = true)]
    pub rate_limit: u32,

    /// Region (ISO 3166 code) for phone numbers written without `+country`.
    #[arg(long, env = "LOYALTY_PHONE_REGION", default_value = "US", value_parser = parse_phone_region, global = true)]
    pub phone_region: RegionId,

    /// Log format.
    #[arg(long, env = "LOYALTY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Database connections in the pool (default: twice the CPU cores).
    #[arg(long, env = "LOYALTY_DB_POOL", global = true)]
    pub db_pool: Option<u32>,

    /// Points earned per whole dollar of an order (default for new restaurants).
    #[arg(long, env = "LOYALTY_POINTS_PER_DOLLAR", default_value_t = 1, value_parser = clap::value_parser!(i64).range(0..=1000), global = true)]
    pub points_per_dollar: i64,

    /// Points a member earns when someone joins with their referral code (default for new
    /// restaurants).
    #[arg(long, env = "LOYALTY_REFERRAL_BONUS", default_value_t = 100, value_parser = clap::value_parser!(i64).range(0..=100_000), global = true)]
    pub referral_bonus: i64,

    /// Largest page size of list queries.
    #[arg(long, env = "LOYALTY_MAX_PAGE_SIZE", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    pub max_page_size: u64,

    /// Deepest GraphQL query accepted.
    #[arg(long, env = "LOYALTY_MAX_QUERY_DEPTH", default_value_t = 12, global = true)]
    pub max_query_depth: usize,

    /// Highest GraphQL query complexity accepted.
    #[arg(long, env = "LOYALTY_MAX_QUERY_COMPLEXITY", default_value_t = 5_000, global = true)]
    pub max_query_complexity: usize,

    /// Origins browser frontends may call the API from (CORS), comma-separated, e.g.
    /// `https://pos.example.com,https://app.example.com`; `*` allows any origin. None by default.
    /// Credentials (cookies) are never allowed: tokens travel in the Authorization header.
    #[arg(long, env = "LOYALTY_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Whether GraphQL introspection (used by GraphiQL) is allowed.
    #[arg(long, env = "LOYALTY_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,

    /// Count SQL statements and serve the total at `GET /debug/sql-queries` (for tests and
    /// profiling; off in production).
    #[arg(long, env = "LOYALTY_COUNT_QUERIES", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub count_queries: bool,

    /// Seconds `serve` keeps answering after SIGTERM (with `/readyz` at 503 and
    /// `Connection: close`), so a load balancer moves traffic away before it stops accepting.
    #[arg(long, env = "LOYALTY_DRAIN_SECS", default_value_t = 5, global = true)]
    pub drain_secs: u64,

    /// Whether `serve` runs the scheduled jobs (turn off on replicas that should not).
    #[arg(long, env = "LOYALTY_SCHEDULER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub scheduler: bool,

    /// Time zone of new restaurants (IANA name): their schedules run and "today" is decided in
    /// it.
    #[arg(long, env = "LOYALTY_TIMEZONE", default_value = "UTC", global = true)]
    pub timezone: chrono_tz::Tz,

    /// Currency of new restaurants (ISO 4217), for display.
    #[arg(long, env = "LOYALTY_CURRENCY", default_value = "USD", global = true)]
    pub currency: String,

    /// SMTP server for campaign emails, e.g. `smtp://127.0.0.1:2525` or
    /// `smtps://user:pass@smtp.example.com`; unset, emails wait as pending deliveries.
    #[arg(long, env = "SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// Sender of new restaurants' emails: `Name <address>` or an address.
    #[arg(long, env = "LOYALTY_MAIL_FROM", default_value = "Loyalty <loyalty@localhost>", global = true)]
    pub mail_from: String,

    /// Display name of new restaurants, shown in their emails.
    #[arg(long, env = "LOYALTY_RESTAURANT_NAME", default_value = "Our Restaurant", global = true)]
    pub restaurant_name: String,

    /// Postal address of new restaurants, shown in every marketing email's footer (lines
    /// separated by `\n`); unset, a restaurant sends no marketing email until `updateRestaurant`
    /// gives it one.
    #[arg(long, env = "LOYALTY_POSTAL_ADDRESS", global = true)]
    pub postal_address: Option<String>,

    /// Locale new restaurants' emails write dates and numbers in: en-US, en-GB, en-IE, en-AU,
    /// en-NZ or en-CA.
    #[arg(long, env = "LOYALTY_LOCALE", default_value = "en-US", value_parser = parse_locale, global = true)]
    pub locale: entity::entities::Locale,

    /// Base URL customers reach this service at, for unsubscribe links (default: from --bind).
    #[arg(long, env = "LOYALTY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Secret that signs unsubscribe links (default: generated once and kept in the database).
    #[arg(long, env = "LOYALTY_SECRET", hide_env_values = true, global = true)]
    pub secret: Option<String>,

    /// Birthday and anniversary emails go this many days before the day (0: on the day;
    /// default for new restaurants).
    #[arg(long, env = "LOYALTY_OCCASION_LEAD_DAYS", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=30), global = true)]
    pub occasion_lead_days: u32,

    /// A dormant customer gets at most one win-back email per this many days (default for new
    /// restaurants).
    #[arg(long, env = "LOYALTY_WIN_BACK_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365), global = true)]
    pub win_back_days: u32,

    /// Send attempts before an email is marked failed.
    #[arg(long, env = "LOYALTY_MAIL_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(i32).range(1..=20), global = true)]
    pub mail_max_attempts: i32,

    /// First retry delay of a failed email in seconds (doubles per attempt).
    #[arg(long, env = "LOYALTY_MAIL_RETRY_SECS", default_value_t = 60, global = true)]
    pub mail_retry_secs: u64,

    /// Most emails one delivery run sends (0: no limit); the rest go on the next run. A
    /// throttle for SMTP providers with sending limits.
    #[arg(long, env = "LOYALTY_MAIL_MAX_PER_RUN", default_value_t = 0, global = true)]
    pub mail_max_per_run: u64,

    /// Allow `SMTP_URL` credentials over plain SMTP (no `smtps://` or `?tls=required`) to a server
    /// that is not on loopback; refused at start otherwise.
    #[arg(long, env = "LOYALTY_ALLOW_PLAIN_SMTP", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub allow_plain_smtp: bool,

    /// Run the webhook delivery worker in this process (every replica may: each event is
    /// claimed by one).
    #[arg(long, env = "LOYALTY_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub webhook_worker: bool,

    /// Allow webhook endpoints on loopback and private addresses (refused by default, so an
    /// admin cannot make the service call into its own network).
    #[arg(long, env = "LOYALTY_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhook_allow_private: bool,

    /// Upper bound of one SMTP send in seconds.
    #[arg(long, env = "LOYALTY_MAIL_TIMEOUT_SECS", default_value_t = 15, global = true)]
    pub mail_timeout_secs: u64,

    /// Local time of day (HH:MM) the dormancy job runs (default for new restaurants).
    #[arg(long, env = "LOYALTY_DORMANCY_AT", default_value = "06:00", global = true)]
    pub dormancy_at: String,

    /// Local time of day the birthday campaign runs (default for new restaurants).
    #[arg(long, env = "LOYALTY_BIRTHDAY_AT", default_value = "09:00", global = true)]
    pub birthday_at: String,

    /// Local time of day the anniversary campaign runs (default for new restaurants).
    #[arg(long, env = "LOYALTY_ANNIVERSARY_AT", default_value = "09:05", global = true)]
    pub anniversary_at: String,

    /// Local time of day the win-back campaign runs (default for new restaurants).
    #[arg(long, env = "LOYALTY_WIN_BACK_AT", default_value = "10:00", global = true)]
    pub win_back_at: String,

    /// Schedule of the retry of pending emails (cron with a seconds field of 0, UTC), for every
    /// restaurant.
    #[arg(long, env = "LOYALTY_CRON_DELIVERIES", default_value = "0 */15 * * * *", global = true)]
    pub cron_deliveries: String,

    /// On start, the scheduler runs the slots of the last this many hours that no replica ran
    /// (every missed day of birthday and anniversary emails, the latest of the other jobs);
    /// 0 never runs a slot late.
    #[arg(long, env = "LOYALTY_CATCH_UP_HOURS", default_value_t = 24, global = true)]
    pub catch_up_hours: u32,

    /// Serve `/metrics` on this address only (e.g. 127.0.0.1:9090, not public) instead of on
    /// the main port.
    #[arg(long, env = "LOYALTY_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// Serve `/metrics` on the main port to scrapers that send `Authorization: Bearer TOKEN`
    /// (without it or `--metrics-bind`, metrics are not served: they name every restaurant).
    #[arg(long, env = "LOYALTY_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Parsed GraphQL documents kept for reuse by their text (0: parse every request).
    #[arg(long, env = "LOYALTY_DOCUMENT_CACHE", default_value_t = 1_000, global = true)]
    pub document_cache: usize,

    /// Export traces (request and job spans) over OTLP/HTTP to this URL, e.g.
    /// http://127.0.0.1:4318/v1/traces; unset: no export.
    #[arg(long, env = "LOYALTY_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
}

fn parse_phone_region(text: &str) -> Result<RegionId, String> {
    parse_region(text).ok_or_else(|| format!("{text:?} is not an ISO 3166 region code such as US or GB"))
}

impl Config {
    /// The deployment's input settings the domain operations use.
    pub fn policy(&self) -> Policy {
        Policy {
            phone_region: self.phone_region,
            max_page_size: self.max_page_size,
            value_discount_rate: f64::from(self.value_discount_percent) / 100.0,
            late_order_days: self.late_order_days,
        }
    }

    /// The settings a new restaurant starts with (`loyalty restaurants create`, a key made for
    /// a new restaurant, restaurants that had keys or customers before restaurants had rows),
    /// with `id` left empty. Checked at start-up: a bad default stops the service.
    pub fn restaurant_defaults(&self) -> restaurant::Model {
        let (sender_name, mail_from) = match self.mail_from.split_once('<') {
            Some((name, address)) => (name.trim().trim_matches('"').to_string(), address.trim_end_matches('>').trim().to_string()),
            None => (self.restaurant_name.clone(), self.mail_from.trim().to_string()),
        };
        let p = Programme::default();
        let at = entity::ops::now();
        restaurant::Model {
            id: String::new(),
            name: self.restaurant_name.clone(),
            timezone: self.timezone.name().to_string(),
            sender_name: if sender_name.is_empty() { self.restaurant_name.clone() } else { sender_name },
            mail_from: mail_from.to_lowercase(),
            reply_to: None,
            public_url: self.public_url.clone().map(|u| u.trim_end_matches('/').to_string()),
            currency: self.currency.trim().to_uppercase(),
            points_per_dollar: self.points_per_dollar,
            points_per_redeemed_dollar: p.points_per_redeemed_dollar,
            referral_bonus: self.referral_bonus,
            discount_bronze: p.tier_discounts[0].into(),
            discount_silver: p.tier_discounts[1].into(),
            discount_gold: p.tier_discounts[2].into(),
            discount_platinum: p.tier_discounts[3].into(),
            discount_vip: p.tier_discounts[4].into(),
            dormant_days: p.dormant_days as i32,
            at_risk_days: p.at_risk_days as i32,
            occasion_lead_days: self.occasion_lead_days as i32,
            win_back_days: self.win_back_days as i32,
            churn_by_prediction: false,
            at_risk_probability_bp: 5_000,
            win_back_probability_bp: 2_000,
            dormancy_at: self.dormancy_at.clone(),
            birthday_at: self.birthday_at.clone(),
            anniversary_at: self.anniversary_at.clone(),
            win_back_at: self.win_back_at.clone(),
            cap_emails: p.cap.emails as i32,
            cap_days: p.cap.days as i32,
            cap_occasions: p.cap.occasions,
            win_back_percent: 0,
            benefit_days: 30,
            refunds_lower_tier: false,
            expiry_months: 0,
            expiry_warning_days: 30,
            expiry_started_at: None,
            expiry_shortened_at: None,
            expiry_previous_months: 0,
            digest_emails: String::new(),
            welcome_follow_up_days: p.welcome_follow_up_days as i32,
            nearing_points: p.nearing_points as i32,
            keep_idempotency_days: p.retention.idempotency_days as i32,
            keep_job_run_days: p.retention.job_run_days as i32,
            keep_delivery_days: p.retention.delivery_days as i32,
            erase_inactive_months: p.retention.erase_inactive_months as i32,
            postal_address: self.postal_address.as_deref().map(|a| a.replace("\\n", "\n").trim().to_string()).filter(|a| !a.is_empty()),
            phone: None,
            website_url: None,
            booking_url: None,
            logo_url: None,
            brand_color: "#2f4f4f".into(),
            locale: self.locale,
            voucher_qr_code: false,
            created_at: at,
            updated_at: at,
        }
    }

    /// Checks the defaults for new restaurants (with a placeholder id).
    pub fn check_restaurant_defaults(&self) -> Result<(), entity::DomainError> {
        entity::rules::restaurant::check(&restaurant::Model { id: "defaults".into(), ..self.restaurant_defaults() })
    }

    /// The jobs' settings.
    pub fn jobs(&self) -> jobs::JobsConfig {
        jobs::JobsConfig {
            smtp_url: self.smtp_url.clone(),
            public_url: self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.bind)),
            secret: self.secret.clone(),
            max_attempts: self.mail_max_attempts,
            retry_base_secs: self.mail_retry_secs,
            send_timeout_secs: self.mail_timeout_secs,
            deliveries_cron: self.cron_deliveries.clone(),
            catch_up_hours: self.catch_up_hours,
            max_per_run: self.mail_max_per_run,
            allow_plain_smtp: self.allow_plain_smtp,
            webhook_allow_private: self.webhook_allow_private,
            value_discount_rate: f64::from(self.value_discount_percent) / 100.0,
        }
    }

    /// Connections in the database pool.
    pub fn pool_size(&self) -> u32 {
        self.db_pool.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            (cores * 2).max(2)
        })
    }
}
