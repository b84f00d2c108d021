//! What the checks found in a region's year, for its report (issue 20):
//! the quality flags raised on its data and what became of them, the field
//! verification visits and the differences over the 10 % tolerance, and the
//! citizen survey's indices with their 95 % confidence intervals.

use super::doc::{Block, Cell, Row, Table};
use super::sections::{Sections, para};
use crate::num::fmt_num;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Findings {
    pub flags_open: usize,
    pub flags_corrected: usize,
    pub flags_explained: usize,
    /// Flags by the rule's kind (its Chinese name), most first.
    pub by_kind: Vec<(String, usize)>,
    /// The open flags that weigh most, in words.
    pub open_examples: Vec<String>,
    pub tasks: usize,
    pub tasks_closed: usize,
    /// Reported against observed beyond the tolerance, in words.
    pub over_tolerance: Vec<String>,
    pub survey: Option<Survey>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Survey {
    pub n_valid: usize,
    pub indices: Vec<SurveyIndex>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SurveyIndex {
    pub name: String,
    pub n: usize,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl Findings {
    fn flags(&self) -> usize {
        self.flags_open + self.flags_corrected + self.flags_explained
    }

    /// The sections 数据质量与实地核查 and 群众调查 (the latter only where a
    /// survey has estimates for the region).
    pub(crate) fn blocks(&self, s: &mut Sections) -> Vec<Block> {
        let mut b = vec![s.next("findings", "数据质量与实地核查")];
        if self.flags() == 0 {
            b.push(para("本年度该地区数据未发现质量问题。"));
        } else {
            let kinds: Vec<String> = self
                .by_kind
                .iter()
                .map(|(k, n)| format!("{k} {n} 条"))
                .collect();
            b.push(para(format!(
                "本年度数据质量检查共发现待核查问题 {} 条（{}），其中已更正 {} 条、已说明 {} 条、尚待核查 {} 条。",
                self.flags(),
                kinds.join("，"),
                self.flags_corrected,
                self.flags_explained,
                self.flags_open
            )));
            if !self.open_examples.is_empty() {
                b.push(para(format!(
                    "尚待核查的主要问题：{}。",
                    self.open_examples.join("；")
                )));
            }
        }
        if self.tasks == 0 {
            b.push(para("本年度未对该地区开展实地核查。"));
        } else {
            let mut t = format!(
                "实地核查任务 {} 项，已完成 {} 项。",
                self.tasks, self.tasks_closed
            );
            if self.over_tolerance.is_empty() {
                t.push_str("核查值与上报值的差异均在 10% 以内。");
            } else {
                t.push_str(&format!(
                    "核查值与上报值差异超过 10% 的 {} 项：{}。",
                    self.over_tolerance.len(),
                    self.over_tolerance.join("；")
                ));
            }
            b.push(para(t));
        }
        if let Some(sv) = &self.survey {
            b.push(s.next("survey", "群众调查"));
            b.push(para(format!(
                "群众安全感、满意度调查本地区有效样本 {} 份，各项指数的估计值及其 95% 置信区间如下：",
                sv.n_valid
            )));
            b.push(Block::Table(Table {
                id: "report-survey".into(),
                head: ["指数", "样本", "估计值", "95% 置信区间"]
                    .map(String::from)
                    .to_vec(),
                rows: sv
                    .indices
                    .iter()
                    .map(|i| Row {
                        key: String::new(),
                        cells: vec![
                            Cell::text(i.name.clone()),
                            Cell::num(i.n.to_string(), Some(i.n as f64)),
                            Cell::num(i.estimate.map_or("—".into(), |v| fmt_num(v, 2)), i.estimate),
                            Cell::right(match (i.ci_low, i.ci_high) {
                                (Some(l), Some(h)) => {
                                    format!("{} – {}", fmt_num(l, 2), fmt_num(h, 2))
                                }
                                _ => "样本不足".into(),
                            }),
                        ],
                    })
                    .collect(),
            }));
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_in_words_and_the_survey_as_a_table() {
        let f = Findings {
            flags_open: 2,
            flags_corrected: 1,
            flags_explained: 0,
            by_kind: vec![("环比突变".into(), 2), ("逻辑校验".into(), 1)],
            open_examples: vec!["城关镇刑事案件数（2024-03）".into()],
            tasks: 3,
            tasks_closed: 2,
            over_tolerance: vec!["城关镇刑事案件数（2024-03）上报 10、核查 12，相差 20%".into()],
            survey: Some(Survey {
                n_valid: 412,
                indices: vec![SurveyIndex {
                    name: "群众安全感".into(),
                    n: 410,
                    estimate: Some(91.234),
                    ci_low: Some(89.5),
                    ci_high: Some(92.9),
                }],
            }),
        };
        let mut s = Sections::new();
        let blocks = f.blocks(&mut s);
        let doc = crate::report::doc::Doc {
            title: String::new(),
            blocks,
            properties: Vec::new(),
        };
        let text = doc.plain();
        assert!(text.contains("一、数据质量与实地核查"), "{text}");
        assert!(text.contains("共发现待核查问题 3 条（环比突变 2 条，逻辑校验 1 条），其中已更正 1 条、已说明 0 条、尚待核查 2 条"));
        assert!(
            text.contains("实地核查任务 3 项，已完成 2 项。核查值与上报值差异超过 10% 的 1 项")
        );
        assert!(text.contains("二、群众调查") && text.contains("有效样本 412 份"));
        assert!(
            text.contains("群众安全感\t410\t91.23\t89.5 – 92.9"),
            "{text}"
        );
        let empty = Findings::default().blocks(&mut Sections::new());
        assert_eq!(empty.len(), 3, "heading and two sentences, no survey");
    }
}
