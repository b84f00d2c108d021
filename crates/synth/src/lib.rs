//! Synthetic province generator: a region tree, a year range of township
//! values for every element of the default framework, and the national
//! benchmark — CSV texts that `pingan score` reads (scoring.md §6).
//!
//! - `regions.csv`: the province `990000 平安省`, then each city (`99XX00`)
//!   followed by its counties (`99XXYY`), each followed by its townships
//!   (`99XXYYNNN`).
//! - `values.csv`: township rows only (the engine rolls up the rest): for each
//!   township and year, every flow and snapshot element monthly
//!   (`2024-01`…`2024-12`) and every rating and survey mean once (`2024`), in
//!   the order of the framework's elements table. Counts are integers,
//!   `outbreak_response_hours` and ratings carry one decimal, survey means two.
//! - `benchmarks.csv`: `national_criminal_rate` for every year.
//!
//! Pure: the same `Options` always give byte-identical output. Every number
//! comes from a random stream keyed by (seed, region, year, element), so one
//! element's model can change without moving any other column.

mod anomalies;
mod elements;
mod events;
mod map;
mod model;
mod names;
mod outline;
mod quality;
mod regions;
mod rng;
mod series;
mod survey;
mod town;
mod write;

#[cfg(test)]
mod tests;

use std::fmt;

pub use events::{EventOptions, HEADER as EVENTS_HEADER, write_events};
pub use map::generate_boundaries;
pub use survey::{QUESTIONS as SURVEY_QUESTIONS, SurveyFiles, SurveyOptions, generate_survey};

use elements::{ELEMENTS, Format, N_MONTHLY};
use model::{Block, Gen};
use quality::World;
use regions::{MAX_CITIES, MAX_COUNTIES_PER_CITY, MAX_TOWNS_PER_COUNTY};
use rng::{Stream, tag, year_key};
use town::Town;

/// What to generate. `cities`, `counties` and `townships` are province-wide totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Same seed, same bytes. Default 1.
    pub seed: u64,
    /// Cities in the province (1–99). Default 13.
    pub cities: usize,
    /// Counties in the province, spread unevenly over the cities. Default 100.
    pub counties: usize,
    /// Townships in the province, spread unevenly over the counties. Default 1000.
    pub townships: usize,
    /// First year generated. Default 2022. The indicator 重复信访率下降幅度
    /// compares with the previous year, so it is missing for this year.
    pub first_year: i32,
    /// Last year generated (inclusive). Default 2024.
    pub last_year: i32,
    /// Known anomalies to inject into the last year (0: none, and the
    /// files are exactly as without this option).
    pub anomalies: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            cities: 13,
            counties: 100,
            townships: 1000,
            first_year: 2022,
            last_year: 2024,
            anomalies: 0,
        }
    }
}

/// The three CSV files (UTF-8, no BOM, `\n` line ends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub regions: String,
    pub values: String,
    pub benchmarks: String,
    /// `region,element,period,kind` of each injected anomaly (header only
    /// when none were asked for).
    pub anomalies: String,
}

/// Options that cannot produce a valid province.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    NoCities,
    TooManyCities { cities: usize },
    TooFewCounties { cities: usize, counties: usize },
    TooManyCounties { cities: usize, counties: usize },
    TooFewTownships { counties: usize, townships: usize },
    TooManyTownships { counties: usize, townships: usize },
    YearOrder { first_year: i32, last_year: i32 },
    YearOutOfRange { year: i32 },
    TooLarge { rows: u128 },
}

/// Keeps a mistyped option from trying to build tens of gigabytes in memory.
const MAX_VALUE_ROWS: u128 = 25_000_000;
const MIN_YEAR: i32 = 1000;
const MAX_YEAR: i32 = 9999;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::NoCities => write!(f, "城市数必须至少为 1"),
            Error::TooManyCities { cities } => {
                write!(
                    f,
                    "城市数（{cities}）超过 {MAX_CITIES}，无法编入 6 位行政区划代码"
                )
            }
            Error::TooFewCounties { cities, counties } => {
                write!(
                    f,
                    "县（区）数（{counties}）少于城市数（{cities}），每个市至少要有一个县（区）"
                )
            }
            Error::TooManyCounties { cities, counties } => write!(
                f,
                "县（区）数（{counties}）超过城市数 × {MAX_COUNTIES_PER_CITY}（{}），无法编入行政区划代码",
                cities * MAX_COUNTIES_PER_CITY
            ),
            Error::TooFewTownships {
                counties,
                townships,
            } => write!(
                f,
                "乡镇（街道）数（{townships}）少于县（区）数（{counties}），每个县（区）至少要有一个乡镇（街道）"
            ),
            Error::TooManyTownships {
                counties,
                townships,
            } => write!(
                f,
                "乡镇（街道）数（{townships}）超过县（区）数 × {MAX_TOWNS_PER_COUNTY}（{}），无法编入行政区划代码",
                counties * MAX_TOWNS_PER_COUNTY
            ),
            Error::YearOrder {
                first_year,
                last_year,
            } => {
                write!(f, "起始年份（{first_year}）晚于结束年份（{last_year}）")
            }
            Error::YearOutOfRange { year } => {
                write!(f, "年份（{year}）超出 {MIN_YEAR}–{MAX_YEAR} 的范围")
            }
            Error::TooLarge { rows } => write!(
                f,
                "将生成约 {rows} 行数据，超过上限 {MAX_VALUE_ROWS} 行，请减少乡镇数或年份数"
            ),
        }
    }
}

impl std::error::Error for Error {}

fn validate(o: &Options) -> Result<(), Error> {
    if o.cities == 0 {
        return Err(Error::NoCities);
    }
    if o.cities > MAX_CITIES {
        return Err(Error::TooManyCities { cities: o.cities });
    }
    if o.counties < o.cities {
        return Err(Error::TooFewCounties {
            cities: o.cities,
            counties: o.counties,
        });
    }
    if o.counties > o.cities * MAX_COUNTIES_PER_CITY {
        return Err(Error::TooManyCounties {
            cities: o.cities,
            counties: o.counties,
        });
    }
    if o.townships < o.counties {
        return Err(Error::TooFewTownships {
            counties: o.counties,
            townships: o.townships,
        });
    }
    if o.townships > o.counties * MAX_TOWNS_PER_COUNTY {
        return Err(Error::TooManyTownships {
            counties: o.counties,
            townships: o.townships,
        });
    }
    if o.first_year > o.last_year {
        return Err(Error::YearOrder {
            first_year: o.first_year,
            last_year: o.last_year,
        });
    }
    for year in [o.first_year, o.last_year] {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(Error::YearOutOfRange { year });
        }
    }
    let years = (o.last_year - o.first_year + 1) as u128;
    let per_year = (N_MONTHLY * 12 + ELEMENTS.len() - N_MONTHLY) as u128;
    let rows = o.townships as u128 * years * per_year;
    if rows > MAX_VALUE_ROWS {
        return Err(Error::TooLarge { rows });
    }
    Ok(())
}

/// National criminal rate (起/10万人): ~360 in 2022, easing ~2.5 % a year.
fn national_criminal_rate(seed: u64, year: i32) -> f64 {
    let wobble = Stream::new(&[seed, tag::BENCHMARK, year_key(year)]).gauss(0.0, 0.008);
    // Capped like the model's trend, so a far year never reaches 0 (which the
    // engine rejects for a relative rule).
    360.0 * 0.975f64.powi((year - 2022).clamp(-30, 30)) * (1.0 + wobble)
}

/// Build the three files. Errors only on options that cannot make a valid
/// province (see [`Error`]); never panics on any `Options`.
pub fn generate(opts: &Options) -> Result<Output, Error> {
    validate(opts)?;
    let tree = regions::build(opts.seed, opts.cities, opts.counties, opts.townships);
    let world = World::new(opts.seed, &tree, opts.first_year, opts.last_year);
    let years: Vec<i32> = (opts.first_year..=opts.last_year).collect();

    let rows_per_town = years.len() * (N_MONTHLY * 12 + ELEMENTS.len() - N_MONTHLY);
    let mut values = String::with_capacity(16 + tree.towns.len() * rows_per_town * 46);
    // Injected anomalies may add a second source for a key: the file then
    // has a source column (empty on every ordinary row).
    let with_source = opts.anomalies > 0;
    values.push_str(if with_source {
        "region,period,element,value,source\n"
    } else {
        "region,period,element,value\n"
    });
    let plans = anomalies::plan(opts.seed, &tree, opts.anomalies);
    let mut plans_of: Vec<Vec<&anomalies::Plan>> = vec![Vec::new(); tree.towns.len()];
    for p in &plans {
        plans_of[p.town].push(p);
    }
    let mut injected = Vec::new();
    let generator = Gen::new();
    let mut block = Block::new();
    let mut earlier: Vec<Block> = Vec::new();
    for (i, t) in tree.towns.iter().enumerate() {
        let town = Town::new(&world, &tree, i);
        earlier.clear();
        for &year in &years {
            generator.town_year(&world, &town, year, &mut block);
            if year == opts.last_year && !plans_of[i].is_empty() {
                anomalies::apply(
                    opts.seed,
                    &t.code,
                    year,
                    &plans_of[i],
                    &mut block,
                    &earlier,
                    &mut injected,
                );
            } else if !plans_of[i].is_empty() {
                earlier.push(block.clone());
            }
            write::block(&mut values, &t.code, year, &block, with_source);
        }
    }
    let mut anomalies = String::from("region,element,period,kind\n");
    for a in &injected {
        if let Some((period, value, source)) = &a.extra {
            for f in [a.region.as_str(), period, a.element, value, source] {
                values.push_str(f);
                values.push(',');
            }
            values.pop();
            values.push('\n');
        }
        for f in [a.region.as_str(), a.element, &a.period, a.kind] {
            anomalies.push_str(f);
            anomalies.push(',');
        }
        anomalies.pop();
        anomalies.push('\n');
    }

    let mut benchmarks = String::from("benchmark,period,value\n");
    for &year in &years {
        benchmarks.push_str("national_criminal_rate,");
        write::uint(&mut benchmarks, year as u64);
        benchmarks.push(',');
        let v = (national_criminal_rate(opts.seed, year) * 10.0).round() as u64;
        write::scaled(&mut benchmarks, v, Format::Tenths);
        benchmarks.push('\n');
    }

    Ok(Output {
        regions: regions::write_csv(&tree),
        values,
        benchmarks,
        anomalies,
    })
}
