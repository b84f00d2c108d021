//! Flags and summaries by codes: what `pingan check --format json` prints
//! and the follow-up queue stores.

use super::{Flag, FlagKind, Summary};
use crate::framework::Framework;
use crate::period::Period;
use crate::region::RegionTree;
use serde::{Deserialize, Serialize};

/// Numbers behind a flag, serialised as a JSON object in their order.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(from = "std::collections::BTreeMap<String, f64>")]
pub struct Numbers(pub Vec<(String, f64)>);

impl From<std::collections::BTreeMap<String, f64>> for Numbers {
    fn from(m: std::collections::BTreeMap<String, f64>) -> Self {
        Numbers(m.into_iter().collect())
    }
}

/// The number called `name` among a flag's numbers.
pub fn number(numbers: &[(String, f64)], name: &str) -> Option<f64> {
    numbers.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

impl Numbers {
    pub fn get(&self, name: &str) -> Option<f64> {
        number(&self.0, name)
    }
}

impl Serialize for Numbers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A flag by codes, as `pingan check --format json` prints it and the
/// follow-up queue stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlagView {
    pub region: String,
    pub region_name: String,
    pub element: String,
    pub element_name: String,
    pub period: Period,
    pub kind: FlagKind,
    pub score: f64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    pub numbers: Numbers,
}

impl Flag {
    pub fn view(&self, fw: &Framework, tree: &RegionTree) -> FlagView {
        let r = tree.get(self.region);
        let e = &fw.elements[self.element];
        FlagView {
            region: r.code.clone(),
            region_name: r.name.clone(),
            element: e.code.clone(),
            element_name: e.name.clone(),
            period: self.period,
            kind: self.kind,
            score: self.score,
            message: self.message.clone(),
            rule: self.rule.clone(),
            sources: self.sources.clone(),
            numbers: Numbers(self.numbers.clone()),
        }
    }
}

impl Summary {
    /// `{"values":…,"series":…,"flags":{kind:n},"skipped_short":{kind:n},"explained":n}`.
    pub fn view(&self) -> SummaryView {
        let map = |v: &[(FlagKind, usize)]| {
            v.iter()
                .map(|(k, n)| (k.code().to_string(), *n))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        SummaryView {
            values: self.values,
            series: self.series,
            flags: map(&self.flags),
            skipped_short: map(&self.skipped_short),
            explained: self.explained,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryView {
    pub values: usize,
    pub series: usize,
    pub flags: std::collections::BTreeMap<String, usize>,
    pub skipped_short: std::collections::BTreeMap<String, usize>,
    /// Statistical flags left out because the figures of their family agree.
    pub explained: usize,
}
