//! The web pages: server-rendered Simplified Chinese over the same
//! service operations as the JSON API. One module per page, owning its
//! routes and its Excel export; charts are drawn in the browser by ECharts
//! from data embedded in each page, and every file the pages load comes
//! from this binary (`kit::assets`).

mod audit;
mod callbacks;
mod consequences;
mod dashboard;
mod downloads;
mod effect;
mod entry;
mod events;
mod events_list;
mod framework;
mod help;
mod map;
mod objections;
mod place;
mod progress;
mod public;
mod quality;
mod quality_run;
mod rectify;
mod rectify_board;
mod region;
mod report;
mod report_edit;
mod review;
mod risk;
mod session;
mod submit;
mod surveys;
mod users;
mod verify;
mod work;

use crate::AppState;
use crate::kit;
use axum::Router;

/// Every page, in the order of the navigation.
pub fn routes() -> Router<AppState> {
    [
        dashboard::routes,
        region::routes,
        map::routes,
        risk::routes,
        report::routes,
        report_edit::routes,
        rectify::routes,
        rectify_board::routes,
        consequences::routes,
        public::routes,
        objections::routes,
        effect::routes,
        framework::routes,
        submit::routes,
        entry::routes,
        progress::routes,
        quality::routes,
        review::routes,
        verify::routes,
        callbacks::routes,
        surveys::routes,
        events::routes,
        events_list::routes,
        downloads::routes,
        audit::routes,
        users::routes,
        help::routes,
        work::routes,
        session::routes,
        kit::assets::routes,
    ]
    .into_iter()
    .fold(Router::new(), |r, page| r.merge(page()))
}
