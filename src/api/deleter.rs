//! The one client that can send a DELETE. `plan`, `show`, `import` and `validate` hold a
//! [`Client`], which has no way to delete: a read-only key is enough for them by construction.
//! Only apply makes a [`Deleter`] (the architecture test holds every other file to that).

use super::client::{Client, Deleted};
use super::error::ApiError;
use super::transport::Slot;
use crate::core::model::PoolId;
use reqwest::Method;

/// A client that may also delete pools; reads go through the [`Client`] it derefs to.
#[derive(Debug, Clone)]
pub struct Deleter {
    client: Client,
}

impl Deleter {
    /// The client of an apply, allowed to delete.
    pub fn new(client: Client) -> Deleter {
        Deleter { client }
    }

    /// Sends one DELETE, unless `not_after` has passed by the time the rate limiter admits it
    /// ([`ApiError::Expired`]: the judgement it rests on is too old). A 2xx is reported as
    /// [`Deleted`]; every other answer is an error for the caller to judge
    /// ([`super::HttpFailure::absence`] says what it tells about the pool). Nothing is retried
    /// here.
    pub async fn delete_pool(
        &self,
        id: &PoolId,
        not_after: std::time::Instant,
    ) -> Result<Deleted, ApiError> {
        let suffix = format!("desktop-pools/{id}");
        let raw = self
            .client
            .send_before(Method::DELETE, &suffix, &[], Some(not_after), Slot::Call)
            .await?;
        if raw.is_success() {
            return Ok(Deleted {
                request_id: raw.request_id,
            });
        }
        Err(raw.http_error())
    }
}

impl std::ops::Deref for Deleter {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}
