//! The GraphQL schema: one module per area, merged into one `Query` and one `Mutation`.
//! Resolvers are thin: read arguments, call one function of `entity::ops`, map the result.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use entity::{Policy, Scope};
use sea_orm::DatabaseConnection;

use crate::config::Config;

pub mod campaigns;
pub mod customers;
pub mod feedback;
pub mod keys;
pub mod loaders;
pub mod me;
pub mod notes;
pub mod occasions;
pub mod orders;
pub mod points;
pub mod privacy;
pub mod program;
pub mod restaurants;
pub mod scalars;
pub mod segments;
pub mod stats;
pub mod text_guard;
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
    restaurants::RestaurantQuery,
    keys::KeyQuery,
    campaigns::CampaignQuery,
    privacy::PrivacyQuery,
    me::MeQuery,
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
    campaigns::CampaignMutation,
    keys::KeyMutation,
    restaurants::RestaurantMutation,
    privacy::PrivacyMutation,
    me::MeMutation,
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
    /// API keys checked recently (cleared when a key is revoked).
    pub keys: std::sync::Arc<crate::auth::KeyCache>,
    /// Recent whole-programme figures per restaurant.
    pub stats: std::sync::Arc<stats::StatsCache>,
    /// Mints and checks members' own tokens.
    pub member_tokens: std::sync::Arc<crate::auth::MemberTokens>,
}

/// Per request: who calls, for which restaurant, and the request's id for logs and errors.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub scope: Scope,
    pub principal: entity::ops::keys::Principal,
    pub request_id: String,
}

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
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .extension(async_graphql::extensions::Tracing)
        .extension(text_guard::TextGuard);
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

/// The operation a document would run (the one named, or its only one), parsed; `None` if the
/// document does not parse or names no such operation (execution then reports why).
fn selected_operation(query: &str, operation_name: Option<&str>) -> Option<async_graphql::parser::types::OperationDefinition> {
    use async_graphql::parser::types::DocumentOperations;
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let op = match doc.operations {
        DocumentOperations::Single(op) => op,
        DocumentOperations::Multiple(mut ops) => match operation_name {
            Some(name) => ops.remove(name)?,
            None if ops.len() == 1 => ops.into_values().next()?,
            None => return None,
        },
    };
    Some(op.node)
}

/// Whether the request's operation is a mutation or subscription (not to be run over `GET`).
pub fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    selected_operation(query, operation_name).is_some_and(|op| op.ty != async_graphql::parser::types::OperationType::Query)
}

/// Whether the document's operation is a query that selects only introspection fields
/// (`__schema`, `__type`, `__typename`). Only documents that mention `__schema` or `__type`
/// are parsed for this.
pub fn is_introspection(query: &str, operation_name: Option<&str>) -> bool {
    use async_graphql::parser::types::{OperationType, Selection};
    if !query.contains("__schema") && !query.contains("__type") {
        return false;
    }
    selected_operation(query, operation_name).is_some_and(|op| {
        op.ty == OperationType::Query
            && op.selection_set.node.items.iter().all(|s| matches!(&s.node, Selection::Field(f) if f.node.name.node.starts_with("__")))
    })
}

/// Runs one request with its context and a fresh DataLoader.
///
/// The loader's batch fetches run in this request's own task, and only once the resolvers are
/// truly waiting for them: [`drive`] keeps polling the execution while it merely yields (as
/// long lists do), so every key a level of the query asks for is registered before that level's
/// batch is fetched. A page of customers thus costs one query per relation whatever its size,
/// with no timer to tune.
pub async fn execute(schema: &LoyaltySchema, state: &AppState, ctx: RequestContext, request: async_graphql::Request) -> async_graphql::Response {
    let (tx, rx) = std::sync::mpsc::channel::<futures_util::future::BoxFuture<'static, ()>>();
    let tx = std::sync::Mutex::new(tx);
    let loader = DataLoader::new(loaders::DbLoader::new(state.db.clone(), ctx.scope.clone()), move |fetch| {
        if let Ok(tx) = tx.lock() {
            let _ = tx.send(fetch);
        }
    })
    .delay(std::time::Duration::ZERO);
    drive(schema.execute(request.data(ctx).data(loader)), rx).await
}

/// Polls `work` until it is pending without having woken itself, then runs the batch fetches
/// it queued on `fetches`; repeats until `work` is done.
async fn drive<T>(work: impl std::future::Future<Output = T>, queued: std::sync::mpsc::Receiver<futures_util::future::BoxFuture<'static, ()>>) -> T {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Poll, Wake, Waker};

    use futures_util::StreamExt;
    use futures_util::stream::FuturesUnordered;

    /// Wakes the task and remembers that it was woken.
    struct Flag {
        woken: AtomicBool,
        task: Waker,
    }
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.woken.store(true, Ordering::SeqCst);
            self.task.wake_by_ref();
        }
    }

    let mut work = std::pin::pin!(work);
    let mut fetches = FuturesUnordered::new();
    std::future::poll_fn(move |cx| loop {
        loop {
            let flag = Arc::new(Flag { woken: AtomicBool::new(false), task: cx.waker().clone() });
            let waker = Waker::from(flag.clone());
            match work.as_mut().poll(&mut std::task::Context::from_waker(&waker)) {
                Poll::Ready(out) => return Poll::Ready(out),
                Poll::Pending if flag.woken.load(Ordering::SeqCst) => continue,
                Poll::Pending => break,
            }
        }
        while let Ok(fetch) = queued.try_recv() {
            fetches.push(fetch);
        }
        match fetches.poll_next_unpin(cx) {
            Poll::Ready(Some(())) => continue,
            _ => return Poll::Pending,
        }
    })
    .await
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

#[cfg(test)]
mod introspection_tests {
    #[test]
    fn graphiqls_query_is_introspection_only() {
        let q = include_str!("../../../tests/e2e/introspection.graphql");
        assert!(super::is_introspection(q, None));
        assert!(super::is_introspection("{ __type(name: \"Customer\") { name } __typename }", None));
        assert!(!super::is_introspection("{ __schema { types { name } } customers { totalCount } }", None));
        assert!(!super::is_introspection("{ customers { totalCount } }", None));
        assert!(!super::is_introspection("mutation { __typename }", None));
    }
}
