//! Forecasts of monthly series (issue 22, `forecast.md`): a forecast earns
//! its place only by beating "the same month last year". Each series gets
//! the seasonal naive forecast and MSTL (a yearly season) with an AutoETS
//! trend from `augurs`; a rolling-origin backtest on the series' own last
//! years picks the one with the lower MASE, and the seasonal naive wins
//! ties and every series too short to test.

use augurs_core::{Fit, Predict};
use augurs_ets::AutoETS;
use augurs_mstl::MSTLModel;

/// Months in a season.
pub const SEASON: usize = 12;
/// Months a series needs before it is forecast at all (forecast.md §1).
pub const MIN_MONTHS: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Model {
    /// The same month one year earlier, repeated.
    SeasonalNaive,
    /// MSTL with a yearly season and an AutoETS trend.
    MstlEts,
}

impl Model {
    pub const ALL: [Model; 2] = [Model::SeasonalNaive, Model::MstlEts];

    pub fn name(self) -> &'static str {
        match self {
            Model::SeasonalNaive => "seasonal_naive",
            Model::MstlEts => "mstl_ets",
        }
    }
}

/// Point forecasts with the central prediction interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub point: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// The empirical `q` quantile (0–1) of `xs`, by linear interpolation.
fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    match s.get(i + 1) {
        Some(next) => s[i] + f * (next - s[i]),
        None => s[i],
    }
}

/// The seasonal naive forecast: the last season repeated. Its interval
/// comes from the series' own year-on-year differences (their empirical
/// quantiles), widened by √k in the k-th year ahead, as a random walk's.
pub fn seasonal_naive(y: &[f64], horizon: usize, level: f64) -> Forecast {
    let n = y.len();
    let diffs: Vec<f64> = (SEASON..n).map(|t| y[t] - y[t - SEASON]).collect();
    let (qlo, qhi) = (
        quantile(&diffs, (1.0 - level) / 2.0),
        quantile(&diffs, (1.0 + level) / 2.0),
    );
    let mut f = Forecast {
        point: Vec::with_capacity(horizon),
        lo: Vec::with_capacity(horizon),
        hi: Vec::with_capacity(horizon),
    };
    for h in 0..horizon {
        let p = y[n - SEASON + h % SEASON];
        let k = ((h / SEASON + 1) as f64).sqrt();
        f.point.push(p);
        f.lo.push(p + qlo * k);
        f.hi.push(p + qhi * k);
    }
    f
}

/// MSTL with a yearly season and an AutoETS trend; None when it cannot be
/// fitted (a constant series, say) or gives no finite numbers.
pub fn mstl_ets(y: &[f64], horizon: usize, level: f64) -> Option<Forecast> {
    let trend = AutoETS::non_seasonal().into_trend_model();
    let model = MSTLModel::new(vec![SEASON], trend);
    let fitted = model.fit(y).ok()?;
    let out = fitted.predict(horizon, level).ok()?;
    let iv = out.intervals?;
    let f = Forecast {
        point: out.point,
        lo: iv.lower,
        hi: iv.upper,
    };
    let finite = f
        .point
        .iter()
        .chain(&f.lo)
        .chain(&f.hi)
        .all(|v| v.is_finite());
    (finite && f.point.len() == horizon).then_some(f)
}

pub fn predict(model: Model, y: &[f64], horizon: usize, level: f64) -> Option<Forecast> {
    match model {
        Model::SeasonalNaive => Some(seasonal_naive(y, horizon, level)),
        Model::MstlEts => mstl_ets(y, horizon, level),
    }
}

/// The in-sample scale of MASE: the mean absolute year-on-year difference
/// of the training months (forecast.md §2).
pub fn scale(train: &[f64]) -> f64 {
    let d: Vec<f64> = (SEASON..train.len())
        .map(|t| (train[t] - train[t - SEASON]).abs())
        .collect();
    if d.is_empty() {
        0.0
    } else {
        d.iter().sum::<f64>() / d.len() as f64
    }
}

/// MASE of `forecast` against `actual` on the scale of `train`; None when
/// the scale is zero (a series that never changes year on year).
pub fn mase(train: &[f64], actual: &[f64], forecast: &[f64]) -> Option<f64> {
    let q = scale(train);
    if q <= 0.0 || actual.is_empty() {
        return None;
    }
    let e: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum::<f64>()
        / actual.len() as f64;
    Some(e / q)
}

/// One model's backtest: its mean MASE over the origins and the share of
/// held-out values inside its interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Backtest {
    pub model: Model,
    pub mase: Option<f64>,
    pub coverage: Option<f64>,
    /// Held-out values scored.
    pub n: usize,
    /// How much the model's interval must widen so that `level` of the
    /// held-out values fall inside (at least 1): its intervals are
    /// calibrated on the series' own past, not taken on trust.
    pub widen: f64,
}

/// The most an interval is widened (a model whose interval missed by more
/// is not one to trust further anyway).
pub const MAX_WIDEN: f64 = 10.0;

/// Rolling-origin backtest on the series' last years: origins one and two
/// years before its end (each leaving at least `MIN_MONTHS` to train on),
/// a forecast of up to a year from each.
pub fn backtest(y: &[f64], level: f64) -> Vec<Backtest> {
    let n = y.len();
    let origins: Vec<usize> = [SEASON, 2 * SEASON]
        .iter()
        .filter_map(|back| n.checked_sub(*back))
        .filter(|o| *o >= MIN_MONTHS)
        .collect();
    Model::ALL
        .iter()
        .map(|&model| {
            let (mut mases, mut inside, mut total) = (Vec::new(), 0usize, 0usize);
            let mut ratios = Vec::new();
            for &o in &origins {
                let h = (n - o).min(SEASON);
                let (train, actual) = (&y[..o], &y[o..o + h]);
                let Some(f) = predict(model, train, h, level) else {
                    continue;
                };
                if let Some(m) = mase(train, actual, &f.point) {
                    mases.push(m);
                }
                for (k, a) in actual.iter().enumerate() {
                    total += 1;
                    if f.lo[k] <= *a && *a <= f.hi[k] {
                        inside += 1;
                    }
                    let p = f.point[k];
                    let half = if *a >= p { f.hi[k] - p } else { p - f.lo[k] };
                    let miss = (a - p).abs();
                    ratios.push(if miss == 0.0 {
                        0.0
                    } else if half > 0.0 {
                        (miss / half).min(MAX_WIDEN)
                    } else {
                        MAX_WIDEN
                    });
                }
            }
            Backtest {
                model,
                mase: (!mases.is_empty()).then(|| mases.iter().sum::<f64>() / mases.len() as f64),
                coverage: (total > 0).then(|| inside as f64 / total as f64),
                n: total,
                widen: quantile(&ratios, level).max(1.0),
            }
        })
        .collect()
}

/// The model a backtest picks: MSTL only where its MASE is lower than the
/// seasonal naive's.
pub fn choose(tests: &[Backtest]) -> Model {
    let of = |m: Model| tests.iter().find(|t| t.model == m).and_then(|t| t.mase);
    match (of(Model::MstlEts), of(Model::SeasonalNaive)) {
        (Some(a), Some(b)) if a < b => Model::MstlEts,
        _ => Model::SeasonalNaive,
    }
}

/// A series forecast: the chosen model, its forecast, and the backtest
/// that chose it.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub model: Model,
    pub forecast: Forecast,
    pub backtest: Vec<Backtest>,
}

/// Forecast `y` (at least `MIN_MONTHS` months, oldest first) for
/// `horizon` months; None for a shorter series.
pub fn forecast(y: &[f64], horizon: usize, level: f64) -> Option<Outcome> {
    if y.len() < MIN_MONTHS || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let backtest = backtest(y, level);
    let mut model = choose(&backtest);
    let mut forecast = match predict(model, y, horizon, level) {
        Some(f) => f,
        None => {
            model = Model::SeasonalNaive;
            seasonal_naive(y, horizon, level)
        }
    };
    let widen = backtest
        .iter()
        .find(|t| t.model == model)
        .map_or(1.0, |t| t.widen);
    for k in 0..horizon {
        let p = forecast.point[k];
        forecast.lo[k] = p - widen * (p - forecast.lo[k]);
        forecast.hi[k] = p + widen * (forecast.hi[k] - p);
    }
    // A series that was never negative (counts, minutes) is not forecast
    // below 0: a trend extrapolated through zero is not a value it can take.
    if y.iter().all(|v| *v >= 0.0) {
        for v in forecast
            .point
            .iter_mut()
            .chain(&mut forecast.lo)
            .chain(&mut forecast.hi)
        {
            *v = v.max(0.0);
        }
    }
    Some(Outcome {
        model,
        forecast,
        backtest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_falling_to_zero_is_not_forecast_below_it() {
        // Three years of a count falling steadily towards nothing.
        let y: Vec<f64> = (0..36)
            .map(|i| (40.0 - i as f64 * 1.1).max(0.0).round())
            .collect();
        let o = forecast(&y, 12, 0.8).unwrap();
        for v in o
            .forecast
            .point
            .iter()
            .chain(&o.forecast.lo)
            .chain(&o.forecast.hi)
        {
            assert!(*v >= 0.0, "{:?}", o.forecast);
        }
        // A series that takes negative values keeps its negative forecasts.
        let d: Vec<f64> = y.iter().map(|v| v - 20.0).collect();
        let o = forecast(&d, 12, 0.8).unwrap();
        assert!(o.forecast.lo.iter().any(|v| *v < 0.0));
    }

    /// Monthly counts with a yearly season, a slow trend and noise from a
    /// fixed generator.
    fn seasonal(years: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut noise = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 8.0
        };
        (0..years * 12)
            .map(|t| {
                let season = 20.0 * (2.0 * std::f64::consts::PI * t as f64 / 12.0).sin();
                100.0 + 0.3 * t as f64 + season + noise()
            })
            .collect()
    }

    #[test]
    fn the_seasonal_naive_repeats_last_year() {
        let y: Vec<f64> = (0..36).map(|t| (t % 12) as f64).collect();
        let f = seasonal_naive(&y, 15, 0.8);
        assert_eq!(f.point[..12], y[24..36]);
        assert_eq!(f.point[12..], y[24..27]);
        // No year-on-year change: a zero-width interval, and no MASE scale.
        assert_eq!(f.lo, f.point);
        assert_eq!(mase(&y, &y[..3], &y[..3]), None);
    }

    #[test]
    fn mase_and_the_scale_follow_the_contract() {
        let train: Vec<f64> = (0..24).map(|t| t as f64).collect();
        // Every year-on-year difference is 12.
        assert_eq!(scale(&train), 12.0);
        assert_eq!(mase(&train, &[10.0, 20.0], &[16.0, 20.0]), Some(0.25));
    }

    #[test]
    fn on_a_known_season_the_backtest_holds_up_against_the_naive() {
        let mut beaten = 0;
        for seed in 1..=6 {
            let y = seasonal(5, seed);
            let tests = backtest(&y, 0.8);
            let naive = tests[0].mase.unwrap();
            let mstl = tests[1].mase.unwrap();
            // A trend the naive cannot follow: MSTL is near it or better.
            assert!(mstl < naive * 1.25, "seed {seed}: {mstl} vs {naive}");
            if mstl < naive {
                beaten += 1;
            }
            let out = forecast(&y, 12, 0.8).unwrap();
            assert_eq!(out.model, choose(&out.backtest));
            assert_eq!(out.forecast.point.len(), 12);
            for k in 0..12 {
                assert!(out.forecast.lo[k] <= out.forecast.point[k]);
                assert!(out.forecast.point[k] <= out.forecast.hi[k]);
            }
            let cov = tests[0].coverage.unwrap();
            assert!((0.4..=1.0).contains(&cov), "naive coverage {cov}");
            // Widened by its own misses: the chosen model's held-out values
            // would fall inside at the level asked for.
            let t = out.backtest.iter().find(|t| t.model == out.model).unwrap();
            assert!((1.0..=MAX_WIDEN).contains(&t.widen), "{t:?}");
        }
        assert!(beaten >= 3, "MSTL beat the naive on {beaten} of 6");
    }

    #[test]
    fn short_or_broken_series_are_not_forecast() {
        assert!(forecast(&[1.0; 23], 12, 0.8).is_none());
        let mut y = seasonal(3, 1);
        y[5] = f64::NAN;
        assert!(forecast(&y, 12, 0.8).is_none());
        // A constant series: the naive, with a zero-width interval.
        let out = forecast(&[5.0; 36], 6, 0.8).unwrap();
        assert_eq!(out.model, Model::SeasonalNaive);
        assert_eq!(out.forecast.point, vec![5.0; 6]);
    }
}
