//! Terraform state files for a run: the config's `keep_terraform_state` (globs found relative
//! to the config file's folder, and inside it: no symlink leads out) and the operator's
//! `--terraform-state` files (`-` for standard input), each read within 64 MiB, hashed, and
//! parsed into the pools it keeps. Any file that cannot be read whole is refused, never
//! skipped.

use crate::api::StopSignal;
use crate::cli::files::read_input;
use crate::core::config::{Config, StatePath};
use crate::core::escape::visible;
use crate::core::plan::StateDigest;
use crate::core::tfstate::{self, Managed, StateKeeps};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One state file read: how it is named, its SHA-256, the pools it keeps.
#[derive(Debug)]
pub struct StateFile {
    pub name: String,
    pub sha256: String,
    pub keeps: Arc<StateKeeps>,
}

/// The states of a run: those of every project (the file's `keep_terraform_state` and the
/// `--terraform-state` files), and each `projects:` entry's own.
#[derive(Debug, Default)]
pub struct States {
    shared: Vec<StateFile>,
    own: Vec<Vec<StateFile>>,
}

impl States {
    /// The pools kept in the project of `projects[entry]` (`None`: a file of one project).
    pub fn managed_for(&self, entry: Option<usize>) -> Arc<Managed> {
        let mut managed = Managed::default();
        let own = entry
            .and_then(|i| self.own.get(i))
            .map_or(&[][..], Vec::as_slice);
        for f in self.shared.iter().chain(own) {
            managed.add(f.keeps.clone());
        }
        Arc::new(managed)
    }

    /// Every state file read, by name and SHA-256 (what a saved plan is bound to).
    pub fn digests(&self) -> Vec<StateDigest> {
        let mut out: Vec<StateDigest> = self
            .shared
            .iter()
            .chain(self.own.iter().flatten())
            .map(|f| StateDigest {
                file: f.name.clone(),
                sha256: f.sha256.clone(),
            })
            .collect();
        out.sort_by(|a, b| (&a.sha256, &a.file).cmp(&(&b.sha256, &b.file)));
        out
    }
}

/// The folder state paths are relative to: that of the config file `source`. None for
/// standard input.
fn folder_of(source: &str) -> Option<PathBuf> {
    if source == "<stdin>" || source == "-" {
        return None;
    }
    let parent = Path::new(source).parent().unwrap_or(Path::new("."));
    Some(if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent.to_path_buf()
    })
}

/// Every `keep_terraform_state` of the config (the file's, then each project's).
fn patterns(config: &Config) -> impl Iterator<Item = &StatePath> {
    config.keep_terraform_state.iter().chain(
        config
            .projects
            .iter()
            .flat_map(|p| p.keep_terraform_state.iter()),
    )
}

/// The files `pattern` names in `folder`, each a regular file inside it; `must_match`: a glob
/// that names nothing is refused.
fn expand(
    folder: &Path,
    pattern: &StatePath,
    source: &str,
    must_match: bool,
) -> Result<Vec<PathBuf>> {
    let what = || {
        format!(
            "keep_terraform_state {:?} in {}",
            visible(pattern.as_str()),
            visible(source)
        )
    };
    let base = folder
        .canonicalize()
        .with_context(|| format!("{}: cannot read the config file's folder", what()))?;
    let full = format!(
        "{}/{}",
        glob::Pattern::escape(&folder.display().to_string()),
        pattern.as_str()
    );
    let mut out = Vec::new();
    for entry in glob::glob(&full).with_context(what)? {
        let path = entry.with_context(what)?;
        let real = path
            .canonicalize()
            .with_context(|| format!("{}: {}", what(), path.display()))?;
        if !real.starts_with(&base) {
            bail!(
                "{}: {} leads out of the config file's folder (a symlink to {}); state files must be inside it",
                what(),
                visible(&path.display().to_string()),
                visible(&real.display().to_string())
            );
        }
        if !std::fs::metadata(&real).is_ok_and(|m| m.is_file()) {
            bail!(
                "{}: {} is not a regular file",
                what(),
                visible(&path.display().to_string())
            );
        }
        out.push(path);
    }
    if out.is_empty() && must_match {
        bail!(
            "{} matches no file in {}; a state that is not there would keep nothing, so nothing was planned (fetch the state first, or pass it with --terraform-state)",
            what(),
            visible(&folder.display().to_string())
        );
    }
    out.sort();
    Ok(out)
}

/// Checks, offline, that each `keep_terraform_state` can be read: a config read from standard
/// input has no folder; a file a glob names today must be a regular file inside the folder (a
/// glob that names nothing yet is not refused here: CI may fetch the state later).
pub fn check_paths(config: &Config, source: &str) -> Result<()> {
    if patterns(config).next().is_none() {
        return Ok(());
    }
    let Some(folder) = folder_of(source) else {
        bail!("keep_terraform_state names files relative to the config file's folder, and a config read from standard input has none: pass the states with --terraform-state FILE instead");
    };
    for pattern in patterns(config) {
        expand(&folder, pattern, source, false)?;
    }
    Ok(())
}

/// Reads one state file (`-`: standard input) and the pools it manages.
async fn read_state(path: &Path, stop: &StopSignal) -> Result<StateFile> {
    let input = read_input(path, tfstate::MAX_STATE_BYTES, stop)
        .await
        .with_context(|| format!("terraform state {}", visible(&path.display().to_string())))?;
    let pools = tfstate::managed_pools(input.text.as_bytes()).map_err(|e| {
        anyhow::anyhow!(
            "terraform state {}: {e}; nothing was planned",
            visible(&input.name)
        )
    })?;
    Ok(StateFile {
        keeps: Arc::new(StateKeeps::of(&input.name, &pools)),
        name: input.name,
        sha256: input.sha256,
    })
}

/// Reads the `--terraform-state` files (`import`, which has no config): the pools they keep.
pub async fn read_flags(flags: &[PathBuf], stop: &StopSignal) -> Result<Managed> {
    if flags.iter().filter(|f| *f == Path::new("-")).count() > 1 {
        bail!("--terraform-state - is given twice; standard input can be read once");
    }
    let mut managed = Managed::default();
    for flag in flags {
        managed.add(read_state(flag, stop).await?.keeps);
    }
    Ok(managed)
}

/// `state` as a path relative to the folder of `out` (the file being written), when it lies
/// inside that folder; `None` otherwise (standard input, or elsewhere).
pub fn relative_to_output(state: &Path, out: &Path) -> Option<String> {
    if state == Path::new("-") {
        return None;
    }
    let folder = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let folder = folder.canonicalize().ok()?;
    let state = state.canonicalize().ok()?;
    let rel = state.strip_prefix(&folder).ok()?;
    let text = rel.to_str()?.replace('\\', "/");
    StatePath::parse(&text).ok().map(|_| text)
}

/// Reads every state of a run: the config's (relative to its folder) and `flags`.
pub async fn load(
    config: &Config,
    source: &str,
    flags: &[PathBuf],
    stop: &StopSignal,
) -> Result<States> {
    let stdin_config = folder_of(source).is_none();
    if stdin_config && flags.iter().any(|f| f == Path::new("-")) {
        bail!("--terraform-state - reads standard input, which already holds the config (-f -); name the state file instead");
    }
    if flags.iter().filter(|f| *f == Path::new("-")).count() > 1 {
        bail!("--terraform-state - is given twice; standard input can be read once");
    }
    let mut states = States::default();
    if patterns(config).next().is_some() {
        let Some(folder) = folder_of(source) else {
            bail!("keep_terraform_state names files relative to the config file's folder, and a config read from standard input has none: pass the states with --terraform-state FILE instead");
        };
        for pattern in &config.keep_terraform_state {
            for path in expand(&folder, pattern, source, true)? {
                states.shared.push(read_state(&path, stop).await?);
            }
        }
        for entry in &config.projects {
            let mut own = Vec::new();
            for pattern in &entry.keep_terraform_state {
                for path in expand(&folder, pattern, source, true)? {
                    own.push(read_state(&path, stop).await?);
                }
            }
            states.own.push(own);
        }
    }
    for flag in flags {
        states.shared.push(read_state(flag, stop).await?);
    }
    Ok(states)
}
