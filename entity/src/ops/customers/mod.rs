//! Customer profiles: create-or-update by phone (spec endpoint 1, [`upsert`]), lookups
//! (endpoint 2, [`lookup`]), the filtered, paginated list (endpoint 3, [`list`], with its keyset
//! [`cursor`]), phone number changes ([`phone`]) and batched reads for DataLoaders ([`batch`]). Everything is re-exported here.

pub mod batch;
pub mod cursor;
pub mod input;
pub mod list;
pub mod lookup;
pub mod personal;
pub mod phone;
pub mod projection;
pub mod upsert;

pub use batch::*;
pub use input::{CustomerInput, MarketingInput, Patch};
pub use list::*;
pub use lookup::*;
pub use personal::{Indexes, Personal};
pub use phone::{PhoneChange, change_phone};
pub use projection::Projection;
pub use upsert::*;
