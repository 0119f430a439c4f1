//! Predicted churn and value end to end: CDNOW's sample (the papers' data) loaded as one
//! restaurant's members (imported through GraphQL) and visits (a fixture loader: orders from the
//! past are not built yet), fitted by `loyalty model fit` on its first 39 weeks, gives the
//! papers' estimates and holdout table; GraphQL shows the fit and each member's prediction to
//! staff and marketers, not to member tokens, and another restaurant sees none of it.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;

const CDNOW: &str = include_str!("../../entity/tests/fixtures/cdnow_sample.txt");

const IMPORT: &str = "mutation($rows: [MemberImportInput!]!) { importCustomers(rows: $rows) { created rows { customerId } } }";

const MODELS: &str = "{ predictionModels(first: 5) { status reason members repeaters calibrationEnd holdoutEnd
  visits { r alpha a b logLikelihood } spend { p q gamma members } holdout { repeatVisits members actual expected } tracking { week actual } } }";

/// Every CDNOW customer's purchases: `(date, cents)` by sample id.
fn purchases() -> BTreeMap<u32, Vec<(NaiveDate, i64)>> {
    let mut out: BTreeMap<u32, Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for line in CDNOW.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let date = NaiveDate::parse_from_str(f[2], "%Y%m%d").unwrap();
        let cents = (f[4].parse::<f64>().unwrap() * 100.0).round() as i64;
        out.entry(f[1].parse().unwrap()).or_default().push((date, cents));
    }
    out
}

/// Imports CDNOW's customers into `app`'s restaurant and writes their purchases as visits at
/// noon UTC; the member ids by sample id.
async fn load_cdnow(app: &TestApp) -> BTreeMap<u32, i64> {
    let all = purchases();
    let samples: Vec<u32> = all.keys().copied().collect();
    let mut ids = BTreeMap::new();
    for chunk in samples.chunks(500) {
        let rows: Vec<Value> =
            chunk.iter().map(|s| json!({ "externalId": format!("cdnow-{s}"), "phone": format!("+14152{s:06}"), "name": format!("CDNOW {s}") })).collect();
        let done = app.data(IMPORT, json!({ "rows": rows })).await;
        for (s, row) in chunk.iter().zip(done["importCustomers"]["rows"].as_array().unwrap()) {
            ids.insert(*s, row["customerId"].as_str().unwrap().parse::<i64>().unwrap());
        }
    }
    let visits: Vec<String> = all
        .iter()
        .flat_map(|(s, list)| {
            let id = ids[s];
            list.iter().map(move |(date, cents)| {
                let at = app.instant_sql(Utc.from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap()));
                format!("('default', {id}, {cents}, {at}, 0)")
            })
        })
        .collect();
    for chunk in visits.chunks(500) {
        app.sql(&format!("INSERT INTO visits (restaurant_id, customer_id, amount_cents, visited_at, refunded_cents) VALUES {}", chunk.join(", "))).await;
    }
    ids
}

/// `value` rounded to three significant figures.
fn sig3(value: &Value) -> f64 {
    let v = value.as_f64().unwrap();
    let scale = 10f64.powi(2 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

both!(cdnow_gives_the_papers_estimates_through_the_cli_and_graphql, |app| async move {
    let ids = load_cdnow(&app).await;
    let svg = std::env::temp_dir().join(format!("cdnow-{}-{:?}.svg", std::process::id(), app.backend));
    let out = app.cli(&["model", "fit", "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--svg", svg.to_str().unwrap()]).await;
    assert!(out.contains("ok (calibrated to 1997-09-30, 2357 members, 946 came back"), "{out}");
    assert!(out.contains("holdout 1997-10-01 to 1998-06-30"), "{out}");
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("expected (BG/NBD)") && chart.contains("end of calibration"), "{chart:.300}");
    let _ = std::fs::remove_file(&svg);

    let models = app.data(MODELS, json!({})).await["predictionModels"].clone();
    let m = &models[0];
    assert_eq!((m["status"].as_str(), m["members"].as_i64(), m["repeaters"].as_i64()), (Some("OK"), Some(2357), Some(946)), "{m:#}");
    let v = &m["visits"];
    assert_eq!([sig3(&v["r"]), sig3(&v["alpha"]), sig3(&v["a"]), sig3(&v["b"])], [0.243, 4.41, 0.793, 2.43], "{v}");
    assert!((v["logLikelihood"].as_f64().unwrap() + 9582.4).abs() < 0.05, "{v}");
    let g = &m["spend"];
    assert_eq!([sig3(&g["p"]), sig3(&g["q"]), sig3(&g["gamma"])], [6.25, 3.74, 15.4], "{g}");
    let holdout = m["holdout"].as_array().unwrap();
    let actual: f64 = holdout.iter().map(|r| r["actual"].as_f64().unwrap()).sum();
    let expected: f64 = holdout.iter().map(|r| r["expected"].as_f64().unwrap()).sum();
    assert_eq!(actual, 1_882.0);
    assert!((expected - 1_653.4).abs() < 1.0, "{expected}");
    assert_eq!(m["tracking"].as_array().unwrap().len(), 78);

    // Sample 1 bought on 1997-01-01, 01-18, 08-02 and 12-12: three repeat purchase days, the
    // last about 29 years before today.
    let query = "query($id: ID!) { customer(id: $id) { prediction { activeProbability expectedVisits30Days expectedVisits365Days spendPerVisit value12Months reason } } }";
    let p = app.data(query, json!({ "id": ids[&1].to_string() })).await["customer"]["prediction"].clone();
    let reason = p["reason"].as_str().unwrap();
    assert!(reason.starts_with("usually every ~115 days; last visit "), "{reason}");
    assert!(p["activeProbability"].as_f64().unwrap() < 0.01, "{p}");
    assert!(p["spendPerVisit"].as_f64().unwrap() > 0.0 && p["value12Months"].as_f64().unwrap() >= 0.0, "{p}");

    // Marketers see it; another restaurant sees no fit and no prediction of this one's members.
    let marketer = app.create_key("default", "marketer").await;
    let (_, body) = app.gql_as(Some(&marketer), query, json!({ "id": ids[&1].to_string() })).await;
    assert!(body["data"]["customer"]["prediction"]["reason"].is_string(), "{body}");
    let other = app.create_key("elsewhere", "admin").await;
    let (_, body) = app.gql_as(Some(&other), MODELS, json!({})).await;
    assert_eq!(body["data"]["predictionModels"], json!([]), "{body}");
    let (_, body) = app.gql_as(Some(&other), query, json!({ "id": ids[&1].to_string() })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
});

both!(a_fit_on_too_little_keeps_the_last_good_one, |app| async move {
    let (code, _, err) = app.error("mutation { fitPredictionModel(calibrationEnd: \"2999-01-01\") { status } }", json!({})).await;
    assert_eq!(code, "VALIDATION", "{err}");
    assert_eq!(app.data(MODELS, json!({})).await["predictionModels"], json!([]), "a refused fit stores nothing");

    let fit = app.data("mutation { fitPredictionModel { status reason members visits { r } } }", json!({})).await["fitPredictionModel"].clone();
    assert_eq!(fit["status"], "FAILED");
    assert_eq!(fit["reason"], "too few members to fit: 0 (at least 30)");
    assert!(fit["visits"].is_null());
    let run = app.data("mutation { runJob(job: MODEL_FIT) { run { outcome } } }", json!({})).await;
    assert_eq!(run["runJob"]["run"]["outcome"], "SUCCEEDED", "{run}");
    let models = app.data(MODELS, json!({})).await["predictionModels"].clone();
    assert_eq!(models.as_array().unwrap().len(), 2, "the job stored its fit: {models}");
});

const SCORED: &str = "query($below: Float, $above: Float) { customers(limit: 200, filter: { activeProbabilityBelow: $below, predictedValueAbove: $above }) {
  totalCount items { id prediction { activeProbability } } } }";

both!(the_daily_fit_scores_members_for_lists_to_filter_on, |app| async move {
    let ids = load_cdnow(&app).await;
    let run = app.data("mutation { runJob(job: MODEL_FIT) { run { outcome changed } } }", json!({})).await["runJob"]["run"].clone();
    assert_eq!((run["outcome"].as_str(), run["changed"].as_i64()), (Some("SUCCEEDED"), Some(2357)), "every member with a visit is scored: {run}");

    // Members who came back at least once can have stopped (below 1); one-time buyers cannot
    // (BG/NBD: nobody drops out before a repeat visit).
    let returned = purchases().values().filter(|p| p.iter().map(|(d, _)| d).collect::<std::collections::HashSet<_>>().len() > 1).count() as i64;
    let below_one = app.data(SCORED, json!({ "below": 1.0 })).await["customers"]["totalCount"].as_i64().unwrap();
    assert_eq!(below_one, returned);
    let page = app.data(SCORED, json!({ "below": 0.5 })).await["customers"].clone();
    assert!(page["totalCount"].as_i64().unwrap() > 0);
    for c in page["items"].as_array().unwrap() {
        assert!(c["prediction"]["activeProbability"].as_f64().unwrap() < 0.5, "the stored score is the live one: {c}");
    }
    assert_eq!(app.data(SCORED, json!({ "above": -1.0 })).await["customers"]["totalCount"], 2357);
    assert_eq!(app.data(SCORED, json!({ "above": 1.0e9 })).await["customers"]["totalCount"], 0);
    let (code, message, _) = app.error(SCORED, json!({ "below": 1.5 })).await;
    assert_eq!((code.as_str(), message.contains("between 0 and 1")), ("VALIDATION", true), "{message}");

    // Erasure takes the member's score with it; another restaurant's filter sees none of these.
    let returner = ids[&1].to_string();
    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { id } }", json!({ "id": returner })).await;
    assert_eq!(app.data(SCORED, json!({ "below": 1.0 })).await["customers"]["totalCount"].as_i64(), Some(returned - 1));
    let other = app.create_key("elsewhere", "admin").await;
    let (_, body) = app.gql_as(Some(&other), SCORED, json!({ "below": 1.0 })).await;
    assert_eq!(body["data"]["customers"]["totalCount"], 0, "{body}");
});
