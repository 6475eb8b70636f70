//! The reads a step makes besides its DELETEs, and how a stopped run reads in their answers:
//! a call not made because the run stopped (an interrupt or a 401) is a halt, not a failure.

use crate::api::{ApiError, Client, Halt};
use crate::core::model::{Pool, PoolId};

/// Why the run stopped, if it did.
pub fn halted(client: &Client) -> Option<Halt> {
    client.pacer().halted()
}

/// Why a call was not made: the run stopped (an interrupt or a 401).
pub fn halt_of(client: &Client, e: &ApiError) -> Option<Halt> {
    matches!(e, ApiError::Stopped { .. }).then(|| halted(client).unwrap_or(Halt::Interrupted))
}

/// One read of a pool: `Ok((pool or None, request id))`, or why it could not be read.
pub async fn show(
    client: &Client,
    id: &PoolId,
) -> Result<Result<(Option<Pool>, Option<String>), ApiError>, Halt> {
    match client.show_pool(id).await {
        Ok(shown) => Ok(Ok((shown.pool, shown.request_id))),
        Err(e) => match halt_of(client, &e) {
            Some(halt) => Err(halt),
            None => Ok(Err(e)),
        },
    }
}
