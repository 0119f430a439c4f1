//! Bounds a request must keep before anything parses or walks it. The GraphQL parser, the
//! validator and input coercion all recurse once per level of nesting, so a deeply nested
//! literal (`[[[[…]]]]`), selection or variable would overflow a worker thread's stack and
//! abort the whole process: nesting is counted here, without recursion, and a request deeper
//! than [`MAX_NESTING`] is refused with a 400 before it reaches them.

/// Deepest nesting of brackets (`{ [ (`) in a document, and of arrays and objects in its
/// variables. GraphiQL's introspection query nests 10 deep; selections stop at
/// `--max-query-depth` (12) and audience rules at 3 levels of `anyOf` (7 brackets).
pub const MAX_NESTING: usize = 32;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// The document nests deeper than [`MAX_NESTING`].
    Document,
    /// A variable nests deeper than [`MAX_NESTING`].
    Variables,
}

impl Exceeded {
    /// The message the client reads.
    pub fn message(self) -> String {
        match self {
            Exceeded::Document => format!("the document nests brackets more than {MAX_NESTING} deep"),
            Exceeded::Variables => format!("the variables nest lists and objects more than {MAX_NESTING} deep"),
        }
    }
}

/// Checks the document's nesting, skipping strings, block strings and comments; stops at the
/// first bracket past the bound.
pub fn check_document(query: &str) -> Result<(), Exceeded> {
    let b = query.as_bytes();
    let (mut i, mut depth) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Exceeded::Document);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Checks the nesting of a JSON value (the request's variables), without recursion.
pub fn check_json(value: &serde_json::Value) -> Result<(), Exceeded> {
    use serde_json::Value;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth >= MAX_NESTING {
            return Err(Exceeded::Variables);
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, depth: usize) -> String {
        format!("{{ a(x: {}1{}) }}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn nesting_is_counted_across_every_bracket_kind() {
        assert_eq!(check_document(&nested("[", "]", 29)), Ok(()));
        assert_eq!(check_document(&nested("[", "]", 31)), Err(Exceeded::Document));
        assert_eq!(check_document(&nested("{b:", "}", 40)), Err(Exceeded::Document));
        assert_eq!(check_document(&"{a".repeat(33)), Err(Exceeded::Document));
        assert_eq!(check_document(&nested("[", "]", 50_000)), Err(Exceeded::Document));
        let introspection = include_str!("../../tests/e2e/introspection.graphql");
        assert_eq!(check_document(introspection), Ok(()));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "[".repeat(100);
        assert_eq!(check_document(&format!("{{ a(x: \"{deep}\") }}")), Ok(()));
        assert_eq!(check_document(&format!("{{ a(x: \"\\\"{deep}\") }}")), Ok(()));
        assert_eq!(check_document(&format!("{{ a(x: \"\"\"{deep} \\\"\"\" {deep}\"\"\") }}")), Ok(()));
        assert_eq!(check_document(&format!("# {deep}\n{{ a }}")), Ok(()));
        assert_eq!(check_document(&format!("{{ a(x: \"unterminated\n{deep}) }}")), Err(Exceeded::Document));
    }

    #[test]
    fn variables_are_bounded_without_recursion() {
        let mut v = serde_json::json!(1);
        for _ in 0..32 {
            v = serde_json::json!([v]);
        }
        assert_eq!(check_json(&v), Ok(()));
        assert_eq!(check_json(&serde_json::json!({ "rule": v })), Err(Exceeded::Variables));
        assert_eq!(check_json(&serde_json::json!({ "a": [1, 2, { "b": "c" }] })), Ok(()));
    }
}
