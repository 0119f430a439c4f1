//! The GraphQL schema: one module per area, merged into one `Query` and one `Mutation`.
//! Resolvers are thin: read arguments, call one function of `entity::ops`, map the result.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use entity::{Policy, Scope};
use sea_orm::DatabaseConnection;

use crate::config::Config;

pub mod campaigns;
pub mod customers;
pub mod loaders;
pub mod notes;
pub mod occasions;
pub mod orders;
pub mod points;
pub mod program;
pub mod scalars;
pub mod segments;
pub mod stats;
pub mod types;
pub mod visits;

/// Every query.
#[derive(MergedObject, Default)]
pub struct Query(
    customers::CustomerQuery,
    stats::StatsQuery,
    occasions::OccasionQuery,
    segments::SegmentQuery,
    program::ProgramQuery,
    campaigns::CampaignQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    customers::CustomerMutation,
    points::PointsMutation,
    visits::VisitMutation,
    orders::OrderMutation,
    notes::NoteMutation,
    occasions::OccasionMutation,
    segments::SegmentMutation,
    campaigns::CampaignMutation,
);

/// The service's schema type.
pub type LoyaltySchema = Schema<Query, Mutation, EmptySubscription>;

/// Shared by all requests: the database and the program settings.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub policy: Policy,
    /// The scheduled jobs, for running them on demand and reporting on them.
    pub jobs: jobs::JobContext,
}

/// Per request: whom the request acts for, and its id for logs and errors.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub scope: Scope,
    pub request_id: String,
}

/// Builds the schema with the configured limits. `state` is `None` only for printing the SDL.
pub fn build_schema(config: &Config, state: Option<AppState>) -> LoyaltySchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(config.max_query_depth)
        .limit_complexity(config.max_query_complexity)
        .extension(async_graphql::extensions::Tracing);
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// Request data for one request: its context and a fresh set of DataLoaders.
pub fn request_data(state: &AppState, ctx: RequestContext) -> (RequestContext, DataLoader<loaders::DbLoader>) {
    let loader = DataLoader::new(loaders::DbLoader::new(state.db.clone(), ctx.scope.clone()), tokio::spawn);
    (ctx, loader)
}

/// The shared state.
pub(crate) fn app<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The request's scope.
pub(crate) fn scope<'a>(ctx: &Context<'a>) -> &'a Scope {
    &ctx.data_unchecked::<RequestContext>().scope
}

/// The request's DataLoader.
pub(crate) fn loader<'a>(ctx: &Context<'a>) -> &'a DataLoader<loaders::DbLoader> {
    ctx.data_unchecked::<DataLoader<loaders::DbLoader>>()
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
        assert!(
            saved == sdl,
            "schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo nextest run -p api schema_file` and commit it"
        );
    }
}
