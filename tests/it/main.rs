//! poolform's black-box tests: one crate, one shared harness, a module per behaviour. They run
//! the real binaries (`poolform`, `workspace-sim`) against the simulator, and need only cargo.
#![allow(clippy::too_many_lines)]

mod harness;

mod apply;
mod apply_steps;
mod architecture;
mod ci_examples;
mod client;
mod credentials;
mod docs;
mod generated;
mod habits;
mod hostile;
mod integrity;
mod many_projects;
mod newcomer;
mod one_pipeline;
mod plan;
mod projects_safety;
mod terminal;
mod untrusted;
