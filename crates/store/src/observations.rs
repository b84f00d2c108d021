//! The values the quality checks read: every stored value up to a year,
//! one per source and key, packed per region for speed.

use crate::Result;
use crate::db::{Store, on_pool};
use pingan_core::period::{Date, Period};
use pingan_core::quality::Observation;
use pingan_core::{Framework, RegionTree};

/// An RFC 3339 UTC timestamp's digits as a number that sorts like the text.
fn time_key(at: &str) -> u64 {
    at.bytes()
        .filter(u8::is_ascii_digit)
        .take(17)
        .fold(0u64, |k, d| k * 10 + u64::from(d - b'0'))
}

impl Store {
    /// Every stored value up to the end of `year`, latest submission first
    /// within each key (the value scoring reads), with its submission date.
    /// The rows come packed one text per region and are ordered here: a
    /// check reads millions of rows, and row-by-row decoding (sqlx's SQLite
    /// worker hands each row across threads) took most of its time.
    pub async fn observations(
        &self,
        fw: &Framework,
        tree: &RegionTree,
        year: i32,
    ) -> Result<Vec<Observation>> {
        // Fields split by U+001F, rows by U+001E; the source comes last so
        // that any text in it survives.
        let sql = match self.backend() {
            crate::Backend::Sqlite => {
                "SELECT region, group_concat(period || char(31) || element || char(31) || printf('%.17g', value) \
                 || char(31) || submitted_at || char(31) || source, char(30)) \
                 FROM data_values WHERE year <= $1 GROUP BY region"
            }
            crate::Backend::Postgres => {
                "SELECT region, string_agg(period || chr(31) || element || chr(31) || value::text \
                 || chr(31) || submitted_at || chr(31) || source, chr(30)) \
                 FROM data_values WHERE year <= $1 GROUP BY region"
            }
        };
        let packed: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(year).fetch_all(p).await)?;
        let mut out: Vec<(Observation, u64)> = Vec::new();
        let mut periods: rustc_hash::FxHashMap<&str, Period> = Default::default();
        for (region, rows) in &packed {
            let Some(r) = tree.find(region) else { continue };
            for row in rows.split('\u{1e}') {
                let mut f = row.splitn(5, '\u{1f}');
                let (Some(per_s), Some(el), Some(v), Some(at), Some(source)) =
                    (f.next(), f.next(), f.next(), f.next(), f.next())
                else {
                    continue;
                };
                let per = match periods.get(per_s) {
                    Some(p) => *p,
                    None => match per_s.parse::<Period>() {
                        Ok(p) => {
                            periods.insert(per_s, p);
                            p
                        }
                        Err(_) => continue,
                    },
                };
                let (Some(e), Ok(value)) = (fw.element_index(el), v.parse::<f64>()) else {
                    continue;
                };
                out.push((
                    Observation {
                        region: r,
                        period: per,
                        element: e,
                        value,
                        source: source.to_string(),
                        submitted: Date::of_timestamp(at),
                    },
                    time_key(at),
                ));
            }
        }
        out.sort_by(|(a, ta), (b, tb)| {
            (a.region, a.period, a.element)
                .cmp(&(b.region, b.period, b.element))
                .then(tb.cmp(ta))
                .then_with(|| a.source.cmp(&b.source))
        });
        // A source's pending value and its approved one are one report: the
        // checks see the latest.
        let mut seen: rustc_hash::FxHashSet<(usize, Period, usize, String)> = Default::default();
        Ok(out
            .into_iter()
            .map(|(o, _)| o)
            .filter(|o| seen.insert((o.region, o.period, o.element, o.source.clone())))
            .collect())
    }
}
