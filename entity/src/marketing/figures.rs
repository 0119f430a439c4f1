//! What became of a campaign's emails: each send's figures (a page at a time) and the
//! campaign's totals, counted in SQL.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use crate::entities::{DeliveryStatus, campaign_send, email_delivery};
use crate::{DomainResult, Scope};

/// One send with what became of its emails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub send: campaign_send::Model,
    pub figures: Figures,
}

/// One page of the campaign's sends, newest first, with their delivery figures (two grouped
/// queries for the page, whatever its size).
pub async fn reports(
    db: &impl ConnectionTrait,
    scope: &Scope,
    campaign_id: i64,
    after: Option<i64>,
    first: u64,
) -> DomainResult<crate::ops::Paged<SendReport>> {
    use email_delivery::Column as E;
    let q = campaign_send::Entity::find()
        .filter(campaign_send::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign_send::Column::CampaignId.eq(campaign_id));
    let page = crate::ops::newest_page(db, q, campaign_send::Column::Id, after, first).await?;
    let ids: Vec<i64> = page.items.iter().map(|s| s.id).collect();
    let counts: Vec<(i64, DeliveryStatus, i64)> = email_delivery::Entity::find()
        .select_only()
        .column(E::SendId)
        .column(E::Status)
        .column_as(E::Id.count(), "n")
        .filter(E::SendId.is_in(ids.clone()))
        .group_by(E::SendId)
        .group_by(E::Status)
        .into_tuple()
        .all(db)
        .await?;
    let unsubscribes: Vec<(i64, i64)> = email_delivery::Entity::find()
        .select_only()
        .column(E::SendId)
        .column_as(E::Id.count(), "n")
        .filter(E::SendId.is_in(ids))
        .filter(E::UnsubscribedAt.is_not_null())
        .group_by(E::SendId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(page.map(|send| {
        let mine: Vec<(DeliveryStatus, i64)> = counts.iter().filter(|(id, ..)| *id == send.id).map(|(_, s, n)| (*s, *n)).collect();
        let unsubscribes = unsubscribes.iter().find(|(id, _)| *id == send.id).map_or(0, |(_, n)| *n);
        SendReport { send, figures: Figures::of(&mine, unsubscribes) }
    }))
}

/// What became of a set of deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub enqueued: i64,
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    /// Written, then not sent: consent withdrawn before sending, or the campaign cancelled.
    pub skipped: i64,
    /// Members who unsubscribed through these emails.
    pub unsubscribes: i64,
    /// Members kept in the control group (not emailed).
    pub held_out: i64,
}

impl Figures {
    /// The figures of deliveries counted by state, with their unsubscribes.
    fn of(counts: &[(DeliveryStatus, i64)], unsubscribes: i64) -> Self {
        let n = |s: DeliveryStatus| counts.iter().find(|(status, _)| *status == s).map_or(0, |(_, n)| *n);
        Figures {
            held_out: n(DeliveryStatus::HeldOut),
            enqueued: counts.iter().map(|(_, n)| n).sum::<i64>() - n(DeliveryStatus::HeldOut),
            pending: n(DeliveryStatus::Pending) + n(DeliveryStatus::Sending),
            sent: n(DeliveryStatus::Sent),
            failed: n(DeliveryStatus::Failed),
            skipped: n(DeliveryStatus::Skipped),
            unsubscribes,
        }
    }
}

/// A campaign's figures over all its sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub sends: i64,
    pub audience: i64,
    pub no_consent: i64,
    pub capped: i64,
    pub deliveries: Figures,
}

/// The campaign's figures over all its sends, in three aggregate queries (however many sends).
pub async fn totals(db: &impl ConnectionTrait, scope: &Scope, campaign_id: i64) -> DomainResult<Totals> {
    use campaign_send::Column as S;
    use email_delivery::Column as E;
    let (sends, audience, no_consent, capped): (i64, Option<i64>, Option<i64>, Option<i64>) = campaign_send::Entity::find()
        .select_only()
        .column_as(S::Id.count(), "sends")
        // PostgreSQL's SUM of a BIGINT is NUMERIC: cast back, alike on both databases.
        .column_as(Expr::cust("CAST(SUM(audience) AS BIGINT)"), "audience")
        .column_as(Expr::cust("CAST(SUM(no_consent) AS BIGINT)"), "no_consent")
        .column_as(Expr::cust("CAST(SUM(capped) AS BIGINT)"), "capped")
        .filter(S::RestaurantId.eq(&scope.restaurant_id))
        .filter(S::CampaignId.eq(campaign_id))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or_default();
    let mine = || {
        email_delivery::Entity::find().filter(E::RestaurantId.eq(&scope.restaurant_id)).filter(E::CampaignId.eq(campaign_id)).filter(E::SendId.is_not_null())
    };
    let counts: Vec<(DeliveryStatus, i64)> =
        mine().select_only().column(E::Status).column_as(E::Id.count(), "n").group_by(E::Status).into_tuple().all(db).await?;
    let unsubscribes = mine().filter(E::UnsubscribedAt.is_not_null()).count(db).await? as i64;
    Ok(Totals {
        sends,
        audience: audience.unwrap_or(0),
        no_consent: no_consent.unwrap_or(0),
        capped: capped.unwrap_or(0),
        deliveries: Figures::of(&counts, unsubscribes),
    })
}
