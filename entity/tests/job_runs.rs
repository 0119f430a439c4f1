//! Job runs: a scheduled slot runs once per restaurant across replicas, and a slot whose
//! replica died is taken again.

mod support;

use entity::Scope;
use entity::entities::{RunOutcome, RunTrigger};
use entity::ops::job_runs;

#[tokio::test]
async fn a_scheduled_slot_runs_once_per_restaurant_and_an_abandoned_one_is_taken_again() {
    for fresh in support::databases("job_runs").await {
        let db = &fresh.db;
        let vault = entity::vault::Vault::detached();
        let (a, b) = (Scope::new("a", "test", vault.clone()), Scope::new("b", "test", vault));
        let slot = Some(entity::ops::now());
        let first = job_runs::start(db, &a, "birthday", RunTrigger::Schedule, false, slot).await.unwrap();
        assert!(first.is_some(), "{}", fresh.name);
        assert!(job_runs::start(db, &a, "birthday", RunTrigger::Schedule, false, slot).await.unwrap().is_none(), "a second replica finds the slot taken");
        assert!(job_runs::start(db, &b, "birthday", RunTrigger::Schedule, false, slot).await.unwrap().is_some(), "each restaurant has its own slot");
        assert!(job_runs::start(db, &a, "dormancy", RunTrigger::Schedule, false, slot).await.unwrap().is_some(), "other jobs have their own slots");
        assert!(job_runs::start(db, &a, "birthday", RunTrigger::Cli, false, None).await.unwrap().is_some(), "manual runs always start");

        let later = entity::ops::now() + chrono::Duration::seconds(91);
        assert_eq!(job_runs::abandon_stale(db, later).await.unwrap(), 4, "every running run's heartbeat is older");
        let again = job_runs::start(db, &a, "birthday", RunTrigger::Schedule, false, slot).await.unwrap().expect("the abandoned slot is free");
        assert_eq!((again.id, again.outcome, again.trigger), (first.as_ref().unwrap().id, RunOutcome::Running, RunTrigger::CatchUp));
        assert!(job_runs::start(db, &a, "birthday", RunTrigger::Schedule, false, slot).await.unwrap().is_none(), "taken once");
        let done = job_runs::finish(db, again, Ok(serde_json::json!({ "sent": 3 }))).await.unwrap();
        assert_eq!(done.outcome, RunOutcome::Succeeded);
        assert_eq!(done.counts["sent"], 3);
        assert_eq!(job_runs::recent(db, &a, Some("birthday"), 10).await.unwrap().len(), 2);
        assert_eq!(job_runs::recent(db, &b, None, 10).await.unwrap().len(), 1, "b sees only its own runs");
        fresh.close().await;
    }
}
