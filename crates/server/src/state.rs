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
    /// The public results per (year, page or API body), with the
    /// publication state they were made for (`publish::state_key`).
    public: Arc<std::sync::Mutex<PublicBodies>>,
}

/// (year, form) → (the publication state it was made for, the body).
type PublicBodies = HashMap<(i32, PublicForm), (String, Kept)>;

/// The two forms the public results are served in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicForm {
    Json,
    Page,
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
            public: Arc::default(),
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

    /// The public results kept for `year` in `form`, if made for `state`.
    pub fn kept_public(&self, year: i32, form: PublicForm, state: &str) -> Option<Kept> {
        let m = self.public.lock().ok()?;
        m.get(&(year, form))
            .filter(|(k, _)| k == state)
            .map(|(_, b)| b.clone())
    }

    pub fn keep_public(&self, year: i32, form: PublicForm, state: String, body: Kept) {
        if let Ok(mut m) = self.public.lock() {
            m.insert((year, form), (state, body));
        }
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
