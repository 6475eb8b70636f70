//! `--target ID|NAME`: which planned delete a target selects, exactly one or an error naming
//! the candidates, found in constant time whatever the plan's size.

use crate::core::model::PoolId;
use std::collections::HashMap;

/// The planned deletes by id and by name, to find what a target selects in constant time.
pub struct TargetIndex<'a> {
    /// Each planned delete's pool: its id and name.
    pools: Vec<(&'a PoolId, &'a str)>,
    by_id: HashMap<&'a PoolId, usize>,
    by_name: HashMap<&'a str, Vec<usize>>,
}

/// How many pools an error about a target names.
const TARGET_NAMES_SHOWN: usize = 10;

impl<'a> TargetIndex<'a> {
    /// The index of the planned deletes' pools, `(id, name)` in plan order.
    pub fn of(pools: impl Iterator<Item = (&'a PoolId, &'a str)>) -> TargetIndex<'a> {
        let pools: Vec<(&PoolId, &str)> = pools.collect();
        let mut by_id = HashMap::with_capacity(pools.len());
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (id, name)) in pools.iter().enumerate() {
            by_id.entry(*id).or_insert(i);
            by_name.entry(*name).or_default().push(i);
        }
        TargetIndex {
            pools,
            by_id,
            by_name,
        }
    }

    /// `id "name"` for each of `indexes` (at most ten, then how many more).
    fn describe(&self, indexes: &[usize]) -> String {
        let mut parts: Vec<String> = indexes
            .iter()
            .take(TARGET_NAMES_SHOWN)
            .map(|i| {
                let (id, name) = self.pools[*i];
                format!("{id} ({name:?})")
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
    /// it equals. One pool's id and another's name, or several pools' name, is ambiguous.
    pub fn select(&self, target: &str) -> Result<usize, TargetError> {
        let by_id = PoolId::parse(target)
            .ok()
            .and_then(|id| self.by_id.get(&id).copied());
        let by_name = self.by_name.get(target).map_or(&[][..], Vec::as_slice);
        let others: Vec<usize> = by_name
            .iter()
            .copied()
            .filter(|i| Some(*i) != by_id)
            .collect();
        match (by_id, others.as_slice()) {
            (Some(i), []) => Ok(i),
            (None, [i]) => Ok(*i),
            (None, []) => Err(TargetError::NotPlanned {
                target: target.to_owned(),
                why: None,
                planned: self.planned(),
            }),
            (Some(i), _) => Err(TargetError::Ambiguous {
                target: target.to_owned(),
                pools: format!(
                    "the id of {} and the name of {}",
                    self.describe(&[i]),
                    self.describe(&others)
                ),
            }),
            (None, _) => Err(TargetError::Ambiguous {
                target: target.to_owned(),
                pools: format!(
                    "the name of {} planned deletes: {}",
                    others.len(),
                    self.describe(&others)
                ),
            }),
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
    #[error("--target {target:?} is {pools}; a target selects exactly one pool: target it by id; nothing was done")]
    Ambiguous { target: String, pools: String },
}
