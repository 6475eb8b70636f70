//! Response bodies of the Workspace API, decoded straight from the bytes into typed values (no
//! generic JSON tree), failing closed.
//!
//! Unknown fields are ignored. The fields a decision reads are checked: a pool without a usable
//! id, a name or a desktop count, or with any decision field of the wrong type, makes the whole
//! answer unusable, and the error names the pool and the field. poolform never plans from a
//! listing it could not read completely.

use crate::core::model::{AutoscalePolicy, Pool, PoolDesktop, PoolId, Tag, Text};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

/// One page of the pool listing.
#[derive(Debug)]
pub struct Page {
    /// `total_count`, when the API sent it (the SDK models make it optional).
    pub total_count: Option<u64>,
    pub pools: Vec<Pool>,
    /// An estimate of the memory the decoded pools hold, in bytes.
    pub weight: usize,
}

/// A field as it came: absent, `null`, the expected type, or something else.
#[derive(Debug, Default)]
enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
    /// The JSON type it had instead, in words.
    Wrong(&'static str),
}

/// What a field may hold, and how each JSON type reads into it.
trait Expected: Sized {
    /// The expected type, in words.
    const WANT: &'static str;
    fn from_str(_: &str) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl Expected for String {
    const WANT: &'static str = "a string";
    fn from_str(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

impl Expected for u64 {
    const WANT: &'static str = "a non-negative integer";
    fn from_u64(n: u64) -> Option<Self> {
        Some(n)
    }
}

impl Expected for bool {
    const WANT: &'static str = "a boolean";
    fn from_bool(b: bool) -> Option<Self> {
        Some(b)
    }
}

/// More tags than this on one pool make the answer unusable (Huawei allows 20 per resource):
/// tags decide protect rules, so they are never cut short, and memory stays bounded.
pub const MAX_TAGS: usize = 64;

/// `tags`: a list of `{key, value}` objects, as read (interned when the pool is judged).
#[derive(Debug)]
struct Tags(Result<Vec<(String, String)>, &'static str>);

impl Expected for Tags {
    const WANT: &'static str = "a list of {key, value} objects";
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut tags = Vec::new();
        let mut problem = None;
        while let Some(t) = seq.next_element::<Field<WireTag>>()? {
            if tags.len() >= MAX_TAGS {
                problem.get_or_insert("more than 64 tags");
                continue;
            }
            match t {
                Field::Value(WireTag { key, value }) => match (key, value) {
                    (Field::Value(key), Field::Value(value)) => tags.push((key, value)),
                    (Field::Value(key), Field::Absent | Field::Null) => {
                        tags.push((key, String::new()))
                    }
                    (Field::Value(_), Field::Wrong(_)) => {
                        problem.get_or_insert("a tag whose value is not a string");
                    }
                    _ => {
                        problem.get_or_insert("a tag without a string key");
                    }
                },
                _ => {
                    problem.get_or_insert("an element that is not an object");
                }
            }
        }
        Ok(Some(Tags(problem.map_or(Ok(tags), Err))))
    }
}

#[derive(Debug, Deserialize)]
struct WireTag {
    #[serde(default)]
    key: Field<String>,
    #[serde(default)]
    value: Field<String>,
}

impl Expected for WireTag {
    const WANT: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        WireTag::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
}

/// `autoscale_policy`.
#[derive(Debug, Deserialize)]
struct WireAutoscale {
    #[serde(default)]
    autoscale_type: Field<String>,
    #[serde(default)]
    max_auto_created: Field<u64>,
    #[serde(default)]
    min_idle: Field<u64>,
    #[serde(default)]
    once_auto_created: Field<u64>,
}

impl Expected for WireAutoscale {
    const WANT: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        WireAutoscale::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
}

/// `product`: only its `flavor_id` is read.
#[derive(Debug, Deserialize)]
struct WireProduct {
    #[serde(default)]
    flavor_id: Field<String>,
}

impl Expected for WireProduct {
    const WANT: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        WireProduct::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<T: Expected> FieldVisitor<T> {
    fn or_wrong(v: Option<T>, got: &'static str) -> Field<T> {
        v.map_or(Field::Wrong(got), Field::Value)
    }
}

impl<'de, T: Expected> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::WANT)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field<T>, E> {
        Ok(Self::or_wrong(T::from_str(v), "a string"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field<T>, E> {
        Ok(Self::or_wrong(T::from_u64(v), "a number"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field<T>, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Ok(Field::Wrong("a negative number")),
        }
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Field<T>, E> {
        Ok(Field::Wrong("a fractional number"))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Field<T>, E> {
        Ok(Self::or_wrong(T::from_bool(v), "a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Field<T>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<T>, A::Error> {
        Ok(Self::or_wrong(T::from_seq(seq)?, "a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<T>, A::Error> {
        Ok(Self::or_wrong(T::from_map(map)?, "an object"))
    }
}

impl<'de, T: Expected> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor(PhantomData))
    }
}

/// A `SimpleDesktopPoolInfo` as it came, every field checked but not yet judged.
#[derive(Debug, Deserialize)]
struct WirePool {
    #[serde(default)]
    id: Field<String>,
    #[serde(default)]
    name: Field<String>,
    #[serde(default, rename = "type")]
    pool_type: Field<String>,
    #[serde(default)]
    status: Field<String>,
    #[serde(default)]
    created_time: Field<String>,
    #[serde(default)]
    desktop_count: Field<u64>,
    #[serde(default)]
    desktop_used: Field<u64>,
    #[serde(default)]
    enterprise_project_id: Field<String>,
    #[serde(default)]
    availability_zone: Field<String>,
    #[serde(default)]
    image_id: Field<String>,
    #[serde(default)]
    charging_mode: Field<String>,
    #[serde(default)]
    description: Field<String>,
    #[serde(default)]
    product: Field<WireProduct>,
    #[serde(default)]
    tags: Field<Tags>,
    #[serde(default)]
    in_maintenance_mode: Field<bool>,
    #[serde(default)]
    enable_autoscale: Field<bool>,
    #[serde(default)]
    autoscale_policy: Field<WireAutoscale>,
}

/// A field that is wrong, in words: `"name" is an object, not a string`.
fn wrong(field: &str, got: &str, want: &str) -> String {
    format!("{field:?} is {got}, not {want}")
}

fn required<T: Expected>(field: &str, v: Field<T>) -> Result<T, String> {
    match v {
        Field::Value(v) => Ok(v),
        Field::Absent => Err(format!("{field:?} is missing")),
        Field::Null => Err(format!("{field:?} is null")),
        Field::Wrong(got) => Err(wrong(field, got, T::WANT)),
    }
}

fn optional<T: Expected>(field: &str, v: Field<T>) -> Result<Option<T>, String> {
    match v {
        Field::Value(v) => Ok(Some(v)),
        Field::Absent | Field::Null => Ok(None),
        Field::Wrong(got) => Err(wrong(field, got, T::WANT)),
    }
}

/// One copy of each string many pools share (a page's types, statuses, image ids); and what
/// the new ones cost.
#[derive(Default)]
struct Interner {
    known: HashSet<Text>,
    /// Bytes held by the strings first seen here (with their allocation's overhead).
    weight: usize,
}

/// The most distinct strings a page's interner keeps.
const MAX_INTERNED: usize = 4096;

/// What an allocation costs beyond its bytes (the allocator's and `Arc`'s bookkeeping).
const ALLOCATION_OVERHEAD: usize = 32;

impl Interner {
    fn intern(&mut self, s: Option<String>) -> Option<Text> {
        s.map(|s| self.text(s))
    }

    fn text(&mut self, s: String) -> Text {
        if let Some(known) = self.known.get(s.as_str()) {
            return known.clone();
        }
        self.weight += s.len() + ALLOCATION_OVERHEAD;
        let text: Text = Text::from(s);
        // Strings many pools share are few: past that many, a page's strings are its own (a
        // flood of unique tags), and a table of them would only cost memory.
        if self.known.len() < MAX_INTERNED {
            self.known.insert(text.clone());
        }
        text
    }
}

/// An estimate of what a decoded pool holds besides its shared strings.
fn own_weight(pool: &Pool) -> usize {
    std::mem::size_of::<Pool>()
        + pool.id.as_str().len()
        + pool.name.len()
        + 2 * ALLOCATION_OVERHEAD
        + pool.tags.len() * std::mem::size_of::<Tag>()
}

impl WirePool {
    /// Judges the fields: `Err((id if known, problem))`.
    fn into_pool(self, shared: &mut Interner) -> Result<Pool, (Option<String>, String)> {
        let raw_id = required("id", self.id).map_err(|e| (None, e))?;
        let id = PoolId::parse(&raw_id).map_err(|e| (None, format!("its id {raw_id:?} {e}")))?;
        let at = |e: String| (Some(raw_id.clone()), e);
        let listed_tags = optional("tags", self.tags).map_err(at)?;
        // No `tags` (or null): the tags are unknown, never taken for none.
        let tags_unknown = listed_tags.is_none();
        let tags = match listed_tags {
            None => Vec::new(),
            Some(Tags(Ok(tags))) => tags
                .into_iter()
                .map(|(key, value)| Tag {
                    key: shared.text(key),
                    value: shared.text(value),
                })
                .collect(),
            Some(Tags(Err(problem))) => {
                return Err(at(format!("\"tags\" has {problem}")));
            }
        };
        let flavor_id = match optional("product", self.product).map_err(at)? {
            Some(p) => optional("product.flavor_id", p.flavor_id).map_err(at)?,
            None => None,
        };
        let autoscale_policy = match optional("autoscale_policy", self.autoscale_policy)
            .map_err(at)?
        {
            Some(a) => Some(Box::new(AutoscalePolicy {
                autoscale_type: optional("autoscale_policy.autoscale_type", a.autoscale_type)
                    .map_err(at)?,
                max_auto_created: optional("autoscale_policy.max_auto_created", a.max_auto_created)
                    .map_err(at)?,
                min_idle: optional("autoscale_policy.min_idle", a.min_idle).map_err(at)?,
                once_auto_created: optional(
                    "autoscale_policy.once_auto_created",
                    a.once_auto_created,
                )
                .map_err(at)?,
            })),
            None => None,
        };
        Ok(Pool {
            name: required("name", self.name).map_err(at)?.into(),
            pool_type: shared.intern(optional("type", self.pool_type).map_err(at)?),
            status: shared.intern(optional("status", self.status).map_err(at)?),
            created_time: shared.intern(optional("created_time", self.created_time).map_err(at)?),
            desktop_count: required("desktop_count", self.desktop_count).map_err(at)?,
            desktop_used: optional("desktop_used", self.desktop_used)
                .map_err(at)?
                .unwrap_or(0),
            enterprise_project_id: shared
                .intern(optional("enterprise_project_id", self.enterprise_project_id).map_err(at)?),
            availability_zone: shared
                .intern(optional("availability_zone", self.availability_zone).map_err(at)?),
            image_id: shared.intern(optional("image_id", self.image_id).map_err(at)?),
            flavor_id: shared.intern(flavor_id),
            charging_mode: shared
                .intern(optional("charging_mode", self.charging_mode).map_err(at)?),
            description: shared.intern(optional("description", self.description).map_err(at)?),
            tags,
            tags_unknown,
            in_maintenance_mode: optional("in_maintenance_mode", self.in_maintenance_mode)
                .map_err(at)?
                .unwrap_or(false),
            enable_autoscale: optional("enable_autoscale", self.enable_autoscale)
                .map_err(at)?
                .unwrap_or(false),
            autoscale_policy,
            id,
        })
    }
}

/// Names a pool in an error: `pool "p-1" (#3 of the page)`, or `pool #3 of the page`.
fn pool_error(index: usize, id: Option<String>, problem: String) -> String {
    match id {
        Some(id) => format!("pool {id:?} (#{} of the page): {problem}", index + 1),
        None => format!("pool #{} of the page: {problem}", index + 1),
    }
}

/// The `desktop_pools` array: each element judged as it is read, at most `max` of them; with
/// what the decoded pools weigh.
struct PoolsSeed {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for PoolsSeed {
    type Value = (Vec<Pool>, usize);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PoolsSeed {
    type Value = (Vec<Pool>, usize);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of desktop pools")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((Vec::new(), 0))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut pools = Vec::with_capacity(self.max.min(seq.size_hint().unwrap_or(0)));
        let mut shared = Interner::default();
        let mut weight = 0;
        let mut index = 0;
        loop {
            // A syntax error keeps its own position (and its "invalid JSON" category).
            let Some(item) = seq.next_element::<Field<PoolObject>>()? else {
                return Ok((pools, weight + shared.weight));
            };
            if index == self.max {
                return Err(de::Error::custom(format!(
                    "the page holds more than the {} pools asked for",
                    self.max
                )));
            }
            let pool = match item {
                Field::Value(PoolObject(p)) => p
                    .into_pool(&mut shared)
                    .map_err(|(id, e)| de::Error::custom(pool_error(index, id, e)))?,
                Field::Absent | Field::Null => {
                    return Err(de::Error::custom(pool_error(
                        index,
                        None,
                        "it is null".into(),
                    )))
                }
                Field::Wrong(got) => {
                    return Err(de::Error::custom(pool_error(
                        index,
                        None,
                        format!("it is {got}, not an object"),
                    )))
                }
            };
            weight += own_weight(&pool);
            pools.push(pool);
            index += 1;
        }
    }
}

/// A pool object inside the array.
struct PoolObject(WirePool);

impl Expected for PoolObject {
    const WANT: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        WirePool::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|p| Some(PoolObject(p)))
    }
}

/// The top of a list answer: `{"total_count": n, "desktop_pools": [...]}`.
struct PageSeed {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for PageSeed {
    type Value = Page;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Page, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PageSeed {
    type Value = Page;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with desktop_pools")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
        let mut total: Field<u64> = Field::Absent;
        let mut pools: Option<(Vec<Pool>, usize)> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "total_count" => total = map.next_value()?,
                "desktop_pools" => {
                    if pools.is_some() {
                        return Err(de::Error::custom("desktop_pools appears twice"));
                    }
                    pools = Some(map.next_value_seed(PoolsSeed { max: self.max })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let total_count = optional("total_count", total).map_err(de::Error::custom)?;
        let (pools, weight) = pools.unwrap_or_default();
        Ok(Page {
            total_count,
            pools,
            weight,
        })
    }
}

/// Decodes `bytes` with `seed`, insisting on nothing but whitespace after the value.
fn decode<T>(
    bytes: &[u8],
    seed: impl for<'de> DeserializeSeed<'de, Value = T>,
) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = seed.deserialize(&mut de).map_err(|e| describe(&e))?;
    de.end().map_err(|e| describe(&e))?;
    Ok(value)
}

fn describe(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => e.to_string(),
        _ => format!("invalid JSON: {e}"),
    }
}

/// Reads a list page that was asked for at most `limit` pools.
pub fn page_from_body(body: &[u8], limit: usize) -> Result<Page, String> {
    decode(body, PageSeed { max: limit })
}

struct OnePool;

impl<'de> DeserializeSeed<'de> for OnePool {
    type Value = Pool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Pool, D::Error> {
        match Field::<PoolObject>::deserialize(d)? {
            Field::Value(PoolObject(p)) => {
                p.into_pool(&mut Interner::default()).map_err(|(id, e)| {
                    de::Error::custom(match id {
                        Some(id) => format!("pool {id:?}: {e}"),
                        None => format!("the pool: {e}"),
                    })
                })
            }
            Field::Wrong(got) => Err(de::Error::custom(format!(
                "expected a pool object, got {got}"
            ))),
            Field::Absent | Field::Null => {
                Err(de::Error::custom("expected a pool object, got null"))
            }
        }
    }
}

/// Reads a flat `SimpleDesktopPoolInfo` (the show route).
pub fn pool_from_body(body: &[u8]) -> Result<Pool, String> {
    decode(body, OnePool)
}

#[derive(Debug, Deserialize)]
struct WireDesktop {
    #[serde(default)]
    desktop_id: Field<String>,
    #[serde(default)]
    computer_name: Field<String>,
    #[serde(default)]
    user_name: Field<String>,
    #[serde(default)]
    status: Field<String>,
    #[serde(default)]
    attach_state: Field<String>,
}

impl Expected for WireDesktop {
    const WANT: &'static str = "an object";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        WireDesktop::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
}

/// The desktops' list, at most `max` of them kept.
struct Desktops(Vec<PoolDesktop>, usize);

impl Expected for Desktops {
    const WANT: &'static str = "a list of desktops";
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut out = Vec::new();
        let mut seen = 0usize;
        while let Some(d) = seq.next_element::<Field<WireDesktop>>()? {
            seen += 1;
            if out.len() >= MAX_DESKTOPS_KEPT {
                continue;
            }
            if let Field::Value(d) = d {
                // Informational only: a field of the wrong type reads as empty.
                let text = |f: Field<String>| match f {
                    Field::Value(s) => s,
                    _ => String::new(),
                };
                out.push(PoolDesktop {
                    desktop_id: text(d.desktop_id),
                    computer_name: text(d.computer_name),
                    user_name: text(d.user_name),
                    status: text(d.status),
                    attach_state: text(d.attach_state),
                });
            }
        }
        Ok(Some(Desktops(out, seen)))
    }
}

/// More desktops than this in one answer are counted but not kept.
const MAX_DESKTOPS_KEPT: usize = 100;

#[derive(Debug, Deserialize)]
struct WireDesktopsPage {
    #[serde(default)]
    total_count: Field<u64>,
    #[serde(default)]
    pool_desktops: Field<Desktops>,
}

impl fmt::Debug for Desktops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Desktops({} of {})", self.0.len(), self.1)
    }
}

struct DesktopsSeed;

impl<'de> DeserializeSeed<'de> for DesktopsSeed {
    type Value = (u64, Vec<PoolDesktop>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let page = WireDesktopsPage::deserialize(d)?;
        let (desktops, seen) =
            match optional("pool_desktops", page.pool_desktops).map_err(de::Error::custom)? {
                Some(Desktops(d, seen)) => (d, seen),
                None => (Vec::new(), 0),
            };
        let total = optional("total_count", page.total_count)
            .map_err(de::Error::custom)?
            .unwrap_or(seen as u64)
            .max(seen as u64);
        Ok((total, desktops))
    }
}

/// Reads `{"total_count": n, "pool_desktops": [...]}`: the total (never less than the desktops
/// listed) and the desktops.
pub fn desktops_from_body(body: &[u8]) -> Result<(u64, Vec<PoolDesktop>), String> {
    decode(body, DesktopsSeed)
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn one(pool: &str) -> Result<Pool, String> {
        page_from_body(
            format!(r#"{{"total_count": 1, "desktop_pools": [{pool}]}}"#).as_bytes(),
            1000,
        )
        .map(|mut p| p.pools.remove(0))
    }

    #[test]
    fn a_sparse_pool_gets_defaults_and_unknown_fields_are_ignored() {
        let p = one(r#"{"id": "p-1", "name": "n", "desktop_count": 0, "future_field": {"x": [1, {"y": null}]}, "tags": null}"#)
            .unwrap();
        // tags null or absent: unknown, never taken for none
        let mut want = Pool::new(PoolId::parse("p-1").unwrap(), "n");
        want.tags_unknown = true;
        assert_eq!(p, want);
        let listed = one(r#"{"id": "p-1", "name": "n", "desktop_count": 0, "tags": []}"#).unwrap();
        assert!(!listed.tags_unknown);
    }

    #[test]
    fn a_full_pool_is_read() {
        let p = one(r#"{
            "id": "p-1", "name": "ci-a", "type": "STATIC", "status": "STEADY",
            "created_time": "2022-05-11T11:45:42.000Z", "desktop_count": 3, "desktop_used": 2,
            "enterprise_project_id": "0", "product": {"flavor_id": "workspace.x86.ultimate.large2", "cpu": "2"},
            "tags": [{"key": "env", "value": "prod"}, {"key": "team"}], "in_maintenance_mode": true
        }"#)
        .unwrap();
        assert_eq!(p.desktop_count, 3);
        assert_eq!(p.desktop_used, 2);
        assert_eq!(
            p.flavor_id.as_deref(),
            Some("workspace.x86.ultimate.large2")
        );
        assert_eq!(p.tag_values("env").next(), Some("prod"));
        assert_eq!(p.tag_values("team").next(), Some(""));
        assert!(!p.tags_unknown);
        assert!(p.in_maintenance_mode);
        assert_eq!(p.autoscale_min_idle(), None, "autoscale off");
        let auto = one(r#"{"id": "p-2", "name": "n", "desktop_count": 0, "enable_autoscale": true,
            "autoscale_policy": {"autoscale_type": "AUTO_CREATED", "max_auto_created": 10, "min_idle": 2, "once_auto_created": 1, "min_retention": 5}}"#)
        .unwrap();
        assert_eq!(auto.autoscale_min_idle(), Some(2));
        assert_eq!(auto.autoscale_policy.unwrap().max_auto_created, Some(10));
    }

    #[test]
    fn a_decision_field_missing_or_of_the_wrong_type_fails_the_page_naming_pool_and_field() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"name": "x", "desktop_count": 0}"#,
                "pool #1 of the page: \"id\" is missing",
            ),
            (
                r#"{"id": 7}"#,
                "pool #1 of the page: \"id\" is a number, not a string",
            ),
            (
                r#"{"id": "../../x"}"#,
                "pool #1 of the page: its id \"../../x\" contains '.'",
            ),
            (
                r#"{"id": "p-1", "desktop_count": 0}"#,
                "pool \"p-1\" (#1 of the page): \"name\" is missing",
            ),
            (
                r#"{"id": "p-1", "name": {"a": 1}, "desktop_count": 0}"#,
                "pool \"p-1\" (#1 of the page): \"name\" is an object, not a string",
            ),
            (
                r#"{"id": "p-1", "name": null, "desktop_count": 0}"#,
                "\"name\" is null",
            ),
            (
                r#"{"id": "p-1", "name": "n"}"#,
                "\"desktop_count\" is missing",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": "3"}"#,
                "\"desktop_count\" is a string, not a non-negative integer",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": -1}"#,
                "\"desktop_count\" is a negative number",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 1.5}"#,
                "\"desktop_count\" is a fractional number",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "type": 3}"#,
                "\"type\" is a number, not a string",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "tags": {"env": "prod"}}"#,
                "\"tags\" is an object, not a list of {key, value} objects",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "tags": "env=prod"}"#,
                "\"tags\" is a string",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "tags": [1]}"#,
                "\"tags\" has an element that is not an object",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "tags": [{"value": "prod"}]}"#,
                "\"tags\" has a tag without a string key",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "tags": [{"key": "env", "value": 1}]}"#,
                "\"tags\" has a tag whose value is not a string",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "enterprise_project_id": ["0"]}"#,
                "\"enterprise_project_id\" is a list, not a string",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "in_maintenance_mode": "true"}"#,
                "\"in_maintenance_mode\" is a string, not a boolean",
            ),
            (
                r#"{"id": "p-1", "name": "n", "desktop_count": 0, "name": "m"}"#,
                "duplicate field `name`",
            ),
            ("3", "pool #1 of the page: it is a number, not an object"),
            ("null", "pool #1 of the page: it is null"),
        ];
        for (pool, want) in cases {
            let err = one(pool).unwrap_err();
            assert!(err.contains(want), "{pool}: {err}");
        }
    }

    #[test]
    fn unusable_pages_are_errors_not_panics() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"total_count": -1, "desktop_pools": []}"#,
                "\"total_count\" is a negative number",
            ),
            (
                r#"{"total_count": "1", "desktop_pools": []}"#,
                "\"total_count\" is a string",
            ),
            (
                r#"{"total_count": 1, "desktop_pools": {}}"#,
                "invalid type: map, expected a list of desktop pools",
            ),
            (
                r#"{"total_count": 1, "desktop_pools": [{"id": "a", "name": "a", "desktop_count": 0}"#,
                "invalid JSON",
            ),
            ("[]", "expected a JSON object"),
            ("<html>", "invalid JSON"),
            (r#"{"desktop_pools": []} trailing"#, "invalid JSON"),
            (
                r#"{"desktop_pools": [], "desktop_pools": []}"#,
                "desktop_pools appears twice",
            ),
        ];
        for (body, want) in cases {
            let err = page_from_body(body.as_bytes(), 1000).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn total_count_is_optional_and_a_page_larger_than_asked_is_refused() {
        let page = page_from_body(
            br#"{"desktop_pools": [{"id": "a", "name": "a", "desktop_count": 0}]}"#,
            1,
        )
        .unwrap();
        assert_eq!((page.total_count, page.pools.len()), (None, 1));
        let two = br#"{"desktop_pools": [{"id": "a", "name": "a", "desktop_count": 0}, {"id": "b", "name": "b", "desktop_count": 0}]}"#;
        let err = page_from_body(two, 1).unwrap_err();
        assert!(err.contains("more than the 1 pools asked for"), "{err}");
    }

    #[test]
    fn desktops_are_read_leniently_and_counted() {
        let (total, d) = desktops_from_body(
            br#"{"total_count": 3, "pool_desktops": [{"desktop_id": "d1", "user_name": 5}, 7]}"#,
        )
        .unwrap();
        assert_eq!(total, 3);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].user_name, "");
        let (total, _) = desktops_from_body(br#"{"pool_desktops": [{}, {}]}"#).unwrap();
        assert_eq!(total, 2, "counted when total_count is absent");
        let (total, _) =
            desktops_from_body(br#"{"total_count": 0, "pool_desktops": [{}]}"#).unwrap();
        assert_eq!(total, 1, "never fewer than listed");
    }

    proptest::proptest! {
        /// Whatever the network sends, reading it never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = page_from_body(&bytes, 1000);
            let _ = pool_from_body(&bytes);
            let _ = desktops_from_body(&bytes);
            let _ = crate::api::ErrorBody::parse(&bytes);
        }

        /// Nor does JSON of the right outline with values of any type in any field.
        #[test]
        fn arbitrary_field_values_never_panic(
            id in proptest::prop_oneof![proptest::strategy::Just("\"p-1\"".to_owned()), "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()), proptest::strategy::Just("7".to_owned()), proptest::strategy::Just("null".to_owned())],
            value in proptest::prop_oneof![proptest::strategy::Just("-1".to_owned()), proptest::strategy::Just("1e400".to_owned()), proptest::strategy::Just("\"3\"".to_owned()), proptest::strategy::Just("[]".to_owned()), proptest::strategy::Just("{}".to_owned()), proptest::strategy::Just("true".to_owned())],
            total in proptest::prop_oneof![proptest::strategy::Just("1".to_owned()), proptest::strategy::Just("-1".to_owned()), proptest::strategy::Just("18446744073709551616".to_owned()), proptest::strategy::Just("\"x\"".to_owned())],
        ) {
            let body = format!(
                r#"{{"total_count": {total}, "desktop_pools": [{{"id": {id}, "name": {value}, "desktop_count": {value}, "tags": {value}, "product": {value}, "in_maintenance_mode": {value}}}]}}"#
            );
            let _ = page_from_body(body.as_bytes(), 1000);
            let desktops = format!(r#"{{"total_count": {total}, "pool_desktops": [{{"desktop_id": {value}}}, {value}]}}"#);
            let _ = desktops_from_body(desktops.as_bytes());
        }
    }
}
