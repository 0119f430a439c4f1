//! The schema and the HTTP endpoint against outside tools: graphql-schema-linter's rules
//! (descriptions, naming; the list in `tests/browser/schema-lint.mjs`) over `schema.graphql`,
//! and the GraphQL over HTTP spec's own audit suite (graphql-http) against the running service:
//! no MUST and no SHOULD may fail.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::both;
use crate::browser::{ensure_node_tools, node_dir};

/// Runs `node SCRIPT ARGS…` from `tests/browser` and reads the JSON it prints.
async fn node(script: &str, args: &[&str]) -> Value {
    ensure_node_tools().await;
    let out = tokio::time::timeout(Duration::from_secs(120), tokio::process::Command::new("node").arg(node_dir().join(script)).args(args).output())
        .await
        .unwrap_or_else(|_| panic!("{script} finished within two minutes"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("{script} printed no JSON: {stdout} {}", String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_passes_the_linter() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let report = node("schema-lint.mjs", &[schema.to_str().unwrap()]).await;
    let errors = report["errors"].as_array().expect("the linter's report");
    let lines: Vec<String> = errors.iter().map(|e| format!("{}: {}", e["rule"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("?"))).collect();
    assert!(lines.is_empty(), "{} finding(s):\n{}", lines.len(), lines.join("\n"));
}

both!(the_endpoint_passes_the_graphql_over_http_audit, |app| async move {
    let url = format!("{}/graphql", app.base);
    let results = node("http-audit.mjs", &[url.as_str(), app.admin_key.as_str()]).await;
    let results = results.as_array().expect("the audit's results");
    assert!(results.len() > 40, "the whole suite ran: {}", results.len());
    let failed: Vec<String> = results
        .iter()
        .filter(|r| matches!(r["status"].as_str(), Some("error" | "warn")))
        .map(|r| format!("{} {} — {}", r["id"].as_str().unwrap_or("?"), r["name"].as_str().unwrap_or("?"), r["reason"].as_str().unwrap_or("")))
        .collect();
    assert!(failed.is_empty(), "{} MUST/SHOULD audit(s) failed:\n{}", failed.len(), failed.join("\n"));
});
