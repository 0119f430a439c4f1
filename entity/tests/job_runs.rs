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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_api_run_of_a_job_per_restaurant_at_a_time_across_racing_callers() {
    use entity::entities::job_run;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    for fresh in support::databases("job_runs_manual").await {
        let db = &fresh.db;
        let vault = entity::vault::Vault::detached();
        let (a, b) = (Scope::new("a", "test", vault.clone()), Scope::new("b", "test", vault));
        let mut racing = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (db, a) = (db.clone(), a.clone());
            racing.spawn(async move { job_runs::start(&db, &a, "model-fit", RunTrigger::Api, false, None).await });
        }
        let results = racing.join_all().await;
        let started: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(started.len(), 1, "{}: exactly one of eight racing runs starts", fresh.name);
        let first = started[0].clone().expect("an API run starts");
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(matches!(refused, entity::DomainError::InvalidState { .. }), "{refused:?}");
            assert!(refused.to_string().contains(&format!("job model-fit is already running for this restaurant (run {}", first.id)), "{refused}");
        }
        assert!(job_runs::start(db, &a, "model-fit", RunTrigger::Api, true, None).await.is_err(), "a dry run waits its turn too");
        assert!(job_runs::start(db, &a, "model-fit", RunTrigger::Cli, false, None).await.is_ok(), "the operator's CLI is not limited");
        assert!(job_runs::start(db, &b, "model-fit", RunTrigger::Api, false, None).await.is_ok(), "another restaurant runs its own");
        assert!(job_runs::start(db, &a, "dormancy", RunTrigger::Api, false, None).await.is_ok(), "another job runs");
        let slot = Some(entity::ops::now());
        assert!(job_runs::start(db, &a, "model-fit", RunTrigger::Schedule, false, slot).await.unwrap().is_some(), "the schedule keeps its slot");

        job_runs::finish(db, first, Ok(serde_json::json!({}))).await.unwrap();
        let second = job_runs::start(db, &a, "model-fit", RunTrigger::Api, false, None).await.expect("free once the first finished").unwrap();
        let mut stale: job_run::ActiveModel = second.clone().into();
        stale.heartbeat_at = Set(Some(entity::ops::now() - chrono::Duration::seconds(job_runs::STALE_RUN_SECS + 1)));
        stale.update(db).await.unwrap();
        let third = job_runs::start(db, &a, "model-fit", RunTrigger::Api, false, None).await.expect("a run whose replica died frees the job").unwrap();
        let runs = job_runs::recent(db, &a, Some("model-fit"), 10).await.unwrap();
        let outcome = |id| runs.iter().find(|r| r.id == id).map(|r| r.outcome);
        assert_eq!((outcome(second.id), outcome(third.id)), (Some(RunOutcome::Abandoned), Some(RunOutcome::Running)), "{}", fresh.name);
        fresh.close().await;
    }
}
