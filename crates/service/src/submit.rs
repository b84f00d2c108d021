//! The department channels (seed §3.2): the Excel template a department
//! downloads for its scope, the filled template read back, and the web
//! form's grid. Each turns into the one values import (`values::import`).

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::intake::{At, Channel, Intake, ValueBatch};
use crate::{Authorized, cap};
use pingan_core::{Framework, Period, RegionTree};
use pingan_input::excel::{TemplateSpec, base_regions, read_template_partly, write_template};
use pingan_store::{DataSet, SetFilter};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The departments a caller may submit for: its own, or any for the office.
pub fn departments(who: &crate::Caller, fw: &Framework) -> Vec<String> {
    let set: BTreeSet<String> = fw
        .elements
        .iter()
        .map(|e| e.department.clone())
        .filter(|d| !d.is_empty() && who.submits_for(d))
        .collect();
    set.into_iter().collect()
}

/// Periods as a form gives them: `2024-06`, several separated by commas,
/// or a year for its twelve months.
pub fn parse_periods(s: &str) -> Result<Vec<Period>> {
    let mut out = Vec::new();
    for part in s.split([',', '，', ' ']).filter(|p| !p.trim().is_empty()) {
        match part.trim().parse::<Period>() {
            Ok(Period::Year(y)) => out.extend(Period::months(y)),
            Ok(p) => out.push(p),
            Err(e) => return Err(ServiceError::invalid(e.to_string())),
        }
    }
    if out.is_empty() {
        return Err(ServiceError::invalid(
            "请填写期间，如 2024-06；填年份（2024）则生成 12 个月份工作表",
        ));
    }
    out.dedup();
    Ok(out)
}

/// What a template or a form covers: a department the caller may report
/// for, the framework of the periods' year, and the base regions under the
/// chosen region (the caller's scope by default).
pub struct Scope {
    pub department: String,
    pub fw: Framework,
    pub tree: Arc<RegionTree>,
    pub regions: Vec<usize>,
}

pub async fn scope(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    department: Option<&str>,
    periods: &[Period],
    region: Option<&str>,
) -> Result<Scope> {
    let year = periods.iter().map(|p| p.year()).max().unwrap_or(0);
    let fw = ctx
        .store
        .framework_for_year(year)
        .await?
        .unwrap_or_else(pingan_core::default_framework);
    let department = department.unwrap_or_default().to_string();
    if !departments(who, &fw).contains(&department) {
        return Err(ServiceError::forbidden(format!(
            "无权报送部门“{department}”的数据"
        )));
    }
    let tree = ctx.tree().await?;
    let region = region
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or(who.region.clone());
    let root = match region {
        Some(code) => Some(who.region_in_scope(&tree, &code)?),
        None => None,
    };
    let regions = base_regions(&tree, root, periods);
    Ok(Scope {
        department,
        fw,
        tree,
        regions,
    })
}

/// A department's Excel template for some periods under a region: the
/// file name and the workbook.
pub async fn template(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    department: Option<&str>,
    periods: &str,
    region: Option<&str>,
) -> Result<(String, Vec<u8>)> {
    let periods = parse_periods(periods)?;
    let s = scope(ctx, who, department, &periods, region).await?;
    let bytes = write_template(
        &s.fw,
        &s.tree,
        &TemplateSpec {
            department: &s.department,
            periods: &periods,
            regions: &s.regions,
            prefill: None,
        },
    )
    .map_err(ServiceError::Invalid)?;
    let name = format!(
        "{}报送模板{}.xlsx",
        s.department,
        periods.first().map(|p| p.to_string()).unwrap_or_default()
    );
    Ok((name, bytes))
}

/// A filled template as a batch: every bad cell named, the department's
/// own elements under its own source. Also the count of cells left blank.
pub async fn workbook(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    name: &str,
    bytes: &[u8],
) -> Result<(ValueBatch, usize)> {
    let fw = Arc::new(ctx.store.known_codes().await?);
    let tree = ctx.tree().await?;
    let (filled, unread) = read_template_partly(name, bytes, &fw, &tree).map_err(|errs| {
        ServiceError::Rejected(
            errs.into_iter()
                .map(|m| crate::Problem::new(crate::Loc::Whole, m))
                .collect(),
        )
    })?;
    // The template's indices are into this framework and tree.
    let mut intake = Intake::over(
        who,
        Channel::Workbook {
            name: name.to_string(),
            sheets: filled.sheets.clone(),
        },
        fw,
        tree,
    )?;
    if !departments(who, intake.framework()).contains(&filled.department) {
        // Said once for the file, not again for each of its cells.
        return Err(ServiceError::Rejected(vec![crate::Problem::new(
            crate::Loc::File {
                file: name.to_string(),
                line: None,
            },
            format!(
                "这是部门“{}”的模板，当前账户无权报送该部门的数据",
                filled.department
            ),
        )]));
    }
    // Cells that could not be read are named together with what the
    // rules say of the readable ones (`Intake::finish`).
    for m in unread.iter() {
        intake.problem_whole(m);
    }
    if filled.values.is_empty() && unread.is_empty() {
        intake.refuse_whole("模板中没有填写任何数值");
    }
    for v in &filled.values {
        let at = At::Cell {
            sheet: v.sheet,
            row: v.row,
            col: v.col,
        };
        let dept = &intake.framework().elements[v.element].department;
        if *dept != filled.department {
            let m = format!(
                "数据项 {} 不属于部门“{}”",
                intake.framework().elements[v.element].code,
                filled.department
            );
            intake.refuse(at, m);
            continue;
        }
        if let Err(m) = intake.push(
            at,
            v.region,
            v.period,
            v.element,
            v.value,
            &filled.department,
            "",
        ) {
            intake.problem(at, m);
        }
    }
    let batch = intake.finish(name, pingan_store::sha256_hex(bytes))?;
    Ok((batch, filled.blank))
}

/// More rows than this make a page nobody can fill in; narrow the region.
pub const FORM_ROWS: usize = 300;

/// What the web form edits: one department, one period, the base regions.
pub struct FormScope {
    pub department: String,
    /// The region the form was asked for (its base regions are the rows),
    /// as given; none = the caller's whole scope.
    pub region: Option<String>,
    pub period: Period,
    pub regions: Vec<usize>,
    pub elements: Vec<usize>,
    pub fw: Framework,
    pub tree: Arc<RegionTree>,
    /// The review state of each region's set (region code → set), where
    /// one entered review.
    pub sets: HashMap<String, DataSet>,
    /// The latest stored value of each (region, element).
    pub values: HashMap<(usize, usize), f64>,
}

pub async fn form(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    department: Option<&str>,
    period: Option<&str>,
    region: Option<&str>,
) -> Result<FormScope> {
    let period = period
        .unwrap_or("")
        .trim()
        .parse::<Period>()
        .map_err(|e| ServiceError::invalid(e.to_string()))?;
    let s = scope(ctx, who, department, &[period], region).await?;
    if s.regions.len() > FORM_ROWS {
        return Err(ServiceError::invalid(format!(
            "所选范围有 {} 个基层地区，网页表单一次最多 {FORM_ROWS} 个：请填写更小的地区代码，或使用 Excel 模板",
            s.regions.len()
        )));
    }
    let elements = pingan_input::excel::department_elements(&s.fw, &s.department);
    let sets = ctx
        .store
        .data_sets(&SetFilter {
            period: Some(period.to_string()),
            department: Some(s.department.clone()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|d| (d.key.region.clone(), d))
        .collect();
    let mut f = FormScope {
        department: s.department,
        region: region
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string),
        period,
        regions: s.regions,
        elements,
        fw: s.fw,
        tree: s.tree,
        sets,
        values: HashMap::new(),
    };
    f.values = current(ctx, &f).await;
    Ok(f)
}

/// The latest stored value of each (region, element) of the form: one
/// primary-key lookup per region, not a read of the whole year.
async fn current(ctx: &Ctx, s: &FormScope) -> HashMap<(usize, usize), f64> {
    let mut latest: HashMap<(usize, usize), (String, f64)> = HashMap::new();
    let period = s.period.to_string();
    for &r in &s.regions {
        let Ok(rows) = ctx
            .store
            .values(Some(&s.tree.get(r).code), Some(&period), None)
            .await
        else {
            continue;
        };
        for v in rows {
            let Some(e) = s.fw.element_index(&v.element) else {
                continue;
            };
            let slot = latest.entry((r, e)).or_insert((String::new(), v.value));
            // Latest first, the first source on a tie: as scoring reads them.
            if v.submitted_at > slot.0 {
                *slot = (v.submitted_at, v.value);
            }
        }
    }
    latest.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

/// The cells a form changed (region, element, new text), as a batch; a
/// cell that is not a number is named by its region and element.
pub async fn form_batch(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    s: &FormScope,
    changed: &[(usize, usize, String)],
) -> Result<ValueBatch> {
    let mut intake = Intake::open(ctx, who, Channel::Form).await?;
    if changed.is_empty() {
        intake.refuse_whole("没有改动任何数值");
    }
    for (r, e, text) in changed {
        let (region, element) = (&s.tree.get(*r).code, &s.fw.elements[*e].code);
        let (Some(r2), Some(e2)) = (
            intake.tree().find(region),
            intake.framework().element_index(element),
        ) else {
            continue;
        };
        let at = At::Form {
            region: r2,
            element: e2,
        };
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => {
                if let Err(m) = intake.push(at, r2, s.period, e2, v + 0.0, &s.department, "") {
                    intake.problem(at, m);
                }
            }
            _ => intake.problem(at, format!("“{}”不是数字", text.trim())),
        }
    }
    // The content's hash, over the same text a values.csv of these cells
    // would have.
    let mut text = String::from("region,period,element,value,source\n");
    for line in intake.rows_as_csv() {
        text.push_str(&line);
    }
    intake.finish("网页填报", pingan_store::sha256_hex(text.as_bytes()))
}
