//! The values a scoring reads, kept in memory between requests. Reading a
//! province's two years from the database takes seconds (1.6 million
//! rows); scoring them takes a tenth of that. So each instance keeps the
//! values it last read per (year, preview) and, when the ledger head has
//! moved, re-reads only the (region, period) pairs written since
//! (`value_changes`, recorded under the ledger entry of each write). Other
//! instances' writes are seen the same way, so several servers sharing one
//! database stay correct.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::held::{KeptSubmissions, KeptValues};
use pingan_core::data::DataSet;
use pingan_core::{Framework, Period, RegionTree};
use pingan_store::Submission;
use std::collections::HashSet;
use std::sync::Arc;

/// Beyond this many changed pairs, reading everything again is cheaper
/// than re-reading pair by pair (a whole-province import touches ~20,000).
const REREAD_LIMIT: usize = 2_000;

/// How a call was served (for logs and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Nothing was written since: the kept values as they were.
    Current,
    /// This many (region, period) pairs were read again.
    Pairs(usize),
    /// Everything was read.
    Full,
}

fn same_tree(codes: &[String], tree: &RegionTree) -> bool {
    codes.len() == tree.len() && codes.iter().zip(tree.regions()).all(|(c, r)| *c == r.code)
}

impl Ctx {
    /// The values for scoring `period` (no benchmarks): a copy of the kept
    /// ones, brought up to date first. The caller holds a heavy permit.
    pub(crate) async fn scoring_values(
        &self,
        version: i64,
        fw: &Framework,
        tree: &RegionTree,
        period: Period,
        preview: bool,
    ) -> Result<(DataSet, Refresh)> {
        let last = period.year();
        let first = last - fw.prev_depth() as i32;
        // Read the head before anything else: every change up to it has
        // committed, so what is read next includes it.
        let head = self.store.ledger_seq().await?;
        let mut kept = self.kept_values.lock().await;
        let key = (last, preview);
        if let Some(k) = kept.get_mut(&key).filter(|k| {
            k.version == version && k.first == first && k.last == last && same_tree(&k.codes, tree)
        }) {
            if k.seq == head {
                return Ok((k.data.clone(), Refresh::Current));
            }
            if let Some(pairs) = self
                .store
                .value_changes(k.seq, first, last, REREAD_LIMIT)
                .await?
            {
                self.store
                    .reread_values(fw, tree, &pairs, preview, &mut k.data)
                    .await?;
                k.seq = head;
                tracing::debug!(
                    year = last,
                    preview,
                    pairs = pairs.len(),
                    "kept values updated"
                );
                return Ok((k.data.clone(), Refresh::Pairs(pairs.len())));
            }
        }
        kept.remove(&key);
        let started = std::time::Instant::now();
        let mut data = DataSet::new(tree.len(), fw.elements.len());
        self.store
            .scoring_values(fw, tree, period, preview, &mut data)
            .await?;
        tracing::info!(
            year = last,
            preview,
            values = data.len(),
            ms = started.elapsed().as_millis() as u64,
            "values read for scoring"
        );
        kept.insert(
            key,
            KeptValues {
                version,
                codes: tree.regions().iter().map(|r| r.code.clone()).collect(),
                first,
                last,
                seq: head,
                data: data.clone(),
            },
        );
        Ok((data, Refresh::Full))
    }

    /// What each department reported in `year`, kept across writes: the
    /// first read groups a year of values (2–4 s on the full province) under
    /// a heavy permit; later ones re-read the pairs written since.
    pub(crate) async fn submissions(&self, year: i32) -> Result<Arc<Vec<Submission>>> {
        let Some(version) = self.store.framework_version(year).await?.map(|v| v.id) else {
            return Ok(Arc::default());
        };
        let head = self.store.ledger_seq().await?;
        let mut kept = self.kept_boards.lock().await;
        if let Some(k) = kept.get_mut(&year).filter(|k| k.version == version) {
            if k.seq == head {
                return Ok(k.rows.clone());
            }
            if let Some(pairs) = self
                .store
                .value_changes(k.seq, year, year, REREAD_LIMIT)
                .await?
            {
                let fresh = self.store.submissions_of(year, &pairs).await?;
                let changed: HashSet<(&str, &str)> = pairs
                    .iter()
                    .map(|(r, p)| (r.as_str(), p.as_str()))
                    .collect();
                let mut rows: Vec<Submission> = k
                    .rows
                    .iter()
                    .filter(|s| !changed.contains(&(s.region.as_str(), s.period.as_str())))
                    .cloned()
                    .collect();
                rows.extend(fresh);
                k.rows = Arc::new(rows);
                k.seq = head;
                return Ok(k.rows.clone());
            }
        }
        kept.remove(&year);
        let rows = {
            let _permit = self.heavy_permit().await?;
            Arc::new(self.store.submissions(year).await?)
        };
        kept.insert(
            year,
            KeptSubmissions {
                version,
                seq: head,
                rows: rows.clone(),
            },
        );
        Ok(rows)
    }
}
