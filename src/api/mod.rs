//! The Huawei Cloud Workspace desktop-pool API: client, authentication, signing, errors, and
//! the pacing every call goes through (one rate limiter, retried reads, stop signals).
//!
//! Reads are retried here, each on its own; a DELETE is sent once and reported exactly as it
//! was answered: what to make of it, and whether to retry, is the `apply` layer's decision.

pub mod client;
pub mod connection;
pub mod credentials;
pub mod deleter;
pub mod error;
pub mod files;
pub mod iam;
pub mod listing;
pub mod options;
pub mod pacer;
pub mod place;
pub mod redact;
mod resolver;
pub mod run_share;
pub mod signer;
mod transport;
pub mod wire;

pub use client::{Client, Deleted, ListFilter, ListedPage, Shown};
pub use connection::{Connection, Credentials, ProjectSource, Secret};
pub use deleter::Deleter;
pub use error::{Absence, ApiError, ErrorBody, HttpFailure, TransportKind};
pub use options::{ClientOptions, HttpClients, ListingCounts};
pub use pacer::{Halt, Pacer, Signal, StopSignal};
