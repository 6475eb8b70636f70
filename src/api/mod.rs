//! The Huawei Cloud Workspace desktop-pool API: client, authentication, signing, errors.
//!
//! This layer reports exactly what happened and never retries: retry policy belongs to the
//! applier.

pub mod client;
pub mod connection;
pub mod error;
pub mod signer;
pub mod wire;

pub use client::{Client, ClientOptions, DeleteOutcome, ListFilter};
pub use connection::{Connection, Credentials, Secret};
pub use error::{ApiError, ErrorBody, HttpFailure, TransportKind};
