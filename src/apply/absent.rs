//! Planned pools the apply-time listing no longer shows: each confirmed gone by a read of its
//! own before it is reported as already absent, unless so many are missing that the plan
//! cannot describe this project (a forged plan cannot spend the tenant's rate limit on
//! invented pools, and invented pools are never reported gone).

use crate::api::{ApiError, Client};
use crate::core::model::PoolRef;
use crate::core::report::{Outcome, StepResult};

/// The most planned pools a plan may find missing from the apply-time listing before each is
/// read: more than this, and more than a tenth of its deletes, and the plan is refused unread.
pub const MAX_ABSENT: usize = 10;

/// Why the planned pools the listing does not show cannot be settled: the whole plan is
/// refused, nothing deleted.
#[derive(Debug, thiserror::Error)]
pub enum AbsentError {
    #[error("{what} plans to delete {deletes} pools, {absent} of which the listing does not show; more than {MAX_ABSENT} and more than a tenth of its deletes: the plan does not describe this project (or was padded by hand). Nothing was read or deleted; plan again and review the new plan")]
    TooMany {
        what: String,
        absent: usize,
        deletes: usize,
    },
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("pool {} ({:?}) is planned but missing from the listing, and a read to confirm it is gone failed: {error}; nothing was deleted", pool.id, pool.name)]
    ReadFailed { pool: PoolRef, error: ApiError },
    #[error("pool {} ({:?}) is planned but missing from the listing, yet a read still finds it [request id: {}]: the listing cannot be trusted; nothing was deleted", pool.id, pool.name, request_id.as_deref().unwrap_or("none"))]
    StillThere {
        pool: PoolRef,
        request_id: Option<String>,
    },
}

/// Settles the `unlisted` pools of a plan that deletes `deletes` pools (`what` names it):
/// refused unread when too many are missing; else each read (`parallelism` at a time), and
/// each read that finds no such pool settles its step as already absent (before this apply),
/// with the read's request id. A pool still found, or a read that fails, refuses the whole
/// plan: the listing it was planned against cannot be trusted.
pub async fn confirm_gone(
    client: &Client,
    what: &str,
    unlisted: Vec<PoolRef>,
    deletes: usize,
    parallelism: usize,
) -> Result<Vec<StepResult>, AbsentError> {
    let absent = unlisted.len();
    if absent > MAX_ABSENT && absent > deletes / 10 {
        return Err(AbsentError::TooMany {
            what: what.to_owned(),
            absent,
            deletes,
        });
    }
    let ids = unlisted.iter().map(|p| p.id.clone()).collect();
    let shown = client.show_pools(ids, parallelism).await?;
    let mut settled = Vec::with_capacity(unlisted.len());
    for (pool, (_, shown)) in unlisted.into_iter().zip(shown) {
        let shown = match shown {
            Ok(shown) => shown,
            Err(error) => return Err(AbsentError::ReadFailed { pool, error }),
        };
        if shown.pool.is_some() {
            return Err(AbsentError::StillThere {
                pool,
                request_id: shown.request_id,
            });
        }
        settled.push(StepResult {
            request_id: shown.request_id,
            absent_before_apply: true,
            ..StepResult::without_call(
                pool,
                Outcome::AlreadyAbsent,
                "absent before apply: not listed when this apply started, and a read confirms it is gone".into(),
            )
        });
    }
    Ok(settled)
}
