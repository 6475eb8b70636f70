//! `workspace-sim`: a faithful stand-in for the Workspace desktop-pool API, on loopback.
//!
//! Used by the tests, the examples, the benchmarks and by people rehearsing a change. Routes,
//! error bodies, authentication and throttling behave as the real service's are documented to;
//! faults are reproducible with a seed. No production module imports this one.

pub mod admin;
pub mod clock;
pub mod config;
pub mod conn;
pub mod errors;
pub mod faults;
pub mod fixture;
pub mod gate;
pub mod gateway;
pub mod handlers;
pub mod hostile;
pub mod multi;
pub mod router;
pub mod server;
pub mod shared;
pub mod state;

pub use clock::SimClock;
pub use config::{MissingPool, SimConfig};
pub use faults::Faults;
pub use fixture::Fixture;
pub use gate::{IssuedKey, SimAuth};
pub use hostile::{Flood, Hostile, Malformed};
pub use server::{read_listening_line, SimServer, LISTENING_PREFIX};
