//! Thresholds of the anomaly methods, as the `[anomaly]` table of a rules
//! file sets them.

use serde::Deserialize;

/// Thresholds of the anomaly methods; the `[anomaly]` table of a rules file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// |z| at or above this flags (seed: 3.0).
    pub z: f64,
    /// |modified z| at or above this flags (Iglewicz & Hoaglin: 3.5).
    pub mod_z: f64,
    /// Period-on-period change in percent that counts as a jump.
    pub jump_pct: f64,
    /// …and the smallest absolute change that does…
    pub jump_min_abs: f64,
    /// …and how many robust SDs of the series' usual period-on-period
    /// changes it must be.
    pub jump_noise: f64,
    /// Consecutive periods above the line for the run rule.
    pub run_len: usize,
    /// The run rule's line: mean + this many SD.
    pub run_sd: f64,
    pub peer_mod_z: f64,
    /// Earlier periods a series needs before a method judges it.
    pub min_history: usize,
    /// Sibling regions needed for the peer comparison.
    pub min_peers: usize,
    /// A statistical flag also needs a deviation of at least this share of
    /// the baseline…
    pub min_rel: f64,
    /// …and at least this much in the element's unit.
    pub min_abs: f64,
    /// Two sources differing by more than this percent of the larger open a trace task.
    pub cross_source_pct: f64,
    /// A statistical flag is kept only when its evidence reaches this:
    /// −log₁₀ of the probability the series' model of normal (season,
    /// recent level, counts as counts) gives the value, plus the log₁₀
    /// odds its family gives that the figure alone is wrong…
    pub surprise: f64,
    /// …and a run's, judged as a whole, this.
    pub run_surprise: f64,
    /// A part's share of its whole (占比突变) is flagged when a month's
    /// share is this improbable (−log10 p) given the share before it.
    pub share_surprise: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            z: 3.0,
            mod_z: 3.5,
            jump_pct: 50.0,
            jump_min_abs: 5.0,
            jump_noise: 3.0,
            run_len: 3,
            run_sd: 1.0,
            peer_mod_z: 3.5,
            min_history: 6,
            min_peers: 5,
            min_rel: 0.25,
            min_abs: 3.0,
            cross_source_pct: 5.0,
            surprise: 5.0,
            run_surprise: 4.0,
            share_surprise: 6.0,
        }
    }
}

impl Params {
    /// The first setting out of its range: its key, and what is wrong.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let positive = [
            ("z", self.z),
            ("mod_z", self.mod_z),
            ("jump_pct", self.jump_pct),
            ("peer_mod_z", self.peer_mod_z),
            ("cross_source_pct", self.cross_source_pct),
            ("surprise", self.surprise),
            ("run_surprise", self.run_surprise),
            ("share_surprise", self.share_surprise),
        ];
        for (k, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err((k, format!("[anomaly] 的 {k} 应为正数，而不是 {v}")));
            }
        }
        for (k, v) in [
            ("jump_min_abs", self.jump_min_abs),
            ("jump_noise", self.jump_noise),
            ("run_sd", self.run_sd),
            ("min_rel", self.min_rel),
            ("min_abs", self.min_abs),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err((k, format!("[anomaly] 的 {k} 应为非负数，而不是 {v}")));
            }
        }
        for (k, v, least) in [
            ("run_len", self.run_len, 2),
            ("min_history", self.min_history, 2),
            ("min_peers", self.min_peers, 3),
        ] {
            if v < least {
                return Err((k, format!("[anomaly] 的 {k} 至少为 {least}，而不是 {v}")));
            }
        }
        Ok(())
    }
}
