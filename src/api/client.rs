//! The Workspace API client: list, show, desktops of a pool, delete; and `connect`, which
//! makes the IAM calls that come first (assume role, project lookup).

use super::connection::{Connection, ProjectSource, Resolved};
use super::error::{Absence, ApiError};
use super::iam;
use super::options::{ClientOptions, ListingCounts};
use super::pacer::Pacer;
use super::transport::{Endpoint, RawResponse, Request, Slot, Transport};
use super::wire::{self, Page};
use crate::core::escape::visible;
use crate::core::model::{Live, Pool, PoolDesktop, PoolId};
use crate::core::time::{Clock, Instant};
use reqwest::Method;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinSet;

pub use super::options::MAX_PAGE_LIMIT;
use super::run_share::{Held, PageSlot, Reserved, RunShare};
/// A listing that claims more pools than this is refused rather than paged forever.
const MAX_LISTED_POOLS: u64 = 1_000_000;
/// A listing whose answers add up to more bytes than this is refused.
pub const MAX_LISTING_BYTES: usize = 256 * 1024 * 1024;
/// A listing whose decoded pools would hold more memory than this is refused: with the cap on
/// each page and the pages decoded at once, what a server can make poolform hold stays bounded
/// (100,000 ordinary pools hold ~40 MiB).
pub const MAX_LISTING_WEIGHT: usize = 128 * 1024 * 1024;

/// The API's clock from an answer's `Date` header: `None` when it sent none; a `Date` that is
/// not an HTTP date is refused (time rules are judged by it, and never fail open).
fn api_date(raw: &RawResponse) -> Result<Option<Instant>, ApiError> {
    let Some(text) = raw.date.as_deref() else {
        return Ok(None);
    };
    match httpdate::parse_http_date(text) {
        Ok(t) => Ok(Some(Instant::of_system(t))),
        Err(_) => Err(raw.decode_error(format!(
            "its Date header {:?} is not an HTTP date (time rules are judged by the API's clock)",
            visible(text)
        ))),
    }
}

/// Filters the list route supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Fuzzy (substring) match on the name, as the API does it.
    pub name: Option<String>,
    pub pool_type: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub in_maintenance_mode: Option<bool>,
}

impl ListFilter {
    fn query(&self, offset: u64, limit: u32) -> Vec<(String, String)> {
        let mut q = vec![
            ("offset".to_owned(), offset.to_string()),
            ("limit".to_owned(), limit.to_string()),
        ];
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                q.push((k.to_owned(), v.clone()));
            }
        };
        add("name", &self.name);
        add("type", &self.pool_type);
        add("enterprise_project_id", &self.enterprise_project_id);
        add(
            "in_maintenance_mode",
            &self.in_maintenance_mode.map(|b| b.to_string()),
        );
        q
    }
}

/// A DELETE the API accepted (any 2xx). Not proof that the pool is gone: apply verifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub request_id: Option<String>,
}

/// What a read of one pool found, with the request id of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// `None`: the API says there is no such pool.
    pub pool: Option<Pool>,
    pub request_id: Option<String>,
}

/// One page of the listing as read, with the request id of its answer.
#[derive(Debug)]
pub struct ListedPage {
    pub page: Page,
    pub request_id: Option<String>,
    /// The API's clock, from the answer's `Date` header (`None`: it sent none).
    pub date: Option<Instant>,
    /// The size of the answer's body.
    pub bytes: usize,
    /// The run's slot for a page in memory, held until the page is taken into its listing
    /// (and counted there): read, decoded or waiting, the run's pages stay bounded.
    _slot: Option<PageSlot>,
    /// Its decoded pools in the run's count, from the moment they were decoded.
    reserved: Option<Reserved>,
}

struct Inner {
    transport: Transport,
    connection: Connection,
    /// Whose credentials the calls carry, in words (for a 401).
    who: Arc<str>,
    workspace: Endpoint,
}

/// The Workspace API client. Cheap to clone; clones share one connection pool and one pacer.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.workspace.base)
            .field("project_id", &self.inner.connection.project_id)
            .field("credentials", &self.inner.connection.credentials)
            .finish()
    }
}

impl Client {
    /// Builds the client for a connection that is already whole. TLS certificates are always
    /// verified; redirects are never followed.
    pub fn new(connection: Connection, options: ClientOptions) -> Result<Client, ApiError> {
        Ok(Client::with(Transport::new(options)?, connection))
    }

    fn with(transport: Transport, connection: Connection) -> Client {
        connection.credentials.register_for_redaction();
        let workspace = Endpoint::of(&connection.endpoint);
        Client {
            inner: Arc::new(Inner {
                transport,
                who: Arc::from(connection.identity.describe()),
                connection,
                workspace,
            }),
        }
    }

    /// Builds the client from what resolution found: first exchanges the credentials for an
    /// agency's temporary ones when asked to (assume role), then looks the project id up at
    /// IAM when nothing named it. Both calls are paced and retried like any read.
    pub async fn connect(resolved: Resolved, options: ClientOptions) -> Result<Client, ApiError> {
        let transport = Transport::new(options)?;
        let mut identity = resolved.identity();
        let who: Arc<str> = Arc::from(identity.describe());
        let mut credentials = resolved.credentials;
        credentials.register_for_redaction();
        let iam = resolved.iam_endpoint.as_ref().map(Endpoint::of);
        if let Some(role) = &resolved.assume_role {
            let Some(iam) = &iam else {
                return Err(ApiError::Iam(
                    "assuming a role needs an IAM endpoint: give a region, or set HW_AUTH_URL"
                        .into(),
                ));
            };
            credentials = iam::assume_role(&transport, iam, &credentials, &who, role).await?;
            credentials.register_for_redaction();
        }
        let project_id = match resolved.project {
            ProjectSource::Known(p) => p,
            ProjectSource::LookUp { name } => {
                let Some(iam) = &iam else {
                    return Err(ApiError::Iam(format!(
                        "no project id, and no IAM endpoint to look up the project {name}"
                    )));
                };
                let id = iam::project_id(&transport, iam, &credentials, &who, &name).await?;
                identity.project_from = format!("looked up at IAM {} by the name {name}", iam.base);
                id
            }
        };
        let connection = Connection {
            endpoint: resolved.endpoint,
            project_id,
            credentials,
            iam_endpoint: resolved.iam_endpoint,
            identity,
        };
        Ok(Client::with(transport, connection))
    }

    /// Every project the resolved credentials' account has at IAM, `(name, id)`: for
    /// `import --all-projects` (after the agency, when there is one).
    pub async fn iam_projects(
        resolved: &Resolved,
        options: ClientOptions,
    ) -> Result<Vec<(String, crate::core::model::ProjectId)>, ApiError> {
        let transport = Transport::new(options)?;
        let who: Arc<str> = Arc::from(resolved.identity().describe());
        let mut credentials = resolved.credentials.clone();
        credentials.register_for_redaction();
        let Some(iam) = resolved.iam_endpoint.as_ref().map(Endpoint::of) else {
            return Err(ApiError::Iam(
                "listing the account's projects needs an IAM endpoint: give a region, or set HW_AUTH_URL".into(),
            ));
        };
        if let Some(role) = &resolved.assume_role {
            credentials = iam::assume_role(&transport, &iam, &credentials, &who, role).await?;
            credentials.register_for_redaction();
        }
        iam::projects(&transport, &iam, &credentials, &who).await
    }

    pub fn connection(&self) -> &Connection {
        &self.inner.connection
    }

    /// The pacing every call of this client goes through.
    /// How far the listing in progress has got.
    pub fn listing_counts(&self) -> &Arc<ListingCounts> {
        &self.inner.transport.options.listing
    }

    pub fn pacer(&self) -> &Pacer {
        &self.inner.transport.pacer
    }

    /// Sends one Workspace call (`/v2/{project}/{suffix}`) in one of the run's call slots.
    async fn send(
        &self,
        method: Method,
        suffix: &str,
        query: &[(String, String)],
    ) -> Result<RawResponse, ApiError> {
        self.send_before(method, suffix, query, None, Slot::Call)
            .await
    }

    /// [`Client::send`], not sent once `not_after` has passed, holding `slot` of the run's
    /// limits.
    pub(super) async fn send_before(
        &self,
        method: Method,
        suffix: &str,
        query: &[(String, String)],
        not_after: Option<std::time::Instant>,
        slot: Slot,
    ) -> Result<RawResponse, ApiError> {
        let inner = &*self.inner;
        let retried = method == Method::GET;
        inner
            .transport
            .send(Request {
                endpoint: &inner.workspace,
                credentials: &inner.connection.credentials,
                project: Some(&inner.connection.project_id),
                path: format!("/v2/{}/{suffix}", inner.connection.project_id),
                method,
                query,
                body: None,
                retried,
                who: &inner.who,
                not_after,
                slot,
            })
            .await
    }

    /// One page of the listing, asked for at most `limit` pools.
    pub async fn list_page(
        &self,
        filter: &ListFilter,
        offset: u64,
        limit: u32,
    ) -> Result<ListedPage, ApiError> {
        let suffix = "desktop-pools";
        // Held until the page is taken into its listing: the run's pages in memory at once
        // are bounded.
        let run = &self.inner.transport.options.run;
        let slot = run.page().await;
        let raw = self
            .send_before(
                Method::GET,
                suffix,
                &filter.query(offset, limit),
                None,
                Slot::Page,
            )
            .await?;
        if !raw.is_success() {
            return Err(raw.http_error());
        }
        let mut raw = raw;
        let date = api_date(&raw)?;
        let bytes = raw.body.len();
        let body = std::mem::take(&mut raw.body);
        let decoded = {
            let _decoding = run.decode().await;
            // Off the thread the projects' tasks run on: pages of several projects are
            // decoded on as many cores as the run decodes pages at once.
            tokio::task::spawn_blocking(move || wire::page_from_body(&body, limit as usize))
                .await
                .map_err(|e| ApiError::Internal {
                    doing: "decoding a list page",
                    message: e.to_string(),
                })?
        };
        // Decoded: the answer's bytes leave the run's budget.
        raw.held = None;
        let page =
            decoded.map_err(|m| raw.decode_error(format!("the page at offset {offset}: {m}")))?;
        // Counted for the run as soon as it is decoded: once the run holds more than it will,
        // no more pages are decoded and kept.
        let (reserved, run_weight) = run.reserve(page.weight);
        if run_weight > MAX_LISTING_WEIGHT {
            return Err(over_weight(", with those of the other listings under way,"));
        }
        self.inner.transport.options.listing.page(page.pools.len());
        Ok(ListedPage {
            page,
            bytes,
            request_id: raw.request_id,
            date,
            _slot: slot,
            reserved: Some(reserved),
        })
    }

    /// Every pool matching `filter`, read consistently or not at all.
    ///
    /// Pages overlap by one pool, so a listing that shifted between two pages (a pool deleted
    /// and another created, say) is noticed even when its count did not change; the count is
    /// checked against `total_count` when the API sends one, and paged to a short page when it
    /// does not. A gateway that serves fewer pools per page than asked is paged by what it
    /// serves. A listing that changed while it was read is read again a bounded number of
    /// times.
    pub async fn list_pools(&self, filter: &ListFilter) -> Result<Live, ApiError> {
        let options = &self.inner.transport.options;
        let limit = options.page_limit.clamp(2, MAX_PAGE_LIMIT);
        let attempts = options.max_relists + 1;
        let mut detail = String::new();
        for attempt in 0..attempts {
            options.listing.start(attempt > 0);
            match self.read_listing(filter, limit).await? {
                Ok(live) => return Ok(live),
                Err(why) => detail = why,
            }
            tracing::warn!(%detail, "listing changed while it was read; listing again");
        }
        Err(ApiError::InconsistentListing { attempts, detail })
    }

    /// One read of the whole listing: `Ok(Err(why))` when it changed while it was read.
    async fn read_listing(
        &self,
        filter: &ListFilter,
        limit: u32,
    ) -> Result<Result<Live, String>, ApiError> {
        let first = self.list_page(filter, 0, limit).await?;
        // "Now" is the API's, as its first page saw it; this machine's only when it sent no
        // `Date` (and the plan says whose it is).
        let local = Instant::of_system(std::time::SystemTime::now());
        let clock = Clock::of_listing(first.date, local);
        let total = first.page.total_count;
        let gathered = match total {
            Some(total) => self.pages_counted(filter, first, total).await?,
            None => self.pages_to_a_short_one(filter, first).await?,
        };
        let gathered = match gathered {
            Ok(gathered) => gathered,
            Err(why) => return Ok(Err(why)),
        };
        let live = Live::from_parts(gathered.pools, gathered.page_of, gathered.request_ids)
            .map(|live| live.with_clock(clock));
        Ok(match (live, total) {
            // The same pool read twice (an overlap) with different content: it changed.
            (Err(conflict), _) => Err(conflict.to_string()),
            (Ok(live), Some(total)) if live.len() as u64 != total => Err(format!(
                "total_count was {total} but {} distinct pools were read",
                live.len()
            )),
            (Ok(live), _) => Ok(live),
        })
    }

    /// The pages after `first` when `total_count` is known: fetched concurrently, each
    /// starting with the last pool of the one before, each consumed as it arrives.
    async fn pages_counted(
        &self,
        filter: &ListFilter,
        first: ListedPage,
        total: u64,
    ) -> Result<Result<Gathered, String>, ApiError> {
        if total > MAX_LISTED_POOLS {
            return Err(ApiError::InconsistentListing {
                attempts: 1,
                detail: format!(
                    "total_count {total} is more than poolform will page through ({MAX_LISTED_POOLS})"
                ),
            });
        }
        let size = first.page.pools.len() as u64;
        if size >= total {
            if size != total {
                return Ok(Err(format!(
                    "total_count is {total} but the first page held {size} pools"
                )));
            }
            let mut gathered = Gathered::new(1, size, &self.inner.transport.options.run);
            gathered.take(0, 0, first)?;
            return Ok(Ok(gathered));
        }
        if size < 2 {
            return Ok(Err(format!(
                "the first page held {size} of {total} pools; pages of fewer than 2 pools cannot be checked against each other"
            )));
        }
        // The gateway's page size (it may be lower than asked): pages overlap by one pool.
        let page_size = u32::try_from(size).unwrap_or(MAX_PAGE_LIMIT);
        let stride = size - 1;
        let offsets: Vec<u64> = (0..)
            .map(|k| k * stride)
            .take_while(|offset| *offset == 0 || offset + 1 < total)
            .collect();
        let mut gathered = Gathered::new(offsets.len(), total, &self.inner.transport.options.run);
        gathered.take(0, 0, first)?;
        self.fetch_pages(filter, &offsets, page_size, &mut gathered)
            .await?;
        Ok(check_edges(&gathered, &offsets, total, size)?.map(|()| gathered))
    }

    /// Reads the pages at `offsets` after the first, `list_concurrency` at a time, each
    /// consumed into `gathered` as it arrives.
    async fn fetch_pages(
        &self,
        filter: &ListFilter,
        offsets: &[u64],
        page_size: u32,
        gathered: &mut Gathered,
    ) -> Result<(), ApiError> {
        let mut pending = offsets.iter().copied().enumerate().skip(1);
        let mut running = JoinSet::new();
        loop {
            while running.len() < self.inner.transport.options.list_concurrency.max(1) {
                let Some((i, offset)) = pending.next() else {
                    break;
                };
                let (client, filter) = (self.clone(), filter.clone());
                running.spawn(async move {
                    (
                        i,
                        offset,
                        client.list_page(&filter, offset, page_size).await,
                    )
                });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            match done {
                Ok((i, offset, Ok(page))) => gathered.take(i, offset, page)?,
                Ok((_, _, Err(e))) => return Err(e),
                Err(join) => {
                    return Err(ApiError::Internal {
                        doing: "reading a page of the pool listing",
                        message: join.to_string(),
                    })
                }
            }
        }
        Ok(())
    }

    /// The pages after `first` when the API sends no `total_count`: one after another, each
    /// starting with the last pool of the one before, until a page is shorter than the first.
    async fn pages_to_a_short_one(
        &self,
        filter: &ListFilter,
        first: ListedPage,
    ) -> Result<Result<Gathered, String>, ApiError> {
        let size = first.page.pools.len() as u64;
        let mut gathered = Gathered::new(1, size, &self.inner.transport.options.run);
        gathered.take(0, 0, first)?;
        if size == 0 {
            return Ok(Ok(gathered));
        }
        if size == 1 {
            // A page of one pool cannot overlap: one more read tells the end from a cap of 1.
            let next = self.list_page(filter, 1, 1).await?;
            return Ok(if next.page.pools.is_empty() {
                Ok(gathered)
            } else {
                Err(
                    "the API serves 1 pool per page; pages cannot be checked against each other"
                        .into(),
                )
            });
        }
        let page_size = u32::try_from(size).unwrap_or(MAX_PAGE_LIMIT);
        let mut offset = 0;
        loop {
            offset += size - 1;
            if offset > MAX_LISTED_POOLS {
                return Err(ApiError::InconsistentListing {
                    attempts: 1,
                    detail: format!(
                        "the listing goes on past {MAX_LISTED_POOLS} pools; poolform will not page further"
                    ),
                });
            }
            let page = self.list_page(filter, offset, page_size).await?;
            let short = (page.page.pools.len() as u64) < size;
            let slot = gathered.edges.len();
            gathered.edges.push(None);
            gathered.request_ids.push(None);
            gathered.take(slot, offset, page)?;
            let (before, now) = (&gathered.edges[slot - 1], &gathered.edges[slot]);
            if let (Some(before), Some(now)) = (before, now) {
                if let Some(why) = misaligned(before, now) {
                    return Ok(Err(why));
                }
            }
            if short {
                return Ok(Ok(gathered));
            }
        }
    }

    /// One pool; `None` when the API says it does not exist: 404 with a Workspace error code,
    /// or 400 `WKS.0001` (how the show route answers for a missing pool). A 404 from the
    /// gateway itself (`APIGW.0101`, a wrong route) is an error, never "gone".
    pub async fn show_pool(&self, id: &PoolId) -> Result<Shown, ApiError> {
        let suffix = format!("desktop-pools/{id}");
        let raw = self.send(Method::GET, &suffix, &[]).await?;
        let pool = if raw.is_success() {
            let pool = wire::pool_from_body(&raw.body).map_err(|m| raw.decode_error(m))?;
            if pool.id != *id {
                return Err(raw.decode_error(format!(
                    "asked for pool {id}, the answer describes pool {}",
                    pool.id
                )));
            }
            Some(pool)
        } else {
            match raw.failure().absence() {
                Absence::Proven | Absence::Hinted => None,
                Absence::Unknown => return Err(raw.http_error()),
            }
        };
        Ok(Shown {
            pool,
            request_id: raw.request_id,
        })
    }

    /// Reads each of `ids` (`parallelism` at a time): each answer in the order given, or an
    /// internal error when a reading task died.
    pub async fn show_pools(
        &self,
        ids: Vec<PoolId>,
        parallelism: usize,
    ) -> Result<Vec<(PoolId, Result<Shown, ApiError>)>, ApiError> {
        let total = ids.len();
        let mut pending = ids.into_iter().enumerate();
        let mut running = JoinSet::new();
        let mut done: Vec<Option<(PoolId, Result<Shown, ApiError>)>> =
            (0..total).map(|_| None).collect();
        loop {
            while running.len() < parallelism.max(1) {
                let Some((i, id)) = pending.next() else { break };
                let client = self.clone();
                running.spawn(async move {
                    let shown = client.show_pool(&id).await;
                    (i, id, shown)
                });
            }
            match running.join_next().await {
                Some(Ok((i, id, shown))) => done[i] = Some((id, shown)),
                Some(Err(e)) => {
                    running.abort_all();
                    return Err(ApiError::Internal {
                        doing: "reading pools",
                        message: e.to_string(),
                    });
                }
                None => return Ok(done.into_iter().flatten().collect()),
            }
        }
    }

    /// The first `limit` desktops of a pool (at most 100) and the pool's total desktop count.
    pub async fn list_pool_desktops(
        &self,
        id: &PoolId,
        limit: u32,
    ) -> Result<(u64, Vec<PoolDesktop>), ApiError> {
        let suffix = format!("desktop-pools/{id}/desktops");
        let query = [
            ("offset".to_owned(), "0".to_owned()),
            ("limit".to_owned(), limit.clamp(1, 100).to_string()),
        ];
        let raw = self.send(Method::GET, &suffix, &query).await?;
        if !raw.is_success() {
            return Err(raw.http_error());
        }
        wire::desktops_from_body(&raw.body).map_err(|m| raw.decode_error(m))
    }
}

/// Checks that the pages read agree with `total` and with each other (each starts with the
/// last pool of the one before): `Ok(Err(why not))`, and the listing is read again.
fn check_edges(
    gathered: &Gathered,
    offsets: &[u64],
    total: u64,
    size: u64,
) -> Result<Result<(), String>, ApiError> {
    for (i, edge) in gathered.edges.iter().enumerate() {
        let Some(edge) = edge else {
            return Err(ApiError::Internal {
                doing: "reading a page of the pool listing",
                message: format!("the page at offset {} was not read", offsets[i]),
            });
        };
        if let Some(changed) = edge.total.filter(|t| *t != total) {
            return Ok(Err(format!(
                "total_count changed from {total} to {changed} between pages"
            )));
        }
        let want = (total - edge.offset).min(size);
        if edge.count as u64 != want {
            return Ok(Err(format!(
                "the page at offset {} held {} pools, not {want}",
                edge.offset, edge.count
            )));
        }
        if let Some(why) = i
            .checked_sub(1)
            .and_then(|before| gathered.edges[before].as_ref())
            .and_then(|before| misaligned(before, edge))
        {
            return Ok(Err(why));
        }
    }
    Ok(Ok(()))
}

/// A listing whose pages (`others`: with those of the other listings under way) weigh more
/// than poolform will hold.
fn over_weight(others: &str) -> ApiError {
    ApiError::InvalidListing {
        detail: format!(
            "its pages{others} add up to more than the {} MiB of decoded pools poolform will hold",
            MAX_LISTING_WEIGHT / (1024 * 1024)
        ),
    }
}

/// Takes a page into a listing's count (its pools already in the run's), refusing a listing
/// larger than poolform will hold.
fn count_bytes(total: &mut Held, page: &mut ListedPage) -> Result<(), ApiError> {
    let weight = total.take(page.bytes, page.reserved.take());
    if total.bytes > MAX_LISTING_BYTES {
        return Err(ApiError::InvalidListing {
            detail: format!(
                "its pages add up to more than the {} MiB of answers poolform will hold",
                MAX_LISTING_BYTES / (1024 * 1024)
            ),
        });
    }
    if weight > MAX_LISTING_WEIGHT {
        return Err(over_weight(""));
    }
    Ok(())
}

/// What the checks between pages need of a page once its pools are gathered.
#[derive(Debug)]
struct Edge {
    offset: u64,
    first: Option<PoolId>,
    last: Option<PoolId>,
    count: usize,
    total: Option<u64>,
}

/// A listing being read: each page's pools moved into one vector as the page arrives (a
/// listing is never held twice), with what is needed to check the pages against each other.
struct Gathered {
    pools: Vec<Pool>,
    page_of: Vec<u32>,
    request_ids: Vec<Option<String>>,
    /// Indexed like the pages, in offset order.
    edges: Vec<Option<Edge>>,
    held: Held,
}

impl Gathered {
    fn new(pages: usize, pools: u64, run: &Arc<RunShare>) -> Gathered {
        let pools = usize::try_from(pools)
            .unwrap_or(0)
            .min(MAX_LISTED_POOLS as usize);
        Gathered {
            pools: Vec::with_capacity(pools + pages),
            page_of: Vec::with_capacity(pools + pages),
            request_ids: vec![None; pages],
            edges: (0..pages).map(|_| None).collect(),
            held: Held::new(run.clone()),
        }
    }

    /// Takes in the page at `slot` (read at `offset`).
    fn take(&mut self, slot: usize, offset: u64, mut page: ListedPage) -> Result<(), ApiError> {
        count_bytes(&mut self.held, &mut page)?;
        refuse_conflicts_within(offset, &page.page.pools)?;
        let pools = page.page.pools;
        self.edges[slot] = Some(Edge {
            offset,
            first: pools.first().map(|p| p.id.clone()),
            last: pools.last().map(|p| p.id.clone()),
            count: pools.len(),
            total: page.page.total_count,
        });
        self.request_ids[slot] = page.request_id;
        let index = u32::try_from(slot).unwrap_or(u32::MAX);
        self.page_of.extend(std::iter::repeat_n(index, pools.len()));
        self.pools.extend(pools);
        Ok(())
    }
}

/// Why page `now` does not continue `before`, if it does not: its first pool must be the last
/// pool of the page before (pages overlap by one).
fn misaligned(before: &Edge, now: &Edge) -> Option<String> {
    let last = before.last.as_ref()?;
    match &now.first {
        Some(first) if first == last => None,
        Some(first) => Some(format!(
            "the page at offset {} starts with pool {first} where the page before ended with {last}: the listing shifted between pages",
            now.offset
        )),
        None => Some(format!(
            "the page at offset {} is empty where it should start with pool {last}",
            now.offset
        )),
    }
}

/// One page listing the same id twice with different content cannot be trusted at all.
fn refuse_conflicts_within(offset: u64, pools: &[Pool]) -> Result<(), ApiError> {
    let mut seen: HashMap<&PoolId, &Pool> = HashMap::with_capacity(pools.len());
    for pool in pools {
        if let Some(before) = seen.insert(&pool.id, pool) {
            if before != pool {
                if let Err(conflict) = Live::new(vec![before.clone(), pool.clone()]) {
                    return Err(ApiError::InvalidListing {
                        detail: format!("the page at offset {offset}: {conflict}"),
                    });
                }
            }
        }
    }
    Ok(())
}
