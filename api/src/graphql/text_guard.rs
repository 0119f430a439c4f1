//! Refuses a NUL character in any string of a request — a variable or a literal in the
//! document — with `VALIDATION` naming the field, before anything runs. PostgreSQL cannot store
//! NUL in text and SQLite would store it silently; this makes both answer alike.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Value, Variables};

use crate::error::ErrorCode;

fn refuse(field: &str) -> ServerError {
    let mut error = ServerError::new(format!("{field}: must not contain the NUL character"), None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", ErrorCode::Validation.as_str());
    ext.set("field", field);
    error.extensions = Some(ext);
    error
}

/// The path of the first string holding NUL in a constant value.
fn in_const(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path.to_string()),
        Value::List(items) => items.iter().find_map(|v| in_const(v, path)),
        Value::Object(map) => map.iter().find_map(|(k, v)| in_const(v, &format!("{path}.{k}"))),
        _ => None,
    }
}

/// The argument path (`input.name`) of the first string holding NUL in a selection set, with
/// variables resolved, so the field named is the argument a variable feeds.
fn in_selections(set: &SelectionSet, variables: &Variables) -> Option<String> {
    set.items.iter().find_map(|item| match &item.node {
        Selection::Field(f) => f
            .node
            .arguments
            .iter()
            .find_map(|(name, value)| {
                let value = value.node.clone().into_const_with(|var| variables.get(&var).cloned().ok_or(())).ok()?;
                in_const(&value, &name.node)
            })
            .or_else(|| in_selections(&f.node.selection_set.node, variables)),
        Selection::InlineFragment(f) => in_selections(&f.node.selection_set.node, variables),
        Selection::FragmentSpread(_) => None,
    })
}

fn in_document(doc: &ExecutableDocument, variables: &Variables) -> Option<String> {
    doc.operations
        .iter()
        .find_map(|(_, op)| in_selections(&op.node.selection_set.node, variables))
        .or_else(|| doc.fragments.values().find_map(|f| in_selections(&f.node.selection_set.node, variables)))
}

/// Refuses a document whose strings (literals, or the variables its arguments take) hold NUL.
pub fn check(query: &str, variables: &Variables, doc: &ExecutableDocument) -> ServerResult<()> {
    let suspect = query.contains('\0') || query.contains("\\u0000") || variables.iter().any(|(name, v)| in_const(v, name).is_some());
    if suspect {
        // A variable no argument uses is named as the variable.
        let field = in_document(doc, variables).or_else(|| variables.iter().find_map(|(name, v)| in_const(v, name)));
        if let Some(field) = field {
            return Err(refuse(&field));
        }
    }
    Ok(())
}
