//! poolform: Terraform-style plan/apply for Huawei Cloud Workspace desktop pools.
//!
//! Four layers, each using only those above it in this list:
//!
//! - [`core`]: pure: the config, the plan and how it is made and authorized, the report, the
//!   exit codes, the retry and rate policies. No I/O, no clock, no randomness not passed in.
//! - [`api`]: the Workspace and IAM APIs over HTTP: credentials, signing, pacing, decoding, and
//!   the listing a judgement is made from; the files it reads (bounded) and the secrets it keeps
//!   out of every output.
//! - [`apply`]: running a plan's DELETEs: concurrently, retried, waited on, verified.
//! - [`cli`]: the command line: one file per command, and the terminal and file I/O.
//!
//! The simulator (`workspace-sim`) is a crate of its own; nothing here depends on it.

pub mod api;
pub mod apply;
pub mod cli;
pub mod core;
