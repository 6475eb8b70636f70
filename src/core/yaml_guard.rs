//! A pre-pass over a config file's YAML that bounds what parsing it can cost: nesting depth,
//! events, and alias expansion (nodes and bytes), and that refuses explicit tags (`!!binary`,
//! `!custom`). It reads the events of the very parser serde_yaml uses (libyaml, through
//! `unsafe-libyaml`), so the two can never disagree about what the document is; it stops at
//! the first event over a limit, so any file is accepted or refused in time linear in the part
//! of it read.
//!
//! Pure: takes text, returns a verdict with a position.

use std::collections::HashMap;
use std::mem::MaybeUninit;

/// Collections nested deeper than this are refused.
pub const MAX_DEPTH: usize = 64;
/// Nodes (scalars, collections, and the nodes aliases stand for) in one file.
pub const MAX_NODES: u64 = 500_000;
/// Bytes that aliases may stand for, in all.
pub const MAX_ALIAS_BYTES: u64 = 16 * 1024 * 1024;

/// What the guard refuses, and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// An anchored node's cost when an alias repeats it.
#[derive(Debug, Clone, Copy, Default)]
struct Weight {
    nodes: u64,
    bytes: u64,
}

/// A collection being read: where it started, what its anchor is, and what it has cost so
/// far (for an anchored one, so that aliases to it can be charged).
struct Open {
    anchor: Option<Vec<u8>>,
    start: u64,
    nodes: u64,
    extra_bytes: u64,
}

/// The libyaml parser, on the heap (it keeps pointers into itself and the input).
struct Parser<'a> {
    sys: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
    _input: &'a [u8],
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8]) -> Option<Parser<'a>> {
        let mut sys = Box::new(MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
        // SAFETY: the parser is initialised before use; its input outlives it (`_input`); it is
        // freed exactly once, in `drop`.
        unsafe {
            if unsafe_libyaml::yaml_parser_initialize(sys.as_mut_ptr()).fail {
                return None;
            }
            unsafe_libyaml::yaml_parser_set_encoding(
                sys.as_mut_ptr(),
                unsafe_libyaml::YAML_UTF8_ENCODING,
            );
            unsafe_libyaml::yaml_parser_set_input_string(
                sys.as_mut_ptr(),
                input.as_ptr(),
                input.len() as u64,
            );
        }
        Some(Parser { sys, _input: input })
    }

    /// The next event, or `None` at a parse error (serde_yaml then reports it, positioned).
    fn next(&mut self) -> Option<Event> {
        let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        // SAFETY: the parser is initialised; the event is read only after a successful parse,
        // copied out, and deleted before returning.
        unsafe {
            if unsafe_libyaml::yaml_parser_parse(self.sys.as_mut_ptr(), event.as_mut_ptr()).fail {
                return None;
            }
            let e = &*event.as_ptr();
            if e.type_ == unsafe_libyaml::YAML_NO_EVENT {
                return None;
            }
            let owned = |p: *const u8| {
                (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p.cast()).to_bytes().to_vec())
            };
            let (kind, anchor, tag) = match e.type_ {
                unsafe_libyaml::YAML_STREAM_END_EVENT => (Kind::End, None, None),
                unsafe_libyaml::YAML_ALIAS_EVENT => (Kind::Alias, owned(e.data.alias.anchor), None),
                unsafe_libyaml::YAML_SCALAR_EVENT => (
                    Kind::Scalar,
                    owned(e.data.scalar.anchor),
                    owned(e.data.scalar.tag),
                ),
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => (
                    Kind::Open,
                    owned(e.data.sequence_start.anchor),
                    owned(e.data.sequence_start.tag),
                ),
                unsafe_libyaml::YAML_MAPPING_START_EVENT => (
                    Kind::Open,
                    owned(e.data.mapping_start.anchor),
                    owned(e.data.mapping_start.tag),
                ),
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT
                | unsafe_libyaml::YAML_MAPPING_END_EVENT => (Kind::Close, None, None),
                _ => (Kind::Other, None, None),
            };
            let out = Event {
                kind,
                anchor,
                tag,
                start: e.start_mark,
                end_index: e.end_mark.index,
            };
            unsafe_libyaml::yaml_event_delete(event.as_mut_ptr());
            Some(out)
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, freed only here.
        unsafe { unsafe_libyaml::yaml_parser_delete(self.sys.as_mut_ptr()) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Alias,
    Open,
    Close,
    End,
    Other,
}

struct Event {
    kind: Kind,
    anchor: Option<Vec<u8>>,
    tag: Option<Vec<u8>>,
    start: unsafe_libyaml::yaml_mark_t,
    end_index: u64,
}

fn refuse(mark: &unsafe_libyaml::yaml_mark_t, message: String) -> Refusal {
    Refusal {
        line: mark.line as usize + 1,
        column: mark.column as usize + 1,
        message,
    }
}

/// The running totals of one file.
struct Budget {
    open: Vec<Open>,
    nodes: u64,
    alias_bytes: u64,
}

impl Budget {
    /// Counts a node (or what an alias stands for) against the file and every collection it
    /// sits in.
    fn charge(&mut self, w: Weight, at: &unsafe_libyaml::yaml_mark_t) -> Result<(), Refusal> {
        self.nodes = self.nodes.saturating_add(w.nodes);
        if self.nodes > MAX_NODES {
            return Err(refuse(
                at,
                format!(
                    "the YAML holds more than {MAX_NODES} values (aliases counted as what they stand for)"
                ),
            ));
        }
        for o in &mut self.open {
            o.nodes = o.nodes.saturating_add(w.nodes);
            o.extra_bytes = o.extra_bytes.saturating_add(w.bytes);
        }
        Ok(())
    }
}

/// Checks `text`: `Ok` when parsing it is bounded (or when it stops parsing: serde_yaml then
/// says why, at the same place, having read only what was checked here), `Err` naming the
/// first thing over a limit, or an alias whose cost cannot be known (fail closed).
pub fn check(text: &str) -> Result<(), Refusal> {
    let Some(mut parser) = Parser::new(text.as_bytes()) else {
        return Err(Refusal {
            line: 1,
            column: 1,
            message: "the YAML parser could not be started".into(),
        });
    };
    let mut guard = Guard {
        anchors: HashMap::new(),
        budget: Budget {
            open: Vec::new(),
            nodes: 0,
            alias_bytes: 0,
        },
    };
    while let Some(event) = parser.next() {
        if let Some(tag) = &event.tag {
            return Err(refuse(
                &event.start,
                format!(
                    "explicit YAML tags are not allowed (found {}); write the value plainly",
                    crate::core::escape::visible(&as_written(tag))
                ),
            ));
        }
        match event.kind {
            Kind::End => return Ok(()),
            Kind::Other => {}
            Kind::Scalar => guard.scalar(event)?,
            Kind::Alias => guard.alias(event)?,
            Kind::Open => guard.open(event)?,
            Kind::Close => {
                if !guard.close(&event) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// What one node weighs alone.
const ONE: Weight = Weight { nodes: 1, bytes: 0 };

/// The anchors defined so far, with what each stands for, and the budget spent.
struct Guard {
    anchors: HashMap<Vec<u8>, Weight>,
    budget: Budget,
}

impl Guard {
    fn scalar(&mut self, event: Event) -> Result<(), Refusal> {
        self.budget.charge(ONE, &event.start)?;
        if let Some(name) = event.anchor {
            let bytes = event.end_index.saturating_sub(event.start.index);
            self.anchors.insert(name, Weight { nodes: 1, bytes });
        }
        Ok(())
    }

    /// An alias costs what its anchor stands for; one inside its own anchor, or before it, has
    /// no price and is refused.
    fn alias(&mut self, event: Event) -> Result<(), Refusal> {
        let name = event.anchor.unwrap_or_default();
        let shown = crate::core::escape::visible(&String::from_utf8_lossy(&name)).into_owned();
        // Inside the very node it names: a cycle, which no budget can price.
        if self
            .budget
            .open
            .iter()
            .any(|o| o.anchor.as_deref() == Some(&name[..]))
        {
            return Err(refuse(
                &event.start,
                format!("alias *{shown} is inside the node &{shown} it refers to; recursive aliases are not allowed"),
            ));
        }
        let Some(w) = self.anchors.get(&name).copied() else {
            return Err(refuse(
                &event.start,
                format!("alias *{shown} refers to no anchor before it; define &{shown} first"),
            ));
        };
        self.budget.alias_bytes = self.budget.alias_bytes.saturating_add(w.bytes);
        if self.budget.alias_bytes > MAX_ALIAS_BYTES {
            return Err(refuse(
                &event.start,
                format!(
                    "aliases here stand for more than {} MiB of YAML in all; expand fewer of them",
                    MAX_ALIAS_BYTES / (1024 * 1024)
                ),
            ));
        }
        self.budget.charge(w, &event.start)
    }

    fn open(&mut self, event: Event) -> Result<(), Refusal> {
        if self.budget.open.len() >= MAX_DEPTH {
            return Err(refuse(
                &event.start,
                format!("the YAML is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.budget.charge(ONE, &event.start)?;
        self.budget.open.push(Open {
            anchor: event.anchor,
            start: event.start.index,
            nodes: 1,
            extra_bytes: 0,
        });
        Ok(())
    }

    /// A collection ends: its anchor now stands for all it held. False when nothing was open.
    fn close(&mut self, event: &Event) -> bool {
        let Some(done) = self.budget.open.pop() else {
            return false;
        };
        if let Some(name) = done.anchor {
            let span = event.end_index.saturating_sub(done.start);
            self.anchors.insert(
                name,
                Weight {
                    nodes: done.nodes,
                    bytes: span.saturating_add(done.extra_bytes),
                },
            );
        }
        true
    }
}

/// A tag as it was written: libyaml hands YAML's own tags over resolved
/// (`tag:yaml.org,2002:binary`), which the user wrote `!!binary`.
fn as_written(tag: &[u8]) -> String {
    let tag = String::from_utf8_lossy(tag);
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(short) => format!("!!{short}"),
        None => tag.into_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn ordinary_files_anchors_and_aliases_pass() {
        for ok in [
            "version: 1\npools: [{id: a}]\n",
            "common: &c {type: STATIC}\nversion: 1\npools:\n  - id: a\n    expect: *c\n  - id: b\n    expect: *c\n",
            "a: &x [1, 2, 3]\nb: *x\n",
            "",
            "version: 1\npools: [{id: a}\n", // a syntax error: serde_yaml says where
        ] {
            assert_eq!(check(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn tags_depth_and_budgets_are_refused_at_their_position() {
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        let block_deep: String = (0..70)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let cases: Vec<(String, (usize, usize), &str)> = vec![
            (
                "version: 1\ndata: !!binary aGVsbG8=\n".into(),
                (2, 7),
                "explicit YAML tags are not allowed (found !!binary)",
            ),
            ("version: !custom 1\n".into(), (1, 10), "(found !custom)"),
            (
                "a: &a [*a]\n".into(),
                (1, 8),
                "alias *a is inside the node &a it refers to",
            ),
            (
                format!(
                    "a: &a {{k: [1, *a]}}\nb: {}{}\n",
                    "[".repeat(500_000),
                    "]".repeat(500_000)
                ),
                (1, 15),
                "recursive aliases are not allowed",
            ),
            (
                "a: *nowhere\nb: &nowhere 1\n".into(),
                (1, 4),
                "alias *nowhere refers to no anchor before it",
            ),
            ("pools: !!seq []\n".into(), (1, 8), "explicit YAML tags"),
            ("x: !!str 1\n".into(), (1, 4), "explicit YAML tags"),
            (deep, (1, 65), "nested more than 64 levels deep"),
            (block_deep, (65, 65), "nested more than 64 levels deep"),
        ];
        for (text, (line, column), want) in cases {
            let r = check(&text).unwrap_err();
            assert!(r.message.contains(want), "{}", r.message);
            assert_eq!((r.line, r.column), (line, column), "{}", r.message);
        }
    }

    #[test]
    fn alias_bombs_are_refused_fast() {
        // the billion laughs
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let r = check(&bomb).unwrap_err();
        assert!(
            r.message.contains("more than 500000 values"),
            "{}",
            r.message
        );
        // one large anchored scalar, aliased many times
        let mut big = format!("a: &big \"{}\"\nlist:\n", "x".repeat(1024 * 1024));
        for _ in 0..20 {
            big.push_str("  - *big\n");
        }
        let t = Instant::now();
        let r = check(&big).unwrap_err();
        assert!(r.message.contains("more than 16 MiB"), "{}", r.message);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_huge_nesting_is_refused_without_reading_it_all() {
        let text = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
        let t = Instant::now();
        assert!(check(&text).is_err());
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
}
