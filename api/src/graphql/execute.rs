//! Runs one GraphQL request: which operation a document would run (introspection only? a
//! mutation?), and the executor that drives the request's DataLoader in its own task.

use async_graphql::dataloader::DataLoader;

use super::LoyaltySchema;
use super::context::{AppState, RequestContext};
use super::loaders;

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
pub async fn execute(schema: &LoyaltySchema, state: &AppState, ctx: RequestContext, mut request: async_graphql::Request) -> async_graphql::Response {
    state.documents.prepare(&mut request);
    let (tx, rx) = std::sync::mpsc::channel::<futures_util::future::BoxFuture<'static, ()>>();
    let tx = std::sync::Mutex::new(tx);
    let loader = DataLoader::new(loaders::DbLoader::new(state.db.clone(), ctx.scope.clone(), state.policy.value_discount_rate), move |fetch| {
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
    std::future::poll_fn(move |cx| {
        loop {
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
        }
    })
    .await
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
