//! Pure business rules of the loyalty program: no database, small and unit-tested.

pub mod audience;
pub mod contact;
pub mod content;
pub mod erasure;
pub mod expiry;
pub mod import;
pub mod inputs;
pub mod locale;
pub mod money;
pub mod occasions;
pub mod orders;
pub mod paging;
pub mod predict;
pub mod programme;
pub mod referral;
pub mod refunds;
pub mod restaurant;
pub mod rewards;
pub mod schedule;
pub mod segments;
pub mod series;
pub mod status;
pub mod tags;
pub mod tier;
pub mod visits;
pub mod webhooks;
