//! Every fenced `sh` block of README.md and docs/*.md runs, as a reader pastes it: a page is
//! one shell session (its blocks in order, `set -e`), in a scratch folder holding the
//! examples, with only a POSIX shell, poolform and workspace-sim on the PATH. A block that
//! cannot run here is marked `no-run (reason)`.

use crate::harness::*;

/// The runnable blocks of a page, and the pages' `no-run` blocks checked for a reason.
fn blocks(page: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```sh") else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        let info = info.trim();
        if let Some(reason) = info.strip_prefix("no-run") {
            let reason = reason.trim();
            assert!(
                reason.starts_with('(') && reason.ends_with(')') && reason.len() > 2,
                "{page}: a no-run block says why, in parentheses: {line}"
            );
            continue;
        }
        assert!(info.is_empty(), "{page}: unknown block info {info:?}");
        out.push(body.join("\n"));
    }
    out
}

fn pages() -> Vec<std::path::PathBuf> {
    let mut pages = vec![repo_file("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(repo_file("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

#[test]
fn every_sh_block_of_the_readme_and_the_guide_runs_against_the_simulator() {
    let bin = sim_binary().parent().unwrap().display().to_string();
    let mut ran = 0;
    for page in pages() {
        let name = page.display().to_string();
        let runnable = blocks(&name, &std::fs::read_to_string(&page).unwrap());
        if runnable.is_empty() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("examples")).unwrap();
        for f in [
            "pools.yaml",
            "sim-pools.json",
            "projects.yaml",
            "sim-projects.json",
            "terraform.tfstate",
        ] {
            std::fs::copy(
                repo_file(&format!("examples/{f}")),
                dir.path().join("examples").join(f),
            )
            .unwrap();
        }
        let script = format!("set -e\n{}\n", runnable.join("\n"));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", format!("{bin}:/usr/bin:/bin"))
            .env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .env("WORKSPACE_SIM_EXIT_AFTER", "90s")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        ran += runnable.len();
        let _ = name;
    }
    assert!(ran >= 10, "{ran} blocks ran");
}
