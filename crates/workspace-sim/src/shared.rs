//! One project's simulator while it runs: its state, its switches, its rate buckets, the
//! keys it issued, and what it counted.

use crate::config::{MissingPool, SimConfig};
use crate::faults::{Faults, TokenBucket};
use crate::gate::{IssuedKey, SimAuth};
use crate::hostile::{Flood, Hostile};
use crate::state::State;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) auth: SimAuth,
    pub(crate) missing_pool: MissingPool,
    pub(crate) faults: Faults,
    pub(crate) buckets: Mutex<HashMap<&'static str, TokenBucket>>,
    pub(crate) next_request_id: AtomicU64,
    pub(crate) revoke_auth_after: Option<u64>,
    pub(crate) forbid_delete: Vec<String>,
    pub(crate) anonymous_throttle: bool,
    pub(crate) busy_status: u16,
    pub(crate) omit_total_count: bool,
    pub(crate) page_cap: Option<u32>,
    pub(crate) transient_conflict: u32,
    pub(crate) iam_projects: Vec<(String, String)>,
    pub(crate) agencies: Vec<(String, String)>,
    pub(crate) exact_name_filter: bool,
    pub(crate) clock: Arc<crate::clock::SimClock>,
    /// Temporary credentials issued by assume role, accepted from then on.
    pub(crate) issued: Mutex<Vec<IssuedKey>>,
    /// API requests received in all.
    pub(crate) api_requests: AtomicU64,
    pub(crate) hostile: Mutex<Hostile>,
    /// The flood page last built, kept: building one takes a while.
    pub(crate) flood_page: Mutex<Option<(Flood, axum::body::Bytes)>>,
}

impl Shared {
    pub(crate) fn flood_page(&self, kind: Flood) -> axum::body::Bytes {
        let mut cached = self.flood_page.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((k, body)) if *k == kind => body.clone(),
            _ => {
                let body = axum::body::Bytes::from(kind.body());
                *cached = Some((kind, body.clone()));
                body
            }
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written: keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn hostile(&self) -> MutexGuard<'_, Hostile> {
        self.hostile.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One project's simulator state and behaviour, from its config.
pub(crate) fn build_shared(config: SimConfig) -> Arc<Shared> {
    Arc::new(Shared {
        state: Mutex::new(State::new(
            config.fixture,
            config.churn_on_list,
            config.shift_on_list,
        )),
        auth: config.auth,
        missing_pool: config.missing_pool,
        faults: config.faults,
        buckets: Mutex::new(HashMap::new()),
        next_request_id: AtomicU64::new(1),
        revoke_auth_after: config.revoke_auth_after,
        forbid_delete: config.forbid_delete,
        anonymous_throttle: config.anonymous_throttle,
        busy_status: config.busy_status,
        omit_total_count: config.omit_total_count,
        page_cap: config.page_cap,
        transient_conflict: config.transient_conflict,
        iam_projects: config.iam_projects,
        agencies: config.agencies,
        exact_name_filter: config.exact_name_filter,
        clock: config.clock,
        issued: Mutex::new(Vec::new()),
        api_requests: AtomicU64::new(0),
        hostile: Mutex::new(config.hostile),
        flood_page: Mutex::new(None),
    })
}
