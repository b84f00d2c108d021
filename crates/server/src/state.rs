//! What every handler shares: the service context, and the `/scores`
//! bodies of unscoped callers kept by ledger version (the busiest path).

use crate::api::ApiError;
use crate::http::Kept;
use pingan_service::Ctx;
use std::collections::HashMap;
use std::sync::Arc;

/// (period, level, parent) of a `/scores` request.
pub type ScoresKey = (String, Option<String>, Option<String>);

#[derive(Clone)]
pub struct AppState {
    pub ctx: Ctx,
    /// The ledger version the kept bodies belong to, and the bodies.
    bodies: Arc<tokio::sync::Mutex<(i64, HashMap<ScoresKey, Kept>)>>,
    /// Held while one request fills the `/scores` cache, so a burst of
    /// misses (after a start or a write) computes the body once, not per
    /// request.
    pub(crate) filling: Arc<tokio::sync::Mutex<()>>,
    /// The OpenAPI document, made once from the routes.
    pub(crate) openapi: Arc<utoipa::openapi::OpenApi>,
    /// Answers per client address per ten minutes on the public pages.
    pub answers_per_address: u32,
    /// Who handed in answers lately (address → window start, count).
    pub(crate) answer_limits: Arc<std::sync::Mutex<HashMap<String, (std::time::Instant, u32)>>>,
    /// The public results' body per year, with the publication state it
    /// was made for (published_at, final_at, status).
    pub(crate) public_bodies: Arc<std::sync::Mutex<HashMap<i32, (String, Kept)>>>,
    /// The public page per year, kept the same way (without a flash).
    pub(crate) public_pages: Arc<std::sync::Mutex<HashMap<i32, (String, Kept)>>>,
}

impl AppState {
    pub fn new(ctx: Ctx, openapi: utoipa::openapi::OpenApi) -> AppState {
        AppState {
            ctx,
            bodies: Arc::default(),
            filling: Arc::default(),
            openapi: Arc::new(openapi),
            answers_per_address: crate::ANSWERS_PER_ADDRESS,
            answer_limits: Arc::default(),
            public_bodies: Arc::default(),
            public_pages: Arc::default(),
        }
    }

    /// The kept body for `key`, if nothing was written since it was kept.
    pub async fn kept_scores(&self, key: &ScoresKey) -> Result<Option<Kept>, ApiError> {
        let (seq, _) = self.ctx.versioned_tree().await?;
        let mut b = self.bodies.lock().await;
        if b.0 != seq {
            *b = (seq, HashMap::new());
        }
        Ok(b.1.get(key).cloned())
    }

    pub async fn keep_scores(&self, key: ScoresKey, body: Kept) -> Result<(), ApiError> {
        let (seq, _) = self.ctx.versioned_tree().await?;
        let mut b = self.bodies.lock().await;
        if b.0 != seq {
            *b = (seq, HashMap::new());
        }
        b.1.insert(key, body);
        Ok(())
    }
}
