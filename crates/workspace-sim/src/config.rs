//! What the simulator of one project is started with: its fixture, its authentication, and
//! every switch for the answers it gives (missing pools, faults, hostile answers, IAM).

use crate::faults::Faults;
use crate::fixture::Fixture;
use crate::gate::SimAuth;
use crate::hostile::Hostile;

/// How the simulator answers for a pool that does not exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MissingPool {
    /// As the evidence has it: `400 WKS.0001` on reads (what the Terraform provider's read
    /// turns into "gone"), `404 WKS.0404` on DELETE (the reference page's 404).
    #[default]
    Observed,
    /// `404 WKS.0404` on every route.
    NotFound,
    /// `400 WKS.0001` on every route.
    Wks0001,
}

/// Everything the simulator needs to start.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub fixture: Fixture,
    pub auth: SimAuth,
    pub missing_pool: MissingPool,
    pub faults: Faults,
    /// The first N listings that read a first page create a new pool right after it.
    pub churn_on_list: u32,
    /// The first N listings that read a first page see, right after it, the first pool deleted
    /// and another created: the count stays, the offsets shift.
    pub shift_on_list: u32,
    /// Hostile answers.
    pub hostile: Hostile,
    /// After this many API requests, the credentials stop working (401), as an expired token.
    pub revoke_auth_after: Option<u64>,
    /// Pools whose DELETE is denied with 403, as an IAM policy would.
    pub forbid_delete: Vec<String>,
    /// Leave the figures out of the 429 message, as some gateways do.
    pub anonymous_throttle: bool,
    /// The status a pool with desktops refuses DELETE with: 409 (likely) or 400 (the code is
    /// unpublished, so poolform must not rely on it).
    pub busy_status: u16,
    /// Listings carry no `total_count` (optional in the SDK models).
    pub omit_total_count: bool,
    /// The most pools one page holds, whatever `limit` asks (a gateway's lower cap).
    pub page_cap: Option<u32>,
    /// The first N DELETEs of each empty pool answer `409 WKS.00010032` (a transient conflict).
    pub transient_conflict: u32,
    /// Projects IAM lists, `(name, id)`: by default the fixture's, named `cn-north-4`.
    pub iam_projects: Vec<(String, String)>,
    /// Agencies IAM lets a caller assume, `(agency name, account name or id)`.
    pub agencies: Vec<(String, String)>,
    /// The list route's `name` filter: a substring (as documented, "fuzzy") or an exact
    /// match (its semantics are unpublished).
    pub exact_name_filter: bool,
    /// The simulator's clock (shared by every project of one simulator).
    pub clock: std::sync::Arc<crate::clock::SimClock>,
}

impl SimConfig {
    pub fn new(fixture: Fixture) -> SimConfig {
        let fixture_project = fixture.project_id.to_string();
        // A fixture that names its instant is served on a clock standing still there.
        let fixture_clock = match fixture.clock_at {
            Some(at) => crate::clock::SimClock::frozen_at(at),
            None => crate::clock::SimClock::default(),
        };
        SimConfig {
            fixture,
            auth: SimAuth::Open,
            missing_pool: MissingPool::NotFound,
            faults: Faults::default(),
            churn_on_list: 0,
            shift_on_list: 0,
            hostile: Hostile::default(),
            revoke_auth_after: None,
            forbid_delete: Vec::new(),
            anonymous_throttle: false,
            busy_status: 409,
            omit_total_count: false,
            page_cap: None,
            transient_conflict: 0,
            iam_projects: vec![("cn-north-4".into(), fixture_project)],
            agencies: Vec::new(),
            exact_name_filter: false,
            clock: std::sync::Arc::new(fixture_clock),
        }
    }
}
