//! The caps on what a run deletes, checked on what it is about to delete, at `plan` and at
//! every `apply` (fresh or saved): the file's `max_deletes` (or `--max-deletes` in its place)
//! over the whole run and in each project, and a project's own lower one. A plan over the cap
//! is shown in full, then refused.

use crate::core::config::Config;
use crate::core::plan::Plan;

/// The file's cap: `--max-deletes`, else `max_deletes` at the top of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileCap {
    pub max: u32,
    pub from_flag: bool,
}

impl FileCap {
    /// `--max-deletes` (`flag`) in place of the config's `max_deletes`.
    pub fn of(config: Option<u32>, flag: Option<u32>) -> Option<FileCap> {
        flag.map(|max| FileCap {
            max,
            from_flag: true,
        })
        .or(config.map(|max| FileCap {
            max,
            from_flag: false,
        }))
    }

    fn named(self) -> &'static str {
        if self.from_flag {
            "--max-deletes"
        } else {
            "max_deletes in the config"
        }
    }
}

/// A plan that deletes more than a cap allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooManyDeletes {
    /// The one project of a run over the file's cap.
    #[error("refused: {what} deletes {count} pools, more than {named} allows ({max}); nothing was saved or deleted. If this is intended, pass --max-deletes {count}")]
    Project {
        what: String,
        count: usize,
        max: u32,
        named: &'static str,
    },
    /// A project of several over its limit: its own, or the file's.
    #[error("refused: {label} deletes {count} pools, more than its limit ({max}); nothing was saved or deleted. {next}")]
    OneOfSeveral {
        label: String,
        count: usize,
        max: u32,
        next: String,
    },
    /// Several projects over the file's cap together.
    #[error("refused: {what} deletes {count} pools in all, more than {named} allows for the whole file ({max}); nothing was saved or deleted. If this is intended, pass --max-deletes {count}")]
    Run {
        what: String,
        count: usize,
        max: u32,
        named: &'static str,
    },
}

/// Refuses `plan` (named `what` in messages: "the plan above") when it deletes more than
/// `config`'s caps allow (`--max-deletes`, the `flag`, in place of the file's).
pub fn check_config(
    plan: &Plan,
    what: &str,
    config: &Config,
    flag: Option<u32>,
) -> Result<(), TooManyDeletes> {
    let file = FileCap::of(config.max_deletes.map(|m| m.0), flag);
    let own = |label: &str| {
        config
            .projects
            .iter()
            .find(|e| e.label() == label)
            .and_then(|e| e.max_deletes.map(|m| m.0))
    };
    check(plan, what, file, own)
}

/// Refuses `plan` (named `what` in messages: "the plan above") when a project deletes more
/// than its limit (the file's cap, or its own lower one, given by `own`), or the whole plan
/// more than the file's cap.
pub fn check(
    plan: &Plan,
    what: &str,
    file: Option<FileCap>,
    own: impl Fn(&str) -> Option<u32>,
) -> Result<(), TooManyDeletes> {
    let several = plan.projects.len() > 1;
    for part in &plan.projects {
        let count = part.changes.len();
        let label = part.label.as_deref().unwrap_or_default();
        let own = part.label.as_deref().and_then(&own);
        // A project's own limit, when it is lower than the file's.
        let stricter = own.filter(|o| file.is_none_or(|f| *o < f.max));
        if let Some(max) = stricter.filter(|max| count > *max as usize) {
            return Err(TooManyDeletes::OneOfSeveral {
                label: label.to_owned(),
                count,
                max,
                next: "Its own max_deletes in the config sets that limit".to_owned(),
            });
        }
        // The file's cap holds in each of several projects too.
        if let Some(cap) = file.filter(|f| several && count > f.max as usize) {
            return Err(TooManyDeletes::OneOfSeveral {
                label: label.to_owned(),
                count,
                max: cap.max,
                next: format!("If this is intended, pass --max-deletes {count}"),
            });
        }
    }
    let count = plan.deletes();
    let Some(cap) = file.filter(|f| count > f.max as usize) else {
        return Ok(());
    };
    let (what, max, named) = (what.to_owned(), cap.max, cap.named());
    Err(if several {
        TooManyDeletes::Run {
            what,
            count,
            max,
            named,
        }
    } else {
        TooManyDeletes::Project {
            what,
            count,
            max,
            named,
        }
    })
}

/// One project's deletes against the live pools in its scope, for the percentage cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share<'a> {
    /// Its label, in a file with `projects:`.
    pub label: Option<&'a str>,
    pub deletes: usize,
    pub in_scope: usize,
}

/// Each project's share of a plan: its deletes against its live pools in scope.
pub fn shares(plan: &Plan) -> Vec<Share<'_>> {
    plan.projects
        .iter()
        .map(|p| Share {
            label: p.label.as_deref(),
            deletes: p.changes.len(),
            in_scope: p.in_scope,
        })
        .collect()
}

/// Why a plan deletes too large a share (the message names the cap and the next step).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TooLargeAShare(pub String);

/// The percentage cap: each project's deletes against its own live pools in scope (under its
/// own `max_deletes_percent`, else the file's), and the whole file's against all of them (under
/// the file's, or `--max-deletes-percent`, which replaces it). Exactly at the share is allowed.
pub fn check_share(
    shares: &[Share<'_>],
    what: &str,
    config: &Config,
    flag: Option<crate::core::config::Percent>,
) -> Result<(), TooLargeAShare> {
    let file = flag.or(config.max_deletes_percent);
    let named_file = if flag.is_some() {
        "--max-deletes-percent"
    } else {
        "max_deletes_percent in the config"
    };
    let refuse = |deletes: usize,
                  in_scope: usize,
                  whose: String,
                  cap: crate::core::config::Percent,
                  named: &str| {
        let needed = if in_scope == 0 {
            100.0
        } else {
            (deletes as f64 * 100.0 / in_scope as f64 * 100.0).ceil() / 100.0
        };
        TooLargeAShare(format!(
            "refused: {what} deletes {deletes} of the {in_scope} live pools in scope{whose}, more than {named} allows ({cap}); nothing was saved or deleted. If this is intended, pass --max-deletes-percent {needed}"
        ))
    };
    let several = shares.len() > 1;
    for share in shares {
        let own = share.label.and_then(|label| {
            config
                .projects
                .iter()
                .find(|e| e.label() == label)
                .and_then(|e| e.max_deletes_percent)
        });
        let (cap, named) = match (own, file) {
            (Some(o), Some(f)) if o < f => (Some(o), "its own max_deletes_percent in the config"),
            (Some(o), None) => (Some(o), "its own max_deletes_percent in the config"),
            (_, f) => (f, named_file),
        };
        if let Some(cap) = cap.filter(|c| c.exceeded_by(share.deletes, share.in_scope)) {
            let whose = match share.label {
                Some(l) if several || own.is_some() => format!(" of {l}"),
                _ => String::new(),
            };
            return Err(refuse(share.deletes, share.in_scope, whose, cap, named));
        }
    }
    let (deletes, in_scope) = shares
        .iter()
        .fold((0, 0), |(d, n), s| (d + s.deletes, n + s.in_scope));
    match file.filter(|c| several && c.exceeded_by(deletes, in_scope)) {
        Some(cap) => Err(refuse(
            deletes,
            in_scope,
            " of the whole file".to_owned(),
            cap,
            named_file,
        )),
        None => Ok(()),
    }
}
