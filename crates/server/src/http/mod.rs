//! What every handler shares: who is calling (from the request), JSON
//! bodies in our error shape, paging, and bodies kept with a gzip copy.

mod body;
mod caller;
mod guard;
mod gzip;
mod paging;

pub use body::{Body, Path, Query, too_large};
pub use caller::{
    ClientIp, Who, clear_cookie, cookie, same_origin, session_cookie, session_token,
    set_cookie_named,
};
pub use guard::{Deployment, guard};
pub use gzip::{Kept, accepts_gzip, body_for};
pub use paging::{Page, PageQuery, fifty, one, page};
