//! pingan-server: the JSON API (`/api/v1`, api.md) and the Chinese web
//! pages, both over the service layer (`pingan-service`). Handlers parse
//! input and render output; the rules are the service's.
//! Stateless: sessions live in the database, so several instances can share
//! one PostgreSQL.

mod api;
mod http;
mod kit;
mod pages;
mod state;

pub use api::ApiError;
pub use http::Deployment;
pub use state::AppState;

use axum::Router;
use pingan_service::Ctx;
use pingan_store::Store;
use std::net::SocketAddr;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Requests larger than this are refused before they are read, unless the
/// server is started with another limit (`pingan serve --max-upload-mb`).
pub const BODY_LIMIT: usize = 8 << 20;

/// A household sharing a connection answers several times in ten
/// minutes, a script hundreds.
pub const ANSWERS_PER_ADDRESS: u32 = 30;

/// How one server instance runs: the largest request body and how it is
/// deployed (TLS, proxies).
#[derive(Clone, Debug)]
pub struct Options {
    pub body_limit: usize,
    pub deployment: Deployment,
    /// On start, read the latest year's values and score its preview in
    /// the background, so the first reader does not wait seconds for it
    /// (`pingan serve` and `demo` do; off by default, so that a test server
    /// does only what its test asks).
    pub warm_up: bool,
    /// Answers one client address may hand in on the public answering
    /// pages per ten minutes (`pingan serve --answer-limit`).
    pub answers_per_address: u32,
    /// How often the server looks whether values changed since the newest
    /// risk run, and recomputes it if so (`pingan serve
    /// --risk-refresh-minutes`); None: never (cron's `pingan risk
    /// --refresh` alone).
    pub risk_every: Option<std::time::Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            body_limit: BODY_LIMIT,
            deployment: Deployment::default(),
            warm_up: false,
            answers_per_address: ANSWERS_PER_ADDRESS,
            risk_every: None,
        }
    }
}

pub fn router(store: Store) -> Router {
    router_with(store, &Options::default())
}

/// The router with `body_limit` bytes as the largest request body.
pub fn router_limited(store: Store, body_limit: usize) -> Router {
    router_with(
        store,
        &Options {
            body_limit,
            ..Options::default()
        },
    )
}

pub fn router_with(store: Store, opts: &Options) -> Router {
    router_for(Ctx::new(store), opts)
}

fn router_for(ctx: Ctx, opts: &Options) -> Router {
    let body_limit = opts.body_limit;
    let (api, doc) = api::router();
    let mut state = AppState::new(ctx, doc);
    state.answers_per_address = opts.answers_per_address;
    let pages = pages::routes().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        kit::error::framed,
    ));
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    api.merge(pages)
        .with_state(state)
        // One limit for every body, refused before it is read; axum's own
        // 2 MiB default for extractors would cut a year's template short.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(opts.deployment.clone()),
            http::guard,
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// The OpenAPI document of the JSON API, as served at
/// `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().1
}

/// Pending connections the kernel queues before `accept`. The usual 128
/// overflows when a few hundred clients connect at once (seen under
/// `wrk -c200`: dropped SYNs, each retried after a second).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Listen on `addr` with `LISTEN_BACKLOG` (capped by the kernel's somaxconn).
pub async fn bind(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|_| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("无法解析地址 {addr}"),
        )
    }))
}

/// Serve until `shutdown` resolves (Ctrl-C in `pingan serve`).
pub async fn serve(
    store: Store,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_limited(store, listener, shutdown, BODY_LIMIT).await
}

/// `serve` with `body_limit` bytes as the largest request body.
pub async fn serve_limited(
    store: Store,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    body_limit: usize,
) -> std::io::Result<()> {
    let opts = Options {
        body_limit,
        ..Options::default()
    };
    serve_with(store, listener, shutdown, &opts).await
}

/// `serve` as `opts` say.
pub async fn serve_with(
    store: Store,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    opts: &Options,
) -> std::io::Result<()> {
    if store.watch_ledger() {
        tracing::info!("ledger head kept current by LISTEN/NOTIFY");
    }
    let ctx = Ctx::new(store);
    if opts.warm_up {
        let kept = ctx.clone();
        tokio::spawn(async move {
            pingan_service::scores::warm_up(kept.clone()).await;
            pingan_service::surveys::warm_up(kept.clone()).await;
            pingan_service::events_board::warm_up(kept).await;
        });
    }
    if let Some(every) = opts.risk_every {
        let kept = ctx.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match pingan_service::risk::refresh_if_stale(&kept).await {
                    Ok(Some(v)) => tracing::info!(
                        period = %v.period,
                        warnings = v.warnings.len(),
                        seconds = v.seconds,
                        "risk recomputed after a data change"
                    ),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "risk recompute failed"),
                }
            }
        });
    }
    let app = router_for(ctx, opts);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    /// The configured limit, not the default, refuses a body by its
    /// announced length before reading it.
    #[tokio::test]
    async fn the_body_limit_is_configurable() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = pingan_store::Store::open(&url).await.unwrap();
        let send = |limit: usize, len: usize| {
            let app = super::router_limited(store.clone(), limit);
            let req = axum::http::Request::post("/api/v1/session")
                .header("content-type", "application/json")
                .header("content-length", len.to_string())
                .body(axum::body::Body::empty())
                .unwrap();
            async move { app.oneshot(req).await.unwrap().status().as_u16() }
        };
        assert_eq!(send(1 << 20, (1 << 20) + 1).await, 413);
        assert_ne!(send(super::BODY_LIMIT, (1 << 20) + 1).await, 413);
    }

    #[tokio::test]
    async fn binds_with_a_deep_backlog_and_names_bad_addresses() {
        let l = super::bind("127.0.0.1:0").await.unwrap();
        assert!(l.local_addr().unwrap().port() > 0);
        assert!(super::bind("not an address").await.is_err());
    }
}
