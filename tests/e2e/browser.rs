//! GraphiQL in a real headless browser (Debian's chromium, driven by playwright-core from
//! `tests/browser/`), with every request but the service's refused: the page loads offline,
//! takes the API key in its header editor, runs a query and lists the schema in Docs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::both;

/// `tests/browser`: the Node tools the tests drive (browser driver, HTTP audit, schema linter).
pub fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser")
}

/// The packages of `tests/browser/package.json` (a node_modules from before one was added
/// is installed again).
const PACKAGES: [&str; 7] = ["playwright-core", "graphql", "graphql-http", "graphql-schema-linter", "jsqr", "pngjs", "standardwebhooks"];

/// Installs the pinned Node tools (`npm ci`) once, whichever test process gets there first.
pub async fn ensure_node_tools() {
    let dir = node_dir();
    let installed = || PACKAGES.iter().all(|p| dir.join(format!("node_modules/{p}/package.json")).exists());
    let lock = dir.join(".install-lock");
    for _ in 0..600 {
        if installed() {
            return;
        }
        if std::fs::create_dir(&lock).is_ok() {
            let out = tokio::process::Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).output().await;
            let _ = std::fs::remove_dir(&lock);
            let out = out.expect("npm is needed for the browser tests (Node.js and npm)");
            assert!(out.status.success(), "npm ci in tests/browser failed: {}", String::from_utf8_lossy(&out.stderr));
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("tests/browser: waited two minutes for another test to install the Node tools");
}

both!(graphiql_works_offline_in_a_real_browser, |app| async move {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "the browser tests need Debian's chromium at {chromium} (apt-get install chromium) or CHROMIUM=path");
    ensure_node_tools().await;
    let shots = node_dir().join("screenshots");
    std::fs::create_dir_all(&shots).ok();
    let shot = shots.join(format!("graphiql-{:?}.png", app.backend));
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg(node_dir().join("graphiql.mjs"))
            .args([app.base.as_str(), app.admin_key.as_str(), shot.to_str().unwrap()])
            .env("CHROMIUM", &chromium)
            .output(),
    )
    .await
    .expect("the browser test finished within two minutes")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("no result: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(result["ok"], true, "{result:#}");
    assert_eq!(result["blocked"], serde_json::json!([]), "the page asked for nothing outside the service");
    assert_eq!(result["consoleErrors"], serde_json::json!([]), "no failed request or script error");
    assert!(result["defaultHeaders"].as_str().unwrap().contains("\"Authorization\": \"Bearer <paste your API key here>\""), "{result}");
    assert_eq!(result["response"]["data"]["restaurant"]["id"], "default");
    assert!(result["docsRoot"].as_str().unwrap().contains("mutation: Mutation"), "{result}");
    assert!(result["docsQuery"].as_str().unwrap().contains("customers("), "Docs lists the schema");
});
