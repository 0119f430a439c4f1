//! What one request may cost the database, checked before it runs: every root field has a
//! cost (the table below: what its database work weighs, 1 for a lookup), a document may spend
//! [`BUDGET`] and repeat one root field at most [`MAX_REPEATS`] times (aliases), or it is
//! refused with `TOO_COMPLEX`. While it runs, at most [`CONCURRENT_ROOT_FIELDS`] of its root
//! fields work at once (`guard`), so one request holds only a few of the pool's connections
//! whatever it asks for.

use std::collections::HashMap;

use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::error::ErrorCode;

/// Cost units one document may spend.
pub const BUDGET: u32 = 1_000;
/// Most times one root field may be selected in a document (under any aliases).
pub const MAX_REPEATS: usize = 20;
/// Root fields of one request that run at the same time.
pub const CONCURRENT_ROOT_FIELDS: usize = 2;

/// The cost of a root field: what its database work weighs against a lookup by key (1).
pub fn cost(field: &str) -> u32 {
    match field {
        "runJob" | "importCustomers" | "fitPredictionModel" | "exportAudience" => 500,
        "loyaltyStats" | "upcomingOccasions" | "campaignAudience" => 100,
        "campaignReports" | "exportCustomer" | "sendTestEmail" | "previewCampaign" | "mergeCustomers" | "replayWebhooks" => 50,
        "customers" | "ledgerChanges" | "orderChanges" | "auditLog" | "deliveries" | "jobRuns" | "segments" | "campaigns" | "vouchers" | "rewards"
        | "webhookDeliveries" | "predictionModels" => 10,
        _ => 1,
    }
}

/// `TOO_COMPLEX` with `message`.
pub fn refuse(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", ErrorCode::TooComplex.as_str());
    error.extensions = Some(ext);
    error
}

/// Adds the root fields of `set` (through fragments) to `counts`; `hops` bounds fragment
/// chains (cycles are refused later by validation).
fn root_fields<'a>(doc: &'a ExecutableDocument, set: &'a SelectionSet, counts: &mut HashMap<&'a str, usize>, hops: usize) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => *counts.entry(f.node.name.node.as_str()).or_default() += 1,
            Selection::InlineFragment(f) if hops < 8 => root_fields(doc, &f.node.selection_set.node, counts, hops + 1),
            Selection::FragmentSpread(s) if hops < 8 => {
                if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                    root_fields(doc, &f.node.selection_set.node, counts, hops + 1);
                }
            }
            _ => {}
        }
    }
}

/// Checks every operation of the document against the budget and the repeat cap.
pub fn check(doc: &ExecutableDocument) -> Result<(), String> {
    for (_, op) in doc.operations.iter() {
        let mut counts = HashMap::new();
        root_fields(doc, &op.node.selection_set.node, &mut counts, 0);
        if let Some((field, n)) = counts.iter().find(|(_, n)| **n > MAX_REPEATS) {
            return Err(format!("{field} is asked for {n} times: one request may ask for a field at most {MAX_REPEATS} times"));
        }
        let total: u64 = counts.iter().map(|(field, n)| u64::from(cost(field)) * *n as u64).sum();
        if total > u64::from(BUDGET) {
            return Err(format!("the request would cost {total} units of database work, more than the {BUDGET} one request may (split it)"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(query: &str) -> Result<(), String> {
        check(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn aliases_and_costly_fields_spend_the_budget() {
        assert_eq!(verdict("{ a: customer(id: 1) { id } b: customer(id: 2) { id } loyaltyStats { summary { totalMembers } } }"), Ok(()));
        let bomb = (0..1_000).map(|i| format!("s{i}: loyaltyStats {{ insights {{ atRisk }} }}")).collect::<Vec<_>>().join(" ");
        assert!(verdict(&format!("{{ {bomb} }}")).unwrap_err().contains("at most 20 times"));
        let costly = (0..11).map(|i| format!("s{i}: upcomingOccasions {{ name }}")).collect::<Vec<_>>().join(" ");
        assert!(verdict(&format!("{{ {costly} }}")).unwrap_err().contains("1100 units"));
        assert!(verdict("mutation { a: runJob(job: DORMANCY) { ok } b: runJob(job: WELCOME) { ok } c: runJob(job: BIRTHDAY) { ok } }").is_err());
    }

    #[test]
    fn fragments_count_like_the_fields_they_hold() {
        let spread =
            format!("query {{ ...F }} fragment F on Query {{ {} }}", (0..21).map(|i| format!("c{i}: customer(id: 1) {{ id }}")).collect::<Vec<_>>().join(" "));
        assert!(verdict(&spread).is_err());
        let inline = format!("{{ ... on Query {{ {} }} }}", (0..21).map(|i| format!("c{i}: restaurant {{ id }}")).collect::<Vec<_>>().join(" "));
        assert!(verdict(&inline).is_err());
    }
}
