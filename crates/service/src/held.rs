//! What an instance keeps between requests and across writes (the data
//! only; `kept` brings it up to date). Its own module so that `Ctx` can
//! hold it without depending on the code that fills it.

use pingan_core::data::DataSet;
use pingan_store::Submission;
use std::collections::HashMap;
use std::sync::Arc;

/// Values of years `first..=last` read for one framework version, one
/// region tree and one kind (approved only, or pending too), as of ledger
/// entry `seq`.
pub(crate) struct KeptValues {
    pub(crate) version: i64,
    pub(crate) codes: Vec<String>,
    pub(crate) first: i32,
    pub(crate) last: i32,
    pub(crate) seq: i64,
    pub(crate) data: DataSet,
}

/// (year scored, preview) → what was read for it.
pub(crate) type Kept = HashMap<(i32, bool), KeptValues>;

/// What each department reported in a year (the 报送进度 board), as of
/// ledger entry `seq`, read for one framework version.
pub(crate) struct KeptSubmissions {
    pub(crate) version: i64,
    pub(crate) seq: i64,
    pub(crate) rows: Arc<Vec<Submission>>,
}

/// year → its board.
pub(crate) type KeptBoards = HashMap<i32, KeptSubmissions>;
