//! A marketer's download of an audience (`exportAudience`): a segment's members or whom a
//! campaign targets, as CSV or JSON Lines, up to 10,000 members (`loyalty export audience`
//! streams any size); never allergies, dietary needs or notes.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use entity::DomainError;
use entity::marketing::export::{self, AUDIENCE_FIELDS, Audience};

use super::campaign_id;
use crate::auth::MARKETING;
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, scope};
use crate::records::{Format, Out};

/// A download's file format.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ExportFormat {
    /// Comma-separated, with a header row; lists joined by `;`.
    Csv,
    /// One JSON object a line (empty fields left out).
    JsonLines,
}

/// A file to save: an audience's members.
#[derive(SimpleObject)]
pub struct AudienceDownload {
    /// A name to save it under (`audience-SEGMENT.csv`, `campaign-ID.jsonl`).
    pub filename: String,
    /// Its media type: `text/csv` or `application/x-ndjson`.
    pub content_type: String,
    /// How many members it holds.
    pub members: i64,
    /// The file itself.
    pub content: String,
}

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// A segment's members, or whom a campaign targets, as a file for a marketing tool:
    /// `customerId`, `externalId`, `name`, `email`, `phone`, `tier`, `points`,
    /// `lifetimePoints`, `memberSince`, `lastVisit` and the consent flags (never allergies,
    /// dietary needs or notes). At most 10,000 members (`loyalty export audience` streams any
    /// size).
    #[graphql(guard = "MARKETING")]
    async fn export_audience(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's name (or give `campaignId`).")] segment: Option<String>,
        #[graphql(desc = "The campaign's id: whom it targets (or give `segment`).")] campaign_id: Option<ID>,
        #[graphql(desc = "The file's format (CSV when not given).")] format: Option<ExportFormat>,
    ) -> async_graphql::Result<AudienceDownload> {
        let (of, stem) = match (segment, campaign_id) {
            (Some(name), None) => (Audience::Segment(name.clone()), format!("audience-{}", name.trim().to_lowercase())),
            (None, Some(id)) => (Audience::Campaign(self::campaign_id(&id).gql()?), format!("campaign-{}", id.as_str())),
            _ => return Err(ApiError::validation("segment", "give exactly one of segment and campaignId")).gql(),
        };
        let records = export::download(&app(ctx).db, scope(ctx), &of, entity::ops::now()).await.gql()?;
        let (format, extension, content_type) = match format.unwrap_or(ExportFormat::Csv) {
            ExportFormat::Csv => (Format::Csv, "csv", "text/csv"),
            ExportFormat::JsonLines => (Format::Jsonl, "jsonl", "application/x-ndjson"),
        };
        let content = file(format, &records).map_err(DomainError::internal).gql()?;
        Ok(AudienceDownload { filename: format!("{stem}.{extension}"), content_type: content_type.into(), members: records.len() as i64, content })
    }
}

/// The records as a file in `format`.
fn file(format: Format, records: &[Vec<(&'static str, serde_json::Value)>]) -> anyhow::Result<String> {
    let mut out = Out::new(format, Vec::new(), &AUDIENCE_FIELDS)?;
    for record in records {
        out.write(record)?;
    }
    Ok(String::from_utf8(out.finish()?)?)
}
