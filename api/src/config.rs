//! The service's configuration: one typed struct, read from flags and environment variables.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};
use entity::Policy;
use entity::rules::contact::{RegionId, parse_region};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything the service can be told; every flag has an environment variable.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://loyalty.db?mode=rwc", global = true)]
    pub database_url: String,

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

    /// Points earned per whole dollar of an order.
    #[arg(long, env = "LOYALTY_POINTS_PER_DOLLAR", default_value_t = 1, value_parser = clap::value_parser!(i64).range(0..=1000), global = true)]
    pub points_per_dollar: i64,

    /// Points a member earns when someone joins with their referral code.
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

    /// Whether GraphQL introspection (used by GraphiQL) is allowed.
    #[arg(long, env = "LOYALTY_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,

    /// Count SQL statements and serve the total at `GET /debug/sql-queries` (for tests and
    /// profiling; off in production).
    #[arg(long, env = "LOYALTY_COUNT_QUERIES", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub count_queries: bool,

    /// Whether `serve` runs the scheduled jobs (turn off on replicas that should not).
    #[arg(long, env = "LOYALTY_SCHEDULER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub scheduler: bool,

    /// Time zone of the restaurant: schedules run and "today" is decided in it.
    #[arg(long, env = "LOYALTY_TIMEZONE", default_value = "UTC", global = true)]
    pub timezone: chrono_tz::Tz,

    /// SMTP server for campaign emails, e.g. `smtp://127.0.0.1:2525` or
    /// `smtps://user:pass@smtp.example.com`; unset, emails wait as pending deliveries.
    #[arg(long, env = "SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// From address of campaign emails.
    #[arg(long, env = "LOYALTY_MAIL_FROM", default_value = "Loyalty <loyalty@localhost>", global = true)]
    pub mail_from: String,

    /// Restaurant name shown in emails.
    #[arg(long, env = "LOYALTY_RESTAURANT_NAME", default_value = "Our Restaurant", global = true)]
    pub restaurant_name: String,

    /// Base URL customers reach this service at, for unsubscribe links (default: from --bind).
    #[arg(long, env = "LOYALTY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Secret that signs unsubscribe links (default: generated once and kept in the database).
    #[arg(long, env = "LOYALTY_SECRET", hide_env_values = true, global = true)]
    pub secret: Option<String>,

    /// Birthday and anniversary emails go this many days before the day (0: on the day).
    #[arg(long, env = "LOYALTY_OCCASION_LEAD_DAYS", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=30), global = true)]
    pub occasion_lead_days: u32,

    /// A dormant customer gets at most one win-back email per this many days.
    #[arg(long, env = "LOYALTY_WIN_BACK_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365), global = true)]
    pub win_back_days: u32,

    /// Send attempts before an email is marked failed.
    #[arg(long, env = "LOYALTY_MAIL_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(i32).range(1..=20), global = true)]
    pub mail_max_attempts: i32,

    /// First retry delay of a failed email in seconds (doubles per attempt).
    #[arg(long, env = "LOYALTY_MAIL_RETRY_SECS", default_value_t = 60, global = true)]
    pub mail_retry_secs: u64,

    /// Upper bound of one SMTP send in seconds.
    #[arg(long, env = "LOYALTY_MAIL_TIMEOUT_SECS", default_value_t = 15, global = true)]
    pub mail_timeout_secs: u64,

    /// Schedule of the dormancy job (cron with seconds, in --timezone).
    #[arg(long, env = "LOYALTY_CRON_DORMANCY", default_value = "0 0 6 * * *", global = true)]
    pub cron_dormancy: String,

    /// Schedule of the birthday campaign.
    #[arg(long, env = "LOYALTY_CRON_BIRTHDAY", default_value = "0 0 9 * * *", global = true)]
    pub cron_birthday: String,

    /// Schedule of the anniversary campaign.
    #[arg(long, env = "LOYALTY_CRON_ANNIVERSARY", default_value = "0 5 9 * * *", global = true)]
    pub cron_anniversary: String,

    /// Schedule of the win-back campaign.
    #[arg(long, env = "LOYALTY_CRON_WIN_BACK", default_value = "0 0 10 * * *", global = true)]
    pub cron_win_back: String,

    /// Schedule of the retry of pending emails.
    #[arg(long, env = "LOYALTY_CRON_DELIVERIES", default_value = "0 */15 * * * *", global = true)]
    pub cron_deliveries: String,

    /// On start, the scheduler runs the slots of the last this many hours that no replica ran
    /// (every missed day of birthday and anniversary emails, the latest of the other jobs);
    /// 0 never runs a slot late.
    #[arg(long, env = "LOYALTY_CATCH_UP_HOURS", default_value_t = 24, global = true)]
    pub catch_up_hours: u32,
}

fn parse_phone_region(text: &str) -> Result<RegionId, String> {
    parse_region(text).ok_or_else(|| format!("{text:?} is not an ISO 3166 region code such as US or GB"))
}

impl Config {
    /// The program settings the domain operations use.
    pub fn policy(&self) -> Policy {
        Policy {
            points_per_dollar: self.points_per_dollar,
            referral_bonus_points: self.referral_bonus,
            phone_region: self.phone_region,
            max_page_size: self.max_page_size,
        }
    }

    /// The jobs' settings.
    pub fn jobs(&self) -> jobs::JobsConfig {
        use jobs::Job;
        jobs::JobsConfig {
            smtp_url: self.smtp_url.clone(),
            mail_from: self.mail_from.clone(),
            restaurant_name: self.restaurant_name.clone(),
            public_url: self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.bind)),
            secret: self.secret.clone(),
            timezone: self.timezone,
            occasion_lead_days: self.occasion_lead_days,
            win_back_period_days: self.win_back_days,
            max_attempts: self.mail_max_attempts,
            retry_base_secs: self.mail_retry_secs,
            send_timeout_secs: self.mail_timeout_secs,
            schedules: vec![
                (Job::Dormancy, self.cron_dormancy.clone()),
                (Job::Birthday, self.cron_birthday.clone()),
                (Job::Anniversary, self.cron_anniversary.clone()),
                (Job::WinBack, self.cron_win_back.clone()),
                (Job::Deliveries, self.cron_deliveries.clone()),
            ],
            catch_up_hours: self.catch_up_hours,
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
