//! The stored form of a personal value, shared by the tables that hold one.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A personal value as stored: sealed text (`e1.…`, see [`crate::crypto`]), opened only through
/// [`crate::ops::customers::personal`]. Its own type, so that no code can use it as the value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, DeriveValueType)]
pub struct Sealed(pub String);
