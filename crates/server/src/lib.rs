//! pingan-server: the JSON API (`/api/v1`, api.md) and the Chinese web
//! pages over the store.
//! Stateless: sessions live in the database, so several instances can share
//! one PostgreSQL.

mod auth;
mod cache;
mod error;
mod openapi;
mod routes;
mod web;

pub use error::ApiError;

use axum::Router;
use pingan_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub(crate) cache: Arc<tokio::sync::Mutex<cache::Cache>>,
}

/// Requests larger than this are refused before they are read.
pub const BODY_LIMIT: usize = 8 << 20;

pub fn router(store: Store) -> Router {
    let state = AppState {
        store,
        cache: Arc::default(),
    };
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    routes::api()
        .merge(web::routes())
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// Serve until `shutdown` resolves (Ctrl-C in `pingan serve`).
pub async fn serve(
    store: Store,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(store);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
