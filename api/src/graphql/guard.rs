//! The schema's one extension, seen by root fields only (the fields below them skip the
//! extension chain): after parsing it applies the request's rules (`text_guard`: no NUL in any
//! string; `budget`: the database cost), and while the request runs it lets at most
//! `budget::CONCURRENT_ROOT_FIELDS` of its root fields work at once.

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

    /// Only root fields take a permit: the fields below them skip the extension chain (unless
    /// another extension, such as async-graphql's tracing, needs them).
    fn resolves_nested_fields(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    /// Counts the fields at work at once and the most seen.
    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl Gauge {
        async fn work(&self) -> i32 {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            1
        }
    }

    struct Root(Arc<Gauge>);
    struct Child(Arc<Gauge>);

    #[Object]
    impl Root {
        async fn work(&self) -> i32 {
            self.0.work().await
        }
        async fn child(&self) -> Child {
            Child(Arc::new(Gauge::default()))
        }
    }

    #[Object]
    impl Child {
        async fn work(&self) -> i32 {
            self.0.work().await
        }
        async fn most(&self) -> usize {
            tokio::time::sleep(Duration::from_millis(60)).await;
            self.0.most.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn root_fields_take_permits_and_nested_fields_do_not() {
        let gauge = Arc::new(Gauge::default());
        let schema = Schema::build(Root(gauge.clone()), EmptyMutation, EmptySubscription).extension(Guard).finish();
        let response = schema.execute("{ a: work b: work c: work d: work e: work }").await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(gauge.most.load(Ordering::SeqCst), budget::CONCURRENT_ROOT_FIELDS);

        let response = schema.execute("{ child { a: work b: work c: work d: work most } }").await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let most = response.data.into_json().unwrap()["child"]["most"].as_u64().unwrap();
        assert_eq!(most, 4, "the four nested fields ran at once");
    }
}
