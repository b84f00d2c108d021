//! The region tree (scoring.md §5, §6): province → city → county → township,
//! with validity dates so a merged county stays in history.

use crate::period::{Date, Period};
use rustc_hash::FxHashMap;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Province,
    City,
    County,
    Township,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "省",
            Level::City => "市",
            Level::County => "县（区）",
            Level::Township => "乡镇（街道）",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "province" | "省" => Ok(Level::Province),
            "city" | "市" => Ok(Level::City),
            "county" | "县" | "区" => Ok(Level::County),
            "township" | "乡" | "镇" | "街道" => Ok(Level::Township),
            other => Err(format!(
                "层级“{other}”无法识别：应为 province、city、county 或 township"
            )),
        }
    }
}

/// One row of `regions.csv` before the tree is linked.
#[derive(Clone, Debug)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: Level,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Clone, Debug)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub parent: Option<usize>,
    pub level: Level,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

impl Region {
    /// A region takes part in a period unless it ended before the period
    /// began or started after it ended (scoring.md §6).
    pub fn valid_in(&self, p: Period) -> bool {
        !(self.valid_to.is_some_and(|to| to < p.first_day())
            || self.valid_from.is_some_and(|from| from > p.last_day()))
    }
}

/// A tree error, with the 0-based index of the offending row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionError {
    pub row: usize,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct RegionTree {
    regions: Vec<Region>,
    children: Vec<Vec<usize>>,
    index: FxHashMap<String, usize>,
}

impl RegionTree {
    pub fn new(rows: Vec<RegionRow>) -> Result<RegionTree, RegionError> {
        let mut index = FxHashMap::default();
        for (i, row) in rows.iter().enumerate() {
            if row.code.is_empty() {
                return Err(RegionError {
                    row: i,
                    message: "地区代码为空".into(),
                });
            }
            if let Some(first) = index.insert(row.code.clone(), i) {
                return Err(RegionError {
                    row: i,
                    message: format!(
                        "地区代码 {} 重复（第一次出现在第 {} 条）",
                        row.code,
                        first + 1
                    ),
                });
            }
        }
        let mut regions = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let parent = match &row.parent {
                None => None,
                Some(p) => match index.get(p) {
                    Some(&j) if j == i => {
                        return Err(RegionError {
                            row: i,
                            message: format!("地区 {} 的上级是它自己", row.code),
                        });
                    }
                    Some(&j) => Some(j),
                    None => {
                        return Err(RegionError {
                            row: i,
                            message: format!("上级地区代码 {p} 不存在"),
                        });
                    }
                },
            };
            if let (Some(from), Some(to)) = (row.valid_from, row.valid_to)
                && from > to
            {
                return Err(RegionError {
                    row: i,
                    message: format!("有效期起始 {from} 晚于终止 {to}"),
                });
            }
            regions.push(Region {
                code: row.code,
                name: row.name,
                parent,
                level: row.level,
                valid_from: row.valid_from,
                valid_to: row.valid_to,
            });
        }
        // Every region must reach a root. Each walk up stops at a region
        // already known to reach one, so this is linear in the regions.
        let mut state = vec![0u8; regions.len()]; // 0 unseen, 1 on this walk, 2 reaches a root
        for start in 0..regions.len() {
            let mut path = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at {
                match state[i] {
                    2 => break,
                    1 => {
                        return Err(RegionError {
                            row: start,
                            message: format!("地区 {} 的上级关系构成循环", regions[start].code),
                        });
                    }
                    _ => {
                        state[i] = 1;
                        path.push(i);
                        at = regions[i].parent;
                    }
                }
            }
            for i in path {
                state[i] = 2;
            }
        }
        // A child sits below its parent (a city may hold townships directly,
        // as 东莞 does); this also bounds the tree's depth at four.
        for (i, r) in regions.iter().enumerate() {
            if let Some(p) = r.parent
                && regions[p].level >= r.level
            {
                return Err(RegionError {
                    row: i,
                    message: format!(
                        "地区 {}（{}）的层级应低于其上级 {}（{}）",
                        r.code,
                        r.level.label(),
                        regions[p].code,
                        regions[p].level.label()
                    ),
                });
            }
        }
        let mut children = vec![Vec::new(); regions.len()];
        for (i, r) in regions.iter().enumerate() {
            if let Some(p) = r.parent {
                children[p].push(i);
            }
        }
        Ok(RegionTree {
            regions,
            children,
            index,
        })
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    pub fn get(&self, i: usize) -> &Region {
        &self.regions[i]
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The first region without a parent (the province), if any.
    pub fn root(&self) -> Option<&Region> {
        self.root_index().map(|i| &self.regions[i])
    }

    /// Its index.
    pub fn root_index(&self) -> Option<usize> {
        self.regions.iter().position(|r| r.parent.is_none())
    }

    pub fn children(&self, i: usize) -> &[usize] {
        &self.children[i]
    }

    /// A region as people near it name it: its parent's name and its own
    /// (县 and 乡镇 together: 和滨区庆岭街道).
    pub fn place(&self, i: usize) -> String {
        let r = &self.regions[i];
        match r.parent {
            Some(p) => format!("{}{}", self.regions[p].name, r.name),
            None => r.name.clone(),
        }
    }

    pub fn find(&self, code: &str) -> Option<usize> {
        self.index.get(code).copied()
    }

    /// Is `node` in the subtree rooted at `root` (itself included)?
    pub fn is_within(&self, node: usize, root: usize) -> bool {
        let mut at = Some(node);
        while let Some(i) = at {
            if i == root {
                return true;
            }
            at = self.regions[i].parent;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::YearEnd;

    fn row(code: &str, parent: Option<&str>, level: Level) -> RegionRow {
        RegionRow {
            code: code.into(),
            name: code.into(),
            parent: parent.map(Into::into),
            level,
            valid_from: None,
            valid_to: None,
        }
    }

    #[test]
    fn links_children_in_file_order() {
        let t = RegionTree::new(vec![
            row("P", None, Level::Province),
            row("A", Some("P"), Level::City),
            row("B", Some("P"), Level::City),
        ])
        .unwrap();
        assert_eq!(t.children(0), &[1, 2]);
        assert!(t.is_within(2, 0));
        assert!(!t.is_within(1, 2));
    }

    #[test]
    fn rejects_unknown_parent_duplicates_and_cycles() {
        let e = RegionTree::new(vec![row("A", Some("X"), Level::City)]).unwrap_err();
        assert_eq!(e.row, 0);
        assert!(e.message.contains("X"));
        let e = RegionTree::new(vec![
            row("A", None, Level::City),
            row("A", None, Level::City),
        ])
        .unwrap_err();
        assert_eq!(e.row, 1);
        let e = RegionTree::new(vec![
            row("A", Some("B"), Level::City),
            row("B", Some("A"), Level::City),
        ])
        .unwrap_err();
        assert!(e.message.contains("循环"));
        let e = RegionTree::new(vec![
            row("K", None, Level::County),
            row("C", Some("K"), Level::City),
        ])
        .unwrap_err();
        assert_eq!(e.row, 1);
        assert!(e.message.contains("层级应低于"), "{}", e.message);
        // A city may hold townships directly.
        assert!(
            RegionTree::new(vec![
                row("C", None, Level::City),
                row("T", Some("C"), Level::Township)
            ])
            .is_ok()
        );
    }

    #[test]
    fn validity_is_inclusive() {
        let mut r = row("K", None, Level::County);
        r.valid_to = Some(Date::parse("2023", YearEnd::End).unwrap());
        let t = RegionTree::new(vec![r]).unwrap();
        let k = t.get(0);
        assert!(k.valid_in(Period::Year(2022)));
        assert!(k.valid_in(Period::Year(2023)));
        assert!(!k.valid_in(Period::Year(2024)));
        assert!(k.valid_in(Period::Month(2023, 12)));
    }
}
