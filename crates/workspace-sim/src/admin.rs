//! The `/__sim/...` routes tests use to look at the state and change it while it runs.

use crate::errors::{bad_parameter, missing};
use crate::shared::Shared;
use axum::extract::{Path, State as Ext};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub(crate) async fn admin_clock(
    Ext(shared): Ext<Arc<Shared>>,
    Json(change): Json<crate::clock::ClockChange>,
) -> Response {
    clock_answer(&shared.clock, &change)
}

/// The answer of `POST /__sim/clock`: the clock's new "now", or what is wrong with the change.
pub(crate) fn clock_answer(
    clock: &crate::clock::SimClock,
    change: &crate::clock::ClockChange,
) -> Response {
    match clock.change(change) {
        Ok(now) => Json(json!({"now": now.to_string()})).into_response(),
        Err(e) => bad_parameter(e),
    }
}

pub(crate) async fn admin_state(Ext(shared): Ext<Arc<Shared>>) -> Json<Value> {
    Json(shared.state().snapshot())
}

#[derive(serde::Deserialize)]
pub(crate) struct DesktopCount {
    count: u64,
}

pub(crate) async fn admin_set_desktops(
    Ext(shared): Ext<Arc<Shared>>,
    Path(id): Path<String>,
    Json(body): Json<DesktopCount>,
) -> Response {
    if shared.state().set_desktops(&id, body.count) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        missing(&shared, false)
    }
}

pub(crate) async fn admin_add_pool(
    Ext(shared): Ext<Arc<Shared>>,
    Json(fields): Json<Map<String, Value>>,
) -> Response {
    match shared.state().upsert(None, fields) {
        Some(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        None => bad_parameter("the pool has no usable id".into()),
    }
}

pub(crate) async fn admin_patch_pool(
    Ext(shared): Ext<Arc<Shared>>,
    Path(id): Path<String>,
    Json(fields): Json<Map<String, Value>>,
) -> Response {
    match shared.state().upsert(Some(&id), fields) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => missing(&shared, false),
    }
}

pub(crate) async fn admin_remove_pool(
    Ext(shared): Ext<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    if shared.state().remove(&id, false) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        missing(&shared, false)
    }
}
