//! The applier in-process against the simulator, for what the binary's defaults cannot reach:
//! a step that gives up after unanswered attempts reports the pool's real state.

use crate::harness::*;
use poolform::api::{ClientOptions, Deleter};
use poolform::apply::{self, ApplyOptions, Work};
use poolform::core::model::ProjectId;
use poolform::core::planner::{self, PlanContext};
use poolform::core::report::Outcome;
use poolform::core::retry::RetryPolicy;
use serde_json::json;
use workspace_sim::faults::Fate;
use workspace_sim::{Faults, SimServer};

/// The rules of a file of one project, `t.yaml`.
fn rules_of(text: &str) -> poolform::core::rules::Rules {
    let config = poolform::core::config::parse(text, "t.yaml").unwrap();
    poolform::core::projects::the_one(&config).unwrap().rules
}

/// Every call, reads included, is tried once.
fn one_attempt() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    }
}

async fn apply_all(
    sim: &SimServer,
    options: ClientOptions,
) -> poolform::core::report::ProjectReport {
    let c = token_client(sim, TOKEN, options);
    let config = rules_of("version: 1\nscope: {name_prefix: ci-}\n");
    let live = c.list_pools(&Default::default()).await.unwrap();
    let ctx = PlanContext {
        label: None,
        project_id: ProjectId::parse(PROJECT).unwrap(),
        endpoint: sim.url(),
        identity: token_identity(),
    };
    let plan = planner::plan(&config, &live, &ctx).unwrap();
    let authorized =
        poolform::core::authorize::authorize(&plan, "the plan", &config, "t.yaml", &live).unwrap();
    let work = Work::new(
        authorized.steps,
        apply::Judge::new(config.clone(), "t.yaml"),
    );
    apply::apply(
        &Deleter::new(c.clone()),
        work,
        &ApplyOptions::default(),
        std::sync::Arc::new(apply::Unobserved),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giving_up_after_an_applied_but_unanswered_delete_reports_already_absent() {
    let mut cfg = config(fixture(json!([{"id": "p-1", "name": "ci-a"}])));
    cfg.faults = Faults {
        lost_delete_rate: 1.0,
        ..Faults::default()
    };
    let sim = start(cfg).await;
    let report = apply_all(&sim, one_attempt()).await;
    let r = &report.results[0];
    assert_eq!(
        (r.outcome, r.attempts),
        (Outcome::AlreadyAbsent, 1),
        "{r:?}"
    );
    assert!(r
        .detail
        .as_deref()
        .unwrap()
        .contains("an unanswered attempt was applied: the pool is gone"));
    assert!(sim.pool_ids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giving_up_after_an_unapplied_unanswered_delete_reports_failed_and_still_there() {
    let path = format!("/v2/{PROJECT}/desktop-pools/p-1");
    let list = format!("/v2/{PROJECT}/desktop-pools");
    let drop_rate = 0.5;
    // A seed under which the listing and the check are served and the DELETE is dropped.
    let seed = (0..10_000)
        .find(|seed| {
            let f = Faults {
                seed: *seed,
                drop_rate,
                ..Faults::default()
            };
            f.fate("GET", &list, 0) == Fate::Serve
                && f.fate("DELETE", &path, 0) == Fate::Drop
                && f.fate("GET", &path, 0) == Fate::Serve
        })
        .unwrap();
    let mut cfg = config(fixture(json!([{"id": "p-1", "name": "ci-a"}])));
    cfg.faults = Faults {
        seed,
        drop_rate,
        ..Faults::default()
    };
    let sim = start(cfg).await;
    let report = apply_all(&sim, one_attempt()).await;
    let r = &report.results[0];
    assert_eq!((r.outcome, r.attempts), (Outcome::Failed, 1), "{r:?}");
    assert!(
        r.detail
            .as_deref()
            .unwrap()
            .contains("the pool still exists"),
        "{r:?}"
    );
    assert!(r
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("connection lost before an answer"));
    assert_eq!(sim.pool_ids(), ["p-1"]);
}

/// A re-try of a blocked pool starts a fresh retry budget: one 503 after the earlier 409 is
/// retried, not taken for the last of the attempts already spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_waiting_gets_a_fresh_attempt_count() {
    let path = format!("/v2/{PROJECT}/desktop-pools/p-1");
    let error_rate = 0.5;
    // A seed under which the first DELETE is served (and refused: desktops), the second
    // answered 5xx, the third served.
    let seed = (0..100_000)
        .find(|seed| {
            let f = Faults {
                seed: *seed,
                error_rate,
                ..Faults::default()
            };
            f.fate("DELETE", &path, 0) == Fate::Serve
                && matches!(f.fate("DELETE", &path, 1), Fate::Fail(_))
                && f.fate("DELETE", &path, 2) == Fate::Serve
        })
        .unwrap();
    let mut cfg = config(fixture(
        json!([{"id": "p-1", "name": "ci-a", "desktop_count": 1}]),
    ));
    cfg.faults = Faults {
        seed,
        error_rate,
        ..Faults::default()
    };
    let sim = start(cfg).await;
    // Two attempts per call: reads get many more chances through the same faults.
    let c = token_client(
        &sim,
        TOKEN,
        ClientOptions {
            retry: RetryPolicy {
                max_attempts: 2,
                base_delay: std::time::Duration::from_millis(10),
                ..RetryPolicy::default()
            },
            ..ClientOptions::default()
        },
    );
    let config = rules_of("version: 1\nscope: {name_prefix: ci-}\n");
    let live = loop {
        if let Ok(live) = c.list_pools(&Default::default()).await {
            break live;
        }
    };
    let ctx = PlanContext {
        label: None,
        project_id: ProjectId::parse(PROJECT).unwrap(),
        endpoint: sim.url(),
        identity: token_identity(),
    };
    let plan = planner::plan(&config, &live, &ctx).unwrap();
    let authorized =
        poolform::core::authorize::authorize(&plan, "the plan", &config, "t.yaml", &live).unwrap();
    let work = Work::new(
        authorized.steps,
        apply::Judge::new(config.clone(), "t.yaml"),
    );
    let options = ApplyOptions {
        wait_blocked: Some(std::time::Duration::from_secs(30)),
        wait_poll: std::time::Duration::from_millis(50),
        verify_poll: std::time::Duration::from_millis(50),
        ..ApplyOptions::default()
    };
    let running = tokio::spawn(async move {
        apply::apply(
            &Deleter::new(c),
            work,
            &options,
            std::sync::Arc::new(apply::Unobserved),
        )
        .await
    });
    // Once the refusal has been explained (its desktops listed), the desktops go.
    while sim.snapshot()["requests"]["desktops"].as_u64().unwrap_or(0) < 1 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(sim.set_desktops("p-1", 0));
    let report = running.await.unwrap();
    let r = &report.results[0];
    assert_eq!((r.outcome, r.attempts), (Outcome::Deleted, 3), "{r:?}");
    assert!(r.verified, "{r:?}");
    assert!(sim.pool_ids().is_empty());
}
