//! `GET /metrics` in the OpenMetrics text format that Prometheus scrapes: GraphQL requests by
//! operation and outcome code, their latency, rate-limited requests, the database pool, the
//! jobs' runs and emails (`jobs::metrics`) and the delivery backlog per restaurant with the age
//! of its oldest email.
//!
//! Every label has a bounded set of values: an operation is the first root field a document
//! selects when the schema has such a field (else `other`; introspection is `introspection`),
//! codes come from [`crate::error::ErrorCode`], restaurants are the restaurants' ids. Raw
//! documents, variables and ids never become labels.

use std::collections::HashSet;
use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RestaurantLabels {
    restaurant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

type Latency = Family<OperationLabels, Histogram, fn() -> Histogram>;

struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    rate_limited: Counter,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

static HTTP: LazyLock<HttpMetrics> = LazyLock::new(|| HttpMetrics {
    requests: Family::default(),
    latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
    rate_limited: Counter::default(),
});

/// The schema's root fields (queries and mutations): the operation labels there can be. The
/// names live for the whole process (one schema), so counting a request allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Operations(HashSet<&'static str>);

impl Operations {
    /// The root fields of the schema whose SDL is `sdl`.
    pub fn from_sdl(sdl: &str) -> Self {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else { return Self::default() };
        let mut names = HashSet::new();
        for def in doc.definitions {
            if let TypeSystemDefinition::Type(t) = def
                && matches!(t.node.name.node.as_str(), "Query" | "Mutation" | "QueryRoot" | "MutationRoot")
                && let TypeKind::Object(object) = &t.node.kind
            {
                names.extend(object.fields.iter().map(|f| &*Box::leak(f.node.name.node.to_string().into_boxed_str())));
            }
        }
        Self(names)
    }

    /// The label of a document: its first root field if the schema has it.
    pub fn label(&self, query: &str) -> &'static str {
        match first_root_field(query) {
            Some(name) if name.starts_with("__") => "introspection",
            Some(name) => self.0.get(name).copied().unwrap_or("other"),
            None => "other",
        }
    }
}

/// The first root field a document selects (its name, not an alias), found without parsing
/// the whole document: the first `{` outside parentheses (variable defaults may hold objects),
/// strings and comments opens the selection.
pub fn first_root_field(query: &str) -> Option<&str> {
    let b = query.as_bytes();
    let (mut i, mut parens) = (0, 0i32);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' => parens += 1,
            b')' => parens -= 1,
            b'{' if parens == 0 => break,
            _ => {}
        }
        i += 1;
    }
    let name_at = |mut i: usize| -> Option<(&str, usize)> {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        (i > start).then(|| (&query[start..i], i))
    };
    let (first, mut end) = name_at(i + 1)?;
    while end < b.len() && b[end].is_ascii_whitespace() {
        end += 1;
    }
    if b.get(end) == Some(&b':') {
        return name_at(end + 1).map(|(name, _)| name);
    }
    Some(first)
}

/// Counts one GraphQL request: its operation label, outcome code (`OK` without errors) and
/// how long it took.
pub fn request(operation: &'static str, code: &'static str, seconds: f64) {
    HTTP.requests.get_or_create(&RequestLabels { operation, code }).inc();
    HTTP.latency.get_or_create(&OperationLabels { operation }).observe(seconds);
}

/// Counts one request refused for the rate limit.
pub fn rate_limited() {
    HTTP.rate_limited.inc();
}

/// Every family, with the pool and the backlog read now.
pub async fn render(db: &DatabaseConnection) -> Result<String, entity::DomainError> {
    let mut registry = Registry::default();
    registry.register("loyalty_graphql_requests", "GraphQL requests by operation (first root field) and outcome code", HTTP.requests.clone());
    registry.register("loyalty_graphql_request_duration_seconds", "GraphQL request latency by operation", HTTP.latency.clone());
    registry.register("loyalty_rate_limited_requests", "Requests refused for the per-key rate limit", HTTP.rate_limited.clone());
    jobs::metrics::register(&mut registry);

    let pool: Family<PoolLabels, Gauge> = Family::default();
    let (size, idle, max) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
    };
    let idle = i64::try_from(idle).unwrap_or(i64::MAX);
    pool.get_or_create(&PoolLabels { state: "in_use".into() }).set(i64::from(size) - idle);
    pool.get_or_create(&PoolLabels { state: "idle".into() }).set(idle);
    pool.get_or_create(&PoolLabels { state: "max".into() }).set(i64::from(max));
    registry.register("loyalty_db_pool_connections", "Database connections: in use, idle, and the pool's maximum", pool);

    let backlog: Family<RestaurantLabels, Gauge> = Family::default();
    let oldest: Family<RestaurantLabels, Gauge> = Family::default();
    let now = entity::ops::now();
    for r in entity::ops::restaurants::list(db).await? {
        let labels = RestaurantLabels { restaurant: r.id };
        backlog.get_or_create(&labels).set(0);
        oldest.get_or_create(&labels).set(0);
    }
    for (restaurant, waiting, since) in entity::marketing::outbox::backlog(db).await? {
        let labels = RestaurantLabels { restaurant };
        backlog.get_or_create(&labels).set(waiting);
        oldest.get_or_create(&labels).set(since.map_or(0, |s| (now - s).num_seconds().max(0)));
    }
    registry.register("loyalty_delivery_backlog", "Emails waiting to be sent (pending or being sent), per restaurant", backlog);
    registry.register("loyalty_delivery_backlog_oldest_age_seconds", "Age of the oldest email waiting, per restaurant", oldest);

    let mut out = String::new();
    encode(&mut out, &registry).map_err(|e| entity::DomainError::internal(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_root_field_is_found_past_aliases_variables_and_comments() {
        assert_eq!(first_root_field("{ customer(id: 1) { name } }"), Some("customer"));
        assert_eq!(first_root_field("query Q($f: Filter = { tier: GOLD }) { list: customers(filter: $f) { totalCount } }"), Some("customers"));
        assert_eq!(first_root_field("# a comment {\nmutation { addPoints(customerId: \"{\", points: 1) { tier } }"), Some("addPoints"));
        assert_eq!(first_root_field("{ __schema { types { name } } }"), Some("__schema"));
        assert_eq!(first_root_field("not graphql"), None);
    }

    #[test]
    fn labels_are_the_schemas_root_fields_only() {
        let ops = Operations::from_sdl("type Query { customer: Int }\ntype Mutation { addPoints: Int }\nschema { query: Query mutation: Mutation }");
        assert_eq!(ops.label("{ customer }"), "customer");
        assert_eq!(ops.label("mutation { x: addPoints }"), "addPoints");
        assert_eq!(ops.label("{ drop_table_users }"), "other");
        assert_eq!(ops.label("{ __type(name: \"X\") { name } }"), "introspection");
    }
}
