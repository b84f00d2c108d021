//! The three-level review of a data set (seed §3.3 三级审核, §6.1): a
//! department × region × period moves submitted → 一级 (数据采集组) →
//! 二级 (实地核查组) → 三级 (专家评审组) → approved and locked. Any level may
//! return it to the submitter with a reason; only the office unlocks an
//! approved set. Pure rules, shared by the store, the API and the pages.

use crate::access::{Cap, Grants};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Submitted, waiting for the first-level check.
    Submitted,
    /// Passed 一级 (collection group), waiting for 二级.
    Level1,
    /// Passed 二级 (verification group), waiting for 三级 expert confirmation.
    Level2,
    /// Passed 三级: counts in official scores, locked against edits.
    Approved,
    /// Sent back to the submitter with a reason.
    Returned,
    /// Approved once, then unlocked by the office for a correction.
    Unlocked,
}

pub const ALL_STATES: [State; 6] = [
    State::Submitted,
    State::Level1,
    State::Level2,
    State::Approved,
    State::Returned,
    State::Unlocked,
];

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Level1 => "level1",
            State::Level2 => "level2",
            State::Approved => "approved",
            State::Returned => "returned",
            State::Unlocked => "unlocked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Submitted => "已报送，待一级审核",
            State::Level1 => "一级审核通过，待二级审核",
            State::Level2 => "二级审核通过，待专家确认",
            State::Approved => "已审核锁定",
            State::Returned => "已退回，待重新报送",
            State::Unlocked => "已解锁，待重新报送",
        }
    }

    /// Still moving through the review (not approved, not with the submitter).
    pub fn in_review(self) -> bool {
        matches!(self, State::Submitted | State::Level1 | State::Level2)
    }

    /// The level that acts next on a set in this state.
    pub fn level(self) -> Option<Level> {
        match self {
            State::Submitted => Some(Level::First),
            State::Level1 => Some(Level::Second),
            State::Level2 => Some(Level::Third),
            _ => None,
        }
    }
}

impl serde::Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ALL_STATES
            .into_iter()
            .find(|x| x.code() == s)
            .ok_or_else(|| format!("未知的审核状态：{s}"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    First,
    Second,
    Third,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::First => "一级审核（数据采集组）",
            Level::Second => "二级审核（实地核查组）",
            Level::Third => "三级审核（专家评审组）",
        }
    }

    /// The capability that holds this level.
    pub fn cap(self) -> Cap {
        match self {
            Level::First => Cap::ReviewFirst,
            Level::Second => Cap::ReviewSecond,
            Level::Third => Cap::ReviewThird,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The level in charge passes the set to the next level (or approves it).
    Pass,
    /// The level in charge sends the set back with a reason.
    Return,
    /// The submitter sends a returned or unlocked set in again unchanged.
    Resubmit,
    /// The office reopens an approved set, with a reason.
    Unlock,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Pass => "pass",
            Action::Return => "return",
            Action::Resubmit => "resubmit",
            Action::Unlock => "unlock",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Pass => "审核通过",
            Action::Return => "退回",
            Action::Resubmit => "重新报送",
            Action::Unlock => "解锁",
        }
    }

    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Return | Action::Unlock)
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Action::Pass,
            Action::Return,
            Action::Resubmit,
            Action::Unlock,
        ]
        .into_iter()
        .find(|a| a.code() == s)
        .ok_or_else(|| format!("未知的审核操作：{s}（应为 pass、return、resubmit 或 unlock）"))
    }
}

/// A data set: one department's elements for one region and period.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SetKey {
    pub department: String,
    pub region: String,
    pub period: String,
}

impl SetKey {
    /// The set a value belongs to: its element's department, region, period.
    pub fn of(fw: &crate::Framework, region: &str, period: &str, element: &str) -> SetKey {
        SetKey {
            department: fw
                .element_index(element)
                .map(|e| fw.elements[e].department.clone())
                .unwrap_or_default(),
            region: region.to_string(),
            period: period.to_string(),
        }
    }

    /// `公安 / 某某镇(330102001) / 2024-06`, for messages.
    pub fn describe(&self, tree: &crate::RegionTree) -> String {
        let name = tree
            .find(&self.region)
            .map(|i| tree.get(i).name.as_str())
            .unwrap_or("");
        format!(
            "{} / {}({}) / {}",
            if self.department.is_empty() {
                "（无部门）"
            } else {
                &self.department
            },
            name,
            self.region,
            self.period
        )
    }
}

crate::labels::labelled! {
    /// A step in a set's history.
    pub enum EventKind {
        Submit = ("submit", "报送"),
        Pass = ("pass", "审核通过"),
        Return = ("return", "退回"),
        Resubmit = ("resubmit", "重新报送"),
        Unlock = ("unlock", "解锁"),
        /// A quality correction inside a set under review restarts it.
        Correct = ("correct", "核查更正（重新审核）"),
    }
}

/// Values may enter `sets` (in `states`) only if none is approved and
/// locked, and, for the office's direct import, none is moving through the
/// review (it would count before the levels saw it). The refusal names up
/// to five sets.
pub fn refuse_locked(
    sets: &[SetKey],
    states: &std::collections::HashMap<SetKey, State, impl std::hash::BuildHasher>,
    tree: &crate::RegionTree,
    direct: bool,
) -> Result<(), String> {
    let name = |v: &[&SetKey]| {
        let named: Vec<String> = v.iter().take(5).map(|k| k.describe(tree)).collect();
        format!(
            "{}{}",
            named.join("；"),
            if v.len() > 5 {
                format!(" 等 {} 个数据集", v.len())
            } else {
                String::new()
            }
        )
    };
    let locked: Vec<&SetKey> = sets
        .iter()
        .filter(|k| states.get(*k) == Some(&State::Approved))
        .collect();
    if !locked.is_empty() {
        return Err(format!(
            "数据已审核锁定，未写入任何数据：{}。如需修改，请测评办管理员先解锁（注明原因）",
            name(&locked)
        ));
    }
    if direct {
        let moving: Vec<&SetKey> = sets
            .iter()
            .filter(|k| states.get(*k).is_some_and(|s| s.in_review()))
            .collect();
        if !moving.is_empty() {
            return Err(format!(
                "数据集正在三级审核中，不能直接导入，未写入任何数据：{}。请改为提交审核（--review 或勾选“提交三级审核”），或待审核结束",
                name(&moving)
            ));
        }
    }
    Ok(())
}

/// Why a transition is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// The set is not in a state this action applies to (409).
    #[error("{0}")]
    State(String),
    /// The caller's roles do not hold the level in charge (403).
    #[error("{0}")]
    Role(String),
    /// A reason is required (422).
    #[error("{0}")]
    Reason(String),
}

/// Who is acting: their capabilities, whether they submitted the set's department
/// data, and which levels of this set they already passed (双人/分级: one
/// person never passes two levels of the same set).
pub struct Actor<'a> {
    pub grants: Grants,
    pub is_submitter_side: bool,
    pub passed_levels: &'a [Level],
    /// This person sent the set's data in: they may not pass it.
    pub submitted_it: bool,
}

/// The state after `action`, or why not.
pub fn transition(
    state: State,
    action: Action,
    actor: &Actor<'_>,
    reason: &str,
) -> Result<State, ReviewError> {
    if action.needs_reason() && reason.trim().is_empty() {
        return Err(ReviewError::Reason(format!(
            "{}需要填写原因",
            action.label()
        )));
    }
    let has = |c: Cap| actor.grants.has(c);
    match action {
        Action::Pass | Action::Return => {
            let Some(level) = state.level() else {
                return Err(ReviewError::State(format!(
                    "该数据集{}，不能{}",
                    state.label(),
                    action.label()
                )));
            };
            if !has(level.cap()) {
                return Err(ReviewError::Role(format!(
                    "该数据集待{}，当前角色无权{}",
                    level.label(),
                    action.label()
                )));
            }
            if action == Action::Return {
                return Ok(State::Returned);
            }
            if actor.submitted_it {
                return Err(ReviewError::Role("报送人不能审核自己报送的数据".into()));
            }
            if actor.passed_levels.iter().any(|l| *l != level) {
                return Err(ReviewError::Role(format!(
                    "您已审核过该数据集的其他级别，{}须由另一人完成",
                    level.label()
                )));
            }
            Ok(match level {
                Level::First => State::Level1,
                Level::Second => State::Level2,
                Level::Third => State::Approved,
            })
        }
        Action::Resubmit => {
            if !matches!(state, State::Returned | State::Unlocked) {
                return Err(ReviewError::State(format!(
                    "该数据集{}，无需重新报送",
                    state.label()
                )));
            }
            if !(actor.is_submitter_side || has(Cap::ResubmitAny)) {
                return Err(ReviewError::Role("只有报送部门或测评办可以重新报送".into()));
            }
            Ok(State::Submitted)
        }
        Action::Unlock => {
            if state != State::Approved {
                return Err(ReviewError::State(format!(
                    "该数据集{}，未锁定，无需解锁",
                    state.label()
                )));
            }
            if !has(Cap::Unlock) {
                return Err(ReviewError::Role("只有测评办管理员可以解锁".into()));
            }
            Ok(State::Unlocked)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn who(roles: &[Role]) -> Actor<'static> {
        Actor {
            grants: Grants::of(roles, None),
            is_submitter_side: false,
            passed_levels: &[],
            submitted_it: false,
        }
    }

    #[test]
    fn three_levels_in_order() {
        let mut s = State::Submitted;
        for (role, next) in [
            (Role::Collector, State::Level1),
            (Role::Verifier, State::Level2),
            (Role::Expert, State::Approved),
        ] {
            s = transition(s, Action::Pass, &who(&[role]), "").unwrap();
            assert_eq!(s, next);
        }
        assert!(matches!(
            transition(s, Action::Pass, &who(&[Role::Expert]), ""),
            Err(ReviewError::State(_))
        ));
    }

    #[test]
    fn a_level_cannot_be_skipped() {
        let e = transition(State::Submitted, Action::Pass, &who(&[Role::Expert]), "");
        assert!(matches!(e, Err(ReviewError::Role(m)) if m.contains("一级")));
        // The office holds none of the three levels.
        assert!(transition(State::Level1, Action::Pass, &who(&[Role::OfficeAdmin]), "").is_err());
    }

    #[test]
    fn one_person_passes_one_level() {
        let roles = [Role::Collector, Role::Verifier];
        let a = Actor {
            grants: Grants::of(&roles, None),
            is_submitter_side: false,
            passed_levels: &[Level::First],
            submitted_it: false,
        };
        assert!(matches!(
            transition(State::Level1, Action::Pass, &a, ""),
            Err(ReviewError::Role(_))
        ));
        let own = Actor {
            grants: Grants::of(&roles, None),
            is_submitter_side: false,
            passed_levels: &[],
            submitted_it: true,
        };
        assert!(matches!(
            transition(State::Submitted, Action::Pass, &own, ""),
            Err(ReviewError::Role(m)) if m.contains("报送人")
        ));
    }

    #[test]
    fn return_needs_a_reason_and_the_level_in_charge() {
        assert!(matches!(
            transition(State::Level1, Action::Return, &who(&[Role::Verifier]), " "),
            Err(ReviewError::Reason(_))
        ));
        assert_eq!(
            transition(
                State::Level1,
                Action::Return,
                &who(&[Role::Verifier]),
                "口径不一"
            ),
            Ok(State::Returned)
        );
        assert!(transition(State::Level1, Action::Return, &who(&[Role::Collector]), "x").is_err());
    }

    #[test]
    fn only_the_office_unlocks_and_the_submitter_resubmits() {
        assert!(
            transition(
                State::Approved,
                Action::Unlock,
                &who(&[Role::Expert]),
                "更正"
            )
            .is_err()
        );
        let s = transition(
            State::Approved,
            Action::Unlock,
            &who(&[Role::OfficeAdmin]),
            "更正口径",
        )
        .unwrap();
        assert_eq!(s, State::Unlocked);
        let dept = Actor {
            grants: Grants::of(&[Role::Department], Some("公安")),
            is_submitter_side: true,
            passed_levels: &[],
            submitted_it: true,
        };
        assert_eq!(
            transition(s, Action::Resubmit, &dept, ""),
            Ok(State::Submitted)
        );
        assert!(transition(State::Submitted, Action::Resubmit, &dept, "").is_err());
    }

    #[test]
    fn codes_round_trip() {
        for s in ALL_STATES {
            assert_eq!(s.code().parse::<State>(), Ok(s));
        }
        assert!("x".parse::<Action>().is_err());
    }
}
