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

/// Runs `runnable` blocks as one shell session (`set -e`) in a scratch folder holding the
/// examples, with only a POSIX shell, poolform and workspace-sim on the PATH.
fn run_session(runnable: &[String]) -> (std::process::Output, tempfile::TempDir) {
    let bin = sim_binary().parent().unwrap().display().to_string();
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
    (out, dir)
}

#[test]
fn every_sh_block_of_the_readme_and_the_guide_runs_against_the_simulator() {
    let mut ran = 0;
    for page in pages() {
        let name = page.display().to_string();
        let runnable = blocks(&name, &std::fs::read_to_string(&page).unwrap());
        if runnable.is_empty() {
            continue;
        }
        let (out, _dir) = run_session(&runnable);
        assert_exit(&out, 0);
        ran += runnable.len();
    }
    assert!(ran >= 10, "{ran} blocks ran");
}

/// The chapters in the order the README's guide lists them.
fn guide_order() -> Vec<std::path::PathBuf> {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let guide = &readme[readme.find("## The guide").unwrap()..];
    let guide = &guide[..guide[3..].find("\n## ").map_or(guide.len(), |i| i + 3)];
    let mut out = Vec::new();
    for line in guide.lines() {
        if let Some(at) = line.find("](docs/") {
            let rest = &line[at + 2..];
            let end = rest.find(')').unwrap();
            out.push(repo_file(&rest[..end]));
        }
    }
    out
}

/// As a reader does: the README, then every chapter in the guide's order, pasted into one
/// shell; each chapter sets up what it needs and clears what it does not.
#[test]
fn the_readme_and_the_whole_guide_run_in_one_shell_in_order() {
    let order = guide_order();
    assert!(order.len() >= 10, "{order:?}");
    let mut runnable = blocks(
        "README.md",
        &std::fs::read_to_string(repo_file("README.md")).unwrap(),
    );
    for page in &order {
        let name = page.display().to_string();
        runnable.push(format!("echo '### {name}'"));
        runnable.extend(blocks(&name, &std::fs::read_to_string(page).unwrap()));
    }
    let (out, dir) = run_session(&runnable);
    assert_exit(&out, 0);
    // It leaves a clone clean: the examples as they were, and every file it wrote ignored.
    let ignored: Vec<String> = std::fs::read_to_string(repo_file(".gitignore"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('/'))
        .map(|l| l.trim_start_matches('/').to_owned())
        .collect();
    let mut stray = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "examples" {
            for e in std::fs::read_dir(entry.path()).unwrap() {
                let e = e.unwrap();
                let ours = repo_file(&format!("examples/{}", e.file_name().to_string_lossy()));
                if std::fs::read(e.path()).ok() != std::fs::read(&ours).ok() {
                    stray.push(format!(
                        "examples/{} (changed or new)",
                        e.file_name().to_string_lossy()
                    ));
                }
            }
        } else if !ignored.contains(&name) {
            stray.push(name);
        }
    }
    assert!(
        stray.is_empty(),
        "the guide writes files a clone does not ignore: {stray:?}"
    );
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces
/// as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's headings (outside code blocks), with GitHub's `-1`, `-2` for
/// repeats.
fn anchors(text: &str) -> std::collections::HashSet<String> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = std::collections::HashSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let base = slug(line.trim_start_matches('#'));
        let n = seen.entry(base.clone()).or_default();
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// Every relative link of a page (outside code blocks): `](path#anchor)`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let Some(end) = tail.find(')') else { break };
            let target = &tail[..end];
            if !target.starts_with("http") && !target.starts_with("mailto:") {
                out.push(target.to_owned());
            }
            rest = &tail[end..];
        }
    }
    out
}

#[test]
fn every_relative_link_and_anchor_of_the_readme_and_the_guide_exists() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap();
        for link in links(&text) {
            let (path, anchor) = match link.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() {
                page.clone()
            } else {
                dir.join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", page.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&text).contains(anchor) {
                    broken.push(format!("{}: {link} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Names that look like environment variables (`HW_…`, `HUAWEICLOUD_…`, `HCLOUD_…`,
/// `POOLFORM_…`) in `text`.
fn variables(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for word in text.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')) {
        if ["HW_", "HUAWEICLOUD_", "HCLOUD_", "POOLFORM_"]
            .iter()
            .any(|p| word.starts_with(p))
            && !word.ends_with('_')
        {
            out.insert(word.to_owned());
        }
    }
    out
}

#[test]
fn every_variable_the_docs_name_is_read_and_the_reference_lists_every_one_read() {
    let mut code = String::new();
    for dir in [
        "src",
        "src/api",
        "src/cli",
        "src/cli/commands",
        "src/core",
        "src/apply",
    ] {
        for entry in std::fs::read_dir(repo_file(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                code.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let read = variables(&code);
    // What the CI examples and the installer read, and the CI secrets the docs name.
    let mut others = String::new();
    for f in [
        "install.sh",
        "action.yml",
        "examples/ci/github-actions.yml",
        "examples/ci/github-announcements.yml",
        "examples/ci/gitlab-ci.yml",
    ] {
        others.push_str(&std::fs::read_to_string(repo_file(f)).unwrap());
    }
    let elsewhere = variables(&others);
    let mut unknown = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for name in variables(&text) {
            if !read.contains(&name) && !elsewhere.contains(&name) {
                unknown.push(format!("{}: {name}", page.display()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "named but read by nothing:\n{}",
        unknown.join("\n")
    );
    let reference = std::fs::read_to_string(repo_file("docs/reference.md")).unwrap();
    let listed = &reference[reference.find("## Environment variables").unwrap()..];
    let missing: Vec<&String> = read
        .iter()
        .filter(|v| !listed.contains(&format!("`{v}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "the reference does not list: {missing:?}"
    );
}
