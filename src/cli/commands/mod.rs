//! One file per command: each wires config, API, planner, applier and rendering for its job.

mod announced;
pub mod apply;
pub mod import;
pub mod plan;
pub mod policy;
pub mod show;
pub mod validate;
