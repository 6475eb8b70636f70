//! What one project is judged by: its scope, its keep entries and the protect rules (the
//! file's, shared by every project of the file, then its own). A file of one project has one
//! set of rules; each `projects:` entry has its own, all sharing the file's protect rules
//! rather than a copy each.

use crate::core::config::{PoolEntry, ProtectRule, Scope};
use crate::core::model::Pool;
use std::sync::Arc;

/// The protect rules of one project: the file's (shared), then its own, in that order (as
/// `protect[i]` numbers them in messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protect {
    file: Arc<[ProtectRule]>,
    own: Arc<[ProtectRule]>,
}

impl Protect {
    /// The file's rules (shared by every project) and the project's own.
    pub fn new(file: Arc<[ProtectRule]>, own: Arc<[ProtectRule]>) -> Protect {
        Protect { file, own }
    }

    /// Every rule, the file's first.
    pub fn iter(&self) -> impl Iterator<Item = &ProtectRule> + '_ {
        self.file.iter().chain(self.own.iter())
    }

    pub fn len(&self) -> usize {
        self.file.len() + self.own.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The rules one project is planned and judged by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub scope: Option<Scope>,
    /// Pools to keep; every other pool in scope is planned for deletion.
    pub pools: Arc<[PoolEntry]>,
    pub protect: Protect,
    /// The pools Terraform manages (`keep_terraform_state`, `--terraform-state`): kept.
    pub terraform: Arc<crate::core::tfstate::Managed>,
}

impl Rules {
    /// Does any protect rule read tags?
    pub fn has_tag_rules(&self) -> bool {
        self.protect.iter().any(ProtectRule::is_tag_rule)
    }

    /// True when a live pool is managed by these rules.
    pub fn in_scope(&self, pool: &Pool) -> bool {
        self.scope_excludes(pool).is_none()
    }

    /// The scope filter that leaves `pool` out, in words, if one does.
    pub fn scope_excludes(&self, pool: &Pool) -> Option<String> {
        self.scope.as_ref().and_then(|s| s.excludes(pool))
    }
}
