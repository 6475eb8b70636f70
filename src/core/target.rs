//! `--target ID|NAME`: which planned delete a target selects across the whole run, exactly one
//! or an error naming the candidates (and their projects), found in constant time whatever the
//! plan's size.

use crate::core::model::PoolId;
use std::collections::HashMap;

/// One planned delete, as a target sees it: its pool's id and name, and the label of its
/// project in a file with `projects:`.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub id: &'a PoolId,
    pub name: &'a str,
    pub label: Option<&'a str>,
}

/// The planned deletes by id and by name, to find what a target selects in constant time.
pub struct TargetIndex<'a> {
    pools: Vec<Candidate<'a>>,
    by_id: HashMap<&'a PoolId, Vec<usize>>,
    by_name: HashMap<&'a str, Vec<usize>>,
}

/// How many pools an error about a target names.
const TARGET_NAMES_SHOWN: usize = 10;

impl<'a> TargetIndex<'a> {
    /// The index of the planned deletes, in plan order.
    pub fn of(pools: impl Iterator<Item = Candidate<'a>>) -> TargetIndex<'a> {
        let pools: Vec<Candidate> = pools.collect();
        let mut by_id: HashMap<&PoolId, Vec<usize>> = HashMap::with_capacity(pools.len());
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, c) in pools.iter().enumerate() {
            by_id.entry(c.id).or_default().push(i);
            by_name.entry(c.name).or_default().push(i);
        }
        TargetIndex {
            pools,
            by_id,
            by_name,
        }
    }

    /// Does any candidate carry a project's label (a run over a file with `projects:`)?
    fn labelled(&self) -> bool {
        self.pools.first().is_some_and(|c| c.label.is_some())
    }

    /// `id ("name")` (with `in LABEL`) for each of `indexes` (at most ten, then how many more).
    fn describe(&self, indexes: &[usize]) -> String {
        let mut parts: Vec<String> = indexes
            .iter()
            .take(TARGET_NAMES_SHOWN)
            .map(|i| {
                let c = self.pools[*i];
                match c.label {
                    Some(label) => format!("{} ({:?}) in {label}", c.id, c.name),
                    None => format!("{} ({:?})", c.id, c.name),
                }
            })
            .collect();
        if indexes.len() > TARGET_NAMES_SHOWN {
            parts.push(format!("and {} more", indexes.len() - TARGET_NAMES_SHOWN));
        }
        parts.join(", ")
    }

    /// The planned deletes, for a message: `3 pools: id ("name"), …`.
    fn planned(&self) -> String {
        let all: Vec<usize> = (0..self.pools.len()).collect();
        match all.len() {
            0 => "nothing".to_owned(),
            n => format!(
                "{n} pool{}: {}",
                if n == 1 { "" } else { "s" },
                self.describe(&all)
            ),
        }
    }

    /// The one planned delete `target` selects: the pool whose id (ASCII case aside) or name
    /// it equals, in any project. Two pools, in one project or in two, are ambiguous.
    pub fn select(&self, target: &str) -> Result<usize, TargetError> {
        let by_id = PoolId::parse(target)
            .ok()
            .and_then(|id| self.by_id.get(&id))
            .map_or(&[][..], Vec::as_slice);
        let by_name = self.by_name.get(target).map_or(&[][..], Vec::as_slice);
        let others: Vec<usize> = by_name
            .iter()
            .copied()
            .filter(|i| !by_id.contains(i))
            .collect();
        let narrow = if self.labelled() {
            "a target selects one pool across the run: target it by id, or narrow the run with --only LABEL"
        } else {
            "a target selects exactly one pool: target it by id"
        };
        let ambiguous = |pools: String| TargetError::Ambiguous {
            target: target.to_owned(),
            pools,
            narrow: narrow.to_owned(),
        };
        match (by_id, others.as_slice()) {
            ([i], []) => Ok(*i),
            ([], [i]) => Ok(*i),
            ([], []) => Err(TargetError::NotPlanned {
                target: target.to_owned(),
                why: None,
                planned: self.planned(),
            }),
            ([], _) => Err(ambiguous(format!(
                "the name of {} planned deletes: {}",
                others.len(),
                self.describe(&others)
            ))),
            (ids, []) => Err(ambiguous(format!(
                "the id of {} planned deletes: {}",
                ids.len(),
                self.describe(ids)
            ))),
            (ids, _) => Err(ambiguous(format!(
                "the id of {} and the name of {}",
                self.describe(ids),
                self.describe(&others)
            ))),
        }
    }
}

/// A `--target` that cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("--target {target:?} is not a planned delete{}; the plan deletes {planned}; nothing was done", why.as_deref().map(|w| format!(": {w}")).unwrap_or_default())]
    NotPlanned {
        target: String,
        /// Why it is not (kept, protected by a rule, not live, out of scope), when known.
        why: Option<String>,
        /// The planned deletes, named.
        planned: String,
    },
    #[error("--target {target:?} is {pools}; {narrow}; nothing was done")]
    Ambiguous {
        target: String,
        pools: String,
        /// How to name one pool instead.
        narrow: String,
    },
}
