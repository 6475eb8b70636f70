//! The Huawei IAM permissions a key needs for each command: the action of exactly each API the
//! command calls, as Huawei's page for that API gives it under "Authorization Information",
//! with the actions that page says it depends on; gathered into the policy documents to
//! attach (with an agency: the key's own, to assume it, apart from the agency's).
//!
//! Pure: a table and what is derived from it.

use serde::Serialize;

/// Which command's permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `plan` (and `import`, which makes the same calls).
    Plan,
    /// `apply`: the plan's calls, the DELETE, and the reads that explain and prove a result.
    Apply,
}

/// Whose policy an action goes in when the run assumes an agency: the key's own (to assume
/// it), or the agency's (everything done as the agency). Without an agency, both are the
/// key's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    Key,
    Agency,
}

/// One API poolform calls, and what Huawei's page for it says it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Call {
    /// The API's name in Huawei's reference.
    pub api: &'static str,
    /// The request poolform sends.
    pub request: &'static str,
    /// The action the page names.
    pub action: &'static str,
    /// Its access level.
    pub access: &'static str,
    /// The actions the page lists as its dependencies.
    pub depends_on: &'static [&'static str],
    /// When poolform makes the call.
    pub when: &'static str,
    /// Huawei's page for the API (its "Authorization Information").
    pub page: &'static str,
    /// Whose policy it goes in under an agency.
    pub holder: Holder,
    /// Which commands make it: `plan` or `apply` only.
    #[serde(skip)]
    pub apply_only: bool,
}

/// Every API poolform calls.
pub const CALLS: &[Call] = &[
    Call {
        api: "ListDesktopPools",
        request: "GET /v2/{project_id}/desktop-pools",
        action: "workspace:desktopPools:list",
        access: "List",
        depends_on: &["ims:images:list", "workspace:sites:get"],
        when: "every plan and apply lists the pools (apply again before its DELETEs, and to verify them)",
        page: "https://support.huaweicloud.com/intl/en-us/api-workspace/ListDesktopPools.html",
        holder: Holder::Agency,
        apply_only: false,
    },
    Call {
        api: "ShowDesktopPoolDetail",
        request: "GET /v2/{project_id}/desktop-pools/{pool_id}",
        action: "workspace:desktopPools:get",
        access: "Read",
        depends_on: &[
            "ims:images:list",
            "vpc:securityGroups:get",
            "vpc:vpcs:get",
            "vpc:subnets:get",
            "vpc:networks:get",
        ],
        when: "a pool the listing names without its tags is read alone; apply reads a planned pool missing from the listing, and a blocked pool it waits on",
        page: "https://support.huaweicloud.com/intl/en-us/api-workspace/ShowDesktopPoolDetail.html",
        holder: Holder::Agency,
        apply_only: false,
    },
    Call {
        api: "ListPoolDesktopsDetail",
        request: "GET /v2/{project_id}/desktop-pools/{pool_id}/desktops",
        action: "workspace:desktopPools:listDesktops",
        access: "List",
        depends_on: &[
            "vpc:ports:get",
            "vpc:ports:list",
            "vpc:securityGroups:get",
            "eip:publicIps:list",
            "nat:snatRules:list",
        ],
        when: "apply names the desktops that block a pool (409)",
        page: "https://support.huaweicloud.com/intl/en-us/api-workspace/ListPoolDesktopsDetail.html",
        holder: Holder::Agency,
        apply_only: true,
    },
    Call {
        api: "DeleteDesktopPool",
        request: "DELETE /v2/{project_id}/desktop-pools/{pool_id}",
        action: "workspace:desktopPools:delete",
        access: "Write",
        depends_on: &[],
        when: "apply deletes each planned pool",
        page: "https://support.huaweicloud.com/intl/en-us/api-workspace/DeleteDesktopPool.html",
        holder: Holder::Agency,
        apply_only: true,
    },
    Call {
        api: "KeystoneListProjects",
        request: "GET /v3/projects?name={name}",
        action: "iam:projects:list",
        access: "List",
        depends_on: &[],
        when: "the project is named by its region or project_name, not by its id",
        page: "https://support.huaweicloud.com/intl/en-us/api-iam/iam_06_0001.html",
        holder: Holder::Agency,
        apply_only: false,
    },
    Call {
        api: "CreateTemporaryAccessKeyByAgency",
        request: "POST /v3.0/OS-CREDENTIAL/securitytokens (assume_role)",
        action: "iam:agencies:assume",
        access: "Write",
        depends_on: &[],
        when: "the run assumes an agency (HW_ASSUME_ROLE_AGENCY_NAME, a profile's or a project's agency)",
        page: "https://support.huaweicloud.com/intl/en-us/api-iam/iam_04_0101.html (the action: https://support.huaweicloud.com/intl/en-us/api-iam/iam_02_0016.html)",
        holder: Holder::Key,
        apply_only: false,
    },
];

/// The calls `command` makes; with `agency`, the assume-role call too, else not.
pub fn calls(command: Command, agency: bool) -> Vec<&'static Call> {
    CALLS
        .iter()
        .filter(|c| command == Command::Apply || !c.apply_only)
        .filter(|c| agency || c.holder != Holder::Key)
        .collect()
}

/// A policy document to attach, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Whose policy it is.
    pub holder: Holder,
    /// The policy, as Huawei IAM takes a custom policy's JSON.
    pub policy: Policy,
}

/// `{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": [...]}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    #[serde(rename = "Version")]
    pub version: &'static str,
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    /// Sorted, each once.
    #[serde(rename = "Action")]
    pub action: Vec<&'static str>,
}

/// The documents `command` needs: one for the key; with `agency`, the key's (to assume the
/// agency) and the agency's (everything else).
pub fn documents(command: Command, agency: bool) -> Vec<Document> {
    let holders: &[Holder] = if agency {
        &[Holder::Key, Holder::Agency]
    } else {
        &[Holder::Key]
    };
    holders
        .iter()
        .map(|&holder| {
            let mut action: Vec<&'static str> = calls(command, agency)
                .into_iter()
                .filter(|c| !agency || c.holder == holder)
                .flat_map(|c| std::iter::once(c.action).chain(c.depends_on.iter().copied()))
                .collect();
            action.sort_unstable();
            action.dedup();
            Document {
                holder,
                policy: Policy {
                    version: "1.1",
                    statement: vec![Statement {
                        effect: "Allow",
                        action,
                    }],
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(d: &Document) -> Vec<&'static str> {
        d.policy.statement[0].action.clone()
    }

    #[test]
    fn plan_never_asks_for_a_delete_and_apply_does() {
        let cases = [
            (Command::Plan, false, false),
            (Command::Plan, true, false),
            (Command::Apply, false, true),
            (Command::Apply, true, true),
        ];
        for (command, agency, deletes) in cases {
            let all: Vec<&str> = documents(command, agency)
                .iter()
                .flat_map(actions)
                .collect();
            assert_eq!(
                all.contains(&"workspace:desktopPools:delete"),
                deletes,
                "{command:?} agency={agency}: {all:?}"
            );
            assert!(all.contains(&"workspace:desktopPools:list"));
            assert!(all.contains(&"ims:images:list"), "a dependency is included");
        }
    }

    #[test]
    fn with_an_agency_the_key_may_only_assume_it() {
        let docs = documents(Command::Apply, true);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].holder, Holder::Key);
        assert_eq!(actions(&docs[0]), ["iam:agencies:assume"]);
        assert_eq!(docs[1].holder, Holder::Agency);
        assert!(!actions(&docs[1]).contains(&"iam:agencies:assume"));
        assert!(actions(&docs[1]).contains(&"iam:projects:list"));
        // without one, one document and no assume
        let docs = documents(Command::Plan, false);
        assert_eq!(docs.len(), 1);
        assert!(!actions(&docs[0]).contains(&"iam:agencies:assume"));
    }

    #[test]
    fn actions_are_sorted_once_each_and_every_call_cites_its_page() {
        for d in documents(Command::Apply, false) {
            let a = actions(&d);
            let mut sorted = a.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(a, sorted);
        }
        for c in CALLS {
            assert!(
                c.page.starts_with("https://support.huaweicloud.com/"),
                "{}",
                c.api
            );
            assert!(c.action.contains(':'), "{}", c.api);
        }
    }
}
