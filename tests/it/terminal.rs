//! poolform on a real terminal (a pseudo-terminal, read through a terminal emulator): the
//! prompt accepts only `yes`, a plan that changed while the prompt waited is not applied,
//! Ctrl-C at the prompt sends nothing, a slow listing shows a spinner, and wide (CJK) names
//! keep the columns aligned.

use crate::harness::terminal::Terminal;
use crate::harness::*;
use serde_json::json;
use std::time::{Duration, Instant};
use workspace_sim::{Faults, SimServer};

/// `poolform apply` of the example on a terminal: the answer typed at the prompt, `before`
/// done first; the exit code and everything the terminal showed.
fn apply_on_a_terminal(sim: &SimServer, answer: &str, before: impl FnOnce()) -> (i32, String) {
    let mut term = apply_at_prompt(sim, &example_config());
    before();
    term.type_keys(&format!("{answer}\n"));
    term.finish()
}

#[test]
fn the_prompt_accepts_only_yes() {
    let sim = example_sim();
    let (code, screen) = apply_on_a_terminal(&sim, "y", || {});
    assert!(screen.contains("Only 'yes' will be accepted:"), "{screen}");
    assert!(
        screen.contains("Apply cancelled; nothing was sent."),
        "{screen}"
    );
    assert_eq!(code, 1);
    assert_eq!(sim.delete_requests(), 0);
    let (code, screen) = apply_on_a_terminal(&sim, "yes", || {});
    assert!(
        screen.contains("Apply complete: 2 deleted, 0 already absent, 1 blocked, 0 failed."),
        "{screen}"
    );
    assert_eq!(code, 2);
    assert_eq!(
        deletes_sent(&sim),
        set(&[ids::OLD_BUILD, ids::TMP_LOAD, ids::TRAINING])
    );
}

#[test]
fn a_plan_that_changed_while_the_prompt_waited_is_not_applied() {
    let sim = example_sim();
    let (code, screen) = apply_on_a_terminal(&sim, "yes", || {
        // someone starts using the pool while the plan is being read
        assert!(sim.set_desktops(ids::OLD_BUILD, 1));
    });
    assert!(
        screen.contains("- planned desktop_count: 0")
            && screen.contains("+ live    desktop_count: 1"),
        "{screen}"
    );
    assert!(
        screen.contains(
            "the plan shown above is stale or no longer called for: 1 of its pools changed"
        ),
        "{screen}"
    );
    assert_eq!(code, 1);
    assert_eq!(sim.delete_requests(), 0);
}

/// The interactive path: a pool tagged into a protect rule while the prompt waited is not
/// deleted, nor is anything else.
#[test]
fn a_pool_protected_while_the_prompt_waited_refuses_the_plan() {
    let sim = example_sim();
    let (code, screen) = apply_on_a_terminal(&sim, "yes", || {
        let mut tag = serde_json::Map::new();
        tag.insert("tags".into(), json!([{"key": "env", "value": "prod"}]));
        sim.patch_pool(ids::OLD_BUILD, tag);
    });
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains("the plan shown above is stale or no longer called for")
            && screen.contains("it is now protected by tag env=prod"),
        "{screen}"
    );
    assert!(deletes_sent(&sim).is_empty());
}

#[test]
fn ctrl_c_at_the_prompt_exits_at_once_with_130_and_sends_nothing() {
    let sim = example_sim();
    let mut term = apply_at_prompt(&sim, &example_config());
    // Ctrl-C on the terminal; no Enter is ever typed.
    term.type_keys("\x03");
    let typed = Instant::now();
    let (code, screen) = term.finish();
    assert!(
        typed.elapsed() < Duration::from_secs(20),
        "still waiting at the prompt after Ctrl-C"
    );
    assert_eq!(code, 130, "{screen}");
    assert!(screen.contains("Cancelled; nothing was sent."), "{screen}");
    assert!(
        !screen.contains("waiting for"),
        "nothing is in flight at the prompt: {screen}"
    );
    assert_eq!(sim.delete_requests(), 0);
}

/// `poolform plan --endpoint SIM -f scope` on a wide terminal.
fn plan_on_a_terminal(sim: &SimServer, scope: &std::path::Path) -> Terminal {
    plan_on_a_terminal_of(sim, scope, 220)
}

fn plan_on_a_terminal_of(sim: &SimServer, scope: &std::path::Path, cols: u16) -> Terminal {
    Terminal::poolform(
        &[
            "plan",
            "--endpoint",
            &sim.url(),
            "-f",
            scope.to_str().unwrap(),
        ],
        &[],
        cols,
        50,
    )
}

#[test]
fn a_slow_listing_shows_a_spinner_on_a_terminal_within_2_s() {
    let sim = generated_sim(3, |c| {
        c.faults = Faults {
            latency: Duration::from_secs(4),
            ..Faults::default()
        };
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let mut term = plan_on_a_terminal(&sim, &scope);
    wait_for("the listing request", || sim.api_requests() >= 1);
    let asked = Instant::now();
    term.wait_for("spinner", |s| {
        s.contains("Listing pools: 0 pages and 0 pools read")
    });
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "the spinner came after {:?}",
        asked.elapsed()
    );
    assert!(!term.exited(), "still listing");
    let done = term.wait_for("the plan", |s| s.contains("Plan: 3 to delete"));
    assert!(
        !done.contains("Listing pools:"),
        "the spinner is cleared once the listing ends:\n{done}"
    );
    assert_eq!(term.finish().0, 0);
}

#[test]
fn cjk_pool_names_keep_the_columns_aligned_on_a_terminal() {
    let sim = sim_of(json!([
        {"id": "c0000000-0000-4000-8000-000000000001", "name": "ci-桌面池-财务"},
        {"id": "c0000000-0000-4000-8000-000000000002", "name": "ci-plain-name"},
        {"id": "c0000000-0000-4000-8000-000000000003", "name": "ci-デスクトップ", "desktop_count": 1},
        {"id": "c0000000-0000-4000-8000-000000000004", "name": "ci-x"},
    ]));
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let term = plan_on_a_terminal(&sim, &scope);
    let screen = term.wait_for("the plan", |s| s.contains("Plan: 4 to delete"));
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("c0000000-0000-4000-8000-00000000000"))
        .collect();
    assert_eq!(rows.len(), 4, "{screen}");
    let columns = |needle: &dyn Fn(&str) -> Option<usize>| -> Vec<usize> {
        rows.iter()
            .map(|r| {
                let at = needle(r).unwrap_or_else(|| panic!("{r}"));
                unicode_width::UnicodeWidthStr::width(&r[..at])
            })
            .collect()
    };
    let ids = columns(&|r| r.find("c0000000-"));
    assert!(
        ids.iter().all(|c| *c == ids[0]),
        "the id column starts at display columns {ids:?}:\n{screen}"
    );
    // Why, under each head, indented alike.
    let why: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("DYNAMIC · "))
        .collect();
    assert_eq!(why.len(), 4, "{screen}");
    assert!(
        why.iter().all(|l| l.starts_with("      DYNAMIC · ")),
        "{screen}"
    );
    assert!(screen.contains("1 desktop:"), "singular: {screen}");
    assert!(
        screen.contains("likely blocked: 1 desktop remains"),
        "{screen}"
    );
}

#[test]
fn human_output_fits_80_columns_cutting_names_only_beside_their_id() {
    let long = "ci-finance-reporting-2023-quarterly-archive-pool-for-auditors";
    let sim = sim_of(json!([
        {"id": "c0000000-0000-4000-8000-000000000001", "name": long, "desktop_count": 12},
        {"id": "c0000000-0000-4000-8000-000000000002", "name": "ci-x"},
        {"id": "c0000000-0000-4000-8000-000000000003", "name": "ci-kept-name-that-is-rather-long-too-yes"},
    ]));
    let dir = tempfile::tempdir().unwrap();
    // A near match: its live name is shown whole, never cut.
    let scope = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: ci-}\npools: [{name: CI-Kept-Name-That-Is-Rather-Long-Too-Yes}]\n",
    );
    let term = plan_on_a_terminal_of(&sim, &scope, 80);
    let screen = term.wait_for("the plan", |s| s.contains("Plan: 2 to delete"));
    for line in screen.lines() {
        assert!(
            unicode_width::UnicodeWidthStr::width(line) <= 80,
            "wider than 80 columns: {line:?}\n{screen}"
        );
    }
    assert!(!screen.contains(long), "cut beside its id:\n{screen}");
    assert!(
        screen.contains("…  c0000000-0000-4000-8000-000000000001"),
        "{screen}"
    );
    assert!(
        screen.contains("  ≈ ci-kept-name-that-is-rather-long-too-yes"),
        "a near match is never cut:\n{screen}"
    );
    assert!(
        screen.contains("likely blocked:\n      12 desktops remain"),
        "details are wrapped and indented under their pool:\n{screen}"
    );
}
