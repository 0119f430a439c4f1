//! The built-in campaigns' rows: one per restaurant and kind, holding the wording marketers
//! edit and whether the automation is switched on. They are written when the restaurant is
//! created (and, at start, for restaurants from before), so reading them writes nothing;
//! their audience and timing stay their jobs'. Rows nobody edited follow the default wording
//! when it changes ([`refresh_wording`], at start).

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::former_wording::FORMER;
use super::kinds::{Campaign, KINDS, Kind};
use crate::entities::{CampaignKind, CampaignState, campaign, restaurant};
use crate::ops::now;
use crate::{DomainError, DomainResult, Scope};

/// The row a kind starts with: its default wording; automations switched off.
fn first_row(restaurant_id: &str, kind: &Kind, at: chrono::DateTime<chrono::Utc>) -> campaign::ActiveModel {
    campaign::ActiveModel {
        restaurant_id: Set(restaurant_id.to_string()),
        name: Set(kind.title.into()),
        kind: Set(kind.stored),
        builtin_key: Set(Some(kind.name.into())),
        state: Set(if kind.starts_off { CampaignState::Paused } else { CampaignState::BuiltIn }),
        audience_segment: Set(None),
        audience_rule: Set(None),
        subject: Set(kind.wording.subject.into()),
        body_text: Set(kind.wording.text.into()),
        body_html: Set(kind.wording.html.into()),
        offer: Set(None),
        schedule_kind: Set(None),
        send_at_local: Set(None),
        cron: Set(None),
        next_run_at: Set(None),
        resume_state: Set(kind.starts_off.then_some(CampaignState::BuiltIn)),
        created_at: Set(at),
        updated_at: Set(at),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// Writes restaurant `restaurant_id`'s built-in rows it lacks (none are changed); returns how
/// many it wrote.
pub async fn install(db: &impl ConnectionTrait, restaurant_id: &str) -> DomainResult<u64> {
    let at = now();
    Ok(campaign::Entity::insert_many(KINDS.iter().map(|k| first_row(restaurant_id, k, at)))
        .on_conflict(OnConflict::columns([campaign::Column::RestaurantId, campaign::Column::BuiltinKey]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?)
}

/// Installs the built-in rows of every restaurant that lacks some (a database from before
/// they were written with the restaurant); returns how many it wrote. Restaurants that have
/// them all are not written to (an insert that conflicts still uses up an id).
pub async fn install_everywhere(db: &impl ConnectionTrait) -> DomainResult<u64> {
    let have: HashMap<String, i64> = campaign::Entity::find()
        .select_only()
        .column(campaign::Column::RestaurantId)
        .column_as(campaign::Column::Id.count(), "n")
        .filter(campaign::Column::BuiltinKey.is_not_null())
        .group_by(campaign::Column::RestaurantId)
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut written = 0;
    for r in restaurant::Entity::find().all(db).await? {
        if have.get(&r.id).copied().unwrap_or(0) < KINDS.len() as i64 {
            written += install(db, &r.id).await?;
        }
    }
    Ok(written)
}

/// Whether `text` is an earlier default wording of `part` of kind `kind` ([`FORMER`]).
fn is_former(kind: &str, part: &str, text: &str) -> bool {
    use sha2::Digest;
    let hash = format!("{:x}", sha2::Sha256::digest(text.trim().as_bytes()));
    FORMER.iter().any(|(k, p, h)| *k == kind && *p == part && *h == hash)
}

/// Moves every built-in row that still holds an earlier default wording (one nobody edited)
/// to today's default, part by part: a subject, text or HTML a marketer changed stays, and a
/// part is written only if it is still the one read. Returns how many rows changed.
pub async fn refresh_wording(db: &impl ConnectionTrait) -> DomainResult<u64> {
    use campaign::Column as C;
    let rows = campaign::Entity::find().filter(C::BuiltinKey.is_not_null()).all(db).await?;
    let mut changed = 0;
    for row in rows {
        let Some(kind) = KINDS.iter().find(|k| row.builtin_key.as_deref() == Some(k.name)) else { continue };
        let mut update = campaign::Entity::update_many().filter(C::Id.eq(row.id));
        let mut stale = false;
        for (part, column, stored, default) in [
            ("subject", C::Subject, &row.subject, kind.wording.subject),
            ("text", C::BodyText, &row.body_text, kind.wording.text),
            ("html", C::BodyHtml, &row.body_html, kind.wording.html),
        ] {
            if is_former(kind.name, part, stored) {
                update = update.col_expr(column, Expr::value(default)).filter(column.eq(stored.as_str()));
                stale = true;
            }
        }
        if stale {
            changed += update.exec(db).await?.rows_affected;
        }
    }
    Ok(changed)
}

/// Every built-in campaign's row of the restaurant.
pub async fn all(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<HashMap<Campaign, campaign::Model>> {
    let rows = campaign::Entity::find()
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::Kind.ne(CampaignKind::Custom))
        .all(db)
        .await?;
    let found: HashMap<Campaign, campaign::Model> = rows.into_iter().filter_map(|c| Some((Campaign::of_stored(c.kind)?, c))).collect();
    if found.len() < KINDS.len() {
        return Err(DomainError::internal(format!("restaurant {:?} lacks built-in campaign rows", scope.restaurant_id)));
    }
    Ok(found)
}

/// The restaurant's row of one built-in campaign.
pub async fn one(db: &impl ConnectionTrait, scope: &Scope, campaign: Campaign) -> DomainResult<campaign::Model> {
    campaign::Entity::find()
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::Kind.eq(campaign.kind().stored))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::internal(format!("restaurant {:?} lacks its {} campaign row", scope.restaurant_id, campaign.name())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_former_wordings_were_written_after_the_last_wording_change() {
        use sha2::Digest;
        for kind in KINDS {
            let w = &kind.wording;
            for (part, text) in [("subject", w.subject), ("text", w.text), ("html", w.html)] {
                let hash = format!("{:x}", sha2::Sha256::digest(text.trim().as_bytes()));
                let listed = super::super::former_wording::CURRENT.contains(&(kind.name, part, hash.as_str()));
                assert!(listed && !is_former(kind.name, part, text), "{} {part} changed: run python3 scripts/former_wording.py", kind.name);
            }
        }
    }
}
