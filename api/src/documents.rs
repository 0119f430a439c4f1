//! Parsed GraphQL documents reused by their text: a POS sends the same lookup thousands of
//! times a minute, and parsing is a large share of a small request's CPU. Only parsing is
//! reused — validation (including the depth and complexity limits) still runs on every request,
//! since it also checks the request's variables. Bounded: when full, the cache starts over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;

/// Longest document text kept (longer ones are parsed each time).
const MAX_TEXT: usize = 16 * 1024;

/// Parsed documents by their text.
pub struct DocumentCache {
    capacity: usize,
    docs: Mutex<HashMap<Arc<str>, ExecutableDocument>>,
}

impl DocumentCache {
    /// A cache of at most `capacity` documents (0: none kept).
    pub fn new(capacity: usize) -> Self {
        Self { capacity, docs: Mutex::new(HashMap::new()) }
    }

    /// Gives `request` its parsed document, from the cache or parsed now and kept. A document
    /// that does not parse is left to execution, which reports why.
    pub fn prepare(&self, request: &mut async_graphql::Request) {
        if self.capacity == 0 || request.query.len() > MAX_TEXT {
            return;
        }
        let cached = self.docs.lock().unwrap_or_else(|e| e.into_inner()).get(request.query.as_str()).cloned();
        if let Some(doc) = cached {
            request.set_parsed_query(doc);
            return;
        }
        let Ok(doc) = async_graphql::parser::parse_query(&request.query) else { return };
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        if docs.len() >= self.capacity {
            docs.clear();
        }
        docs.insert(Arc::from(request.query.as_str()), doc.clone());
        drop(docs);
        request.set_parsed_query(doc);
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.docs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_reused_bounded_and_broken_ones_left_alone() {
        let cache = DocumentCache::new(2);
        let mut a = async_graphql::Request::new("{ a }");
        cache.prepare(&mut a);
        assert!(a.parsed_query().is_ok());
        cache.prepare(&mut async_graphql::Request::new("{ a }"));
        assert_eq!(cache.len(), 1, "the same text is kept once");
        cache.prepare(&mut async_graphql::Request::new("{ b }"));
        cache.prepare(&mut async_graphql::Request::new("{ c }"));
        assert_eq!(cache.len(), 1, "full: it started over");
        let mut broken = async_graphql::Request::new("{ a");
        cache.prepare(&mut broken);
        assert!(broken.parsed_query().is_err(), "left for execution to report");
        assert!(DocumentCache::new(0).is_empty());
    }
}
