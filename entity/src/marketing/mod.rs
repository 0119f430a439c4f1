//! Marketing, in one place: what kinds of email there are ([`kinds`]), who they go to
//! ([`audience`]), the built-in automations ([`automations`]) and the marketer's own campaigns
//! ([`campaigns`]) with their sends ([`sends`]) and figures ([`figures`]), the outbox every email is written to and
//! sent from ([`outbox`]), and a marketer's export of an audience ([`export`]).

pub mod audience;
pub mod automations;
pub mod builtins;
pub mod campaigns;
pub mod export;
pub mod figures;
pub mod former_wording;
pub mod kinds;
pub mod outbox;
pub mod sends;
