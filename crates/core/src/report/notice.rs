//! The 问题整改通知书 (seed §5.4: "明确指出测评中发现的主要问题，提出整改要求和
//! 时限"; §5.4: 30 日内制定整改方案，报省平安建设领导小组办公室备案) as blocks in
//! the parts of a 公文: masthead with 发文字号, title, 主送机关, body, 署名与
//! 成文日期, 版记.

use super::Report;
use super::doc::{Block, Doc, written_date};
use super::sections::{Head, Sections, para};
use crate::num::fmt_num;

/// Problems a notice names at most (vetoes and the bottom-three rank come
/// first, then the indicators that lost the most).
pub const PROBLEMS: usize = 8;

/// The prefix of the 发文字号: 平安测评〔2024〕12号.
pub const NUMBER_PREFIX: &str = "平安测评";

/// What a notice carries beyond the report: who issues it, its number in
/// the year's sequence and its dates (YYYY-MM-DD).
#[derive(Clone, Debug)]
pub struct NoticeHead {
    /// 发文机关 (…平安建设领导小组办公室).
    pub organ: String,
    /// Whom the 版记 copies (…委政法委).
    pub copy_to: String,
    pub year: i32,
    pub number: i64,
    pub issued_on: String,
    /// The rectification plan is due (issued + 30 days).
    pub plan_due: String,
    /// The problems are to be put right by.
    pub deadline: String,
}

impl NoticeHead {
    pub fn number_text(&self) -> String {
        format!("{NUMBER_PREFIX}〔{}〕{}号", self.year, self.number)
    }
}

/// 主送: the region's party committee and government.
pub fn addressee(name: &str) -> String {
    format!("中共{name}委员会、{name}人民政府：")
}

/// The problems of `r`, one sentence each.
pub fn problems(r: &Report, n: usize) -> Vec<String> {
    problem_items(r, n).into_iter().map(|(_, p)| p).collect()
}

/// The problems of `r` with the indicator each is about ('' for the rank).
pub fn problem_items(r: &Report, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for l in &r.vetoes {
        out.push((
            l.code.clone(),
            format!("触发一票否决：{}。{}。", l.name, l.reasons.join("；")),
        ));
    }
    if r.bottom
        && let Some((rank, peers)) = r.rank
    {
        out.push((
            String::new(),
            format!(
                "测评总分 {:.2} 分，在同级 {peers} 个地区中排名第 {rank} 位，位列后三位。",
                r.total
            ),
        ));
    }
    for l in r.deductions.iter().filter(|l| !l.veto) {
        if out.len() >= n {
            break;
        }
        let mut s = format!("{}失分 {} 分", l.name, fmt_num(l.lost, 2));
        if l.missing {
            s.push_str("，未报送数据");
        } else {
            s.push_str(&format!(
                "，本地区 {}",
                super::doc::value_text(l.value, &l.unit)
            ));
            if l.peers_value.is_some() {
                s.push_str(&format!(
                    "，同级中位数 {}",
                    super::doc::value_text(l.peers_value, &l.unit)
                ));
            }
        }
        if !l.reasons.is_empty() {
            s.push_str(&format!("（{}）", l.reasons.join("；")));
        }
        s.push('。');
        out.push((l.code.clone(), s));
    }
    out.truncate(n.max(1));
    out
}

impl Report {
    pub fn notice_title(&self) -> String {
        format!("关于{}{}年平安建设测评问题整改的通知", self.name, self.year)
    }

    /// The 问题整改通知书 as blocks.
    pub fn notice_doc(&self, n: &NoticeHead, head: &Head) -> Doc {
        let issued = written_date(&n.issued_on).unwrap_or_else(|| n.issued_on.clone());
        let plan_due = written_date(&n.plan_due).unwrap_or_else(|| n.plan_due.clone());
        let deadline = written_date(&n.deadline).unwrap_or_else(|| n.deadline.clone());
        let mut s = Sections::new();
        let mut b = vec![
            Block::Masthead {
                organ: n.organ.clone(),
                number: n.number_text(),
            },
            Block::Title(self.notice_title()),
            Block::Addressee(addressee(&self.name)),
            Block::Para {
                id: "notice-opening".into(),
                text: format!(
                    "根据平安建设测评工作方案，我办组织对你地区{}年平安建设工作进行了测评。{}现将测评发现的主要问题及整改要求通知如下。",
                    self.year,
                    self.overall_short()
                ),
            },
            s.next("problems", "主要问题"),
        ];
        let list = problems(self, PROBLEMS);
        if list.is_empty() {
            b.push(para("本次测评未发现需要整改的问题。"));
        }
        for (k, p) in list.iter().enumerate() {
            b.push(Block::Para {
                id: String::new(),
                text: format!("{}. {p}", k + 1),
            });
        }
        b.push(s.next("requirements", "整改要求"));
        b.push(Block::RunIn {
            lead: "（一）制定整改方案。".into(),
            text: format!(
                "请于{plan_due}前（收到本通知之日起30日内）制定整改方案，明确整改目标、责任分工、整改时限和保障措施，报{}备案。",
                n.organ
            ),
        });
        b.push(Block::RunIn {
            lead: "（二）实行销号管理。".into(),
            text: "对上述问题建立问题清单、责任清单、整改清单，明确责任单位、整改时限和整改目标，整改一项、销号一项。".into(),
        });
        b.push(Block::RunIn {
            lead: "（三）按期整改到位。".into(),
            text: format!(
                "上述问题须于{deadline}前整改到位。整改期满后，省测评组将对整改情况进行复查，重点核查问题整改是否到位、群众满意度是否提升；对整改不力的地区，进行通报批评并扣减平安建设考核得分。"
            ),
        });
        let suggestions = self.suggestions(3);
        if !suggestions.is_empty() {
            let names: Vec<String> = suggestions
                .iter()
                .map(|l| format!("{}（{}）", l.name, l.suggestion.trim_end_matches('。')))
                .collect();
            b.push(Block::RunIn {
                lead: "（四）参考整改措施。".into(),
                text: format!("{}。详见《{}》。", names.join("；"), self.title()),
            });
        }
        b.push(head.note("通知"));
        b.push(Block::Signature {
            organ: n.organ.clone(),
            date: issued.clone(),
        });
        b.push(Block::Colophon {
            copy_to: format!("{}。", n.copy_to),
            printer: n.organ.clone(),
            date: issued,
        });
        let mut properties = head.properties(&self.region, self.year);
        properties.push(("pingan-notice-number".into(), n.number_text()));
        Doc {
            title: self.notice_title(),
            blocks: b,
            properties,
        }
    }

    /// Total, grade and rank in one sentence.
    fn overall_short(&self) -> String {
        let mut s = format!(
            "你地区测评总分 {:.2} 分，等级为“{}”",
            self.total, self.grade
        );
        if let Some((rank, n)) = self.rank {
            s.push_str(&format!("，在同级 {n} 个地区中排名第 {rank} 位"));
        }
        s.push('。');
        s
    }
}
