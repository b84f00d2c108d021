//! The web pages: server-rendered Simplified Chinese over the same store
//! and the same `Caller` rules as the JSON API. Charts are drawn in the
//! browser by ECharts from data embedded in each page; every file the pages
//! load comes from this binary (see `assets`).

mod assets;
mod audit;
mod callbacks;
mod dashboard;
mod export;
mod fmt;
mod framework;
mod layout;
mod progress;
mod quality;
mod region;
mod review;
mod session;
mod submit;
mod users;
mod verify;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route(
            "/login",
            get(session::login_page).post(session::login_submit),
        )
        .route("/logout", post(session::logout))
        .route(
            "/password",
            get(session::password_page).post(session::password_submit),
        )
        .route("/region/{code}", get(region::page))
        .route("/framework", get(framework::page))
        .route("/audit", get(audit::page))
        .route("/quality", get(quality::page).post(quality::action))
        .route("/submit", get(submit::page).post(submit::upload))
        .route(
            "/submit/form",
            get(submit::form_page).post(submit::form_submit),
        )
        .route("/progress", get(progress::page))
        .route("/review", get(review::page).post(review::action))
        .route("/review/set", get(review::set_page))
        .route("/verify", get(verify::page).post(verify::action))
        .route("/verify/{id}", get(verify::detail).post(verify::submit))
        .route("/callbacks", get(callbacks::page).post(callbacks::action))
        .route("/callbacks/{id}/export.xlsx", get(callbacks::export))
        .route("/submit/template.xlsx", get(submit::template))
        .route("/quality/{id}", get(quality::detail).post(quality::resolve))
        .route("/users", get(users::page).post(users::action))
        .route("/export/{name}", get(export::xlsx))
        .route("/static/{version}/{name}", get(assets::serve))
        // Browsers ask for it on their own; answer without a 404 in the log.
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
}
