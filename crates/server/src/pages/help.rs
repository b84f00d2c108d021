//! 帮助: the glossary of the terms pages use (the statistics of the
//! quality checks, the scoring words), each with an anchor the pages link
//! to where the term appears; and 搜索: regions and indicators by name or
//! code, within the viewer's scope.

use crate::AppState;
use crate::kit::{Frame, PageResult, Viewer, card, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::html;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/help", get(glossary))
        .route("/search", get(search))
}

/// (anchor, term, explanation). The anchors of the quality checks are
/// their kind codes, so `/help#mod_zscore` explains 修正 z 值.
pub const TERMS: &[(&str, &str, &str)] = &[
    (
        "zscore",
        "z 值",
        "某期数值与本序列此前各期平均值之差，除以这些期的标准差。绝对值超过阈值（默认 3）说明该期明显偏离自身历史。",
    ),
    (
        "mod_zscore",
        "修正 z 值",
        "用中位数和中位数绝对偏差（MAD）代替平均值和标准差计算的 z 值：0.6745 ×（数值 − 中位数）÷ MAD。少数极端值不会拉偏基准，比 z 值更稳健；超过 3.5 视为异常。",
    ),
    (
        "jump",
        "环比突变",
        "与上一期相比的变化率（环比）超过阈值（默认 50%），且变化量足够大、超过本序列平常的环比波动，才视为突变。",
    ),
    (
        "run_above_mean",
        "连续高于均值",
        "连续若干期（默认 3 期）都高于历史均值加一个标准差：单看每期不算异常，但持续偏高值得核实。",
    ),
    (
        "share",
        "占比突变",
        "一个数据项是另一个的组成部分时（如矛盾纠纷化解数 ≤ 矛盾纠纷受理数），前者占后者的比例比两个数本身稳定得多。规则文件未写明、但此前各年每个地区每个月前者都未超过后者、通常占后者一半以上、且比例像组成部分一样平稳的两项流量数据（如本省应办结信访事项数与信访事项数），也按组成部分看待，说明中写明“按其组成部分看待”；这不是校验规则，前者超过后者不算规则不成立。某月（或连续几个月）的比例明显偏离此前 6 期的比例（其中个别明显偏离其余各月的月份、已列为偏离的月份不计入，以免一次错报带偏此后的判断），按二项分布（并按本地区以往比例的实际波动放宽，总量不足 3 的月份不计入波动；全省各地这一比例大幅偏离比二项分布所说更常见的，相应降低其异常强度）判断出现概率不超过百万分之一时列出：往往是其中一个数漏报或多报。问题列在两个数中更偏离自身季节规律与近期水平的那一个上（前几个月明显是一个数偏离、另一个数正常，此后反过来的，分为两条，各列在当时偏离的数上）；持续偏离的从开始月份起列为一条（总数自身随之连续偏高、之后已回到判断线以下而比例仍偏离的，列在总数连续偏高完成的那个月），连续 3 个月偏离后恢复的列在第 3 个月（与“连续高于均值”相同）。构成数据超过总量（如化解数大于受理数、规则不成立）的，也列在两个数中更偏离自身正常水平的那一个上，说明中写明“应先核查……”。只用于按月累加的流量数据，不用于年内累计、存量类数据。",
    ),
    (
        "baseline",
        "季节基线（异常强度）",
        "上面四种统计方法提出的疑点，还要经本序列的“正常模型”确认才进入待核查队列：按全省同一数据项的季节规律、本地区近 6 期的水平推算预计值（计数类数据的水平还参照本地区以往整年的水平：小地区近几个月恰好为 0，不等于以后不会发生），计数类数据按计数的波动规律（负二项分布）判断，再算出出现这样偏离的概率，异常强度 = −log₁₀ 概率。总量出现疑点而其构成数据未随之变化的（如受理数猛增而化解数仍在以往水平），更像是总量填报有误，异常强度再加上这一证据（是“总量确有变化”可能性的多少倍，取 log₁₀；总量确有变化时构成数据按以往比例的二项分布计算），说明中写明。异常强度不低于 5（连续偏高按合计不低于 4）才列出，越大越异常。同一地区、数据项、期间只列一条，说明中写明触发的各项方法和预计值；连续偏高的几期中某期又单独超出的，并入连续偏高一条（列在连续偏高的最后一期），连续偏高之后直到年末仍高于判断线的，视为自第一期起的水平突变，列在第一期。总量变化而其构成数据随之同比例变化的（如受理数增加、化解数按以往比例随之增加；有几项构成数据的，合并各项的证据判断：一项小的构成数据碰巧随之变化、另一项明显未随之变化的，仍列出），说明各数相互一致，是实际工作量的变化而非填报差错，不列入队列（异常强度很高的、规模较大的序列成倍变化的除外，后者可能是重复填报）；检查结果中写明这类提示的条数。",
    ),
    (
        "peer",
        "同级离群",
        "与同一上级下同一层级的其他地区（同级地区）相比，修正 z 值超过阈值：在同级中明显偏高或偏低。同级地区少于 5 个时不做比较。",
    ),
    (
        "rule",
        "逻辑校验",
        "三审三查的规则：取值范围（如不得为负数）和数据项之间的关系（如破案数不超过立案数）。重要程度为“高”的规则在导入时即拒收，其余给出提示。",
    ),
    (
        "cross_source",
        "多来源差异",
        "同一地区、期间、数据项由两个以上来源报送且数值相差超过较大值的 5%：需要溯源，确定以哪个来源为准。",
    ),
    (
        "timeliness",
        "时效",
        "每期数据应在期末后若干天内（默认 15 天）报送；晚于期限的记为逾期。",
    ),
    (
        "rate",
        "得分率",
        "某一维度（或领域）的得分除以其满分，以百分比表示，便于比较满分不同的维度。",
    ),
    (
        "veto",
        "一票否决",
        "发生指定事项（如重特大案件）的地区，不论总分多少，等级定为最低等级。",
    ),
    (
        "review",
        "三级审核",
        "部门报送的数据依次经数据采集组（一审）、实地核查组（二审）、专家评审组（三审）审核，通过后锁定并计入正式得分；未通过审核的数据只在预览中出现。",
    ),
    (
        "preview",
        "预览",
        "把尚在审核中的数据也计入后算出的得分，仅供内部核对，不是正式结果，不得发布。",
    ),
];

async fn glossary(v: Viewer) -> PageResult {
    let c = &v.0;
    Ok(layout::page(
        Frame::simple(c, "帮助与术语", "/help"),
        html! {
            (card("术语解释", None, html! {
                dl.glossary {
                    @for (id, term, text) in TERMS {
                        dt id=(id) { (term) }
                        dd { (text) }
                    }
                }
            }))
        },
    ))
}

#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    pub q: Option<String>,
}

/// Regions (in the viewer's scope) and indicators whose name or code holds
/// the words.
async fn search(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let c = &v.0;
    let words = q.q.unwrap_or_default().trim().to_string();
    let tree = state.ctx.tree().await?;
    let (regions, indicators) = if words.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let regions: Vec<usize> = (0..tree.len())
            .filter(|&i| {
                let r = tree.get(i);
                (r.name.contains(&words) || r.code.contains(&words)) && c.sees(&tree, i)
            })
            .take(50)
            .collect();
        let fw = match state.ctx.latest_year().await {
            Some(y) => state
                .ctx
                .store
                .framework_for_year(y)
                .await
                .map_err(pingan_service::ServiceError::from)?,
            None => None,
        }
        .unwrap_or_else(pingan_core::default_framework);
        let indicators: Vec<(String, String, String)> = fw
            .indicators()
            .iter()
            .filter(|p| p.indicator.name.contains(&words) || p.indicator.code.contains(&words))
            .take(50)
            .map(|p| {
                (
                    p.indicator.code.clone(),
                    p.indicator.name.clone(),
                    p.indicator.unit.clone(),
                )
            })
            .collect();
        (regions, indicators)
    };
    Ok(layout::page(
        Frame::simple(c, "搜索", "/search"),
        html! {
            (card("搜索地区或指标", None, html! {
                form.inline method="get" action="/search" id="search-form" {
                    input type="search" name="q" value=(words) placeholder="地区名称或代码、指标名称" autofocus;
                    button.btn.primary type="submit" { "搜索" }
                }
            }))
            @if !words.is_empty() {
                (card(&format!("地区（{} 个）", regions.len()), None, html! {
                    @if regions.is_empty() { div.empty { "没有找到名称或代码含“" (words) "”的地区（仅在您的数据范围内查找）" } }
                    ul id="found-regions" {
                        @for i in &regions {
                            @let r = tree.get(*i);
                            li {
                                a href=(format!("/region/{}", r.code)) { (r.name) }
                                " " span.muted { (r.level.label()) " · " (r.code) }
                                @if let Some(p) = r.parent { span.muted { " · " (tree.get(p).name) } }
                            }
                        }
                    }
                }))
                (card(&format!("指标（{} 个）", indicators.len()), None, html! {
                    @if indicators.is_empty() { div.empty { "没有找到名称含“" (words) "”的指标" } }
                    ul id="found-indicators" {
                        @for (code, name, unit) in &indicators {
                            li { a href=(format!("/framework#{code}")) { (name) } @if !unit.is_empty() { " " span.muted { "（" (unit) "）" } } }
                        }
                    }
                }))
            }
        },
    ))
}
