//! The verification listing after the deletes: every pool reported gone during the run must be
//! gone from a listing (polled with backoff up to the verify timeout); one still listed at the
//! end is a failure.

use super::run::own_error;
use super::shared::{Shared, MAX_VERIFY_POLL};
use crate::api::ListFilter;
use crate::core::report::{Outcome, StepResult, Verification};
use std::time::Instant;

/// What the verification listings found: the claims still listed, the last listing, how
/// many listings were read, and why the last try failed (if it did).
struct Polled {
    pending: Vec<usize>,
    last_listing: Option<crate::core::model::Live>,
    listings: usize,
    last_error: Option<String>,
    started: Instant,
}

/// Lists the pools again (polling with backoff up to the verify timeout) until every result
/// that claims its pool gone is confirmed; one still listed at the end is a failure.
pub(super) async fn verify(sh: &Shared, results: &mut [StepResult]) -> Verification {
    let claimed: Vec<usize> = (0..results.len())
        .filter(|i| results[*i].claims_gone())
        .collect();
    let mut verification = Verification {
        claimed: claimed.len(),
        ..Verification::default()
    };
    if claimed.is_empty() {
        return verification;
    }
    let polled = poll_until_gone(sh, results, claimed).await;
    verification.verified = verification.claimed - polled.pending.len();
    for &i in &polled.pending {
        settle_still_listed(&mut results[i], &polled);
    }
    if verification.verified < verification.claimed {
        verification.incomplete = polled.last_error;
    }
    verification
}

/// Lists until none of `pending` is listed, or the verify timeout or a stop comes first.
async fn poll_until_gone(sh: &Shared, results: &mut [StepResult], pending: Vec<usize>) -> Polled {
    let mut polled = Polled {
        pending,
        last_listing: None,
        listings: 0,
        last_error: None,
        started: Instant::now(),
    };
    let mut poll = sh.options.verify_poll;
    loop {
        if let Some(halt) = sh.halted() {
            polled.last_error = Some(halt.short().to_owned());
            break;
        }
        match sh.client.list_pools(&ListFilter::default()).await {
            Ok(live) => {
                polled.listings += 1;
                polled.pending.retain(|i| {
                    let gone = live.get(&results[*i].pool.id).is_none();
                    results[*i].verified = gone;
                    !gone
                });
                polled.last_listing = Some(live);
                polled.last_error = None;
            }
            Err(e) => polled.last_error = Some(e.to_string()),
        }
        let spent = polled.started.elapsed();
        if polled.pending.is_empty() || spent.saturating_add(poll) > sh.options.verify_timeout {
            break;
        }
        if let Err(halt) = sh.client.pacer().sleep(poll).await {
            polled.last_error = Some(halt.short().to_owned());
            break;
        }
        poll = (poll * 2).min(MAX_VERIFY_POLL);
    }
    polled
}

/// A claim of "gone" the verification could not confirm: a failure when the last listing still
/// shows the pool, else unverified, saying why.
fn settle_still_listed(r: &mut StepResult, polled: &Polled) {
    match &polled.last_listing {
        Some(live) if live.get(&r.pool.id).is_some() => {
            let listed_by = live.request_id_of(&r.pool.id).map(str::to_owned);
            let claim = match r.outcome {
                Outcome::Deleted => format!(
                    "DELETE answered 2xx [request id: {}] but the pool is still listed",
                    r.request_id.as_deref().unwrap_or("none")
                ),
                _ => "reported already gone but the pool is still listed".to_owned(),
            };
            let message = format!(
                "{claim} by {} listing{} over {} s [request id: {}]",
                polled.listings,
                if polled.listings == 1 { "" } else { "s" },
                polled.started.elapsed().as_secs(),
                listed_by.as_deref().unwrap_or("none")
            );
            r.outcome = Outcome::Failed;
            r.error = Some(own_error(message, listed_by.clone()));
            r.request_id = listed_by;
            r.detail =
                Some("not gone: the verification listing after the deletes still shows it".into());
        }
        _ => r.note(&format!(
            "not verified: {}",
            polled
                .last_error
                .as_deref()
                .unwrap_or("the verification listing did not finish")
        )),
    }
}
