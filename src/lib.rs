//! poolform: Terraform-style plan/apply for Huawei Cloud Workspace desktop pools.
//!
//! A pure core (`model`, `config`, `validated`, `planner`, `plan`, `authorize`, `render`,
//! `retry`, `ratelimit`, `report`) that does no I/O and reads no clock, inside a thin shell
//! (`api`, `applier`, `progress`, `output`, `app`; `cli` holds the clap types; `redact` keeps
//! the secrets every printed line is cleaned of). The simulator (`sim`) is for tests,
//! examples and rehearsals; no production module imports it.

pub mod api;
pub mod app;
pub mod applier;
pub mod authorize;
pub mod cli;
pub mod commands;
pub mod config;
pub mod escape;
pub mod files;
pub mod habits;
pub mod import;
pub mod jsonl;
pub mod listing;
pub mod model;
pub mod names;
pub mod output;
pub mod plan;
pub mod planner;
pub mod progress;
pub mod ratelimit;
pub mod redact;
pub mod render;
pub mod report;
pub mod retry;
pub mod run_end;
pub mod signals;
pub mod sim;
pub mod validated;
pub mod yaml_guard;
