//! Commands poolform suggests, spelled so that they work when pasted: every word a POSIX shell
//! would read otherwise is quoted, and the flags the run used are repeated.

use crate::cli::args::{ConnectionArgs, ProjectArgs};

/// `s` as one word a POSIX shell reads back as it is: bare when it holds only characters no
/// shell treats specially, else in single quotes (a single quote inside spelled `'\''`).
pub fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '@' | '+' | ',')
        });
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The connection flags given on the command line, as words (`--endpoint URL`, ...).
pub fn connection_words(c: &ConnectionArgs) -> Vec<String> {
    let mut words = Vec::new();
    for endpoint in &c.endpoint {
        words.push("--endpoint".to_owned());
        words.push(endpoint.clone());
    }
    for (flag, value) in [
        ("--region", &c.region),
        ("--project-id", &c.project_id),
        ("--cloud", &c.cloud),
        ("--profile", &c.profile),
    ] {
        if let Some(v) = value {
            words.push(flag.to_owned());
            words.push(v.clone());
        }
    }
    words
}

/// `poolform apply PLAN -f CONFIG [connection flags] [--target T]... [--max-deletes N]`: the
/// command that applies a plan just saved, with what the plan run was given (the config when
/// it is not the default `pools.yaml`, the connection flags, the targets, the cap it was
/// allowed past the config's).
/// What else a plan was made with that its apply must be given again: the `--target`s, the
/// caps the flags set, and the Terraform states (the plan is bound to their SHA-256s).
#[derive(Debug, Clone, Copy, Default)]
pub struct Repeated<'a> {
    pub targets: &'a [String],
    pub max_deletes: Option<u32>,
    pub max_deletes_percent: Option<crate::core::config::Percent>,
    pub terraform_states: &'a [std::path::PathBuf],
}

pub fn apply_command(
    plan_file: &str,
    config: &str,
    connection: &ConnectionArgs,
    projects: &ProjectArgs,
    repeated: &Repeated<'_>,
) -> String {
    let mut words = vec![
        "poolform".to_owned(),
        "apply".to_owned(),
        plan_file.to_owned(),
    ];
    if config != crate::cli::args::DEFAULT_CONFIG {
        words.push("-f".to_owned());
        words.push(config.to_owned());
    }
    words.extend(connection_words(connection));
    for (flag, values) in [
        ("--only", &projects.only),
        ("--allow-agency", &projects.allow_agency),
    ] {
        for v in values {
            words.push(flag.to_owned());
            words.push(v.clone());
        }
    }
    for t in repeated.targets {
        words.push("--target".to_owned());
        words.push(t.clone());
    }
    if let Some(max) = repeated.max_deletes {
        words.push("--max-deletes".to_owned());
        words.push(max.to_string());
    }
    if let Some(percent) = repeated.max_deletes_percent {
        words.push("--max-deletes-percent".to_owned());
        words.push(percent.value().to_string());
    }
    for state in repeated.terraform_states {
        words.push("--terraform-state".to_owned());
        words.push(state.display().to_string());
    }
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_where_a_shell_would_misread_them() {
        let cases = [
            ("plan.json", "plan.json"),
            ("../x/pools.yaml", "../x/pools.yaml"),
            ("http://127.0.0.1:18085", "http://127.0.0.1:18085"),
            ("my plan.json", "'my plan.json'"),
            ("it's", r"'it'\''s'"),
            ("$HOME", "'$HOME'"),
            ("a;rm -rf /", "'a;rm -rf /'"),
            ("", "''"),
            ("桌面", "'桌面'"),
        ];
        for (input, want) in cases {
            assert_eq!(shell_word(input), want, "{input}");
        }
    }

    #[test]
    fn the_apply_command_repeats_what_the_plan_used() {
        let connection = ConnectionArgs {
            endpoint: vec!["http://127.0.0.1:9".into()],
            profile: Some("ci tenant".into()),
            ..ConnectionArgs::default()
        };
        assert_eq!(
            apply_command(
                "p.json",
                "../x/pools.yaml",
                &connection,
                &ProjectArgs {
                    only: vec!["cn-north-4/ci".into()],
                    allow_agency: Vec::new()
                },
                &Repeated {
                    targets: &["ci-old".into()],
                    max_deletes: Some(12),
                    max_deletes_percent: Some(crate::core::config::Percent::parse(2.5).unwrap()),
                    terraform_states: &["states/lab state.json".into()],
                }
            ),
            "poolform apply p.json -f ../x/pools.yaml --endpoint http://127.0.0.1:9 --profile 'ci tenant' --only cn-north-4/ci --target ci-old --max-deletes 12 --max-deletes-percent 2.5 --terraform-state 'states/lab state.json'"
        );
        assert_eq!(
            apply_command(
                "plan.json",
                "pools.yaml",
                &ConnectionArgs::default(),
                &ProjectArgs::default(),
                &Repeated::default()
            ),
            "poolform apply plan.json"
        );
    }
}
