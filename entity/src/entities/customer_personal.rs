//! `customer_personal`: one row per customer holding its sealed personal values, apart from
//! `customers` so that lists, scans and jobs read narrow rows; read only where a value is
//! opened, through [`crate::ops::customers::personal`].

use sea_orm::entity::prelude::*;

use super::sealed::Sealed;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_personal")]
pub struct Model {
    /// The customer (`customers.id`); the row goes with it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    pub restaurant_id: String,
    /// E.164, sealed; unique per restaurant through `customers.phone_index`.
    pub phone: Sealed,
    /// Lower-cased, validated, sealed.
    pub email: Option<Sealed>,
    /// `YYYY-MM-DD`, sealed.
    pub date_of_birth: Option<Sealed>,
    /// `YYYY-MM-DD`, sealed.
    pub anniversary: Option<Sealed>,
    /// A JSON array of strings, sealed.
    pub dietary_restrictions: Sealed,
    /// A JSON array of strings, sealed.
    pub allergies: Sealed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
