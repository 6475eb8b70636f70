//! `workspace-sim`: runs the bundled Workspace API simulator on loopback until interrupted.

use clap::{Parser, ValueEnum};
use poolform::core::model::ProjectId;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use workspace_sim::{
    Faults, Fixture, Flood, Hostile, Malformed, MissingPool, SimAuth, SimConfig, SimServer,
};

#[derive(Clone, Copy, ValueEnum)]
enum MissingPoolArg {
    /// 400 WKS.0001 on reads, 404 WKS.0404 on DELETE, as the evidence has it.
    Observed,
    /// 404 WKS.0404 on every route, as Huawei's reference page documents.
    #[value(name = "404")]
    NotFound,
    /// 400 WKS.0001 on every route.
    Wks0001,
}

/// workspace-sim: a stand-in for the Huawei Cloud Workspace desktop-pool API on loopback, for
/// tests, examples, benchmarks and rehearsals. Serves list, show, delete and a pool's desktops
/// (and IAM's project lookup and assume role) from a fixture, with switches for faults and
/// hostile answers. Prints `listening on URL`, then serves until Ctrl-C or SIGTERM.
#[derive(Parser)]
#[command(
    name = "workspace-sim",
    version,
    about = "A stand-in for the Huawei Cloud Workspace desktop-pool API on loopback (tests, examples, rehearsals).",
    long_about = None
)]
struct Args {
    /// Pools to serve: JSON or YAML `{"project_id": ..., "pools": [...]}`.
    #[arg(long, required_unless_present_any = ["generate", "move_clock"])]
    fixture: Option<PathBuf>,
    /// Serve N generated pools instead of a fixture, named gen-00000, gen-00001, ...
    #[arg(long, value_name = "N", conflicts_with = "fixture")]
    generate: Option<u64>,
    /// With --generate: the project the pools are in.
    #[arg(long, value_name = "ID", default_value = GENERATED_PROJECT, requires = "generate")]
    project_id: String,
    /// With --generate: every N-th pool holds 2 desktops.
    #[arg(long, value_name = "N", requires = "generate")]
    desktops_every: Option<u64>,
    /// Address to listen on (loopback only); port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Serve in the background: print only the URL once it listens, then return (for a
    /// shell: `ENDPOINT=$(workspace-sim --background ...)`). Stops on SIGTERM, or after
    /// --exit-after (1h unless given).
    #[arg(long)]
    background: bool,
    /// With --background: write the simulator's process id to FILE (stop it with
    /// `read -r pid < FILE && kill "$pid"`).
    #[arg(long, value_name = "FILE", requires = "background")]
    pid_file: Option<PathBuf>,
    /// Stop serving after this long (e.g. 10m), whatever happens.
    #[arg(long, value_name = "DURATION", env = "WORKSPACE_SIM_EXIT_AFTER", value_parser = humantime::parse_duration)]
    exit_after: Option<Duration>,
    /// Shift the simulator's clock (its `Date` headers, a fixture's `now-3d`) from the
    /// system's: `-2h`, `8d`.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = workspace_sim::clock::signed_span, conflicts_with = "clock_at")]
    clock_offset: Option<i64>,
    /// Freeze the simulator's clock at INSTANT (RFC 3339, or YYYY-MM-DD): its output does not
    /// change from day to day. `POST /__sim/clock` moves it while it runs.
    #[arg(long, value_name = "INSTANT", value_parser = poolform::core::time::Instant::parse)]
    clock_at: Option<poolform::core::time::Instant>,
    /// Move the clock of the simulator running at URL (`POST URL/__sim/clock`), to
    /// --clock-at, by --clock-offset from the system's, or by --clock-advance; print its new
    /// "now" and exit.
    #[arg(long, value_name = "URL", conflicts_with_all = ["fixture", "generate", "background"])]
    move_clock: Option<String>,
    /// Serve TEXT as every answer's `Date` header instead of the clock's (a hostile gateway's).
    #[arg(long, value_name = "TEXT")]
    date_header: Option<String>,
    /// With --move-clock: move the clock by DURATION (`4d`, `-1h`), frozen or not.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = workspace_sim::clock::signed_span, requires = "move_clock")]
    clock_advance: Option<i64>,
    /// Require `X-Auth-Token: TOKEN` (or set SIM_TOKEN).
    #[arg(long, env = "SIM_TOKEN", hide_env_values = true, conflicts_with = "ak")]
    token: Option<String>,
    /// Require AK/SK signatures made with this access key (and --sk).
    #[arg(long, requires = "sk")]
    ak: Option<String>,
    /// The secret key paired with --ak (or set SIM_SK).
    #[arg(long, env = "SIM_SK", hide_env_values = true, requires = "ak")]
    sk: Option<String>,
    /// How a missing pool is answered.
    #[arg(long, value_enum, default_value = "observed")]
    missing_pool: MissingPoolArg,
    /// How a pool that still holds desktops refuses DELETE: 409 (likely) or 400 (the real
    /// code is unpublished).
    #[arg(long, default_value_t = 409, value_parser = busy_status)]
    busy_status: u16,
    /// Leave total_count out of listings (it is optional in the SDK models).
    #[arg(long)]
    omit_total_count: bool,
    /// Serve at most N pools per page, whatever limit asks, as a gateway with a lower cap.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    page_cap: Option<u32>,
    /// Answer the first N DELETEs of each empty pool 409 WKS.00010032 (a transient conflict).
    #[arg(long, default_value_t = 0, value_name = "N")]
    transient_conflict: u32,
    /// Seed for every fault decision.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Added to every API request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Added to every DELETE, on top of --latency-ms.
    #[arg(long, default_value_t = 0)]
    delete_latency_ms: u64,
    /// Share (0..1) of API requests answered 500, 502 (HTML) or 503.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    error_rate: f64,
    /// Requests per second per API before `429 APIGW.0308`.
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Share (0..1) of API requests whose connection is closed with no answer.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    drop_rate: f64,
    /// Share (0..1) of API requests answered 429 APIGW.0308, whatever the rate.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    throttle_rate: f64,
    /// Share (0..1) of successful DELETEs applied but whose answer is lost.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    lost_delete_rate: f64,
    /// The first N listings create a new pool right after their first page.
    #[arg(long, default_value_t = 0)]
    churn_on_list: u32,
    /// After N API requests the credentials stop working (401), as an expired token.
    #[arg(long, value_name = "N")]
    revoke_auth_after: Option<u64>,
    /// Answer 403 to DELETE of this pool id (repeatable), as an IAM policy would.
    #[arg(long, value_name = "POOL_ID")]
    forbid_delete: Vec<String>,
    /// Leave the limit figures out of 429 messages, as some gateways do.
    #[arg(long)]
    anonymous_throttle: bool,
    /// The first N listings see, right after their first page, one pool deleted and another
    /// created: the count stays, the offsets shift.
    #[arg(long, default_value_t = 0, value_name = "N")]
    shift_on_list: u32,
    /// Answer DELETE of this pool 204 but keep the pool (repeatable).
    #[arg(long, value_name = "POOL_ID")]
    ghost_delete: Vec<String>,
    /// Answer DELETE of this pool with the gateway's 404 APIGW.0101 (repeatable).
    #[arg(long, value_name = "POOL_ID")]
    gateway_404: Vec<String>,
    /// Answer DELETE of this pool 400 WKS.0001 ("does not exist") though it exists (repeatable).
    #[arg(long, value_name = "POOL_ID")]
    false_absent: Vec<String>,
    /// Leave this pool out of every listing, though it exists (repeatable).
    #[arg(long, value_name = "POOL_ID")]
    hide_from_list: Vec<String>,
    /// Serve a pool's field malformed: POOL_ID:FIELD=SHAPE, SHAPE one of missing, null,
    /// object, list, number, text, bool (repeatable).
    #[arg(long, value_name = "POOL_ID:FIELD=SHAPE", value_parser = Malformed::parse)]
    malformed: Vec<Malformed>,
    /// Put the request's headers into every error body, as a careless gateway might.
    #[arg(long)]
    echo_headers: bool,
    /// Put this text in every error body's error_msg; backslash escapes \e, \r, \n, \t,
    /// \\ and \u{HEX} stand for the characters, to try control characters on poolform.
    #[arg(long, value_name = "TEXT", value_parser = unescape)]
    error_message: Option<String>,
    /// Answer every list request with a page just under 8 MiB built to cost a decoder memory:
    /// tags (1,000 pools x 64 unique tags), names (1,000 pools with 8 KiB names) or values
    /// (8 MiB of tiny values in an unknown field).
    #[arg(long, value_name = "KIND", value_parser = Flood::parse)]
    flood_list: Option<Flood>,
    /// A project IAM lists, NAME=ID (repeatable; default: the fixture's, named cn-north-4).
    #[arg(long, value_name = "NAME=ID", value_parser = pair)]
    iam_project: Vec<(String, String)>,
    /// An agency IAM lets callers assume, NAME@ACCOUNT (account name or id; repeatable).
    #[arg(long, value_name = "NAME@ACCOUNT", value_parser = agency)]
    agency: Vec<(String, String)>,
    /// Leave every pool's tags out of listings (a read of the pool still has them).
    #[arg(long)]
    omit_list_tags: bool,
    /// Pad every error body's error_msg to N bytes (to try poolform's bounds).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64 * 1024 * 1024))]
    error_body_bytes: Option<u64>,
    /// How the list route's name filter matches: fuzzy (a substring, as documented) or exact.
    #[arg(long, value_enum, default_value = "fuzzy")]
    name_filter: NameFilterArg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum NameFilterArg {
    /// A case-insensitive substring, as the API reference documents ("fuzzy").
    Fuzzy,
    /// The exact name (the real semantics are unpublished).
    Exact,
}

/// `s` with `\e`, `\r`, `\n`, `\t`, `\\` and `\u{HEX}` read as the characters they name.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('e') => out.push('\u{1b}'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let hex = rest
                    .strip_prefix('{')
                    .ok_or_else(|| format!("{s:?}: \\u must be followed by {{HEX}}"))?;
                let c = u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("{s:?}: \\u{{{hex}}} is not a character"))?;
                out.push(c);
            }
            other => {
                return Err(format!(
                    "{s:?}: unknown escape \\{}",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        }
    }
    Ok(out)
}

fn pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| format!("{s:?} is not NAME=ID"))
}

fn agency(s: &str) -> Result<(String, String), String> {
    s.split_once('@')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| format!("{s:?} is not NAME@ACCOUNT"))
}

fn busy_status(s: &str) -> Result<u16, String> {
    match s {
        "409" => Ok(409),
        "400" => Ok(400),
        _ => Err(format!("{s:?} is not 409 or 400")),
    }
}

fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number from 0 to 1")),
    }
}

/// The project generated pools are in, unless --project-id says otherwise.
const GENERATED_PROJECT: &str = "0bec5db98280d2d02fd6c00c2de791ce";

/// What to serve: one project's pools, or several projects and accounts.
enum Served {
    One(Fixture),
    Many(workspace_sim::multi::MultiFixture),
}

/// The pools to serve, from --fixture or --generate.
fn fixture(args: &Args) -> Result<Served, String> {
    if let Some(count) = args.generate {
        let project = ProjectId::parse(&args.project_id)
            .map_err(|e| format!("--project-id {:?}: {e}", args.project_id))?;
        return Ok(Served::One(Fixture::generated(
            project,
            count,
            "gen-",
            args.desktops_every,
        )));
    }
    let path = args
        .fixture
        .as_deref()
        .ok_or("give --fixture FILE or --generate N")?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read fixture {}: {e}", path.display()))?;
    let name = path.display().to_string();
    let value: Option<serde_json::Value> = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).ok()
    } else {
        serde_yaml::from_str(&text).ok()
    };
    match value {
        Some(v) if workspace_sim::multi::MultiFixture::is_multi(&v) => {
            workspace_sim::multi::MultiFixture::from_value(v, &name)
                .map(Served::Many)
                .map_err(|e| e.to_string())
        }
        _ => Fixture::parse(&text, &name)
            .map(Served::One)
            .map_err(|e| e.to_string()),
    }
}

/// Starts one project's simulator, or several projects' when the fixture has them.
async fn start(
    config: SimConfig,
    many: Option<workspace_sim::multi::MultiFixture>,
    listen: std::net::SocketAddr,
) -> std::io::Result<SimServer> {
    match many {
        Some(many) => SimServer::start_multi(config, many, listen).await,
        None => SimServer::start(config, listen).await,
    }
}

/// Who the gateway lets in: a token, an AK/SK pair, or anyone.
fn auth_of(args: &Args) -> SimAuth {
    match (&args.token, &args.ak, &args.sk) {
        (Some(t), _, _) => SimAuth::Token(t.clone()),
        (None, Some(access_key), Some(secret_key)) => SimAuth::AkSk {
            access_key: access_key.clone(),
            secret_key: secret_key.clone(),
        },
        _ => SimAuth::Open,
    }
}

/// `--move-clock URL`: moves the clock, prints its new "now".
fn say_moved(url: &str, args: &Args) -> ExitCode {
    match move_clock(url, args) {
        Ok(now) => {
            println!("{now}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("workspace-sim: --move-clock {url}: {e}");
            ExitCode::from(1)
        }
    }
}

/// `POST URL/__sim/clock` to a simulator on loopback (one request over a plain socket: the
/// simulator speaks HTTP/1.1 and closes); its new "now".
fn move_clock(url: &str, args: &Args) -> Result<String, String> {
    let change = match (args.clock_at, args.clock_offset, args.clock_advance) {
        (Some(at), None, None) => serde_json::json!({"at": at.to_string()}),
        (None, Some(secs), None) => {
            serde_json::json!({"offset": format!("{}{}s", if secs < 0 { "-" } else { "" }, secs.unsigned_abs())})
        }
        (None, None, Some(secs)) => {
            serde_json::json!({"advance": format!("{}{}s", if secs < 0 { "-" } else { "" }, secs.unsigned_abs())})
        }
        _ => return Err("give one of --clock-at, --clock-offset, --clock-advance".into()),
    };
    let host = url
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|h| !h.contains('/'))
        .ok_or("the URL must be http://127.0.0.1:PORT, as the simulator printed it")?;
    let addr: SocketAddr = host
        .parse()
        .map_err(|_| format!("{host:?} is not an address and port"))?;
    if !addr.ip().is_loopback() {
        return Err("the simulator listens on loopback only".into());
    }
    let body = change.to_string();
    let request = format!(
        "POST /__sim/clock HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .take(64 * 1024)
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let body = body.trim();
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "the simulator answered {}: {body}",
            head.lines().next().unwrap_or("")
        ));
    }
    let now: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("an answer that is not JSON ({e}): {body}"))?;
    now["now"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("an answer without now: {body}"))
}

/// The simulator's clock: frozen at --clock-at, or the system's shifted by --clock-offset;
/// else frozen where the fixture says (`clock_at`), else the system's.
fn clock_of(args: &Args, fixture: &workspace_sim::Fixture) -> workspace_sim::SimClock {
    match (args.clock_at, args.clock_offset, fixture.clock_at) {
        (Some(at), _, _) | (None, None, Some(at)) => workspace_sim::SimClock::frozen_at(at),
        (None, offset, _) => workspace_sim::SimClock::offset_by(offset.unwrap_or(0)),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(url) = &args.move_clock {
        return say_moved(url, &args);
    }
    if args.background {
        return background(args.pid_file.as_deref(), args.exit_after);
    }
    let (fixture, many) = match fixture(&args) {
        Ok(Served::One(f)) => (f, None),
        Ok(Served::Many(m)) => (m.projects[0].fixture.clone(), Some(m)),
        Err(e) => {
            eprintln!("workspace-sim: {e}");
            return ExitCode::from(1);
        }
    };
    let auth = auth_of(&args);
    let fixture_project = fixture.project_id.to_string();
    let config = SimConfig {
        clock: std::sync::Arc::new({
            let clock = clock_of(&args, &fixture);
            clock.serve_date_text(args.date_header.clone());
            clock
        }),
        fixture,
        auth,
        missing_pool: match args.missing_pool {
            MissingPoolArg::Observed => MissingPool::Observed,
            MissingPoolArg::NotFound => MissingPool::NotFound,
            MissingPoolArg::Wks0001 => MissingPool::Wks0001,
        },
        busy_status: args.busy_status,
        omit_total_count: args.omit_total_count,
        page_cap: args.page_cap,
        transient_conflict: args.transient_conflict,
        iam_projects: if args.iam_project.is_empty() {
            vec![("cn-north-4".into(), fixture_project)]
        } else {
            args.iam_project
        },
        agencies: args.agency,
        exact_name_filter: args.name_filter == NameFilterArg::Exact,
        faults: Faults {
            seed: args.seed,
            latency: Duration::from_millis(args.latency_ms),
            delete_latency: Duration::from_millis(args.delete_latency_ms),
            error_rate: args.error_rate,
            drop_rate: args.drop_rate,
            lost_delete_rate: args.lost_delete_rate,
            throttle_rate: args.throttle_rate,
            rate_limit: args.rate_limit,
        },
        churn_on_list: args.churn_on_list,
        shift_on_list: args.shift_on_list,
        hostile: Hostile {
            ghost_delete: args.ghost_delete,
            gateway_404: args.gateway_404,
            false_absent: args.false_absent,
            hide_from_list: args.hide_from_list,
            malformed: args.malformed,
            echo_headers: args.echo_headers,
            error_message: args.error_message,
            flood: args.flood_list,
            omit_list_tags: args.omit_list_tags,
            error_body_bytes: args.error_body_bytes.map(|n| n as usize),
        },
        revoke_auth_after: args.revoke_auth_after,
        forbid_delete: args.forbid_delete,
        anonymous_throttle: args.anonymous_throttle,
    };
    let server = match start(config, many, args.listen).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("workspace-sim: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    println!("{}{}", workspace_sim::LISTENING_PREFIX, server.url());
    let _ = std::io::stdout().flush();
    serve_until_stopped(server, args.exit_after).await;
    ExitCode::SUCCESS
}

/// Serves until Ctrl-C or SIGTERM, or until `exit_after` has passed.
async fn serve_until_stopped(server: SimServer, exit_after: Option<Duration>) {
    match exit_after {
        Some(after) => {
            tokio::select! {
                () = wait_for_stop() => {}
                () = tokio::time::sleep(after) => {}
            }
        }
        None => wait_for_stop().await,
    }
    server.stop();
}

/// Starts `command` in a process group of its own, so that the shell's Ctrl-C does not reach
/// a simulator serving in the background.
fn own_process_group(command: &mut std::process::Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        /// `CREATE_NEW_PROCESS_GROUP`.
        const NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        command.creation_flags(NEW_PROCESS_GROUP);
    }
}

/// How long a simulator started with --background serves unless told otherwise: a forgotten
/// one does not outlive the afternoon.
const BACKGROUND_LIFETIME: Duration = Duration::from_secs(3600);

/// Starts this very command again without `--background`, in a process group of its own,
/// waits until it listens, prints its URL (and writes its pid), and returns.
fn background(pid_file: Option<&std::path::Path>, exit_after: Option<Duration>) -> ExitCode {
    use std::process::{Command, Stdio};
    let fail = |what: String| {
        eprintln!("workspace-sim: {what}");
        ExitCode::from(1)
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail(format!("cannot find its own program: {e}")),
    };
    let mut args: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--background")
        .collect();
    // --pid-file is the parent's to write.
    if let Some(i) = args.iter().position(|a| a == "--pid-file") {
        args.drain(i..(i + 2).min(args.len()));
    }
    args.retain(|a| !a.to_string_lossy().starts_with("--pid-file="));
    let mut command = Command::new(exe);
    command
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    own_process_group(&mut command);
    if exit_after.is_none() {
        command.env(
            "WORKSPACE_SIM_EXIT_AFTER",
            humantime::format_duration(BACKGROUND_LIFETIME).to_string(),
        );
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    let Some(stdout) = child.stdout.take() else {
        return fail("no output from the simulator".into());
    };
    let url = match workspace_sim::read_listening_line(stdout) {
        Ok(url) => url,
        Err(_) => {
            // It said why on its standard error: pass that on.
            let mut why = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                use std::io::Read as _;
                let _ = stderr.read_to_string(&mut why);
            }
            let _ = child.wait();
            eprint!("{why}");
            return fail("the simulator did not start".into());
        }
    };
    if let Some(file) = pid_file {
        if let Err(e) = std::fs::write(file, format!("{}\n", child.id())) {
            let _ = child.kill();
            return fail(format!("cannot write {}: {e}", file.display()));
        }
    }
    println!("{url}");
    ExitCode::SUCCESS
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
