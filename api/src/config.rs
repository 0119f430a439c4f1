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

    /// Restaurant that requests act for until access control derives it from the caller.
    #[arg(long, env = "LOYALTY_RESTAURANT", default_value = "default", global = true)]
    pub restaurant: String,

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

    /// Connections in the database pool.
    pub fn pool_size(&self) -> u32 {
        self.db_pool.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            (cores * 2).max(2)
        })
    }
}
