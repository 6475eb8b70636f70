//! One step as it goes ([`StepRun`]: its pool, its attempts, the age of its judgement) and
//! how its errors are kept for the report.

use crate::api::{ApiError, Halt, HttpFailure};
use crate::core::plan::DeleteStep;
use crate::core::report::{Outcome, StepError, StepResult};
use std::time::Instant;

/// A refusal as the report keeps it: the API's message once (in `error_msg`), `doing` around it.
pub(super) fn step_error_of_failure(f: &HttpFailure, doing: String) -> StepError {
    let error_msg = f.body.error_msg.clone().or_else(|| f.body.raw.clone());
    let message = if error_msg.is_some() {
        doing
    } else {
        format!("{doing}: {f}")
    };
    StepError {
        status: Some(f.status),
        error_code: f.body.error_code.clone(),
        error_detail: f.body.error_detail.clone(),
        error_msg,
        request_id: f.request_id.clone(),
        message,
    }
}

pub(super) fn step_error(e: &ApiError) -> StepError {
    match e {
        ApiError::Http {
            method,
            path,
            failure,
            ..
        } => step_error_of_failure(failure, format!("{method} {path}")),
        _ => StepError {
            status: e.status(),
            error_code: None,
            error_detail: None,
            error_msg: None,
            request_id: match e {
                ApiError::BodyTooLarge { request_id, .. } | ApiError::Decode { request_id, .. } => {
                    request_id.clone()
                }
                _ => None,
            },
            message: e.to_string(),
        },
    }
}

/// An error of poolform's own making (no answer carried it), for the report.
pub(super) fn own_error(message: String, request_id: Option<String>) -> StepError {
    StepError {
        status: None,
        error_code: None,
        error_detail: None,
        error_msg: None,
        request_id,
        message,
    }
}

/// The state of one step as it goes.
pub(super) struct StepRun {
    pub step: DeleteStep,
    /// DELETE requests sent for this pool, in all.
    pub attempts: u32,
    /// An earlier attempt got no answer: it may have been applied.
    pub unanswered_before: bool,
    /// When the listing (or the re-read) that last judged this pool was asked for: no DELETE
    /// is sent once it is older than the judgement's age limit.
    pub judged_at: Instant,
    /// How many times the judgement was renewed while no DELETE could be sent.
    pub renewals: u32,
}

impl StepRun {
    pub fn new(step: DeleteStep, judged_at: Instant) -> StepRun {
        StepRun {
            step,
            attempts: 0,
            unanswered_before: false,
            judged_at,
            renewals: 0,
        }
    }

    pub fn finish(
        &self,
        outcome: Outcome,
        error: Option<StepError>,
        detail: Option<String>,
    ) -> StepResult {
        let request_id = error.as_ref().and_then(|e| e.request_id.clone());
        StepResult {
            pool: self.step.pool().clone(),
            outcome,
            attempts: self.attempts,
            error,
            request_id,
            detail,
            desktops: Vec::new(),
            verified: false,
            absent_before_apply: false,
        }
    }

    /// A step settled by an answer that is not an error, with that answer's request id.
    pub fn settled(
        &self,
        outcome: Outcome,
        request_id: Option<String>,
        detail: Option<String>,
    ) -> StepResult {
        StepResult {
            request_id,
            ..self.finish(outcome, None, detail)
        }
    }

    pub fn halted(&self, halt: Halt, last: Option<StepError>) -> StepResult {
        let why = halt.short();
        if self.attempts == 0 {
            self.finish(Outcome::Skipped, None, Some(format!("not started: {why}")))
        } else {
            self.finish(
                Outcome::Failed,
                last,
                Some(format!("stopped before retrying: {why}")),
            )
        }
    }

    pub fn plural(&self, n: u32) -> String {
        format!("{n} attempt{}", if n == 1 { "" } else { "s" })
    }
}
