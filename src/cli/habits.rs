//! Terraform habits poolform refuses rather than misreads. Terraform spells long flags with
//! one dash (`-out=tfplan`, `-auto-approve`); clap would read `-out=tfplan` as `-o` with the
//! value `ut=tfplan` and save the plan under that name. Any single-dash word that names one of
//! poolform's long flags, or a Terraform flag, is refused before parsing, with the spelling
//! that works; so are the other habits clap would answer with a tip pointing the wrong way
//! (`--yes`, connection flags on offline commands, a config file without `-f`). Pure.

/// Terraform flags poolform has no flag of the same name for, and what to use instead.
const TERRAFORM_ONLY: &[(&str, &str)] = &[
    (
        "json",
        "--format json (plan, show) or --format jsonl (apply)",
    ),
    ("no-color", "--color never"),
    ("var", "nothing: pools.yaml has no variables"),
    ("var-file", "nothing: pools.yaml has no variables"),
    ("lock", "nothing: poolform keeps no state to lock"),
    ("lock-timeout", "nothing: poolform keeps no state to lock"),
    (
        "input",
        "nothing: plan never asks; apply asks only on a terminal (--auto-approve answers for you)",
    ),
    ("refresh", "nothing: every plan lists the live pools"),
    ("refresh-only", "nothing: every plan lists the live pools"),
    ("state", "nothing: poolform keeps no state"),
    ("chdir", "-f DIR/pools.yaml"),
    (
        "destroy",
        "nothing: poolform only deletes what pools.yaml does not keep",
    ),
    ("replace", "nothing: poolform never creates pools"),
    ("compact-warnings", "nothing"),
];

/// Checks the command line (without the program name) before clap reads it: `Err` with the
/// message for the first single-dash long flag. `long_flags` are poolform's long flag names,
/// without dashes. Words after `--` are not flags.
pub fn refuse_single_dash(args: &[String], long_flags: &[String]) -> Result<(), String> {
    for arg in args {
        if arg == "--" {
            return Ok(());
        }
        let Some(word) = arg.strip_prefix('-') else {
            continue;
        };
        if word.starts_with('-') || word.len() < 2 {
            continue;
        }
        let (name, value) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word, None),
        };
        let spelled = match value {
            Some(v) => format!("--{name} {v}"),
            None => format!("--{name}"),
        };
        if long_flags.iter().any(|f| f == name) {
            return Err(format!(
                "unexpected argument '{arg}': poolform spells long flags with two dashes; did you mean '{spelled}'?"
            ));
        }
        if let Some((_, instead)) = TERRAFORM_ONLY.iter().find(|(flag, _)| *flag == name) {
            return Err(format!(
                "unexpected argument '{arg}': that is Terraform's flag; with poolform use {instead}"
            ));
        }
    }
    Ok(())
}

/// The flags that say where to connect: only plan, apply and import take them.
const CONNECTION_FLAGS: &[&str] = &[
    "--endpoint",
    "--region",
    "--project-id",
    "--cloud",
    "--profile",
];

/// The commands that never connect.
const OFFLINE: &[&str] = &["validate", "show", "schema", "completions"];

/// Checks the command line for what clap would answer with a tip that points the wrong way:
/// `--yes`, a connection flag on an offline command, a config file given without `-f`.
/// `value_flags(command)` lists the spellings of that command's flags that take a value (for
/// telling a value from a positional word). `Err` with the message, and the tip that works.
pub fn refuse_misplaced(
    args: &[String],
    value_flags: &dyn Fn(&str) -> Vec<String>,
) -> Result<(), String> {
    let mut command: Option<&str> = None;
    let mut takes_value = false;
    for arg in args {
        if arg == "--" {
            return Ok(());
        }
        if std::mem::take(&mut takes_value) {
            continue;
        }
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        if name == "--dry-run" {
            return Err(format!(
                "unexpected argument '{arg}': poolform has no dry run; `poolform plan` shows what apply would delete, and deletes nothing"
            ));
        }
        if matches!(name, "--yes" | "-y") {
            return Err(format!(
                "unexpected argument '{arg}': poolform asks for 'yes' at its prompt; to apply without asking, pass --auto-approve"
            ));
        }
        let Some(cmd) = command else {
            if name == "--color" && !arg.contains('=') {
                takes_value = true;
            } else if !arg.starts_with('-') {
                command = Some(arg);
            }
            continue;
        };
        if name == "--auto-approve" && cmd == "plan" {
            return Err(format!(
                "unexpected argument '{arg}' for 'poolform plan': plan never deletes and asks nothing; --auto-approve belongs to apply ('poolform apply --auto-approve')"
            ));
        }
        if CONNECTION_FLAGS.contains(&name) && OFFLINE.contains(&cmd) {
            return Err(format!(
                "unexpected argument '{name}' for 'poolform {cmd}': {cmd} works offline and never connects; {name} belongs to plan, apply and import"
            ));
        }
        if arg.starts_with('-') {
            takes_value = !arg.contains('=') && value_flags(cmd).iter().any(|f| f == name);
            continue;
        }
        let config_like = arg.ends_with(".yaml") || arg.ends_with(".yml");
        if config_like && matches!(cmd, "plan" | "apply" | "validate" | "import") {
            let shown = crate::cli::hint::shell_word(arg);
            return Err(format!(
                "unexpected argument '{arg}': the config file is given with -f; did you mean 'poolform {cmd} -f {shown}'?"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn misplaced_words_get_the_tip_that_works() {
        let value_flags = |cmd: &str| -> Vec<String> {
            match cmd {
                "plan" | "apply" | "validate" => {
                    vec![
                        "-f".into(),
                        "--file".into(),
                        "-o".into(),
                        "--endpoint".into(),
                        "--target".into(),
                    ]
                }
                _ => vec![],
            }
        };
        let cases: [(&[&str], Option<&str>); 15] = [
            (&["plan", "--auto-approve"], Some("plan never deletes and asks nothing; --auto-approve belongs to apply")),
            (&["apply", "--dry-run"], Some("poolform has no dry run; `poolform plan` shows what apply would delete")),
            (&["plan", "--dry-run"], Some("`poolform plan` shows what apply would delete")),
            (&["apply", "--yes"], Some("to apply without asking, pass --auto-approve")),
            (&["apply", "-y"], Some("pass --auto-approve")),
            (&["validate", "--region", "cn-north-4"], Some("validate works offline and never connects; --region belongs to plan, apply and import")),
            (&["show", "plan.json", "--endpoint=http://x"], Some("'poolform show': show works offline")),
            (&["plan", "pools.yaml"], Some("did you mean 'poolform plan -f pools.yaml'?")),
            (&["validate", "my pools.yml"], Some("did you mean 'poolform validate -f 'my pools.yml''?")),
            (&["plan", "-f", "pools.yaml"], None),
            (&["plan", "--file", "x.yaml", "-o", "p.yaml"], None),
            (&["apply", "plan.json", "-f", "pools.yaml"], None),
            (&["--color", "never", "plan", "-f", "a.yaml"], None),
            (&["plan", "--endpoint", "x.yaml"], None),
            (&["plan", "--", "x.yaml"], None),
        ];
        for (args, want) in cases {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            match (refuse_misplaced(&args, &value_flags), want) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => assert!(e.contains(want), "{args:?}: {e}"),
                (got, want) => panic!("{args:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn terraform_spellings_are_refused_with_the_one_that_works() {
        let long: Vec<String> = [
            "out",
            "auto-approve",
            "detailed-exitcode",
            "parallelism",
            "target",
            "file",
            "format",
            "help",
            "version",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let cases: [(&[&str], Option<&str>); 14] = [
            (
                &["plan", "-out=tfplan"],
                Some("did you mean '--out tfplan'?"),
            ),
            (
                &["apply", "-auto-approve"],
                Some("did you mean '--auto-approve'?"),
            ),
            (
                &["plan", "-detailed-exitcode"],
                Some("did you mean '--detailed-exitcode'?"),
            ),
            (
                &["apply", "-parallelism=4"],
                Some("did you mean '--parallelism 4'?"),
            ),
            (
                &["apply", "-target=ci-a"],
                Some("did you mean '--target ci-a'?"),
            ),
            (&["plan", "-json"], Some("with poolform use --format json")),
            (&["plan", "-no-color"], Some("use --color never")),
            (&["plan", "-help"], Some("did you mean '--help'?")),
            (&["plan", "-o", "plan.json"], None),
            (&["plan", "-oplan.json"], None),
            (&["plan", "-f", "-"], None),
            (&["-v", "plan"], None),
            (&["import", "--name-prefix", "-ci"], None),
            (&["plan", "--", "-out=x"], None),
        ];
        for (args, want) in cases {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            match (refuse_single_dash(&args, &long), want) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => assert!(e.contains(want), "{args:?}: {e}"),
                (got, want) => panic!("{args:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
