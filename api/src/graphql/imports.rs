//! Importing members through GraphQL, for integrators (admins only): the same checks and
//! writes as `loyalty import customers`, for at most 500 rows a call.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::ops::import::{self, RowOutcome};
use entity::rules::import::{Cell, RawRow};

use super::context::{app, scope};
use super::customers::MarketingConsentInput;
use super::scalars::Date;
use super::types::Tier;
use crate::auth::ADMIN;
use crate::error::IntoGql;

/// One member to import (fields as in a file for `loyalty import customers`).
#[derive(InputObject)]
pub struct MemberImportInput {
    /// The member's id in the system they come from; what makes a second import change nothing.
    pub external_id: String,
    /// Phone number (any common format).
    pub phone: String,
    /// The member's name.
    pub name: String,
    /// Email address.
    pub email: Option<String>,
    /// Date of birth (not in the future).
    pub date_of_birth: Option<Date>,
    /// Wedding or other anniversary.
    pub anniversary: Option<Date>,
    /// When they joined (default: now).
    pub member_since: Option<chrono::DateTime<chrono::Utc>>,
    /// The opening balance.
    pub points: Option<i64>,
    /// Points ever earned, at least `points` (the difference was redeemed before the move).
    pub lifetime_points: Option<i64>,
    /// Raised to what `lifetimePoints` earn.
    pub tier: Option<Tier>,
    /// Consent given (absent flags: not given).
    pub marketing: Option<MarketingConsentInput>,
    /// Allergies.
    pub allergies: Option<Vec<String>>,
    /// Dietary needs.
    pub dietary_restrictions: Option<Vec<String>>,
}

impl MemberImportInput {
    /// The row as a file would give it, so both paths are checked by one rule.
    fn raw(self) -> RawRow {
        let mut row: RawRow =
            vec![("externalId".into(), Cell::Text(self.external_id)), ("phone".into(), Cell::Text(self.phone)), ("name".into(), Cell::Text(self.name))];
        let mut text = |name: &str, value: Option<String>| row.extend(value.map(|v| (name.to_string(), Cell::Text(v))));
        text("email", self.email);
        text("dateOfBirth", self.date_of_birth.map(|d| d.0.to_string()));
        text("anniversary", self.anniversary.map(|d| d.0.to_string()));
        text("memberSince", self.member_since.map(|d| d.to_rfc3339()));
        text("points", self.points.map(|p| p.to_string()));
        text("lifetimePoints", self.lifetime_points.map(|p| p.to_string()));
        text("tier", self.tier.map(|t| sea_orm::ActiveEnum::to_value(&entity::entities::Tier::from(t))));
        let m = self.marketing.unwrap_or_default();
        for (name, flag) in [
            ("emailOptIn", m.email_opt_in),
            ("smsOptIn", m.sms_opt_in),
            ("pushNotifications", m.push_notifications),
            ("specialOffers", m.special_offers),
            ("birthdayOffers", m.birthday_offers),
            ("anniversaryOffers", m.anniversary_offers),
        ] {
            text(name, flag.map(|f| f.to_string()));
        }
        row.extend(self.allergies.map(|l| ("allergies".to_string(), Cell::List(l))));
        row.extend(self.dietary_restrictions.map(|l| ("dietaryRestrictions".to_string(), Cell::List(l))));
        row
    }
}

/// What became of a row.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ImportOutcome {
    /// Written as a new member.
    Created,
    /// Would be written (`dryRun`).
    WouldCreate,
    /// A member has this `externalId` already: nothing written.
    Unchanged,
    /// Not written: see `field` and `reason`.
    Refused,
}

/// One row's outcome.
#[derive(SimpleObject)]
pub struct ImportedRow {
    /// The row's position in `rows`, from 1 (as "line" in reasons).
    pub row: i32,
    /// What became of it.
    pub outcome: ImportOutcome,
    /// The member written, or the one that has the `externalId`.
    pub customer_id: Option<ID>,
    /// The field a refusal is about.
    pub field: Option<String>,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// What an import did (or, dry, would do).
#[derive(SimpleObject)]
pub struct ImportResult {
    /// Rows written (dry: that would be).
    pub created: i32,
    /// Rows whose `externalId` a member has already.
    pub unchanged: i32,
    /// Rows refused.
    pub refused: i32,
    /// One entry per row, in order.
    pub rows: Vec<ImportedRow>,
}

fn row_of(index: usize, outcome: RowOutcome) -> ImportedRow {
    let row = index as i32 + 1;
    let id = |id: i64| Some(ID(id.to_string()));
    match outcome {
        RowOutcome::Created(c) => ImportedRow { row, outcome: ImportOutcome::Created, customer_id: id(c), field: None, reason: None },
        RowOutcome::WouldCreate => ImportedRow { row, outcome: ImportOutcome::WouldCreate, customer_id: None, field: None, reason: None },
        RowOutcome::Unchanged(c) => ImportedRow { row, outcome: ImportOutcome::Unchanged, customer_id: id(c), field: None, reason: None },
        RowOutcome::Refused(e) => ImportedRow { row, outcome: ImportOutcome::Refused, customer_id: None, field: Some(e.field), reason: Some(e.reason) },
    }
}

/// Import mutations.
#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Imports members into your restaurant, as `loyalty import customers` does (sealed,
    /// balances as `IMPORT` ledger entries, consent audited; keyed by `externalId`, so sending
    /// the same rows again writes nothing twice). At most 500 rows a call (`VALIDATION`).
    #[graphql(guard = "ADMIN")]
    async fn import_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The members, at most 500.")] rows: Vec<MemberImportInput>,
        #[graphql(default = false, desc = "Check every row and report; write nothing.")] dry_run: bool,
    ) -> async_graphql::Result<ImportResult> {
        let raws: Vec<RawRow> = rows.into_iter().map(MemberImportInput::raw).collect();
        let outcomes = import::check_and_import(&app(ctx).db, scope(ctx), app(ctx).policy.phone_region, &raws, dry_run).await.gql()?;
        let count = |f: fn(&RowOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count() as i32;
        Ok(ImportResult {
            created: count(|o| matches!(o, RowOutcome::Created(_) | RowOutcome::WouldCreate)),
            unchanged: count(|o| matches!(o, RowOutcome::Unchanged(_))),
            refused: count(|o| matches!(o, RowOutcome::Refused(_))),
            rows: outcomes.into_iter().enumerate().map(|(i, o)| row_of(i, o)).collect(),
        })
    }
}
