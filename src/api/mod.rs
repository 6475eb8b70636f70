//! The Huawei Cloud Workspace desktop-pool API: client, authentication, signing, errors, and
//! the pacing every call goes through (one rate limiter, retried reads, stop signals).
//!
//! Reads are retried here, each on its own; a DELETE is sent once and reported exactly as it
//! was answered: what to make of it, and whether to retry, is the applier's decision.

pub mod client;
pub mod connection;
pub mod credentials;
pub mod error;
pub mod iam;
pub mod pacer;
pub mod signer;
mod transport;
pub mod wire;

pub use client::{Client, ClientOptions, Deleted, ListFilter, ListedPage, ListingCounts, Shown};
pub use connection::{Connection, Credentials, Secret};
pub use error::{Absence, ApiError, ErrorBody, HttpFailure, TransportKind};
pub use pacer::{Halt, Pacer, Signal, StopSignal};
