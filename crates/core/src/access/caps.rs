//! What each role may do: the role → capability table. This is the one
//! place roles are read; the service asks for a capability (`Cap`), and the
//! pages ask the same question to decide what to show.

use super::Role;

/// A thing a caller may do. Each is granted by the roles in `TABLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cap {
    /// Regions and the framework: everyone signed in.
    Structure,
    Scores,
    /// Reported values (a department only its own elements).
    Values,
    /// Submitting values (a department only its own elements).
    Submit,
    /// The office's own imports count at once, without the review.
    DirectImport,
    /// The 报送进度 board.
    Progress,
    /// Reading the quality follow-up queue.
    Quality,
    /// Running checks and resolving flags (数据采集组 anomaly follow-up,
    /// 实地核查组, the office).
    Check,
    /// The 数据审核 page in the navigation.
    ReviewBoard,
    /// Acting in the three-level review at all (a level, resubmit, unlock).
    Review,
    ReviewFirst,
    ReviewSecond,
    ReviewThird,
    /// Resubmitting any department's returned set (a department resubmits
    /// its own sets as their submitter).
    ResubmitAny,
    Unlock,
    /// Reading field verification tasks, records and photos. Not the
    /// evaluated regions' officials nor the departments: a task seen before
    /// the visit would tell them where and what will be checked.
    FieldRead,
    /// Creating and closing field verification tasks.
    Field,
    /// Recording visits, photos and confirmations: the verifiers' own work.
    FieldRecord,
    /// Reading the mediation register (回访抽查).
    Cases,
    /// Importing the register.
    CaseImport,
    /// Reading callback draws and their evidence. Not the departments: a
    /// draw seen before the calls could be used to prepare the parties.
    Callbacks,
    /// Drawing cases and recording callbacks.
    Callback,
    /// The 群众调查 page and the estimates (region officials their subtree).
    Surveys,
    /// Questionnaires, frames, margins, plans and applying the estimates.
    SurveyManage,
    /// Handing in answers: the office, and the survey firm's account or
    /// token.
    SurveyAnswers,
    /// Sending event records (grid events, call-outs): the office, and the
    /// accounts and tokens of the departments whose platforms record them.
    Events,
    /// The audit ledger.
    Ledger,
    /// The 用户管理 page.
    Users,
    /// Creating accounts and resetting passwords (the system admin).
    Accounts,
    /// Setting roles and scopes, locking accounts (the security admin).
    RoleGrant,
    /// Issuing 问题整改通知书 (numbered in the year's sequence) and the
    /// batch of every region's documents: the office.
    Notices,
    /// The 整改清单: the region's officials file plans, progress and 销号
    /// requests for their own region; the office closes or refuses.
    Rectify,
    /// Publishing a year's results and opening the 公示 window: the office.
    Publish,
}

pub const ALL_CAPS: [Cap; 33] = [
    Cap::Structure,
    Cap::Scores,
    Cap::Values,
    Cap::Submit,
    Cap::DirectImport,
    Cap::Progress,
    Cap::Quality,
    Cap::Check,
    Cap::ReviewBoard,
    Cap::Review,
    Cap::ReviewFirst,
    Cap::ReviewSecond,
    Cap::ReviewThird,
    Cap::ResubmitAny,
    Cap::Unlock,
    Cap::FieldRead,
    Cap::Field,
    Cap::FieldRecord,
    Cap::Cases,
    Cap::CaseImport,
    Cap::Callbacks,
    Cap::Callback,
    Cap::Surveys,
    Cap::SurveyManage,
    Cap::SurveyAnswers,
    Cap::Events,
    Cap::Ledger,
    Cap::Users,
    Cap::Accounts,
    Cap::RoleGrant,
    Cap::Notices,
    Cap::Rectify,
    Cap::Publish,
];

/// Who holds a capability: a role, a department account of a department
/// that keeps the mediation register, or the survey firm's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    Role(Role),
    CaseKeeper,
    SurveyFirm,
    EventSource,
}

/// The departments whose platforms record events (events.md): 政法委 the
/// grid platform, 应急 fire call-outs, 卫健 medical ones.
pub const EVENT_DEPARTMENTS: [&str; 3] = ["政法委", "应急", "卫健"];

/// The departments that keep mediation registers.
pub const CASE_DEPARTMENTS: [&str; 2] = ["政法委", "司法"];

/// The "department" of the survey firm's accounts and tokens: it hands in
/// answers; owning no element, it submits and reads no values.
pub const SURVEY_FIRM: &str = "调查机构";

use Holder::{CaseKeeper, EventSource, Role as R, SurveyFirm};
use Role::*;

const ALL: &[Holder] = &[
    R(OfficeAdmin),
    R(Department),
    R(Collector),
    R(Verifier),
    R(Expert),
    R(RegionOfficial),
    R(Supervisor),
    R(SystemAdmin),
    R(SecurityAdmin),
    R(AuditAdmin),
];

/// The table (api.md's role table, extended as capabilities arrived).
const TABLE: &[(Cap, &[Holder])] = &[
    (Cap::Structure, ALL),
    (
        Cap::Scores,
        &[
            R(OfficeAdmin),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(RegionOfficial),
            R(Supervisor),
        ],
    ),
    (
        Cap::Values,
        &[
            R(OfficeAdmin),
            R(Department),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(RegionOfficial),
            R(Supervisor),
        ],
    ),
    (Cap::Submit, &[R(OfficeAdmin), R(Department)]),
    (Cap::DirectImport, &[R(OfficeAdmin)]),
    (
        Cap::Progress,
        &[
            R(OfficeAdmin),
            R(Department),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(RegionOfficial),
            R(Supervisor),
        ],
    ),
    (
        Cap::Quality,
        &[
            R(OfficeAdmin),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(RegionOfficial),
            R(Supervisor),
        ],
    ),
    (Cap::Check, &[R(OfficeAdmin), R(Collector), R(Verifier)]),
    (
        Cap::ReviewBoard,
        &[
            R(OfficeAdmin),
            R(Department),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(Supervisor),
        ],
    ),
    (
        Cap::Review,
        &[
            R(OfficeAdmin),
            R(Department),
            R(Collector),
            R(Verifier),
            R(Expert),
        ],
    ),
    (Cap::ReviewFirst, &[R(Collector)]),
    (Cap::ReviewSecond, &[R(Verifier)]),
    (Cap::ReviewThird, &[R(Expert)]),
    (Cap::ResubmitAny, &[R(OfficeAdmin)]),
    (Cap::Unlock, &[R(OfficeAdmin)]),
    (
        Cap::FieldRead,
        &[
            R(OfficeAdmin),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(Supervisor),
        ],
    ),
    (Cap::Field, &[R(OfficeAdmin), R(Verifier)]),
    (Cap::FieldRecord, &[R(Verifier)]),
    (
        Cap::Cases,
        &[
            R(OfficeAdmin),
            CaseKeeper,
            R(Collector),
            R(Verifier),
            R(Expert),
            R(RegionOfficial),
            R(Supervisor),
        ],
    ),
    (Cap::CaseImport, &[R(OfficeAdmin), CaseKeeper]),
    (
        Cap::Callbacks,
        &[
            R(OfficeAdmin),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(RegionOfficial),
            R(Supervisor),
        ],
    ),
    (Cap::Callback, &[R(OfficeAdmin), R(Verifier)]),
    (Cap::Notices, &[R(OfficeAdmin)]),
    (Cap::Rectify, &[R(OfficeAdmin), R(RegionOfficial)]),
    (Cap::Publish, &[R(OfficeAdmin)]),
    (
        Cap::Surveys,
        &[
            R(OfficeAdmin),
            R(Collector),
            R(Verifier),
            R(Expert),
            R(RegionOfficial),
            R(Supervisor),
        ],
    ),
    (Cap::SurveyManage, &[R(OfficeAdmin)]),
    (Cap::SurveyAnswers, &[R(OfficeAdmin), SurveyFirm]),
    (Cap::Events, &[R(OfficeAdmin), EventSource]),
    (Cap::Ledger, &[R(Supervisor), R(AuditAdmin)]),
    (Cap::Users, &[R(SystemAdmin), R(SecurityAdmin)]),
    (Cap::Accounts, &[R(SystemAdmin)]),
    (Cap::RoleGrant, &[R(SecurityAdmin)]),
];

impl Cap {
    pub fn code(self) -> &'static str {
        match self {
            Cap::Structure => "structure",
            Cap::Scores => "scores",
            Cap::Values => "values",
            Cap::Submit => "submit",
            Cap::DirectImport => "direct_import",
            Cap::Progress => "progress",
            Cap::Quality => "quality",
            Cap::Check => "check",
            Cap::ReviewBoard => "review_board",
            Cap::Review => "review",
            Cap::ReviewFirst => "review_first",
            Cap::ReviewSecond => "review_second",
            Cap::ReviewThird => "review_third",
            Cap::ResubmitAny => "resubmit_any",
            Cap::Unlock => "unlock",
            Cap::FieldRead => "field_read",
            Cap::Field => "field",
            Cap::FieldRecord => "field_record",
            Cap::Cases => "cases",
            Cap::CaseImport => "case_import",
            Cap::Callbacks => "callbacks",
            Cap::Callback => "callback",
            Cap::Surveys => "surveys",
            Cap::SurveyManage => "survey_manage",
            Cap::SurveyAnswers => "survey_answers",
            Cap::Events => "events",
            Cap::Ledger => "ledger",
            Cap::Users => "users",
            Cap::Accounts => "accounts",
            Cap::RoleGrant => "role_grant",
            Cap::Notices => "notices",
            Cap::Rectify => "rectify",
            Cap::Publish => "publish",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Cap::Structure => "查看地区与指标体系",
            Cap::Scores => "查看测评结果",
            Cap::Values => "查看报送数据",
            Cap::Submit => "报送数据",
            Cap::DirectImport => "直接导入（免三级审核）",
            Cap::Progress => "查看报送进度",
            Cap::Quality => "查看数据质量问题",
            Cap::Check => "运行质量检查、处理问题",
            Cap::ReviewBoard => "查看数据审核",
            Cap::Review => "参与三级审核",
            Cap::ReviewFirst => "一级审核",
            Cap::ReviewSecond => "二级审核",
            Cap::ReviewThird => "三级审核",
            Cap::ResubmitAny => "代部门重新报送",
            Cap::Unlock => "解锁已审核数据",
            Cap::FieldRead => "查看实地核查",
            Cap::Field => "创建、关闭核查任务",
            Cap::FieldRecord => "填写核查记录、照片、确认",
            Cap::Cases => "查看调解案件台账",
            Cap::CaseImport => "导入调解案件台账",
            Cap::Callbacks => "查看回访抽查",
            Cap::Callback => "抽取回访、登记结果",
            Cap::Surveys => "查看群众调查",
            Cap::SurveyManage => "管理调查问卷、抽样框与估计",
            Cap::SurveyAnswers => "提交调查答卷",
            Cap::Events => "报送事件记录",
            Cap::Ledger => "查看操作日志",
            Cap::Users => "用户管理",
            Cap::Accounts => "新建用户、重置密码",
            Cap::RoleGrant => "授予角色、锁定账户",
            Cap::Notices => "印发整改通知书、批量生成报告",
            Cap::Rectify => "办理整改清单",
            Cap::Publish => "公开测评结果",
        }
    }

    /// Why a caller without this capability is refused, in Chinese.
    pub fn refusal(self) -> &'static str {
        match self {
            Cap::Structure => "当前角色无权查看指标体系",
            Cap::Scores => "当前角色无权查看测评结果",
            Cap::Values => "当前角色无权查看报送数据",
            Cap::Submit | Cap::DirectImport => "只有部门报送员和测评办管理员可以报送数据",
            Cap::Progress => "当前角色无权查看报送进度",
            Cap::Quality => "当前角色无权查看数据质量问题",
            Cap::Check => "当前角色无权运行质量检查或处理问题",
            Cap::ReviewBoard => "当前角色无权查看数据审核",
            Cap::Review
            | Cap::ReviewFirst
            | Cap::ReviewSecond
            | Cap::ReviewThird
            | Cap::ResubmitAny => "当前角色无权审核数据",
            Cap::Unlock => "只有测评办管理员可以解锁",
            Cap::FieldRead => "当前角色无权查看实地核查",
            Cap::Field => "当前角色无权创建或关闭核查任务",
            Cap::FieldRecord => "实地核查记录、照片和确认只能由实地核查组完成",
            Cap::Cases => "当前角色无权查看调解案件台账",
            Cap::CaseImport => "当前角色无权导入调解案件台账",
            Cap::Callbacks => "当前角色无权查看回访抽查",
            Cap::Callback => "当前角色无权抽取或登记回访",
            Cap::Surveys => "当前角色无权查看群众调查",
            Cap::SurveyManage => "只有测评办管理员可以管理调查问卷、抽样框和估计",
            Cap::SurveyAnswers => "只有测评办管理员和调查机构可以提交调查答卷",
            Cap::Events => "只有测评办管理员和记录事件的部门（政法委、应急、卫健）可以报送事件记录",
            Cap::Ledger => "只有监督小组和审计管理员可以查看操作日志",
            Cap::Users => "只有系统管理员和安全管理员可以管理用户",
            Cap::Accounts | Cap::RoleGrant => "三员分立：当前角色不能执行此操作",
            Cap::Notices => "只有测评办管理员可以印发整改通知书和批量生成报告",
            Cap::Rectify => "只有测评办和被测评地区可以办理整改清单",
            Cap::Publish => "只有测评办管理员可以公开测评结果",
        }
    }

    /// The holders of this capability, as the table lists them.
    pub fn holders(self) -> &'static [Holder] {
        TABLE
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, h)| *h)
            .unwrap_or(&[])
    }
}

/// The capabilities one account holds, from its roles and department.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
// A bit per capability; u64 leaves room for the capabilities to come.
pub struct Grants(u64);

impl Grants {
    pub const NONE: Grants = Grants(0);
    /// Every capability: the operator at the server's command line.
    pub const ALL: Grants = Grants(u64::MAX);

    pub fn of(roles: &[Role], department: Option<&str>) -> Grants {
        let keeps_cases = roles.contains(&Department)
            && department.is_some_and(|d| CASE_DEPARTMENTS.contains(&d));
        let firm = roles.contains(&Department) && department == Some(SURVEY_FIRM);
        let events = roles.contains(&Department)
            && department.is_some_and(|d| EVENT_DEPARTMENTS.contains(&d));
        let mut bits = 0u64;
        for (cap, holders) in TABLE {
            let held = holders.iter().any(|h| match h {
                R(r) => roles.contains(r),
                CaseKeeper => keeps_cases,
                SurveyFirm => firm,
                EventSource => events,
            });
            if held {
                bits |= 1 << (*cap as u64);
            }
        }
        Grants(bits)
    }

    /// Exactly one capability (an anonymous respondent's).
    pub fn only(cap: Cap) -> Grants {
        Grants(1 << (cap as u64))
    }

    pub fn has(self, cap: Cap) -> bool {
        self.0 & (1 << (cap as u64)) != 0
    }
}

/// The elements a caller may read and submit: a department-only account
/// (or token) its own department's; every other role all of them (None).
pub fn department_scope<'a>(roles: &[Role], department: Option<&'a str>) -> Option<&'a str> {
    if !roles.is_empty() && roles.iter().all(|r| *r == Department) {
        Some(department.unwrap_or(""))
    } else {
        None
    }
}

/// The department a caller submits for, which makes it the submitter side
/// of that department's sets in the review: a department account's own.
pub fn submitter_department<'a>(roles: &[Role], department: Option<&'a str>) -> Option<&'a str> {
    roles.contains(&Department).then_some(department).flatten()
}

/// The table as a Markdown matrix, capabilities by roles (docs/access.md
/// holds a copy that a test keeps equal).
pub fn matrix_markdown() -> String {
    let mut out = String::from("| 能力 | 代码 |");
    for r in super::ALL_ROLES {
        out.push_str(&format!(" {} |", r.label()));
    }
    out.push_str("\n|---|---|");
    for _ in super::ALL_ROLES {
        out.push_str(":-:|");
    }
    out.push('\n');
    for cap in ALL_CAPS {
        out.push_str(&format!("| {} | `{}` |", cap.label(), cap.code()));
        for r in super::ALL_ROLES {
            let h = cap.holders();
            let cell = if h.contains(&R(r)) {
                "✓"
            } else if r == Department && h.contains(&CaseKeeper) {
                "✓¹"
            } else if r == Department && h.contains(&SurveyFirm) {
                "✓²"
            } else if r == Department && h.contains(&EventSource) {
                "✓³"
            } else {
                ""
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n¹ 仅限保管调解案件台账的部门（{}）。\n² 仅限部门为“{SURVEY_FIRM}”的账户和令牌（受委托的调查机构）。\n³ 仅限记录事件的部门（{}）。\n",
        CASE_DEPARTMENTS.join("、"),
        EVENT_DEPARTMENTS.join("、")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_is_in_the_table_once() {
        for cap in ALL_CAPS {
            assert_eq!(
                TABLE.iter().filter(|(c, _)| *c == cap).count(),
                1,
                "{cap:?}"
            );
        }
        assert_eq!(TABLE.len(), ALL_CAPS.len());
        assert!((ALL_CAPS.len() as u64) < 64);
    }

    #[test]
    fn grants_follow_the_table() {
        let office = Grants::of(&[OfficeAdmin], None);
        assert!(office.has(Cap::Scores) && office.has(Cap::DirectImport));
        assert!(!office.has(Cap::Ledger) && !office.has(Cap::ReviewFirst));
        let audit = Grants::of(&[AuditAdmin], None);
        assert!(audit.has(Cap::Ledger) && audit.has(Cap::Structure) && !audit.has(Cap::Scores));
        assert_eq!(Grants::of(&[], None), Grants::NONE);
    }

    #[test]
    fn only_case_keeping_departments_hold_the_register() {
        let police = Grants::of(&[Department], Some("公安"));
        let justice = Grants::of(&[Department], Some("司法"));
        assert!(!police.has(Cap::Cases) && !police.has(Cap::CaseImport));
        assert!(justice.has(Cap::Cases) && justice.has(Cap::CaseImport));
        assert!(
            !justice.has(Cap::Callbacks),
            "a department never sees draws"
        );
        let firm = Grants::of(&[Department], Some(SURVEY_FIRM));
        assert!(firm.has(Cap::SurveyAnswers) && !firm.has(Cap::Surveys));
        assert!(!police.has(Cap::SurveyAnswers));
        // The department alone makes no case keeper.
        assert!(!Grants::of(&[Expert], Some("司法")).has(Cap::CaseImport));
    }

    /// The review is entered by exactly those who hold one of its steps.
    #[test]
    fn review_is_the_union_of_its_steps() {
        for r in super::super::ALL_ROLES {
            let g = Grants::of(&[r], Some("公安"));
            let steps = [
                Cap::ReviewFirst,
                Cap::ReviewSecond,
                Cap::ReviewThird,
                Cap::ResubmitAny,
                Cap::Unlock,
            ]
            .iter()
            .any(|c| g.has(*c))
                || submitter_department(&[r], Some("公安")).is_some();
            assert_eq!(g.has(Cap::Review), steps, "{r:?}");
        }
    }

    #[test]
    fn department_scope_applies_to_department_only_accounts() {
        assert_eq!(department_scope(&[Department], Some("公安")), Some("公安"));
        assert_eq!(department_scope(&[Department, Expert], Some("公安")), None);
        assert_eq!(department_scope(&[OfficeAdmin], None), None);
        assert_eq!(
            submitter_department(&[Department, Expert], Some("公安")),
            Some("公安")
        );
        assert_eq!(submitter_department(&[Expert], Some("公安")), None);
    }
}
