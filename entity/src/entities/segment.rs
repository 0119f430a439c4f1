//! `segments`: a restaurant's custom marketing segments. Membership is in `customer_labels`
//! (kind `segment`), beside the automatic segments the rules keep.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    /// Unique per restaurant, lower-case.
    pub name: String,
    pub description: Option<String>,
    /// A rule segment's saved filter ([`crate::rules::audience::AudienceRule`] as JSON); a
    /// list segment (members added by hand) has none.
    pub rule: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
