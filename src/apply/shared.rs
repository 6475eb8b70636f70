//! What every task of one run shares: the client, the options, the judgements, the observer,
//! and the pools waited on.

use super::calls;
use super::judgement::Judgements;
use super::observer::Observer;
use super::options::ApplyOptions;
use crate::api::{ApiError, Deleter, Halt};
use crate::core::model::{Pool, PoolId, PoolRef};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How many of a blocked pool's desktops are named in the report.
pub const DESKTOPS_SHOWN: u32 = 5;
/// The longest pause between two checks of a blocked pool.
pub const MAX_WAIT_POLL: Duration = Duration::from_secs(30);
/// The longest pause between two verification listings.
pub const MAX_VERIFY_POLL: Duration = Duration::from_secs(10);

pub(super) struct Shared {
    /// Reads through it as a [`crate::api::Client`]; the steps' DELETEs are its own.
    pub client: Deleter,
    pub options: ApplyOptions,
    pub judgements: Judgements,
    pub observer: Arc<dyn Observer>,
    /// `--wait-blocked`: desktops left in each pool waited on.
    pub waiting: std::sync::Mutex<HashMap<PoolId, (PoolRef, u64)>>,
}

impl Shared {
    /// Records the desktops left in a pool waited on (`None`: no longer waited on).
    pub fn set_waiting(&self, pool: &PoolRef, desktops: Option<u64>) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match desktops {
            Some(n) => {
                waiting.insert(pool.id.clone(), (pool.clone(), n));
            }
            None => {
                waiting.remove(&pool.id);
            }
        }
    }

    /// The pools waited on, by name.
    pub fn still_waiting(&self) -> Vec<(PoolRef, u64)> {
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let mut pools: Vec<(PoolRef, u64)> = waiting.values().cloned().collect();
        pools.sort_by(|a, b| (&a.0.name, &a.0.id).cmp(&(&b.0.name, &b.0.id)));
        pools
    }

    /// Why the run stopped, if it did.
    pub fn halted(&self) -> Option<Halt> {
        calls::halted(&self.client)
    }

    /// Why a call was not made: the run stopped (an interrupt or a 401).
    pub fn halt_of(&self, e: &ApiError) -> Option<Halt> {
        calls::halt_of(&self.client, e)
    }

    /// One read of a pool: `Ok((pool or None, request id))`, or why it could not be read.
    pub async fn show(
        &self,
        id: &PoolId,
    ) -> Result<Result<(Option<Pool>, Option<String>), ApiError>, Halt> {
        calls::show(&self.client, id).await
    }
}
