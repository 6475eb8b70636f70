//! How old a judgement may be: no DELETE, first or retried, is sent on a judgement older than
//! [`MAX_JUDGEMENT_AGE`]. A step whose judgement has aged (rate limits, retries, a long
//! queue) is judged again on a fresh listing of the project, one listing shared by every step
//! that needs it; a `--wait-blocked` re-read renews the one pool it reads.

use super::calls;
use super::observer::Observer;
use super::options::MAX_JUDGEMENT_AGE;
use super::run::{own_error, StepRun};
use crate::api::listing::list_for_judging;
use crate::api::Client;
use crate::core::model::{Live, Pool, PoolId, PoolRef};
use crate::core::planner::{self, Verdict};
use crate::core::report::{Outcome, StepResult};
use crate::core::rules::Rules;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many times one step's judgement is renewed without a DELETE being sent before the step
/// gives up (a listing slower than the age limit would renew forever).
const MAX_RENEWALS: u32 = 3;

/// The rules a run judges a project's pools by, how the config is named in reasons, and the
/// API's clock as its latest listing read it (moved on by this machine's monotonic clock).
#[derive(Clone)]
pub struct Judge {
    rules: Arc<Rules>,
    source: String,
    clock: Arc<std::sync::Mutex<Option<(crate::core::time::Instant, Instant)>>>,
}

impl Judge {
    pub fn new(rules: Rules, source: impl Into<String>) -> Judge {
        Judge {
            rules: Arc::new(rules),
            source: source.into(),
            clock: Arc::default(),
        }
    }

    /// The API's clock as `live` read it, from now on.
    pub fn saw(&self, live: &Live) {
        if let Some(clock) = live.clock() {
            *self.clock.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((clock.now, Instant::now()));
        }
    }

    /// The API's "now": its latest listing's clock, moved on by the time since.
    fn now(&self) -> Option<crate::core::time::Instant> {
        let seen = *self.clock.lock().unwrap_or_else(|e| e.into_inner());
        seen.map(|(api, at)| api.plus(crate::core::time::Span::from_secs(at.elapsed().as_secs())))
    }

    /// Whether a pool re-read on its own may still be deleted: `Err(why not)`.
    pub fn still_called_for(&self, pool: &Pool) -> Result<(), String> {
        match planner::verdict_alone(&self.rules, pool, self.now()).why_kept(&self.source) {
            None => Ok(()),
            Some(why) => Err(why),
        }
    }

    /// What a fresh listing says of each of `planned`.
    fn fates(&self, live: &Live, planned: &[PoolRef]) -> Result<HashMap<PoolId, Fate>, String> {
        self.saw(live);
        let verdicts = planner::verdicts(&self.rules, live).map_err(|e| e.to_string())?;
        Ok(planned
            .iter()
            .map(|p| {
                let fate = match live.index_of(&p.id) {
                    None => Fate::Unlisted,
                    Some(i) => match changed(p, &live.pools()[i], &verdicts[i], &self.source) {
                        None => Fate::StillCalledFor,
                        Some(why) => Fate::NotCalledFor(why),
                    },
                };
                (p.id.clone(), fate)
            })
            .collect())
    }
}

/// How `now` is not the pool the plan named: its id, name or creation time changed.
pub(super) fn another_pool(planned: &PoolRef, now: &Pool) -> Vec<String> {
    let mut why = Vec::new();
    if now.id != planned.id {
        why.push(format!("id {} is now {}", planned.id, now.id));
    }
    if now.name != planned.name {
        why.push(format!("name {:?} is now {:?}", planned.name, now.name));
    }
    if now.created_time != planned.created_time {
        why.push(format!(
            "created_time {:?} is now {:?}",
            planned.created_time, now.created_time
        ));
    }
    why
}

/// Why `now` may no longer be deleted as `planned`: another pool, or one the config no longer
/// calls for.
fn changed(planned: &PoolRef, now: &Pool, verdict: &Verdict, source: &str) -> Option<String> {
    let mut why = another_pool(planned, now);
    why.extend(verdict.why_kept(source));
    (!why.is_empty()).then(|| why.join("; "))
}

/// What the latest fresh listing says of one planned pool.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    StillCalledFor,
    NotCalledFor(String),
    Unlisted,
}

/// The latest fresh listing's judgement of every planned pool.
#[derive(Default)]
struct Latest {
    listed_at: Option<Instant>,
    fates: HashMap<PoolId, Fate>,
}

/// The judgements of one run: their age limit, and the latest renewal.
pub(super) struct Judgements {
    judge: Judge,
    max_age: Duration,
    planned: Vec<PoolRef>,
    latest: tokio::sync::Mutex<Latest>,
}

impl Judgements {
    pub fn new(judge: Judge, max_age: Duration, planned: Vec<PoolRef>) -> Judgements {
        Judgements {
            judge,
            max_age: max_age.min(MAX_JUDGEMENT_AGE),
            planned,
            latest: tokio::sync::Mutex::new(Latest::default()),
        }
    }

    pub fn judge(&self) -> &Judge {
        &self.judge
    }

    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Makes sure `run`'s judgement is younger than the age limit, renewing it from a fresh
    /// listing (one for all the steps that need it) when it is not. `Some(result)` when the
    /// step ends instead: the pool is no longer called for, gone, or the renewal failed.
    pub async fn keep_fresh(
        &self,
        client: &Client,
        observer: &dyn Observer,
        run: &mut StepRun,
    ) -> Option<StepResult> {
        if run.judged_at.elapsed() < self.max_age {
            return None;
        }
        if run.renewals >= MAX_RENEWALS {
            return Some(run.finish(
                Outcome::Failed,
                None,
                Some(format!(
                    "not deleted: its judgement could not be kept younger than {} s ({MAX_RENEWALS} renewals)",
                    self.max_age.as_secs()
                )),
            ));
        }
        run.renewals += 1;
        let (listed_at, fate) = match self.renewed(client, observer, run).await {
            Ok(renewed) => renewed,
            Err(ended) => return Some(*ended),
        };
        match fate {
            Some(Fate::StillCalledFor) => {
                run.judged_at = listed_at;
                None
            }
            Some(Fate::NotCalledFor(why)) => Some(run.finish(
                Outcome::Failed,
                Some(own_error(
                    format!("no longer called for on a fresh listing: {why}"),
                    None,
                )),
                Some(format!(
                    "not deleted: judged again on a fresh listing (the plan's was older than {} s): {why}",
                    self.max_age.as_secs()
                )),
            )),
            Some(Fate::Unlisted) | None => Some(gone_before_sent(client, run).await),
        }
    }

    /// The latest fresh listing's fate of `run`'s pool, listing again unless another step
    /// already did since `run` was judged.
    async fn renewed(
        &self,
        client: &Client,
        observer: &dyn Observer,
        run: &StepRun,
    ) -> Result<(Instant, Option<Fate>), Box<StepResult>> {
        let mut latest = self.latest.lock().await;
        let current = latest
            .listed_at
            .filter(|t| *t > run.judged_at && t.elapsed() < self.max_age);
        let listed_at = match current {
            Some(t) => t,
            None => {
                let started = Instant::now();
                observer.rejudging(self.max_age);
                let live = list_for_judging(client, &self.judge.rules, &self.judge.source)
                    .await
                    .map_err(|e| match e.api().and_then(|a| calls::halt_of(client, a)) {
                        Some(halt) => Box::new(run.halted(halt, None)),
                        None => Box::new(run.finish(
                            Outcome::Failed,
                            None,
                            Some(format!(
                                "not deleted: its judgement is older than {} s, and listing the project again to renew it failed: {e}",
                                self.max_age.as_secs()
                            )),
                        )),
                    })?;
                latest.fates = self.judge.fates(&live, &self.planned).map_err(|e| {
                    Box::new(run.finish(
                        Outcome::Failed,
                        None,
                        Some(format!(
                            "not deleted: the fresh listing cannot be judged: {e}"
                        )),
                    ))
                })?;
                latest.listed_at = Some(started);
                started
            }
        };
        Ok((listed_at, latest.fates.get(&run.step.pool().id).cloned()))
    }
}

/// A pool a fresh listing no longer shows: a read decides whether it is gone (no DELETE is
/// sent either way).
async fn gone_before_sent(client: &Client, run: &StepRun) -> StepResult {
    match calls::show(client, &run.step.pool().id).await {
        Err(halt) => run.halted(halt, None),
        Ok(Ok((None, request_id))) => run.settled(
            Outcome::AlreadyAbsent,
            request_id,
            Some(if run.unanswered_before {
                "an earlier attempt got no answer but was applied: a fresh listing and a read show the pool gone".into()
            } else {
                "gone before its DELETE was sent: a fresh listing and a read show it gone".into()
            }),
        ),
        Ok(Ok((Some(_), request_id))) => run.finish(
            Outcome::Failed,
            Some(own_error(
                "a fresh listing leaves the pool out, yet a read still finds it: the listing cannot be trusted".into(),
                request_id,
            )),
            Some("not deleted".into()),
        ),
        Ok(Err(e)) => run.finish(
            Outcome::Failed,
            None,
            Some(format!(
                "not deleted: a fresh listing leaves the pool out, and a read to tell whether it is gone failed: {e}"
            )),
        ),
    }
}
