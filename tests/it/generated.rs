//! Generated hostile input: proptest generators for YAML configs (anchors, aliases, deep
//! nesting, tags, alias bombs), for plan files (any field replaced, removed, added, nested or
//! cut short), and for list, show and desktops bodies (any field of any type, hostile ids,
//! deep junk). Each property: no panic, an answer within the time bound, and fail-closed
//! decisions: a malformed decision field always refuses the page, and an accepted plan file
//! never authorizes a DELETE that a fresh plan would not make.

use crate::harness::*;
use poolform::core::config;
use poolform::core::model::Live;
use poolform::core::plan::Plan;
use poolform::core::planner::{self, PlanContext};
use proptest::prelude::*;
use proptest::test_runner::Config as Cases;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// What any one generated input may take to be accepted or refused (the bound for
/// a whole 8 MiB config is 1 s; these inputs are far smaller).
const BOUND: Duration = Duration::from_secs(1);

fn within<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    if took > BOUND {
        return Err(TestCaseError::fail(format!("{what} took {took:?}")));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// YAML

/// Scalars as a hostile file might spell them.
fn yaml_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}",
        Just("1".to_owned()),
        Just("-7".to_owned()),
        Just("1e400".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("~".to_owned()),
        Just("\"ci-\\u001b[2K\\r\\n\"".to_owned()),
        Just("'it''s'".to_owned()),
        Just("\"\\u202e\"".to_owned()),
        Just("!!binary Y2kt".to_owned()),
        Just("!custom x".to_owned()),
        Just("*nowhere".to_owned()),
        Just("\"\"".to_owned()),
    ]
}

/// A flow-style node: scalars, lists and maps nested to any depth, some anchored, some aliases
/// of anchors that may or may not exist.
fn yaml_flow() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => yaml_scalar(),
        1 => (0u8..4).prop_map(|n| format!("*a{n}")),
    ];
    leaf.prop_recursive(12, 64, 6, |inner| {
        let anchored = (0u8..4, inner.clone()).prop_map(|(n, v)| format!("&a{n} {v}"));
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|v| format!("[{}]", v.join(", "))),
            proptest::collection::vec(("[a-z_]{1,8}", inner.clone()), 0..6).prop_map(|kv| {
                let parts: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", parts.join(", "))
            }),
            anchored,
        ]
    })
}

/// A whole file: the config's own keys and some others, each with a generated value, in block
/// style; sometimes with a BOM, deep nesting or a second document.
fn yaml_file() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("version"),
        Just("scope"),
        Just("pools"),
        Just("protect"),
        Just("max_deletes"),
        Just("allow_delete_all"),
        Just("project_id"),
        Just("region"),
        Just("endpoint"),
        Just("cloud"),
        Just("name_prefix"),
        Just("<<"),
    ];
    (
        proptest::collection::vec((key, yaml_flow()), 0..8),
        any::<bool>(),
        prop_oneof![Just(0usize), 1usize..200, 2000usize..20_000],
        any::<bool>(),
    )
        .prop_map(|(entries, bom, depth, two_docs)| {
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            for (k, v) in entries {
                text.push_str(&format!("{k}: {v}\n"));
            }
            if depth > 0 {
                text.push_str(&format!(
                    "deep: {}{}\n",
                    "[".repeat(depth),
                    "]".repeat(depth)
                ));
            }
            if two_docs {
                text.push_str("---\nversion: 1\n");
            }
            text
        })
}

/// `layers` anchored lists, each aliasing the one before `width` times: `width^layers` values.
fn alias_bomb(width: usize, layers: usize, scalar: usize) -> String {
    let mut text = format!("a0: &a0 \"{}\"\n", "x".repeat(scalar));
    for layer in 1..=layers {
        let aliases = vec![format!("*a{}", layer - 1); width].join(", ");
        text.push_str(&format!("a{layer}: &a{layer} [{aliases}]\n"));
    }
    text
}

proptest! {
    #![proptest_config(Cases::with_cases(2000))]

    /// Any generated file is accepted or refused in time, and a refusal names file:line:column.
    #[test]
    fn generated_yaml_is_accepted_or_refused_with_a_position(text in yaml_file()) {
        let result = within("parsing", || config::parse(&text, "gen.yaml"))?;
        if let Err(e) = result {
            let shown = e.to_string();
            prop_assert!(shown.starts_with("gen.yaml:"), "{shown}");
            prop_assert!(e.line >= 1 && e.column >= 1, "{shown}");
        }
    }
}

proptest! {
    #![proptest_config(Cases::with_cases(300))]

    /// Alias bombs of any shape are refused exactly when they expand past the budget (500,000
    /// values or 16 MiB), and always in time.
    #[test]
    fn alias_bombs_are_refused_past_the_budget_and_allowed_within_it(
        width in 1usize..40,
        layers in 1usize..12,
        scalar in prop_oneof![Just(1usize), 1000usize..5000],
    ) {
        let text = alias_bomb(width, layers, scalar);
        // Layer l holds width^l copies of the scalar, width of them through aliases of the
        // layer before: what the aliases stand for adds up over the layers.
        let values: f64 = (0..=layers).map(|l| (width as f64).powi(l as i32)).sum();
        let bytes: f64 = (1..=layers)
            .map(|l| (width as f64).powi(l as i32) * (scalar + 2) as f64)
            .sum();
        let result = within("checking", || poolform::core::yaml_guard::check(&text))?;
        if values > 600_000.0 || bytes > 17.0 * 1024.0 * 1024.0 {
            let refusal = result.expect_err("a bomb past the budget is refused");
            prop_assert!(
                refusal.message.contains("more than 500000 values")
                    || refusal.message.contains("more than 16 MiB"),
                "{}",
                refusal.message
            );
        } else if values < 400_000.0 && bytes < 15.0 * 1024.0 * 1024.0 {
            prop_assert!(result.is_ok(), "{:?}", result.err().map(|r| r.message));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Plan files

/// Any JSON value, hostile strings and numbers among them, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(json!(0)),
            Just(json!(-1)),
            Just(json!(1.5)),
            Just(json!(u64::MAX)),
            Just(json!(7)),
        ],
        prop_oneof![
            "[ -~]{0,16}".prop_map(Value::String),
            Just(json!("\u{1b}[2K\r\nNo changes.")),
            Just(json!("../../etc/passwd")),
            Just(json!("a130ab3a-72bf-4b71-baa9-af4987c8e338")),
            Just(json!("0".repeat(64))),
            Just(json!("\u{202e}")),
        ],
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Stands in the generated value for `depth` nested lists, until the text is written.
const NEST: &str = "__nest__";

/// The text of `value`, with each [`NEST`] placeholder spelled out as nested lists.
fn spelled(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&format!("\"{NEST}")) {
        out.push_str(&rest[..at]);
        let after = &rest[at + NEST.len() + 1..];
        let digits = after.find('"').unwrap();
        let depth: usize = after[..digits].parse().unwrap();
        out.push_str(&"[".repeat(depth));
        out.push_str(&"]".repeat(depth));
        rest = &after[digits + 1..];
    }
    out.push_str(rest);
    out
}

/// What is done to a valid plan file.
#[derive(Debug, Clone)]
enum PlanEdit {
    /// Replace the value at a path (chosen by the numbers) with another.
    Replace(Vec<usize>, Value),
    /// Remove the key at a path.
    Remove(Vec<usize>),
    /// Add a key to the object at a path.
    Add(Vec<usize>, String, Value),
    /// Repeat a change.
    Duplicate(usize),
    /// Wrap the value at a path in `depth` lists.
    Nest(Vec<usize>, usize),
}

fn plan_edit() -> impl Strategy<Value = PlanEdit> {
    let path = proptest::collection::vec(0usize..64, 1..5);
    prop_oneof![
        4 => (path.clone(), json_value()).prop_map(|(p, v)| PlanEdit::Replace(p, v)),
        2 => path.clone().prop_map(PlanEdit::Remove),
        1 => (path.clone(), "[a-z_]{1,10}", json_value()).prop_map(|(p, k, v)| PlanEdit::Add(p, k, v)),
        1 => (0usize..8).prop_map(PlanEdit::Duplicate),
        1 => (path, prop_oneof![1usize..8, 100usize..3000]).prop_map(|(p, d)| PlanEdit::Nest(p, d)),
    ]
}

/// The value a path of numbers leads to: at each level, the n-th (mod len) element or key.
fn walk<'a>(mut v: &'a mut Value, path: &[usize]) -> &'a mut Value {
    for &n in path {
        let len = match &*v {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        };
        if len == 0 {
            break;
        }
        v = match v {
            Value::Array(a) => &mut a[n % len],
            Value::Object(m) => {
                let key = m.keys().nth(n % len).unwrap().clone();
                m.get_mut(&key).unwrap()
            }
            _ => unreachable!(),
        };
    }
    v
}

fn apply_edit(plan: &mut Value, edit: &PlanEdit) {
    match edit {
        PlanEdit::Replace(path, value) => *walk(plan, path) = value.clone(),
        PlanEdit::Remove(path) => {
            let (last, parent) = path.split_last().unwrap();
            if let Value::Object(m) = walk(plan, parent) {
                if !m.is_empty() {
                    let key = m.keys().nth(last % m.len()).unwrap().clone();
                    m.remove(&key);
                }
            }
        }
        PlanEdit::Add(path, key, value) => {
            if let Value::Object(m) = walk(plan, path) {
                m.insert(key.clone(), value.clone());
            }
        }
        PlanEdit::Duplicate(n) => {
            let changes = plan.pointer_mut("/projects/0/changes");
            if let Some(changes) = changes.and_then(Value::as_array_mut) {
                if !changes.is_empty() {
                    let c = changes[n % changes.len()].clone();
                    changes.push(c);
                }
            }
        }
        // Spelled out in the text after serialization (a Value this deep would overflow the
        // test's own stack).
        PlanEdit::Nest(path, depth) => *walk(plan, path) = json!(format!("{NEST}{depth}")),
    }
}

/// The example's live pools and config, and a valid plan of them as JSON.
fn example_plan() -> (poolform::core::rules::Rules, Live, Value) {
    let text = std::fs::read_to_string(repo_file("examples/pools.yaml")).unwrap();
    let file = config::parse(&text, "pools.yaml").unwrap();
    let config = poolform::core::projects::the_one(&file).unwrap().rules;
    let pools = example_fixture()
        .pools
        .iter()
        .map(|p| poolform::api::wire::pool_from_body(&serde_json::to_vec(p).unwrap()).unwrap())
        .collect();
    let live = Live::new(pools).unwrap();
    let ctx = PlanContext {
        label: None,
        project_id: project(),
        endpoint: "http://127.0.0.1:9".into(),
        identity: token_identity(),
    };
    let made = poolform::core::plan::Made {
        created_at: "2026-11-28T00:00:00Z".into(),
        source: "pools.yaml".into(),
        config_sha256: poolform::core::plan::config_sha256(text.as_bytes()),
    };
    let part = planner::plan(&config, &live, &ctx).unwrap();
    let plan = Plan::new(made, Vec::new(), vec![part], Vec::new());
    let value = serde_json::from_str(&plan.to_json()).unwrap();
    (config, live, value)
}

proptest! {
    #![proptest_config(Cases::with_cases(2000))]

    /// Any edit of a plan file is read or refused in time; a file that is read and agrees
    /// with itself never authorizes a DELETE the config would not make against the listing.
    #[test]
    fn edited_plan_files_never_authorize_an_unplanned_delete(
        edits in proptest::collection::vec(plan_edit(), 1..4),
        cut in proptest::option::of(0usize..4000),
    ) {
        let (config, live, mut value) = example_plan();
        for edit in &edits {
            apply_edit(&mut value, edit);
        }
        let mut text = spelled(&value);
        if let Some(cut) = cut {
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
        let read = within("reading the plan", || Plan::from_json(&text, "plan.json"))?;
        let Ok(plan) = read else { return Ok(()) };
        let fresh: std::collections::BTreeSet<String> = {
            let (_, _, v) = example_plan();
            v["projects"][0]["changes"].as_array().unwrap().iter().map(|c| c["pool"]["id"].as_str().unwrap().to_owned()).collect()
        };
        for part in &plan.projects {
        if let Ok(authorized) =
            poolform::core::authorize::authorize(part, "the plan", &config, "pools.yaml", &live)
        {
            for step in &authorized.steps {
                prop_assert!(
                    fresh.contains(step.pool().id.as_str()),
                    "DELETE of {} authorized by an edited plan",
                    step.pool().id
                );
            }
        }
        }
    }
}

// ---------------------------------------------------------------------------------------
// List, show and desktops bodies

/// A value for one of the pool's known fields, and whether the decoder must accept it.
#[derive(Debug, Clone)]
struct FieldValue {
    json: Option<Value>,
    valid: bool,
}

fn field(json: Option<Value>, valid: bool) -> FieldValue {
    FieldValue { json, valid }
}

/// The JSON kinds a field can be given, judged against the kind the API documents.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Count,
    Flag,
}

fn wrong_types() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"injected": true})),
        Just(json!(["injected"])),
        Just(json!(true)),
        Just(json!(7)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!("3")),
    ]
}

fn value_of(kind: Kind, required: bool) -> impl Strategy<Value = FieldValue> {
    let good = match kind {
        Kind::Text => prop_oneof![
            "[ -~]{0,12}".prop_map(Value::String),
            Just(json!("\u{1b}[2K\r\nNo changes.\u{202e}\u{9b}")),
            Just(json!("桌面池")),
        ]
        .boxed(),
        Kind::Count => prop_oneof![Just(json!(0)), Just(json!(3)), Just(json!(u64::MAX))].boxed(),
        Kind::Flag => any::<bool>().prop_map(Value::Bool).boxed(),
    };
    let is_good = move |v: &Value| match kind {
        Kind::Text => v.is_string(),
        Kind::Count => v.is_u64(),
        Kind::Flag => v.is_boolean(),
    };
    prop_oneof![
        6 => good.prop_map(|v| field(Some(v), true)),
        1 => wrong_types().prop_map(move |v| {
            let ok = is_good(&v);
            field(Some(v), ok)
        }),
        1 => Just(field(None, !required)),
        1 => Just(field(Some(Value::Null), !required)),
        1 => prop_oneof![Just(json!(18446744073709551616u128 as f64)), Just(json!(1e300))]
            .prop_map(|v| field(Some(v), false)),
    ]
}

fn pool_id() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        8 => "[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-8[a-f0-9]{3}-[a-f0-9]{12}".prop_map(|s| field(Some(json!(s)), true)),
        1 => prop_oneof![
            Just(json!("")),
            Just(json!("../../v2/other")),
            Just(json!("a/b")),
            Just(json!("a?b=c")),
            Just(json!("x".repeat(65))),
            Just(json!("id\u{1b}")),
            Just(json!("桌面")),
            Just(json!(7)),
            Just(json!(null)),
        ]
        .prop_map(|v| field(Some(v), false)),
        1 => Just(field(None, false)),
    ]
}

fn tags() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        4 => Just(field(None, true)),
        2 => proptest::collection::vec(("[a-z]{1,6}", "[ -~]{0,6}"), 0..4).prop_map(|kv| {
            let list: Vec<Value> = kv.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
            field(Some(Value::Array(list)), true)
        }),
        1 => prop_oneof![Just(json!("env=prod")), Just(json!(7)), Just(json!({"key": "k"})), Just(json!([7]))]
            .prop_map(|v| field(Some(v), false)),
    ]
}

fn autoscale() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        4 => Just(field(None, true)),
        2 => (value_of(Kind::Count, false), value_of(Kind::Text, false)).prop_map(|(min_idle, kind)| {
            let mut m = Map::new();
            if let Some(v) = min_idle.json { m.insert("min_idle".into(), v); }
            if let Some(v) = kind.json { m.insert("autoscale_type".into(), v); }
            field(Some(Value::Object(m)), min_idle.valid && kind.valid)
        }),
        1 => wrong_types()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(|v| field(Some(v), false)),
    ]
}

/// A pool object: every known field generated, plus unknown junk nested at any depth.
fn pool_object() -> impl Strategy<Value = (Value, bool)> {
    let texts = proptest::collection::vec(value_of(Kind::Text, false), 8);
    (
        pool_id(),
        value_of(Kind::Text, true),
        value_of(Kind::Count, true),
        value_of(Kind::Count, false),
        texts,
        (value_of(Kind::Flag, false), value_of(Kind::Flag, false)),
        (tags(), autoscale()),
        (json_value(), 0usize..100),
    )
        .prop_map(
            |(id, name, count, used, texts, (maint, auto), (tags, policy), (junk, junk_depth))| {
                let mut m = Map::new();
                let mut valid = true;
                let mut put = |m: &mut Map<String, Value>, key: &str, f: FieldValue| {
                    valid &= f.valid;
                    if let Some(v) = f.json {
                        m.insert(key.into(), v);
                    }
                };
                put(&mut m, "id", id);
                put(&mut m, "name", name);
                put(&mut m, "desktop_count", count);
                put(&mut m, "desktop_used", used);
                let text_keys = [
                    "type",
                    "status",
                    "created_time",
                    "enterprise_project_id",
                    "availability_zone",
                    "image_id",
                    "charging_mode",
                    "description",
                ];
                for (key, f) in text_keys.iter().zip(texts) {
                    put(&mut m, key, f);
                }
                put(&mut m, "in_maintenance_mode", maint);
                put(&mut m, "enable_autoscale", auto);
                put(&mut m, "tags", tags);
                put(&mut m, "autoscale_policy", policy);
                let mut junk = junk;
                for _ in 0..junk_depth {
                    junk = json!([junk]);
                }
                m.insert("future_field".into(), junk);
                (Value::Object(m), valid)
            },
        )
}

/// A list page: up to 6 pools, a `total_count` of any kind.
fn list_page() -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        proptest::collection::vec(pool_object(), 0..6),
        value_of(Kind::Count, false),
    )
        .prop_map(|(pools, total)| {
            let valid = total.valid && pools.iter().all(|(_, ok)| *ok);
            let mut page = Map::new();
            if let Some(t) = total.json {
                page.insert("total_count".into(), t);
            }
            page.insert(
                "desktop_pools".into(),
                Value::Array(pools.into_iter().map(|(p, _)| p).collect()),
            );
            (serde_json::to_vec(&Value::Object(page)).unwrap(), valid)
        })
}

/// Bytes cut from a body at any point, or a body's bytes with one flipped.
fn damaged(body: Vec<u8>, cut: usize, flip: Option<(usize, u8)>) -> Vec<u8> {
    let mut body = body;
    if let Some((at, byte)) = flip {
        if !body.is_empty() {
            let at = at % body.len();
            body[at] = byte;
        }
    } else {
        body.truncate(cut % (body.len() + 1));
    }
    body
}

proptest! {
    #![proptest_config(Cases::with_cases(3000))]

    /// A list page is read or refused in time; one with any malformed field is refused, and one
    /// that is well-formed throughout is read whole.
    #[test]
    fn list_pages_fail_closed_on_any_malformed_field((body, valid) in list_page()) {
        let read = within("reading a page", || poolform::api::wire::page_from_body(&body, 1000))?;
        let deep = serde_json::from_slice::<Value>(&body).is_err();
        match read {
            Ok(page) => {
                prop_assert!(valid, "a malformed page was read: {}", String::from_utf8_lossy(&body));
                for pool in &page.pools {
                    prop_assert!(!pool.id.as_str().is_empty());
                }
            }
            Err(e) => prop_assert!(!valid || deep, "a well-formed page was refused: {e}\n{}", String::from_utf8_lossy(&body)),
        }
    }

    /// Damaged pages (cut short, a byte flipped) never panic and never read more than they hold.
    #[test]
    fn damaged_pages_never_panic((body, _) in list_page(), cut in any::<usize>(), flip in proptest::option::of((any::<usize>(), any::<u8>()))) {
        let body = damaged(body, cut, flip);
        let _ = within("reading a damaged page", || poolform::api::wire::page_from_body(&body, 1000))?;
    }
}

proptest! {
    #![proptest_config(Cases::with_cases(1500))]

    /// A show answer (one pool, flat) fails closed exactly as a page's pool does.
    #[test]
    fn show_bodies_fail_closed_on_any_malformed_field((pool, valid) in pool_object(), cut in any::<usize>(), flip in proptest::option::of((any::<usize>(), any::<u8>())), damage in any::<bool>()) {
        let body = serde_json::to_vec(&pool).unwrap();
        let deep = serde_json::from_slice::<Value>(&body).is_err();
        let read = within("reading a pool", || poolform::api::wire::pool_from_body(&body))?;
        match read {
            Ok(_) => prop_assert!(valid, "a malformed pool was read: {pool}"),
            Err(e) => prop_assert!(!valid || deep, "a well-formed pool was refused: {e}\n{pool}"),
        }
        if damage {
            let body = damaged(body, cut, flip);
            let _ = within("reading a damaged pool", || poolform::api::wire::pool_from_body(&body))?;
        }
    }

    /// A desktops answer is informational: read leniently, never more than it lists, never a
    /// total below what it lists, and in time.
    #[test]
    fn desktops_bodies_are_read_leniently_and_bounded(
        desktops in proptest::collection::vec(json_value(), 0..200),
        total in json_value(),
        cut in any::<usize>(),
        damage in any::<bool>(),
    ) {
        let listed = desktops.len() as u64;
        let body = serde_json::to_vec(&json!({"total_count": total, "pool_desktops": desktops})).unwrap();
        let read = within("reading desktops", || poolform::api::wire::desktops_from_body(&body))?;
        if let Ok((count, kept)) = read {
            prop_assert!(count >= listed, "{count} < {listed}");
            prop_assert!(kept.len() as u64 <= listed);
            prop_assert!(kept.len() <= 100);
        }
        if damage {
            let body = damaged(body, cut, None);
            let _ = within("reading damaged desktops", || poolform::api::wire::desktops_from_body(&body))?;
        }
    }
}
