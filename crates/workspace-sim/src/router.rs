//! One project's routes (the API behind its gateway, and the `__sim` routes) as one router.

use crate::admin::{
    admin_add_pool, admin_clock, admin_patch_pool, admin_remove_pool, admin_set_desktops,
    admin_state,
};
use crate::errors::gateway_not_found;
use crate::gateway::gateway;
use crate::handlers::{
    delete_pool, iam_projects, iam_security_tokens, list_pools, pool_desktops, show_pool,
};
use crate::shared::Shared;
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub(crate) async fn unknown_route() -> Response {
    gateway_not_found()
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v2/{project}/desktop-pools", get(list_pools))
        .route(
            "/v2/{project}/desktop-pools/{id}",
            get(show_pool).delete(delete_pool),
        )
        .route(
            "/v2/{project}/desktop-pools/{id}/desktops",
            get(pool_desktops),
        )
        .route("/v3/projects", get(iam_projects))
        .route(
            "/v3.0/OS-CREDENTIAL/securitytokens",
            post(iam_security_tokens),
        )
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(shared.clone(), gateway));
    let admin = Router::new()
        .route("/__sim/state", get(admin_state))
        .route("/__sim/clock", post(admin_clock))
        .route("/__sim/pools", post(admin_add_pool))
        .route(
            "/__sim/pools/{id}",
            axum::routing::patch(admin_patch_pool).delete(admin_remove_pool),
        )
        .route("/__sim/pools/{id}/desktops", post(admin_set_desktops));
    let clock = shared.clock.clone();
    admin
        .merge(api)
        .with_state(shared)
        .layer(middleware::map_response(move |r: Response| {
            let clock = clock.clone();
            async move { crate::clock::stamp(r, &clock) }
        }))
}
