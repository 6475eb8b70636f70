//! poolform's black-box tests: one crate, one shared harness, a module per behaviour. They run
//! the real binaries (`poolform`, `workspace-sim`) against the simulator, and need only cargo.
#![allow(clippy::too_many_lines)]

mod harness;

mod apply;
mod apply_steps;
mod architecture;
mod bounds;
mod ci_examples;
mod client;
mod credentials;
mod docs;
mod generated;
mod install;
mod messages;
mod one_pipeline;
mod plan;
mod policy;
mod projects;
mod projects_safety;
mod release;
mod saved_plans;
mod terminal;
mod terraform;
mod time;
mod trust_boundaries;
mod usage;
