//! One risk run: every region's series forecast, the year assessed over
//! the forecasts' draws, and what the pages read of it.

use super::{
    ElementBacktest, ElementTrust, ForecastBody, LEVEL, MIN_P, RiskView, SHOWN_MONTHS, Tested,
    Warning,
};
use crate::error::{Result, ServiceError};
use pingan_core::calibration::Isotonic;
use pingan_core::data::DataSet;
use pingan_core::risk::{self, Series};
use pingan_core::{Period, RegionTree};

/// What one assessment covers.
pub(crate) struct Span<'a> {
    pub year: i32,
    pub from_month: u8,
    pub elements: &'a [usize],
    pub history: &'a [i32],
    pub draws: usize,
}

/// A run's view, its forecasts to keep, and every risk (the list keeps
/// only the likelier ones).
pub(crate) type Computed = (RiskView, Vec<pingan_store::ForecastRow>, Vec<risk::Risk>);

pub(super) fn compute(
    fw: &pingan_core::Framework,
    tree: &RegionTree,
    data: &DataSet,
    span: Span,
    recalibrate: Option<&Isotonic>,
) -> Result<Computed> {
    let Span {
        year,
        from_month,
        elements,
        history,
        draws,
    } = span;
    let period = Period::Month(year, from_month);
    let train_end = period.prev();
    let regions: Vec<usize> = (0..tree.len()).collect();
    let clock = std::time::Instant::now();
    let series = risk::monthly_series(fw, tree, data, &regions, elements, train_end);
    let horizon = (13 - from_month) as usize;
    // A forecast is heavy (a backtest and an MSTL fit): split from few.
    let outcomes = pingan_core::par::map_from(&series, 64, |(_, _, y)| {
        pingan_forecast::forecast(y, horizon, LEVEL)
    });
    let mut phases = vec![("预测（含回测）".to_string(), clock.elapsed().as_secs_f64())];
    let clock = std::time::Instant::now();
    let ahead: Vec<String> = (from_month..=12)
        .map(|m| Period::Month(year, m).to_string())
        .collect();
    let mut drawn = Vec::new();
    let mut rows = Vec::new();
    let mut trust: rustc_hash::FxHashMap<(usize, usize), ElementTrust> = Default::default();
    for ((r, e, y), o) in series.iter().zip(&outcomes) {
        let Some(o) = o else { continue };
        let f = &o.forecast;
        drawn.push(Series {
            region: *r,
            element: *e,
            point: f.point.clone(),
            sigma: f
                .lo
                .iter()
                .zip(&f.hi)
                .map(|(lo, hi)| risk::sigma(*lo, *hi, LEVEL))
                .collect(),
        });
        let tested: Vec<Tested> = o
            .backtest
            .iter()
            .map(|t| Tested {
                model: t.model.name().to_string(),
                mase: t.mase,
                coverage: t.coverage,
            })
            .collect();
        let of = |m: pingan_forecast::Model| o.backtest.iter().find(|t| t.model == m);
        let chosen = of(o.model);
        trust.insert(
            (*r, *e),
            ElementTrust {
                code: fw.elements[*e].code.clone(),
                name: fw.elements[*e].name.clone(),
                model: o.model.name().to_string(),
                mase: chosen.and_then(|t| t.mase),
                naive_mase: of(pingan_forecast::Model::SeasonalNaive).and_then(|t| t.mase),
                coverage: chosen.and_then(|t| t.coverage),
            },
        );
        let shown = y.len().min(SHOWN_MONTHS);
        let mut months = Vec::with_capacity(shown);
        let mut p = train_end;
        for _ in 0..shown {
            months.push(p.to_string());
            p = p.prev();
        }
        months.reverse();
        let body = ForecastBody {
            months,
            history: y[y.len() - shown..].to_vec(),
            ahead: ahead.clone(),
            point: f.point.clone(),
            lo: f.lo.clone(),
            hi: f.hi.clone(),
            model: o.model.name().to_string(),
            backtest: tested,
        };
        rows.push(pingan_store::ForecastRow {
            region: tree.get(*r).code.clone(),
            element: fw.elements[*e].code.clone(),
            first: period.to_string(),
            model: o.model.name().to_string(),
            body: serde_json::to_string(&body)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
        });
    }
    let skipped = outcomes.iter().filter(|o| o.is_none()).count();
    let mut risks = risk::assess(&risk::Setup {
        fw,
        tree,
        data,
        year,
        from_month,
        series: &drawn,
        draws,
        seed: year as u64,
        history,
    })
    .map_err(|e| ServiceError::invalid(e.to_string()))?;
    phases.push(("蒙特卡洛评估".to_string(), clock.elapsed().as_secs_f64()));
    // The model's probabilities as they turned out in the year before.
    let model_p: Vec<f64> = risks.iter().map(|x| x.p_loss).collect();
    if let Some(m) = recalibrate {
        for x in &mut risks {
            x.p_loss = m.apply(x.p_loss);
        }
    }
    let placed = fw.indicators();
    let mut totals: rustc_hash::FxHashMap<usize, f64> = Default::default();
    let mut warnings = Vec::new();
    for (x, p_model) in risks.iter().zip(&model_p) {
        *totals.entry(x.region).or_default() += x.expected_loss;
        if x.p_loss < MIN_P && x.p_veto == 0.0 {
            continue;
        }
        let ind = placed[x.indicator].indicator;
        let reg = tree.get(x.region);
        warnings.push(Warning {
            region: reg.code.clone(),
            region_name: reg.name.clone(),
            level: reg.level.code().to_string(),
            indicator: ind.code.clone(),
            indicator_name: ind.name.clone(),
            unit: ind.unit.clone(),
            max: x.max,
            value: x.value,
            points: x.points,
            low: x.low,
            high: x.high,
            p_loss: x.p_loss,
            p_model: *p_model,
            p_veto: x.p_veto,
            expected_loss: x.expected_loss,
            years: history.to_vec(),
            history: x.history.clone(),
            thresholds: x
                .thresholds
                .iter()
                .map(|(v, k)| (*v, k.label().to_string()))
                .collect(),
            elements: ind
                .formula
                .elements()
                .iter()
                .filter_map(|e| trust.get(&(x.region, *e)).cloned())
                .collect(),
        });
    }
    let mut totals: Vec<(String, f64)> = totals
        .into_iter()
        .map(|(r, v)| (tree.get(r).code.clone(), v))
        .collect();
    totals.sort_by(|a, b| a.0.cmp(&b.0));
    let backtest = elements
        .iter()
        .map(|&e| {
            let mut n = 0;
            let (mut m, mut nm, mut cov, mut mstl) = (Vec::new(), Vec::new(), Vec::new(), 0);
            for ((_, se, _), o) in series.iter().zip(&outcomes) {
                let Some(o) = o.as_ref().filter(|_| *se == e) else {
                    continue;
                };
                n += 1;
                let of = |k: pingan_forecast::Model| o.backtest.iter().find(|t| t.model == k);
                if let Some(x) = of(o.model).and_then(|t| t.mase) {
                    m.push(x);
                }
                if let Some(x) = of(pingan_forecast::Model::SeasonalNaive).and_then(|t| t.mase) {
                    nm.push(x);
                }
                if let Some(x) = of(o.model).and_then(|t| t.coverage) {
                    cov.push(x);
                }
                mstl += usize::from(o.model == pingan_forecast::Model::MstlEts);
            }
            let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
            ElementBacktest {
                code: fw.elements[e].code.clone(),
                name: fw.elements[e].name.clone(),
                series: n,
                mase: mean(&m),
                naive_mase: mean(&nm),
                coverage: mean(&cov),
                mstl_share: if n > 0 { mstl as f64 / n as f64 } else { 0.0 },
            }
        })
        .collect();
    Ok((
        RiskView {
            period: period.to_string(),
            year,
            train_end: train_end.to_string(),
            draws,
            series: series.len(),
            skipped,
            seconds: 0.0,
            phases,
            backtest,
            totals,
            warnings,
            made_at: String::new(),
            made_by: String::new(),
            calibration: None,
        },
        rows,
        risks,
    ))
}
