//! The schema's one extension, so that every field pays for one layer only: after parsing it
//! applies the request's rules (`text_guard`: no NUL in any string; `budget`: the database
//! cost), and while the request runs it lets at most `budget::CONCURRENT_ROOT_FIELDS` of its
//! root fields work at once.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Value, Variables};

use super::{budget, text_guard};

/// The extension (added to the schema); a new one, with its own permits, per request.
pub struct Guard;

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Running { permits: Arc::new(tokio::sync::Semaphore::new(budget::CONCURRENT_ROOT_FIELDS)) })
    }
}

struct Running {
    permits: Arc<tokio::sync::Semaphore>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Running {
    async fn parse_query(&self, ctx: &ExtensionContext<'_>, query: &str, variables: &Variables, next: NextParseQuery<'_>) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        text_guard::check(query, variables, &doc)?;
        budget::check(&doc).map_err(budget::refuse)?;
        Ok(doc)
    }

    async fn resolve(&self, ctx: &ExtensionContext<'_>, info: ResolveInfo<'_>, next: NextResolve<'_>) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        let _permit = self.permits.acquire().await.map_err(|_| ServerError::new("the request was stopped", None))?;
        next.run(ctx, info).await
    }
}
