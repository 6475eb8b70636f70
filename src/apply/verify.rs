//! The verification listing after the deletes: every pool reported gone during the run must be
//! gone from a listing (polled with backoff up to the verify timeout); one still listed at the
//! end is a failure.

use super::step::own_error;
use super::{Shared, MAX_VERIFY_POLL};
use crate::api::ListFilter;
use crate::core::report::{Outcome, StepResult, Verification};
use std::time::Instant;

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
    let started = Instant::now();
    let mut pending = claimed;
    let mut poll = sh.options.verify_poll;
    let mut listings = 0;
    let mut last_listing = None;
    let mut last_error: Option<String>;
    loop {
        if let Some(halt) = sh.halted() {
            last_error = Some(halt.short().to_owned());
            break;
        }
        match sh.client.list_pools(&ListFilter::default()).await {
            Ok(live) => {
                listings += 1;
                pending.retain(|i| {
                    let gone = live.get(&results[*i].pool.id).is_none();
                    results[*i].verified = gone;
                    !gone
                });
                last_listing = Some(live);
                last_error = None;
            }
            Err(e) => last_error = Some(e.to_string()),
        }
        let spent = started.elapsed();
        if pending.is_empty() || spent.saturating_add(poll) > sh.options.verify_timeout {
            break;
        }
        if let Err(halt) = sh.client.pacer().sleep(poll).await {
            last_error = Some(halt.short().to_owned());
            break;
        }
        poll = (poll * 2).min(MAX_VERIFY_POLL);
    }
    verification.verified = verification.claimed - pending.len();
    for i in pending {
        let r = &mut results[i];
        match &last_listing {
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
                    "{claim} by {listings} listing{} over {} s [request id: {}]",
                    if listings == 1 { "" } else { "s" },
                    started.elapsed().as_secs(),
                    listed_by.as_deref().unwrap_or("none")
                );
                r.outcome = Outcome::Failed;
                r.error = Some(own_error(message, listed_by.clone()));
                r.request_id = listed_by;
                r.detail = Some(
                    "not gone: the verification listing after the deletes still shows it".into(),
                );
            }
            _ => r.note(&format!(
                "not verified: {}",
                last_error
                    .as_deref()
                    .unwrap_or("the verification listing did not finish")
            )),
        }
    }
    if verification.verified < verification.claimed {
        verification.incomplete = last_error;
    }
    verification
}
