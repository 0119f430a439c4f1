//! Scheduled jobs of the loyalty program (dormancy tagging, birthday, anniversary and win-back
//! campaigns). The scheduler, the mailer and the jobs arrive with the jobs issue; the rules they
//! apply already live in `entity::rules` so the API and the jobs share them.
