//! The states, origins and actions the platform records, each with the
//! code stored and sent in JSON and the Chinese label shown to people, in
//! one place.

/// An enum whose variants each have a stored code and a Chinese label;
/// `code()` is also its JSON form and what `FromStr` accepts.
macro_rules! labelled {
    ($(#[$m:meta])* pub enum $name:ident {
        $($(#[$vm:meta])* $v:ident = ($code:literal, $label:literal)),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$v => $label),+ }
            }

            /// The codes, for a message listing what is accepted.
            pub fn codes() -> String {
                Self::ALL.iter().map(|x| x.code()).collect::<Vec<_>>().join("、")
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|x| x.code() == s)
                    .ok_or_else(|| format!("“{s}”无效：应为 {}", Self::codes()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use labelled;

labelled! {
    /// Whether a stored value counts in official scores.
    pub enum ValueState {
        /// Counts: approved by the review or imported by the office.
        Approved = ("approved", "已计入"),
        /// Waits for the three-level review.
        Pending = ("pending", "待审核"),
    }
}

labelled! {
    /// Where a quality flag stands in the follow-up queue.
    pub enum FlagStatus {
        Open = ("open", "待核查"),
        /// A confirmed error, corrected.
        Corrected = ("corrected", "已更正"),
        /// Not an error, explained.
        Explained = ("explained", "已说明"),
    }
}

labelled! {
    /// Where a field verification task stands.
    pub enum TaskStatus {
        Open = ("open", "待核查"),
        /// A team has recorded a visit.
        Recorded = ("recorded", "已记录"),
        Closed = ("closed", "已关闭"),
    }
}

labelled! {
    /// Why a field verification task exists.
    pub enum TaskOrigin {
        Manual = ("manual", "人工创建"),
        /// From a quality flag.
        Flag = ("flag", "异常数据"),
        /// A seeded random draw of base regions.
        Draw = ("draw", "随机抽取"),
        /// Two teams disagreed by more than 10 %.
        CrossTeam = ("cross_team", "交叉核验复核"),
    }
}

labelled! {
    /// A party's answer on the telephone (回访).
    pub enum CallbackResult {
        /// 属实: the dispute was resolved as recorded.
        Confirmed = ("confirmed", "属实"),
        /// 不属实: it was not (or not as recorded).
        NotConfirmed = ("not_confirmed", "不属实"),
        /// 未接通: nobody reached; may be called again.
        Unreachable = ("unreachable", "未接通"),
    }
}

impl CallbackResult {
    /// The code or the Chinese label.
    pub fn parse(s: &str) -> Option<CallbackResult> {
        let s = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.code() == s || r.label() == s)
    }
}

labelled! {
    /// What a ledger entry records.
    pub enum LedgerAction {
        Init = ("init", "初始化数据库"),
        ImportFramework = ("import_framework", "导入指标体系"),
        ImportRegions = ("import_regions", "导入地区"),
        ImportValues = ("import_values", "导入数据"),
        ImportBenchmarks = ("import_benchmarks", "导入基准值"),
        ImportBoundaries = ("import_boundaries", "导入地区边界"),
        RefreshRisk = ("refresh_risk", "重算风险预警"),
        SendRiskWarning = ("send_risk_warning", "下发风险预警"),
        ImportCases = ("import_cases", "导入调解案件"),
        ImportEvents = ("import_events", "导入网格事件与应急记录"),
        SurveyForm = ("survey_form", "导入调查问卷"),
        SurveyFrame = ("survey_frame", "导入抽样框"),
        SurveyMargins = ("survey_margins", "导入加权边际"),
        SurveyResponses = ("survey_responses", "导入调查答卷"),
        SurveyPlan = ("survey_plan", "制定抽样方案"),
        Opinion = ("opinion", "意见箱留言"),
        ProblemAdd = ("problem_add", "列入问题清单"),
        ScoreRun = ("score_run", "计分"),
        QualityCheck = ("quality_check", "质量检查"),
        QualityCheckStart = ("quality_check_start", "开始质量检查"),
        QualityCheckFail = ("quality_check_fail", "质量检查未完成"),
        QualityResolve = ("quality_resolve", "处理质量问题"),
        ReviewPass = ("review_pass", "审核通过"),
        ReviewReturn = ("review_return", "审核退回"),
        ReviewResubmit = ("review_resubmit", "重新报送"),
        ReviewUnlock = ("review_unlock", "解锁数据集"),
        VerifyTask = ("verify_task", "创建核查任务"),
        VerifyRecord = ("verify_record", "填写核查记录"),
        VerifyPhoto = ("verify_photo", "上传核查照片"),
        VerifyConfirm = ("verify_confirm", "确认核查记录"),
        VerifyClose = ("verify_close", "关闭核查任务"),
        CallbackDraw = ("callback_draw", "抽取回访案件"),
        CallbackRecord = ("callback_record", "登记回访结果"),
        NoticeIssue = ("notice_issue", "印发整改通知书"),
        ReportEdit = ("report_edit", "修改报告文字"),
        RectifyList = ("rectify_list", "生成问题清单"),
        RectifyStep = ("rectify_step", "办理整改事项"),
        RectifyEdit = ("rectify_edit", "修改问题清单"),
        ResultUse = ("result_use", "登记结果运用"),
        Interview = ("interview", "登记约谈"),
        Deduction = ("deduction", "通报批评并扣分"),
        Publish = ("publish", "公开测评结果"),
        ObjectionFile = ("objection_file", "提出异议"),
        ObjectionAnswer = ("objection_answer", "答复异议"),
        UserAdd = ("user_add", "新建用户"),
        UserRoles = ("user_roles", "修改角色与范围"),
        UserLock = ("user_lock", "锁定账户"),
        UserUnlock = ("user_unlock", "解锁账户"),
        UserDisable = ("user_disable", "停用账户"),
        UserEnable = ("user_enable", "启用账户"),
        UserPassword = ("user_password", "设置密码"),
        Login = ("login", "登录"),
        LoginFailed = ("login_failed", "登录失败"),
        /// The current password checked before a change.
        PasswordCheck = ("password_check", "核对原密码"),
        PasswordCheckFailed = ("password_check_failed", "原密码核对失败"),
        TotpEnable = ("totp_enable", "开启动态口令"),
        TotpDisable = ("totp_disable", "关闭动态口令"),
        TokenCreate = ("token_create", "创建接口令牌"),
        TokenRevoke = ("token_revoke", "吊销接口令牌"),
        Restore = ("restore", "从备份恢复"),
        Export = ("export", "导出数据（下载中心）"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        fn check<T: Copy + Eq + std::fmt::Debug + std::str::FromStr>(
            all: &[T],
            code: fn(T) -> &'static str,
        ) {
            for x in all {
                assert_eq!(code(*x).parse::<T>().ok(), Some(*x));
                assert_eq!(all.iter().filter(|y| code(**y) == code(*x)).count(), 1);
            }
        }
        check(ValueState::ALL, ValueState::code);
        check(FlagStatus::ALL, FlagStatus::code);
        check(TaskStatus::ALL, TaskStatus::code);
        check(TaskOrigin::ALL, TaskOrigin::code);
        check(CallbackResult::ALL, CallbackResult::code);
        check(LedgerAction::ALL, LedgerAction::code);
        assert_eq!(
            CallbackResult::parse("属实"),
            Some(CallbackResult::Confirmed)
        );
        assert!(
            "x".parse::<TaskStatus>()
                .unwrap_err()
                .contains("open、recorded、closed")
        );
    }
}
