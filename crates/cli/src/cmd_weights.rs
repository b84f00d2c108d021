//! `pingan weights …`: AHP, Delphi, entropy, CRITIC, combination, and
//! writing weights back into a framework file (seed §2.3).

use crate::table::Table;
use crate::{Format, InputFailure, files};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use pingan_core::framework::edit;
use pingan_core::num::fmt_num;
use pingan_core::weights::ahp::{self, Group, Method, RiTable};
use pingan_core::weights::combine::{Combination, combine};
use pingan_core::weights::delphi::{self, DelphiFile, DelphiOptions};
use pingan_core::weights::objective::{self, Direction};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum WeightsCommand {
    /// 层次分析法：判断矩阵 → 权重、λmax、CI、CR / AHP from judgement matrices (one file per expert)
    Ahp(AhpArgs),
    /// 德尔菲法：均值、变异系数、肯德尔和谐系数、权威系数 / Delphi rounds
    Delphi(DelphiArgs),
    /// 熵权法 / entropy weights from a decision matrix
    Entropy(ObjectiveArgs),
    /// CRITIC 法 / CRITIC weights from a decision matrix
    Critic(ObjectiveArgs),
    /// 主客观组合赋权 / combine subjective and objective weights
    Combine(CombineArgs),
    /// 把权重写回指标体系文件 / write weights into a framework file (comments kept)
    Apply(ApplyArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MethodArg {
    Eigen,
    Rgmm,
    Anc,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GroupArg {
    Aij,
    Aip,
}

#[derive(Args)]
pub struct AhpArgs {
    /// 判断矩阵 CSV（每位专家一个文件）：表头第一格空，其后为项目名称
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// 权重计算方法：eigen 特征向量法、rgmm 方根法、anc 和积法
    #[arg(long, value_enum, default_value = "eigen")]
    method: MethodArg,
    /// 群组集结：aij 判断矩阵几何平均、aip 权重向量几何平均
    #[arg(long, value_enum, default_value = "aij")]
    group: GroupArg,
    /// 随机一致性指标表：saaty-classic、saaty-2005、donegan-dodd、tummala-ling
    #[arg(long, default_value = "saaty-classic", value_parser = parse_ri)]
    ri: RiTable,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

fn parse_ri(s: &str) -> Result<RiTable, String> {
    RiTable::parse(s).ok_or_else(|| {
        format!("未知的 RI 表“{s}”：可用 saaty-classic、saaty-2005、donegan-dodd、tummala-ling")
    })
}

#[derive(Args)]
pub struct DelphiArgs {
    /// 专家评分 CSV：round,expert,item,score
    file: PathBuf,
    /// 量表：5 或 10 分制
    #[arg(long, default_value_t = 5)]
    scale: u32,
    /// 专家权威系数 CSV：expert,ca,cs
    #[arg(long)]
    authority: Option<PathBuf>,
    /// 肯德尔和谐系数显著性水平
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// 变异系数阈值（达标：每项 CV 小于此值）
    #[arg(long, default_value_t = 0.25)]
    max_cv: f64,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct ObjectiveArgs {
    /// 决策矩阵 CSV：alternative,指标1,指标2,…
    file: PathBuf,
    /// 各指标方向，逗号分隔：+ 越大越好，- 越小越好
    #[arg(long, allow_hyphen_values = true)]
    directions: String,
    /// 熵权法：计算比重前给标准化值加上的小常数
    #[arg(long)]
    shift: Option<f64>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CombineMethod {
    Linear,
    Multiplicative,
}

#[derive(Args)]
pub struct CombineArgs {
    /// 主观权重结果 JSON（weights ahp 的输出，或含 items 与 weights 的同样格式）
    #[arg(long)]
    subjective: PathBuf,
    /// 客观权重结果 JSON（weights entropy/critic 的输出）
    #[arg(long)]
    objective: PathBuf,
    /// 线性组合中主观权重的比重 α
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    #[arg(long, value_enum, default_value = "linear")]
    method: CombineMethod,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// 权重结果 JSON（items/criteria 为下级代码）
    result: PathBuf,
    /// 要修改的指标体系文件
    #[arg(long)]
    framework: PathBuf,
    /// 上级代码：framework（维度）、维度代码（其领域）或领域代码（其指标）
    #[arg(long)]
    parent: String,
    /// 把权重四舍五入到几位小数（保持合计为 1）
    #[arg(long)]
    decimals: Option<u32>,
    /// 只显示将要做的修改，不写文件
    #[arg(long)]
    dry_run: bool,
}

pub fn run(cmd: WeightsCommand) -> Result<ExitCode> {
    match cmd {
        WeightsCommand::Ahp(a) => run_ahp(a),
        WeightsCommand::Delphi(a) => run_delphi(a),
        WeightsCommand::Entropy(a) => run_objective(a, false),
        WeightsCommand::Critic(a) => run_objective(a, true),
        WeightsCommand::Combine(a) => run_combine(a),
        WeightsCommand::Apply(a) => run_apply(a),
    }
}

fn name(p: &Path) -> String {
    p.display().to_string()
}

fn print_json(v: &impl Serialize) -> Result<()> {
    use std::io::Write;
    writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string_pretty(v)?
    )?;
    Ok(())
}

/// Weights as a table: 项目, 权重, 排序.
fn weights_table(items: &[String], weights: &[f64]) -> String {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
    let mut rank = vec![0; items.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r + 1;
    }
    let mut t = Table::new(&["项目", "权重", "排序"]).right(&[1, 2]);
    for (i, item) in items.iter().enumerate() {
        t.row(vec![
            item.clone(),
            fmt_num(weights[i], 4),
            rank[i].to_string(),
        ]);
    }
    t.render()
}

fn run_ahp(a: AhpArgs) -> Result<ExitCode> {
    let mut experts = Vec::new();
    for f in &a.files {
        let m = pingan_input::read_judgement_matrix(&name(f), &files::read(f)?)
            .map_err(|e| InputFailure(e.to_string()))?;
        experts.push(m);
    }
    if let Some(odd) = experts.iter().find(|e| e.items != experts[0].items) {
        return Err(InputFailure(format!(
            "{}: 项目与 {} 不一致（{} 与 {}）：各专家的判断矩阵应比较同样的项目、按同样的顺序",
            odd.label,
            experts[0].label,
            odd.items.join(","),
            experts[0].items.join(",")
        ))
        .into());
    }
    let method = match a.method {
        MethodArg::Eigen => Method::Eigen,
        MethodArg::Rgmm => Method::Rgmm,
        MethodArg::Anc => Method::Anc,
    };
    let group = match a.group {
        GroupArg::Aij => Group::Aij,
        GroupArg::Aip => Group::Aip,
    };
    let r = ahp::analyse(&experts, method, group, a.ri).map_err(|e| InputFailure(e.to_string()))?;
    if a.format == Format::Json {
        print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let how = match method {
        Method::Eigen => "特征向量法",
        Method::Rgmm => "方根法",
        Method::Anc => "和积法",
    };
    let group_text = match (experts.len(), group) {
        (1, _) => String::new(),
        (n, Group::Aij) => format!("，{n} 位专家判断矩阵几何平均集结"),
        (n, Group::Aip) => format!("，{n} 位专家权重向量几何平均集结"),
    };
    println!(
        "层次分析法（{how}{group_text}）\n{}",
        weights_table(&r.items, &r.weights)
    );
    println!(
        "λmax = {}，CI = {}，RI = {}（{}），CR = {}：{}",
        fmt_num(r.lambda_max, 4),
        fmt_num(r.ci, 4),
        fmt_num(r.ri, 4),
        r.ri_table,
        fmt_num(r.cr, 4),
        if r.consistent {
            "通过一致性检验（CR < 0.10）"
        } else {
            "未通过一致性检验（CR ≥ 0.10），请专家修正判断矩阵"
        }
    );
    if experts.len() > 1 {
        let mut t = Table::new(&["专家判断矩阵", "CR", "一致性检验"]).right(&[1]);
        for e in &r.experts {
            t.row(vec![
                e.file.clone(),
                fmt_num(e.cr, 4),
                if e.consistent {
                    "通过".into()
                } else {
                    "未通过".into()
                },
            ]);
        }
        print!("{}", t.render());
    }
    let worst = |list: &[ahp::Judgement]| {
        list.iter()
            .map(|j| format!("{} 对 {}", j.row, j.col))
            .collect::<Vec<_>>()
            .join("、")
    };
    if !r.worst_judgements.is_empty() {
        println!("最需要复核的判断：{}", worst(&r.worst_judgements));
    }
    for e in r
        .experts
        .iter()
        .filter(|e| !e.worst_judgements.is_empty() && experts.len() > 1)
    {
        println!(
            "{} 最需要复核的判断：{}",
            e.file,
            worst(&e.worst_judgements)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_delphi(a: DelphiArgs) -> Result<ExitCode> {
    let scores_name = name(&a.file);
    let scores = pingan_input::read_delphi_scores(&scores_name, &files::read(&a.file)?)
        .map_err(|e| InputFailure(e.to_string()))?;
    let (auth_name, authority) = match &a.authority {
        Some(p) => (
            name(p),
            pingan_input::read_authority(&name(p), &files::read(p)?)
                .map_err(|e| InputFailure(e.to_string()))?,
        ),
        None => (String::new(), Vec::new()),
    };
    let opts = DelphiOptions {
        scale: a.scale,
        alpha: a.alpha,
        max_cv: a.max_cv,
    };
    let r = delphi::analyse(&scores, &authority, &opts).map_err(|e| {
        let at = match e.location() {
            Some((DelphiFile::Scores, l)) => format!("{scores_name}:{l}: "),
            Some((DelphiFile::Authority, l)) => format!("{auth_name}:{l}: "),
            None => format!("{scores_name}: "),
        };
        InputFailure(format!("{at}{e}"))
    })?;
    if a.format == Format::Json {
        print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    for round in &r.rounds {
        println!(
            "第 {} 轮：{} 位专家，肯德尔和谐系数 W = {}，χ² = {}，df = {}，P = {}（{}）；{}",
            round.round,
            round.experts,
            fmt_num(round.w, 4),
            fmt_num(round.chi2, 4),
            round.df,
            fmt_num(round.p, 4),
            if round.w_significant {
                "显著"
            } else {
                "不显著"
            },
            if round.consensus {
                "专家意见已趋于一致".to_string()
            } else {
                format!("未达成一致，需再征询：{}", round.failing_items.join("、"))
            }
        );
        let mut t = Table::new(&["条目", "均值", "标准差", "变异系数", "满分频率", "是否达标"])
            .right(&[1, 2, 3, 4]);
        for it in &round.items {
            t.row(vec![
                it.item.clone(),
                fmt_num(it.mean, 3),
                fmt_num(it.sd, 3),
                fmt_num(it.cv, 3),
                fmt_num(it.full_mark_ratio, 3),
                if round.failing_items.contains(&it.item) {
                    "否".into()
                } else {
                    "是".into()
                },
            ]);
        }
        println!("{}", t.render());
    }
    if !r.authority.is_empty() {
        let mut t =
            Table::new(&["专家", "判断依据 Ca", "熟悉程度 Cs", "权威系数 Cr"]).right(&[1, 2, 3]);
        for x in &r.authority {
            t.row(vec![
                x.expert.clone(),
                fmt_num(x.ca, 3),
                fmt_num(x.cs, 3),
                fmt_num(x.cr, 3),
            ]);
        }
        print!("专家权威系数\n{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_objective(a: ObjectiveArgs, critic: bool) -> Result<ExitCode> {
    let file = name(&a.file);
    let m = pingan_input::read_decision_matrix(&file, &files::read(&a.file)?)
        .map_err(|e| InputFailure(e.to_string()))?;
    let dirs: Vec<Direction> = a
        .directions
        .split([',', '，'])
        .map(|s| {
            Direction::from_symbol(s)
                .ok_or_else(|| InputFailure(format!("--directions 中的“{s}”无效：每项应为 + 或 -")))
        })
        .collect::<Result<_, _>>()?;
    let weights = if critic {
        objective::critic(&m, &dirs)
    } else {
        objective::entropy(&m, &dirs, a.shift)
    }
    .map_err(|e| InputFailure(format!("{file}: {e}")))?;
    if a.format == Format::Json {
        print_json(&json!({
            "method": if critic { "critic" } else { "entropy" },
            "criteria": m.criteria,
            "directions": dirs.iter().map(|d| d.symbol().to_string()).collect::<Vec<_>>(),
            "weights": weights,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}（{} 个评价对象）",
        if critic { "CRITIC 法" } else { "熵权法" },
        m.alternatives.len()
    );
    print!("{}", weights_table(&m.criteria, &weights));
    Ok(ExitCode::SUCCESS)
}

/// Item names and weights from any of our results: `items` (AHP, combine)
/// or `criteria` (entropy, CRITIC).
fn read_result(p: &Path) -> Result<(Vec<String>, Vec<f64>)> {
    let file = name(p);
    let v: serde_json::Value = serde_json::from_slice(&files::read(p)?)
        .map_err(|e| InputFailure(format!("{file}:{}: 不是有效的 JSON：{e}", e.line())))?;
    let names = v
        .get("items")
        .or_else(|| v.get("criteria"))
        .and_then(|x| x.as_array());
    let weights = v.get("weights").and_then(|x| x.as_array());
    let (Some(names), Some(weights)) = (names, weights) else {
        return Err(InputFailure(format!(
            "{file}: 应含有 items（或 criteria）与 weights 两个数组"
        ))
        .into());
    };
    let names: Option<Vec<String>> = names
        .iter()
        .map(|n| n.as_str().map(str::to_string))
        .collect();
    let weights: Option<Vec<f64>> = weights.iter().map(|w| w.as_f64()).collect();
    match (names, weights) {
        (Some(n), Some(w)) if n.len() == w.len() => Ok((n, w)),
        _ => Err(InputFailure(format!(
            "{file}: items 应为字符串、weights 应为数字，且个数相同"
        ))
        .into()),
    }
}

fn run_combine(a: CombineArgs) -> Result<ExitCode> {
    let (s_items, s_w) = read_result(&a.subjective)?;
    let (o_items, o_w) = read_result(&a.objective)?;
    let mut o_aligned = Vec::with_capacity(s_items.len());
    for item in &s_items {
        match o_items.iter().position(|x| x == item) {
            Some(i) => o_aligned.push(o_w[i]),
            None => {
                return Err(InputFailure(format!(
                    "{}: 没有主观权重中的项目“{item}”",
                    name(&a.objective)
                ))
                .into());
            }
        }
    }
    if let Some(extra) = o_items.iter().find(|x| !s_items.contains(x)) {
        return Err(InputFailure(format!(
            "{}: 没有客观权重中的项目“{extra}”",
            name(&a.subjective)
        ))
        .into());
    }
    let how = match a.method {
        CombineMethod::Linear => Combination::Linear { alpha: a.alpha },
        CombineMethod::Multiplicative => Combination::Multiplicative,
    };
    let w = combine(&s_w, &o_aligned, how).map_err(|e| InputFailure(e.to_string()))?;
    if a.format == Format::Json {
        print_json(&json!({
            "method": match a.method { CombineMethod::Linear => "linear", CombineMethod::Multiplicative => "multiplicative" },
            "alpha": matches!(a.method, CombineMethod::Linear).then_some(a.alpha),
            "items": s_items,
            "subjective": s_w,
            "objective": o_aligned,
            "weights": w,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["项目", "主观权重", "客观权重", "组合权重"]).right(&[1, 2, 3]);
    for (i, item) in s_items.iter().enumerate() {
        t.row(vec![
            item.clone(),
            fmt_num(s_w[i], 4),
            fmt_num(o_aligned[i], 4),
            fmt_num(w[i], 4),
        ]);
    }
    let label = match a.method {
        CombineMethod::Linear => format!("线性组合（α = {}）", fmt_num(a.alpha, 4)),
        CombineMethod::Multiplicative => "乘法组合".to_string(),
    };
    print!("{label}\n{}", t.render());
    Ok(ExitCode::SUCCESS)
}

fn run_apply(a: ApplyArgs) -> Result<ExitCode> {
    let (items, mut weights) = read_result(&a.result)?;
    let sum: f64 = weights.iter().sum();
    if weights.iter().any(|w| !(0.0..=1.0).contains(w)) || (sum - 1.0).abs() > 1e-6 {
        return Err(InputFailure(format!(
            "{}: 权重应在 0 到 1 之间且合计为 1（实际合计 {sum}）",
            name(&a.result)
        ))
        .into());
    }
    if let Some(d) = a.decimals {
        weights = edit::round_weights(&weights, d.min(12));
    }
    let file = name(&a.framework);
    let src = pingan_input::decode(&files::read(&a.framework)?).into_owned();
    let pairs: Vec<(String, f64)> = items.into_iter().zip(weights).collect();
    let out = edit::set_weights(&src, &a.parent, &pairs)
        .map_err(|e| InputFailure(format!("{file}: {e}")))?;
    let report = pingan_core::framework::check(&out);
    for (code, w) in &pairs {
        println!("{} 的权重 → {}", code, w);
    }
    if !report.errors.is_empty() {
        for l in report.error_lines(&file) {
            eprintln!("{l}");
        }
        eprintln!("写回后的指标体系有错误，未修改文件");
        return Ok(ExitCode::from(1));
    }
    for w in &report.warnings {
        println!("警告  {file}: {}", w.message);
    }
    if a.dry_run {
        println!("（试运行，未修改 {file}）");
    } else {
        std::fs::write(&a.framework, out).with_context(|| format!("无法写入 {file}"))?;
        println!(
            "已写入 {file}：{} 个错误，{} 个警告",
            report.errors.len(),
            report.warnings.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
