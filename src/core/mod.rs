//! The pure core: values and decisions, no I/O. Given the same inputs, every function here
//! gives the same answer.

pub mod announcement;
pub mod authorize;
pub mod caps;
pub mod config;
pub mod endpoints;
pub mod escape;
pub mod events;
pub mod identity;
pub mod import;
pub mod model;
pub mod names;
pub mod narrowing;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod projects;
pub mod ratelimit;
pub mod regions;
pub mod report;
pub mod retry;
pub mod rules;
pub mod run_end;
pub mod target;
pub mod tfstate;
pub mod time;
pub mod validated;
pub mod yaml_guard;
