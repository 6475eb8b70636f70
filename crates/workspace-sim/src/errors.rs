//! Huawei-shaped error answers: `{"error_code", "error_msg"}` with the status the API gives.

use crate::config::MissingPool;
use crate::shared::Shared;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub(crate) fn huawei_error(status: u16, code: &str, msg: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({"error_code": code, "error_msg": msg}))).into_response()
}

pub(crate) fn bad_parameter(msg: String) -> Response {
    huawei_error(400, "WKS.0003", &format!("Invalid parameter: {msg}"))
}

/// The answer for a pool that does not exist, on a read or on DELETE.
pub(crate) fn missing(shared: &Shared, on_delete: bool) -> Response {
    let not_found = || huawei_error(404, "WKS.0404", "The desktop pool does not exist");
    let wks0001 = || huawei_error(400, "WKS.0001", "The desktop pool does not exist");
    match (shared.missing_pool, on_delete) {
        (MissingPool::NotFound, _) | (MissingPool::Observed, true) => not_found(),
        (MissingPool::Wks0001, _) | (MissingPool::Observed, false) => wks0001(),
    }
}

/// The gateway's own 404: no such route. Says nothing about any pool.
pub(crate) fn gateway_not_found() -> Response {
    huawei_error(
        404,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
    )
}
