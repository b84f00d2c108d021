//! Rectification under 销号管理 (seed §4.2, §5.4, §8.3; issue 21): each
//! problem of a region's 问题清单 becomes an item of its 整改清单 — the
//! region files a plan (responsible unit and person, measures, target,
//! deadline) within 30 days of the notice, reports progress, and asks for
//! 销号; the office approves after a re-inspection (复查: by document, on
//! site, or automatically when the target indicator reaches its target)
//! or refuses with a reason. Pure rules, like the review's.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Listed, waiting for the region's plan.
    Open,
    /// The plan is filed; being put right.
    Planned,
    /// 销号 asked for, waiting for the office's re-inspection.
    Requested,
    /// 已销号.
    Closed,
}

pub const ALL_STATES: [State; 4] = [State::Open, State::Planned, State::Requested, State::Closed];

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Planned => "planned",
            State::Requested => "requested",
            State::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Open => "待报整改方案",
            State::Planned => "整改中",
            State::Requested => "已申请销号，待复查",
            State::Closed => "已销号",
        }
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
            .ok_or_else(|| format!("未知的整改状态：{s}"))
    }
}

impl serde::Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// How a 销号 was checked (复查).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recheck {
    /// On the documents the region filed.
    Document,
    /// On site, by a field verification task.
    OnSite,
    /// The target indicator reached its target in a later period.
    Indicator,
}

impl Recheck {
    pub fn code(self) -> &'static str {
        match self {
            Recheck::Document => "document",
            Recheck::OnSite => "on_site",
            Recheck::Indicator => "indicator",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Recheck::Document => "书面复查",
            Recheck::OnSite => "实地复查",
            Recheck::Indicator => "指标达标自动销号",
        }
    }
}

impl FromStr for Recheck {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Recheck::Document, Recheck::OnSite, Recheck::Indicator]
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| format!("未知的复查方式：{s}（应为 document、on_site 或 indicator）"))
    }
}

/// Who acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The region's officials (their own region's items only).
    Region,
    /// The evaluation office.
    Office,
    /// The system itself (the automatic re-inspection).
    System,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The plan, or a revised one (region).
    Plan,
    /// A progress report with evidence (region).
    Progress,
    /// 申请销号 (region).
    Request,
    /// 同意销号 after the re-inspection (office, or the system by indicator).
    Approve,
    /// 驳回销号申请, with a reason (office).
    Refuse,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Plan => "plan",
            Action::Progress => "progress",
            Action::Request => "request",
            Action::Approve => "approve",
            Action::Refuse => "refuse",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Plan => "报送整改方案",
            Action::Progress => "报告整改进展",
            Action::Request => "申请销号",
            Action::Approve => "同意销号",
            Action::Refuse => "驳回销号申请",
        }
    }

    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Refuse)
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Action::Plan,
            Action::Progress,
            Action::Request,
            Action::Approve,
            Action::Refuse,
        ]
        .into_iter()
        .find(|a| a.code() == s)
        .ok_or_else(|| {
            format!("未知的整改操作：{s}（应为 plan、progress、request、approve 或 refuse）")
        })
    }
}

/// The state `action` by `actor` leads to from `from`, or why not.
pub fn next(from: State, action: Action, actor: Actor) -> Result<State, String> {
    use Action::*;
    use State::*;
    let allowed_actor = match action {
        Plan | Progress | Request => actor == Actor::Region,
        Approve => actor == Actor::Office || actor == Actor::System,
        Refuse => actor == Actor::Office,
    };
    if !allowed_actor {
        return Err(match action {
            Plan | Progress | Request => format!("“{}”由被测评地区办理", action.label()),
            Approve | Refuse => format!("“{}”由测评办在复查后办理", action.label()),
        });
    }
    match (from, action) {
        (Open | Planned, Plan) => Ok(Planned),
        (Planned, Progress) => Ok(Planned),
        (Planned, Request) => Ok(Requested),
        (Requested, Approve) => Ok(Closed),
        // The indicator reached its target: no request needed.
        (Planned, Approve) if actor == Actor::System => Ok(Closed),
        (Requested, Refuse) => Ok(Planned),
        (Open, _) => Err("请先报送整改方案".into()),
        (Closed, _) => Err("该问题已销号".into()),
        (Requested, Plan | Progress | Request) => Err("已申请销号，请等待测评办复查".into()),
        (Planned, Approve | Refuse) => Err("尚未申请销号".into()),
    }
}

/// Whether an item is late at `today` (YYYY-MM-DD): its plan not filed by
/// `plan_due`, or not closed by its `deadline`.
pub fn overdue(state: State, today: &str, plan_due: &str, deadline: &str) -> Option<&'static str> {
    match state {
        State::Closed => None,
        State::Open if today > plan_due => Some("整改方案逾期未报"),
        _ if today > deadline => Some("逾期未完成整改"),
        _ => None,
    }
}

/// An evidence file may not be larger than this.
pub const EVIDENCE_LIMIT: usize = 10 << 20;
/// Files per step at most.
pub const EVIDENCE_FILES: usize = 5;

/// The type of an evidence file by its content, never by its name: a
/// picture (JPEG, PNG, WebP), a PDF, or a Word or Excel file (OOXML).
pub fn evidence_type(bytes: &[u8]) -> Option<&'static str> {
    if let Some(t) = crate::field::image_type(bytes) {
        return Some(t);
    }
    if bytes.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        if has(b"word/document.xml") {
            return Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        }
        if has(b"xl/workbook.xml") {
            return Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        }
    }
    None
}

/// Whether a later value reaches the plan's target value, in the
/// indicator's better direction (the automatic 复查).
pub fn target_reached(value: f64, target: f64, polarity: crate::rules::Better) -> bool {
    match polarity {
        crate::rules::Better::Higher => value >= target,
        crate::rules::Better::Lower => value <= target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_judged_by_its_content() {
        assert_eq!(evidence_type(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(evidence_type(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        let mut docx = b"PK\x03\x04....[Content_Types].xml....".to_vec();
        docx.extend_from_slice(b"word/document.xml");
        assert!(evidence_type(&docx).unwrap().contains("wordprocessingml"));
        assert_eq!(evidence_type(b"PK\x03\x04 just a zip"), None);
        assert_eq!(evidence_type(b"MZ\x90\x00 an exe"), None);
        assert_eq!(evidence_type(b""), None);
        use crate::rules::Better;
        assert!(target_reached(86.0, 85.0, Better::Higher));
        assert!(!target_reached(84.9, 85.0, Better::Higher));
        assert!(target_reached(9.5, 10.0, Better::Lower));
        assert!(!target_reached(10.5, 10.0, Better::Lower));
    }

    #[test]
    fn the_region_plans_and_asks_the_office_closes_or_refuses() {
        use Action::*;
        let s = next(State::Open, Plan, Actor::Region).unwrap();
        assert_eq!(s, State::Planned);
        assert_eq!(next(s, Progress, Actor::Region), Ok(State::Planned));
        assert_eq!(
            next(s, Plan, Actor::Region),
            Ok(State::Planned),
            "a revised plan"
        );
        let s = next(s, Request, Actor::Region).unwrap();
        assert_eq!(s, State::Requested);
        assert_eq!(next(s, Refuse, Actor::Office), Ok(State::Planned));
        assert_eq!(next(s, Approve, Actor::Office), Ok(State::Closed));
        // Who may do what.
        assert!(
            next(State::Open, Plan, Actor::Office)
                .unwrap_err()
                .contains("被测评地区")
        );
        assert!(
            next(s, Approve, Actor::Region)
                .unwrap_err()
                .contains("测评办")
        );
        assert!(next(s, Refuse, Actor::System).is_err());
        // In the wrong state.
        assert_eq!(
            next(State::Open, Request, Actor::Region).unwrap_err(),
            "请先报送整改方案"
        );
        assert_eq!(
            next(State::Closed, Plan, Actor::Region).unwrap_err(),
            "该问题已销号"
        );
        assert!(next(State::Planned, Approve, Actor::Office).is_err());
        assert!(next(State::Requested, Progress, Actor::Region).is_err());
        // The indicator reached its target: closed without a request.
        assert_eq!(
            next(State::Planned, Approve, Actor::System),
            Ok(State::Closed)
        );
        assert!(next(State::Open, Approve, Actor::System).is_err());
    }

    #[test]
    fn late_plans_and_late_work() {
        let (due, deadline) = ("2025-01-05", "2025-03-05");
        assert_eq!(overdue(State::Open, "2025-01-05", due, deadline), None);
        assert_eq!(
            overdue(State::Open, "2025-01-06", due, deadline),
            Some("整改方案逾期未报")
        );
        assert_eq!(overdue(State::Planned, "2025-02-01", due, deadline), None);
        assert_eq!(
            overdue(State::Requested, "2025-03-06", due, deadline),
            Some("逾期未完成整改")
        );
        assert_eq!(overdue(State::Closed, "2026-01-01", due, deadline), None);
        for s in ALL_STATES {
            assert_eq!(s.code().parse::<State>(), Ok(s));
        }
        assert!("x".parse::<Action>().is_err() && "on_site".parse::<Recheck>().is_ok());
    }
}
