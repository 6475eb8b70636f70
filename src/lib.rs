//! poolform: Terraform-style plan/apply for Huawei Cloud Workspace desktop pools.
//!
//! A pure core (`model`, `config`, `validated`, `planner`, `plan`, `render`, `retry`,
//! `ratelimit`, `report`) that does no I/O and reads no clock, inside a thin shell (`api`,
//! `applier`, `progress`, `app`; `cli` holds the clap types). The simulator (`sim`) is for tests,
//! examples and rehearsals; no production module imports it.

pub mod api;
pub mod app;
pub mod applier;
pub mod cli;
pub mod config;
pub mod model;
pub mod plan;
pub mod planner;
pub mod progress;
pub mod ratelimit;
pub mod render;
pub mod report;
pub mod retry;
pub mod sim;
pub mod validated;
