//! Reads of `customers` that fetch only the columns a caller needs (the GraphQL selection):
//! `SELECT` of those columns alone, decoded by position, so a list asking for names and tiers
//! never reads, sends or decodes preferences, consent flags or timestamps. The other fields of
//! the returned [`customer::Model`] hold placeholders; [`Projection::includes`] says which are
//! real, and the API refuses to show a field whose columns were not read.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, EntityTrait, Iterable, QueryResult, QuerySelect, QueryTrait, Select};

use crate::entities::customer::Sealed;
use crate::entities::{CustomerStatus, Tier, customer, customer_personal};
use crate::ops::direct::Source;
use crate::{DomainError, DomainResult};

/// Which columns a read fetches.
#[derive(Debug, Clone, Default)]
pub enum Projection {
    /// Every column (writes, jobs, and any selection not mapped to columns).
    #[default]
    All,
    /// These columns and the id, and these sealed personal values (joined from
    /// `customer_personal` into [`customer::Model::personal`]; the others left empty).
    Only(Vec<customer::Column>, Vec<customer_personal::Column>),
}

impl Projection {
    /// The columns `wanted` and the id, each once.
    pub fn only(wanted: impl IntoIterator<Item = customer::Column>) -> Self {
        let mut cols = vec![customer::Column::Id];
        for c in wanted {
            if !cols.iter().any(|k| same(*k, c)) {
                cols.push(c);
            }
        }
        Projection::Only(cols, Vec::new())
    }

    /// This projection and `column`.
    pub fn with(&self, column: customer::Column) -> Self {
        match self {
            Projection::All => Projection::All,
            Projection::Only(cols, personal) => Projection::only(cols.iter().copied().chain([column])).with_personal(personal.iter().copied()),
        }
    }

    /// This projection and the personal values `wanted` (and the customer's key, to open them).
    pub fn with_personal(self, wanted: impl IntoIterator<Item = customer_personal::Column>) -> Self {
        let Projection::Only(mut cols, mut personal) = self else { return Projection::All };
        for p in wanted {
            if !personal.iter().any(|k| *k as u8 == p as u8) {
                personal.push(p);
            }
        }
        if !personal.is_empty() && !cols.iter().any(|k| same(*k, customer::Column::KeyId)) {
            cols.push(customer::Column::KeyId);
        }
        Projection::Only(cols, personal)
    }

    /// Whether the column was read.
    pub fn includes(&self, column: customer::Column) -> bool {
        match self {
            Projection::All => true,
            Projection::Only(cols, _) => cols.iter().any(|k| same(*k, column)),
        }
    }

    /// Whether the personal value was read (with [`Projection::All`], it is read on demand).
    pub fn includes_personal(&self, column: customer_personal::Column) -> bool {
        match self {
            Projection::All => true,
            Projection::Only(_, personal) => personal.iter().any(|k| *k as u8 == column as u8),
        }
    }

    /// Reads the rows of `select` (a query on `customers`, filtered and ordered) with this
    /// projection. Personal values come with their customer (a join on its primary key) into
    /// [`customer::Model::personal`], only those the projection names.
    pub async fn read(&self, db: &impl ConnectionTrait, select: Select<customer::Entity>) -> DomainResult<Vec<customer::Model>> {
        self.read_from(&Source::of(db), select).await
    }

    /// [`Projection::read`] from `source` (straight from the pool, for the hot reads).
    pub async fn read_from(&self, source: &Source<'_, impl ConnectionTrait>, select: Select<customer::Entity>) -> DomainResult<Vec<customer::Model>> {
        let Projection::Only(cols, personal) = self else { return Ok(select.select_only().columns(customer::Column::iter()).all(source.db).await?) };
        let mut select = select.select_only();
        for c in cols {
            select = select.column(*c);
        }
        let mut query = select.into_query();
        if !personal.is_empty() {
            use customer_personal::Column as P;
            let on = Expr::col((customer_personal::Entity, P::CustomerId))
                .equals((customer::Entity, customer::Column::Id))
                .and(Expr::col((customer_personal::Entity, P::RestaurantId)).equals((customer::Entity, customer::Column::RestaurantId)));
            query.left_join(customer_personal::Entity, on);
            for c in std::iter::once(&P::CustomerId).chain(personal) {
                query.column((customer_personal::Entity, *c));
            }
        }
        let rows = source.rows(&query).await?;
        rows.iter()
            .map(|row| {
                let mut m = decode(row, cols)?;
                if !personal.is_empty() {
                    m.personal = decode_personal(row, cols.len(), personal)?;
                }
                Ok(m)
            })
            .collect()
    }
}

/// A query on `customers` that selects no column yet, for [`Projection::read`] (which adds
/// them): `find()` builds the list of every column, which cost a lookup more than its blind
/// index and query together.
pub fn select() -> Select<customer::Entity> {
    static EMPTY: std::sync::LazyLock<Select<customer::Entity>> = std::sync::LazyLock::new(|| customer::Entity::find().select_only());
    EMPTY.clone()
}

/// Equal when they read the same columns in the same order (a DataLoader's keys carry the
/// projection, so that one batch reads each distinct projection once).
impl PartialEq for Projection {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Projection::All, Projection::All) => true,
            (Projection::Only(a, pa), Projection::Only(b, pb)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(*x, *y)) && pa.len() == pb.len() && pa.iter().zip(pb).all(|(x, y)| *x as u8 == *y as u8)
            }
            _ => false,
        }
    }
}

impl Eq for Projection {}

impl std::hash::Hash for Projection {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Projection::All => state.write_u8(u8::MAX),
            Projection::Only(cols, personal) => {
                cols.iter().for_each(|c| state.write_u8(*c as u8));
                state.write_u8(u8::MAX - 1);
                personal.iter().for_each(|c| state.write_u8(*c as u8));
            }
        }
    }
}

/// Whether two columns are the same (the generated enum has no `PartialEq`).
fn same(a: customer::Column, b: customer::Column) -> bool {
    a as u8 == b as u8
}

/// The placeholder row the columns that were not read are taken from: no visits, no points,
/// nothing consented, every timestamp at the epoch.
pub fn placeholder() -> customer::Model {
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    customer::Model {
        id: 0,
        restaurant_id: String::new(),
        user_id: None,
        name: String::new(),
        birth_md: None,
        anniversary_md: None,
        tier: Tier::Bronze,
        points_current: 0,
        points_lifetime: 0,
        points_redeemed: 0,
        member_since: epoch,
        total_visits: 0,
        first_visit_at: None,
        last_visit_at: None,
        total_spent_cents: 0,
        spice_level: None,
        preferred_seating: None,
        email_opt_in: false,
        sms_opt_in: false,
        push_opt_in: false,
        special_offers: false,
        birthday_offers: false,
        anniversary_offers: false,
        referral_code: String::new(),
        referred_by: None,
        referrals_count: 0,
        referral_rewards: 0,
        rating_total: 0,
        review_count: 0,
        last_review_at: None,
        status: CustomerStatus::Active,
        last_activity_at: epoch,
        created_at: epoch,
        updated_at: epoch,
        phone_index: None,
        email_index: None,
        phone_last4: None,
        key_id: None,
        external_id: None,
        personal: None,
    }
}

/// One row of a projected read: column `i` of the result is `cols[i]`.
fn decode(row: &QueryResult, cols: &[customer::Column]) -> DomainResult<customer::Model> {
    use customer::Column as C;
    let mut m = placeholder();
    for (i, c) in cols.iter().enumerate() {
        macro_rules! get {
            ($field:ident) => {
                m.$field = row.try_get_by_index(i).map_err(|e| DomainError::internal(format!("customers.{}: {e}", stringify!($field))))?
            };
        }
        match c {
            C::Id => get!(id),
            C::RestaurantId => get!(restaurant_id),
            C::UserId => get!(user_id),
            C::Name => get!(name),
            C::BirthMd => get!(birth_md),
            C::AnniversaryMd => get!(anniversary_md),
            C::Tier => get!(tier),
            C::PointsCurrent => get!(points_current),
            C::PointsLifetime => get!(points_lifetime),
            C::PointsRedeemed => get!(points_redeemed),
            C::MemberSince => get!(member_since),
            C::TotalVisits => get!(total_visits),
            C::FirstVisitAt => get!(first_visit_at),
            C::LastVisitAt => get!(last_visit_at),
            C::TotalSpentCents => get!(total_spent_cents),
            C::SpiceLevel => get!(spice_level),
            C::PreferredSeating => get!(preferred_seating),
            C::EmailOptIn => get!(email_opt_in),
            C::SmsOptIn => get!(sms_opt_in),
            C::PushOptIn => get!(push_opt_in),
            C::SpecialOffers => get!(special_offers),
            C::BirthdayOffers => get!(birthday_offers),
            C::AnniversaryOffers => get!(anniversary_offers),
            C::ReferralCode => get!(referral_code),
            C::ReferredBy => get!(referred_by),
            C::ReferralsCount => get!(referrals_count),
            C::ReferralRewards => get!(referral_rewards),
            C::RatingTotal => get!(rating_total),
            C::ReviewCount => get!(review_count),
            C::LastReviewAt => get!(last_review_at),
            C::Status => get!(status),
            C::LastActivityAt => get!(last_activity_at),
            C::CreatedAt => get!(created_at),
            C::UpdatedAt => get!(updated_at),
            C::PhoneIndex => get!(phone_index),
            C::EmailIndex => get!(email_index),
            C::PhoneLast4 => get!(phone_last4),
            C::KeyId => get!(key_id),
            C::ExternalId => get!(external_id),
        }
    }
    Ok(m)
}

/// The personal values `personal` read with a customer from column `at` on (its id first;
/// `None`: it has no personal row). Values not read are left empty.
fn decode_personal(row: &QueryResult, at: usize, personal: &[customer_personal::Column]) -> DomainResult<Option<customer_personal::Model>> {
    use customer_personal::Column as P;
    let err = |e: sea_orm::DbErr| DomainError::internal(format!("customer_personal: {e}"));
    let Some(customer_id) = row.try_get_by_index::<Option<i64>>(at).map_err(err)? else { return Ok(None) };
    let mut m = customer_personal::Model {
        customer_id,
        restaurant_id: String::new(),
        phone: Sealed(String::new()),
        email: None,
        date_of_birth: None,
        anniversary: None,
        dietary_restrictions: Sealed(String::new()),
        allergies: Sealed(String::new()),
    };
    for (i, c) in personal.iter().enumerate() {
        let i = at + 1 + i;
        match c {
            P::CustomerId => {}
            P::RestaurantId => m.restaurant_id = row.try_get_by_index(i).map_err(err)?,
            P::Phone => m.phone = row.try_get_by_index(i).map_err(err)?,
            P::Email => m.email = row.try_get_by_index(i).map_err(err)?,
            P::DateOfBirth => m.date_of_birth = row.try_get_by_index(i).map_err(err)?,
            P::Anniversary => m.anniversary = row.try_get_by_index(i).map_err(err)?,
            P::DietaryRestrictions => m.dietary_restrictions = row.try_get_by_index(i).map_err(err)?,
            P::Allergies => m.allergies = row.try_get_by_index(i).map_err(err)?,
        }
    }
    Ok(Some(m))
}

/// Every column, for checking that each decodes alone.
pub fn every_column() -> Vec<customer::Column> {
    customer::Column::iter().collect()
}
