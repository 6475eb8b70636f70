//! `poolform policy`: the IAM policy documents a key needs for a command, and what each action
//! is for, in words or as JSON.

use crate::cli::args::{PolicyFormat, PolicyOf};
use crate::core::policy::{self, Command, Holder};
use std::fmt::Write as _;

/// What `poolform policy --for OF [--agency] --format FORMAT` prints.
pub fn text(of: PolicyOf, agency: bool, format: PolicyFormat) -> String {
    let command = match of {
        PolicyOf::Plan => Command::Plan,
        PolicyOf::Apply => Command::Apply,
    };
    let name = match command {
        Command::Plan => "plan",
        Command::Apply => "apply",
    };
    let documents = policy::documents(command, agency);
    let calls = policy::calls(command, agency);
    if format == PolicyFormat::Json {
        let json = serde_json::json!({
            "command": name,
            "agency": agency,
            "documents": documents,
            "calls": calls,
        });
        return serde_json::to_string_pretty(&json).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    for d in &documents {
        let whom = match (d.holder, agency) {
            (Holder::Key, false) => format!(
                "The policy of the key that runs `poolform {name}` (attach it to its IAM user, or a group of it):"
            ),
            (Holder::Key, true) => "The key's own policy: it may only assume the agency (attach it to the key's IAM user; narrow it with a Resource of the agency's URI, /iam/agencies/AGENCY_ID):".to_owned(),
            (Holder::Agency, _) => format!(
                "The agency's policy, in the account the agency is in: what `poolform {name}` does as the agency:"
            ),
        };
        let policy = serde_json::to_string_pretty(&d.policy).unwrap_or_default();
        let _ = writeln!(out, "{whom}\n{policy}\n");
    }
    let _ = writeln!(
        out,
        "What each action is for (Huawei's page for each API names it under \"Authorization Information\"):"
    );
    for c in calls {
        let _ = writeln!(out, "  {}  {}, {}", c.action, c.api, c.request);
        let _ = writeln!(out, "      when {}", c.when);
        if !c.depends_on.is_empty() {
            let _ = writeln!(out, "      depends on {}", c.depends_on.join(", "));
        }
        let _ = writeln!(out, "      {}", c.page);
    }
    out
}
