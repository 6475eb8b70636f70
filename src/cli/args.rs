//! Command-line types (clap derive) and nothing else.

use crate::cli::render;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Terraform-style plan/apply for Huawei Cloud Workspace desktop pools.
#[derive(Debug, Parser)]
#[command(name = "poolform", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Every long flag of every command, without its dashes (for refusing Terraform's
/// single-dash spellings of them).
pub fn long_flags() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                out.push(long.to_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = vec!["help".to_owned(), "version".to_owned()];
    walk(&<Cli as clap::CommandFactory>::command(), &mut out);
    out.sort();
    out.dedup();
    out
}

/// The spellings (`--file`, `-f`) of `command`'s flags that take a value.
pub fn value_flags(command: &str) -> Vec<String> {
    let cli = <Cli as clap::CommandFactory>::command();
    let Some(sub) = cli.find_subcommand(command) else {
        return Vec::new();
    };
    sub.get_arguments()
        .filter(|a| a.get_action().takes_values() && !a.is_positional())
        .flat_map(|a| {
            let long = a.get_long().map(|l| format!("--{l}"));
            let short = a.get_short().map(|s| format!("-{s}"));
            long.into_iter().chain(short)
        })
        .collect()
}

/// `schema --for`: which JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaOf {
    /// `pools.yaml`.
    Config,
    /// A plan: `plan --format json` and the `-o` plan file.
    Plan,
    /// `apply --format json`.
    Report,
    /// Each line of `apply --format jsonl`.
    Events,
}

/// `policy --for`: which command's permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyOf {
    /// `plan` (and `import`, which makes the same calls; `validate` and `show` make none).
    Plan,
    /// `apply`.
    Apply,
}

/// `policy --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    /// Each policy document, headed by whom to attach it to, and what each action is for.
    Human,
    /// `{"command", "agency", "documents": [{"holder", "policy"}], "calls": [...]}`.
    Json,
}

/// `--format`: how a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a terminal or a CI log.
    Human,
    /// The plan file's JSON form.
    Json,
    /// A summary and tables for a pull-request comment.
    Markdown,
}

impl From<Format> for render::Format {
    fn from(f: Format) -> render::Format {
        match f {
            Format::Human => render::Format::Human,
            Format::Json => render::Format::Json,
            Format::Markdown => render::Format::Markdown,
        }
    }
}

/// `apply --format`: how the plan and the report are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyFormat {
    /// Aligned text for a terminal or a CI log.
    Human,
    /// One JSON report at the end.
    Json,
    /// A summary and tables for a pull-request comment.
    Markdown,
    /// One JSON object per line, streamed as it happens (planned, step_started, retry,
    /// step_finished, verified, summary).
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colours on a terminal, unless NO_COLOR is set or TERM is dumb.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Log each API call (method, path, status, duration, request id) to stderr; the same as
    /// POOLFORM_LOG=debug.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colours: auto follows the terminal and NO_COLOR.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// Where to connect: only the commands that call the API take these.
#[derive(Debug, Args, Default, Clone)]
pub struct ConnectionArgs {
    /// API endpoint (default: https://workspace.{region}.{cloud}). In a file with projects:,
    /// URL serves every region, REGION=URL one region (repeatable).
    #[arg(long, value_name = "URL|REGION=URL")]
    pub endpoint: Vec<String>,
    /// Region (else HW_REGION_NAME, the profile, region in the config file).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Project id (else HW_PROJECT_ID or HUAWEICLOUD_SDK_PROJECT_ID, the profile, the config
    /// file, else looked up at IAM by region).
    #[arg(long, value_name = "ID")]
    pub project_id: Option<String>,
    /// Cloud domain of the endpoints (else HW_CLOUD, cloud in the config file; default
    /// myhuaweicloud.com, myhuaweicloud.eu for eu-west-1* regions).
    #[arg(long, value_name = "DOMAIN")]
    pub cloud: Option<String>,
    /// Profile of the shared config file (else HW_PROFILE, else the file's current one).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// Which projects of a file with `projects:` a run covers, and the agencies it may use.
#[derive(Debug, Args, Default, Clone)]
pub struct ProjectArgs {
    /// Only the project labelled LABEL (REGION/PROJECT, as the plan shows it; repeatable): the
    /// others are neither resolved nor listed.
    #[arg(long, value_name = "LABEL")]
    pub only: Vec<String>,
    /// Let a project's assume_role use this agency (AGENCY@DOMAIN; repeatable; also
    /// POOLFORM_ALLOW_AGENCIES, comma-separated). Any other agency is refused before any call.
    #[arg(long, value_name = "AGENCY@DOMAIN")]
    pub allow_agency: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a config file offline; no API call, no credentials needed.
    Validate(FileArg),
    /// List the live pools, compare them with the file, and show what would be deleted.
    Plan(PlanArgs),
    /// Delete the planned pools: plan and confirm, or apply a saved plan as reviewed.
    Apply(ApplyArgs),
    /// Show a saved plan.
    Show(ShowArgs),
    /// Write a config file that keeps every live pool.
    Import(ImportArgs),
    /// Print a JSON Schema: of the config file (the default), a plan, a report, or the
    /// events of `apply --format jsonl`.
    Schema {
        /// What the schema describes.
        #[arg(
            long = "for",
            value_enum,
            default_value = "config",
            value_name = "WHAT"
        )]
        of: SchemaOf,
    },
    /// Print the Huawei IAM policy a key needs for a command: the action of each API it
    /// calls, from Huawei's page for that API.
    Policy {
        /// Which command.
        #[arg(long = "for", value_enum, value_name = "COMMAND")]
        of: PolicyOf,
        /// The key assumes an agency: print the key's own policy (to assume it) apart from the
        /// agency's.
        #[arg(long)]
        agency: bool,
        /// `human`: each document and whom to attach it to; `json`: for tools.
        #[arg(long, value_enum, default_value = "human")]
        format: PolicyFormat,
    },
    /// Print shell completions.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The config file a command reads when none is named.
pub const DEFAULT_CONFIG: &str = "pools.yaml";

#[derive(Debug, Args)]
pub struct FileArg {
    /// The config file; `-` reads standard input.
    #[arg(
        short = 'f',
        long = "file",
        default_value = DEFAULT_CONFIG,
        value_name = "FILE"
    )]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub projects: ProjectArgs,
    /// Save the plan (JSON) for `poolform apply FILE`.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when in sync, 2 when there is drift, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// How to print the plan.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Refuse a plan that deletes more pools than this (overrides max_deletes in the file).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_deletes: Option<u32>,
    /// Plan only the deletion of this pool, by id or exact name (repeatable): a partial plan.
    #[arg(long, value_name = "ID|NAME")]
    pub target: Vec<String>,
    /// A Terraform state (`terraform state pull`, `terraform show -json`; `-` for standard
    /// input) whose pools are kept (repeatable).
    #[arg(long, value_name = "FILE")]
    pub terraform_state: Vec<PathBuf>,
    /// Refuse a plan that deletes more than this share (0 to 100) of the live pools in scope
    /// (replaces max_deletes_percent at the top of the file).
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub max_deletes_percent: Option<crate::core::config::Percent>,
    /// Save the plan as an announcement (needs -o): `apply FILE` deletes its pools only once
    /// DURATION has passed (e.g. 4d, 1w), and only those the config still calls for then.
    #[arg(long, value_name = "DURATION", value_parser = notice_span)]
    pub notice: Option<crate::core::time::Span>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `poolform plan -o`: applied as reviewed, without a prompt.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,
    /// The config file (default pools.yaml; `-` reads standard input). A saved plan is applied
    /// only with the very config it was made from.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub projects: ProjectArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// DELETE calls in flight at once.
    #[arg(long, default_value_t = crate::apply::DEFAULT_PARALLELISM as u16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    /// Never send more than N requests per second (the limiter also slows down by itself on 429).
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    pub rate_limit: Option<f64>,
    /// Re-check blocked pools until DURATION has passed (e.g. 10m, at most 24h), deleting each
    /// once empty.
    #[arg(long, value_name = "DURATION", value_parser = wait_duration)]
    pub wait_blocked: Option<std::time::Duration>,
    /// How long to keep listing, after the deletes, until every pool reported gone is gone (at
    /// most 1h).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = verify_duration)]
    pub verify_timeout: std::time::Duration,
    /// How to print the plan and the report.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ApplyFormat,
    /// Refuse a plan that deletes more pools than this (overrides max_deletes at the top of
    /// the file; a saved plan planned past the file's cap needs the same flag again).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_deletes: Option<u32>,
    /// A Terraform state (`-` for standard input) whose pools are kept (repeatable); a saved
    /// plan needs the very states it was made with.
    #[arg(long, value_name = "FILE")]
    pub terraform_state: Vec<PathBuf>,
    /// Refuse a plan that deletes more than this share (0 to 100) of the live pools in scope
    /// (replaces max_deletes_percent at the top of the file).
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub max_deletes_percent: Option<crate::core::config::Percent>,
    /// For a scheduled job: an announcement that is not due yet exits 0 instead of 1 (nothing
    /// is deleted either way). Refused for a plan that is not an announcement.
    #[arg(long)]
    pub if_due: bool,
    /// Apply only the deletion of this pool, by id or exact name (repeatable): the rest of the
    /// plan is left alone.
    #[arg(long, value_name = "ID|NAME")]
    pub target: Vec<String>,
}

/// The most requests per second `--rate-limit` takes.
const MAX_RATE: f64 = 100_000.0;

fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_RATE => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of requests per second from just above 0 to {MAX_RATE}"
        )),
    }
}

/// A duration from a flag, no longer than `max` (so that no arithmetic on it can overflow).
fn bounded_duration(
    s: &str,
    max: std::time::Duration,
    max_text: &str,
) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d <= max => Ok(d),
        Ok(_) => Err(format!("{s:?} is longer than {max_text}")),
        Err(e) => Err(format!(
            "{s:?} is not a duration such as 90s, 10m or 1h: {e}"
        )),
    }
}

fn wait_duration(s: &str) -> Result<std::time::Duration, String> {
    bounded_duration(s, std::time::Duration::from_secs(24 * 3600), "24h")
}

/// A share of the live pools in scope, 0 to 100.
fn percent(s: &str) -> Result<crate::core::config::Percent, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number from 0 to 100"))?;
    crate::core::config::Percent::parse(v)
}

/// A notice period: a duration of the config's grammar (`4d`, `1w3d`), more than zero.
fn notice_span(s: &str) -> Result<crate::core::time::Span, String> {
    match crate::core::time::Span::parse(s)? {
        crate::core::time::Span::ZERO => Err("a notice of 0 gives no notice".into()),
        span => Ok(span),
    }
}

fn verify_duration(s: &str) -> Result<std::time::Duration, String> {
    bounded_duration(s, std::time::Duration::from_secs(3600), "1h")
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `poolform plan -o`.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: PathBuf,
    /// How to print the plan.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Where to write (default: standard output).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only pools whose name starts with this; also written as the file's scope.
    #[arg(long, value_name = "PREFIX")]
    pub name_prefix: Option<String>,
    /// Write a file with projects: this project, by its name at IAM (e.g.
    /// cn-north-4_training; repeatable).
    #[arg(long, value_name = "NAME", conflicts_with = "all_projects")]
    pub project: Vec<String>,
    /// Write a file with projects: every project the account has at IAM.
    #[arg(long)]
    pub all_projects: bool,
    /// A Terraform state (`-` for standard input): the pools it manages are left out of the
    /// keep list (they are kept through the state; repeatable).
    #[arg(long, value_name = "FILE")]
    pub terraform_state: Vec<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}
