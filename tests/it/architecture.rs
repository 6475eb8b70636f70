//! The layers hold (DESIGN.md, Architecture): `core` uses only `core`; `api` uses `core` and
//! `api`; `apply` uses those and itself; `cli` may use all of them. No file imports a file that
//! imports it back, no circle of imports runs through several files (in poolform or in the
//! simulator), poolform never depends on the simulator, and docs/architecture.md names every
//! production file. Read from the sources, as a reviewer would.

use crate::harness::repo_file;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// poolform's sources.
const POOLFORM: &str = "src";
/// The simulator's sources.
const SIMULATOR: &str = "crates/workspace-sim/src";

/// A module path (`["api", "client"]`) for each source file below `root` (`src`); the crate's
/// root file is `[]`.
fn modules(root: &str) -> BTreeMap<Vec<String>, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = repo_file(root);
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .filter(|f| !f.ends_with("main.rs") || f.parent() != Some(src.as_path()))
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap().with_extension("");
            let mut path: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
                path.pop();
            }
            (path, f)
        })
        .collect()
}

/// The code of a file that is not a comment or a test.
fn production_code(text: &str) -> String {
    text.lines()
        .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a file names: `crate::a::b`, `super::c`, `self::d`, a child module's `e::f`, and
/// each name inside `{...}` after one of those.
fn named_paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident(bytes[i]) || (i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b':')) {
            i += 1;
            continue;
        }
        let start = i;
        let mut segments = Vec::new();
        let mut j = i;
        loop {
            let s = j;
            while j < bytes.len() && is_ident(bytes[j]) {
                j += 1;
            }
            segments.push(code[s..j].to_owned());
            if code[j..].starts_with("::") && j + 2 < bytes.len() && is_ident(bytes[j + 2]) {
                j += 2;
            } else {
                break;
            }
        }
        let head = segments[0].as_str();
        let rooted = matches!(head, "crate" | "super" | "self") || children.contains(head);
        let braced = code[j..].starts_with("::{");
        if rooted && braced {
            // `a::{b, c::d, self}`: each name inside, from `a`
            let close = code[j..].find('}').map_or(code.len(), |c| j + c);
            for name in code[j + 3..close].split(',') {
                let name = name.trim().split("::").next().unwrap_or("").trim();
                let mut p = segments.clone();
                if !name.is_empty() && name != "self" {
                    p.push(name.to_owned());
                }
                out.push(p);
            }
        } else if rooted && segments.len() > 1 {
            out.push(segments);
        }
        i = j.max(start + 1);
    }
    out
}

/// The module a path named in module `from` refers to: the longest prefix that is a file.
fn resolve(
    from: &[String],
    path: &[String],
    known: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let (mut full, mut rest): (Vec<String>, &[String]) = match path[0].as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (from.to_vec(), &path[1..]),
        _ => (from.to_vec(), path),
    };
    while rest.first().map(String::as_str) == Some("super") {
        full.pop();
        rest = &rest[1..];
    }
    full.extend(rest.iter().cloned());
    (1..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|p| known.contains_key(p))
}

/// Which module each file's production code names (the crate's root among them: an item of
/// `lib.rs` named from below it is an import of the root).
fn imports(root: &str) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let known = modules(root);
    let mut edges = BTreeMap::new();
    for (module, file) in &known {
        let text = std::fs::read_to_string(file).unwrap();
        let code = production_code(&text);
        let children: BTreeSet<String> = known
            .keys()
            .filter(|k| k.len() == module.len() + 1 && k.starts_with(module))
            .map(|k| k[module.len()].clone())
            .collect();
        let named: BTreeSet<Vec<String>> = named_paths(&code, &children)
            .iter()
            .filter_map(|p| resolve(module, p, &known))
            .filter(|target| target != module)
            .collect();
        edges.insert(module.clone(), named);
    }
    edges
}

fn layer(module: &[String]) -> usize {
    match module.first().map(String::as_str) {
        Some("core") => 0,
        Some("api") => 1,
        Some("apply") => 2,
        Some("cli") => 3,
        _ => 4,
    }
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let mut upward = Vec::new();
    for (from, targets) in imports(POOLFORM) {
        for to in targets {
            if layer(&to) > layer(&from) {
                upward.push(format!("{} uses {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that go up a layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_import_circles() {
    for root in [POOLFORM, SIMULATOR] {
        circles_in(root);
    }
}

/// Fails naming every circle of imports among the files below `root`.
fn circles_in(root: &str) {
    let edges = imports(root);
    // Tarjan's strongly connected components: a component of more than one file is a circle.
    struct Walk<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on_stack: BTreeSet<Vec<String>>,
        circles: Vec<Vec<String>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &Vec<String>) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            self.on_stack.insert(v.clone());
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(&w);
                    let done = w == *v;
                    component.push(w.join("::"));
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.circles.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    assert!(
        walk.circles.is_empty(),
        "files of {root} that import each other, directly or round a circle:\n{}",
        walk.circles
            .iter()
            .map(|c| c.join(" <-> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_checker_sees_what_it_checks() {
    let of = |m: &str| -> Vec<String> {
        m.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    // a few imports known to exist, so that an empty answer cannot pass unnoticed
    for (root, from, to) in [
        (POOLFORM, "cli::commands::plan", "cli::context"),
        (POOLFORM, "cli::commands::apply", "cli::pipeline"),
        (POOLFORM, "api::client", "api::transport"),
        (POOLFORM, "core::planner", "core::rules"),
        (POOLFORM, "apply::step", "apply::shared"),
        (SIMULATOR, "router", "handlers"),
        (SIMULATOR, "server", "multi"),
        (SIMULATOR, "multi", "shared"),
        (SIMULATOR, "", "server"),
    ] {
        let edges = imports(root);
        assert!(
            edges.get(&of(from)).is_some_and(|t| t.contains(&of(to))),
            "{root}: {from} -> {to} not seen: {:?}",
            edges.get(&of(from))
        );
    }
}

/// docs/architecture.md names every production file by its path under `src/`
/// (`core/plan.rs`), and every file it names exists.
#[test]
fn the_architecture_page_names_every_file() {
    let page = std::fs::read_to_string(repo_file("docs/architecture.md")).unwrap();
    let src = repo_file(POOLFORM);
    let mut missing = Vec::new();
    for file in modules(POOLFORM).values() {
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        if !page.contains(&format!("`{rel}`")) {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name: {}",
        missing.join(", ")
    );
    // every `layer/file.rs` it names is a file of src/ (the simulator's rooms, named bare,
    // and other folders' files aside)
    let layers = ["core/", "api/", "apply/", "cli/"];
    for named in page.split('`').skip(1).step_by(2) {
        let of_src = named.ends_with(".rs") && layers.iter().any(|l| named.starts_with(l));
        if of_src && !named.contains(' ') {
            assert!(
                src.join(named).is_file(),
                "docs/architecture.md names {named}, which does not exist"
            );
        }
    }
}

#[test]
fn poolform_never_depends_on_the_simulator() {
    let manifest = std::fs::read_to_string(repo_file("Cargo.toml")).unwrap();
    let normal = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    assert!(
        !normal.contains("workspace-sim") && !normal.contains("axum"),
        "{normal}"
    );
    for (module, file) in modules(POOLFORM) {
        let code = production_code(&std::fs::read_to_string(&file).unwrap());
        assert!(
            !code.contains("workspace_sim"),
            "{} names the simulator",
            module.join("::")
        );
    }
}

#[test]
fn only_apply_holds_a_client_that_can_delete() {
    // plan, show, import and validate hold a `Client`, which has no way to send a DELETE: a
    // read-only key is enough for them by construction. A `Deleter` is made in one place.
    let allowed = [
        vec!["api".to_owned(), "deleter".to_owned()],
        vec!["api".to_owned()],
        vec!["cli".to_owned(), "commands".to_owned(), "apply".to_owned()],
    ];
    let mut holders = Vec::new();
    for (module, file) in modules(POOLFORM) {
        let code = production_code(&std::fs::read_to_string(&file).unwrap());
        let names_it = code.contains("Deleter") || code.contains("delete_pool");
        let in_apply = module.first().is_some_and(|m| m == "apply");
        if names_it && !in_apply && !allowed.contains(&module) {
            holders.push(module.join("::"));
        }
    }
    assert!(holders.is_empty(), "these may delete: {holders:?}");
    let client = production_code(&std::fs::read_to_string(repo_file("src/api/client.rs")).unwrap());
    assert!(
        !client.contains("Method::DELETE"),
        "Client itself can send a DELETE"
    );
    let made = modules(POOLFORM)
        .into_iter()
        .filter(|(_, f)| {
            production_code(&std::fs::read_to_string(f).unwrap()).contains("Deleter::new(")
        })
        .map(|(m, _)| m.join("::"))
        .collect::<Vec<_>>();
    assert_eq!(made, ["cli::commands::apply"], "where a Deleter is made");
}
