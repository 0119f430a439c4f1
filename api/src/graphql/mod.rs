//! The GraphQL schema: one module per area (each owning its object types), merged here into one
//! `Query` and one `Mutation`. Resolvers are thin: read arguments, call one function of
//! `entity::ops`, map the result. At the bottom, [`context`] holds the state, the request
//! context and their accessors (no module above it is imported by it); [`execute`] runs a
//! request with its DataLoader.

use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::config::Config;
use context::AppState;

pub mod budget;
pub mod context;
pub mod customers;
#[cfg(test)]
mod described;
pub mod execute;
pub mod feedback;
pub mod guard;
pub mod imports;
pub mod keys;
pub mod loaders;
pub mod marketing;
pub mod me;
pub mod notes;
pub mod occasions;
pub mod orders;
pub mod paging;
pub mod points;
pub mod predict;
pub mod privacy;
pub mod program;
pub mod restaurants;
pub mod rewards;
pub mod runs;
pub mod scalars;
pub mod segments;
pub mod stats;
pub mod sync;
pub mod text_guard;
pub mod types;
pub mod visits;
pub mod webhooks;

/// Every query.
#[derive(MergedObject, Default)]
pub struct Query(
    customers::CustomerQuery,
    stats::StatsQuery,
    occasions::OccasionQuery,
    segments::SegmentQuery,
    program::ProgramQuery,
    restaurants::RestaurantQuery,
    rewards::RewardQuery,
    keys::KeyQuery,
    runs::RunsQuery,
    marketing::MarketingQuery,
    marketing::outbox::OutboxQuery,
    marketing::export::ExportQuery,
    privacy::PrivacyQuery,
    me::MeQuery,
    webhooks::WebhookQuery,
    predict::PredictQuery,
    sync::SyncQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    customers::CustomerMutation,
    points::PointsMutation,
    visits::VisitMutation,
    orders::OrderMutation,
    notes::NoteMutation,
    feedback::FeedbackMutation,
    occasions::OccasionMutation,
    segments::SegmentMutation,
    runs::RunsMutation,
    marketing::MarketingMutation,
    keys::KeyMutation,
    restaurants::RestaurantMutation,
    rewards::RewardMutation,
    privacy::PrivacyMutation,
    me::MeMutation,
    imports::ImportMutation,
    predict::PredictMutation,
    webhooks::WebhookMutation,
);

/// The service's schema type.
pub type LoyaltySchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with the configured limits. `state` is `None` only for printing the SDL.
pub fn build_schema(config: &Config, state: Option<AppState>) -> LoyaltySchema {
    build(config, state, true)
}

/// The same schema without the depth and complexity limits, for documents that only introspect
/// (GraphiQL's introspection query is deeper than data queries need to be). The introspection
/// switch still applies.
pub fn build_introspection_schema(config: &Config, state: Option<AppState>) -> LoyaltySchema {
    build(config, state, false)
}

fn build(config: &Config, state: Option<AppState>, limited: bool) -> LoyaltySchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription).extension(guard::Guard);
    // async-graphql's spans per request phase and field cost CPU on every field even when the
    // log filter drops them: the extension is there only when its spans are enabled
    // (`RUST_LOG=info,async_graphql=info`).
    if tracing::enabled!(target: "async_graphql::graphql", tracing::Level::INFO) {
        builder = builder.extension(async_graphql::extensions::Tracing);
    }
    if limited {
        builder = builder.limit_depth(config.max_query_depth).limit_complexity(config.max_query_complexity);
    }
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    /// `schema.graphql` at the repository root is the published contract for frontends.
    /// Regenerate it with `UPDATE_SCHEMA=1 cargo nextest run -p api schema_file`.
    #[test]
    fn schema_file_is_up_to_date() {
        let config = Cli::parse_from(["loyalty"]).config;
        let sdl = build_schema(&config, None).sdl();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &sdl).expect("write schema.graphql");
        }
        let saved = std::fs::read_to_string(path).unwrap_or_default();
        assert!(saved == sdl, "schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo nextest run -p api schema_file` and commit it");
    }

    /// A field added to `Customer` without its columns in `FIELD_COLUMNS` would make reads
    /// fetch every column (and its resolver refuse to run on a projected row): list it.
    #[test]
    fn every_customer_field_names_its_columns() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let config = Cli::parse_from(["loyalty"]).config;
        let doc = async_graphql::parser::parse_schema(build_schema(&config, None).sdl()).unwrap();
        let fields: Vec<String> = doc
            .definitions
            .iter()
            .find_map(|d| match d {
                TypeSystemDefinition::Type(t) if t.node.name.node == "Customer" => match &t.node.kind {
                    TypeKind::Object(o) => Some(o.fields.iter().map(|f| f.node.name.node.to_string()).collect()),
                    _ => None,
                },
                _ => None,
            })
            .unwrap();
        let listed: Vec<&str> = customers::types::FIELD_COLUMNS.iter().map(|(name, _)| *name).filter(|n| *n != "__typename").collect();
        for field in &fields {
            assert!(listed.contains(&field.as_str()), "Customer.{field} is not in FIELD_COLUMNS");
        }
        for name in listed {
            assert!(fields.iter().any(|f| f == name), "FIELD_COLUMNS lists {name}, which Customer does not have");
        }
    }

    /// Frontend developers learn the API from its descriptions: every schema element has one
    /// (see `described.rs`).
    #[test]
    fn every_schema_element_is_described() {
        let config = Cli::parse_from(["loyalty"]).config;
        let missing = described::undescribed(&build_schema(&config, None).sdl());
        assert!(missing.is_empty(), "{} schema elements lack a description: {missing:?}", missing.len());
    }
}
