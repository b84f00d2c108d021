//! A synthetic citizen survey on the default questionnaire
//! (`frameworks/survey-2024`): the sampling frame (every township, its
//! population aged 16+), county margins by sex and age group, and the
//! responses of a stratified sample — with too-fast, incomplete and
//! inconsistent answers, straightliners and ODK-style resubmissions, as a
//! real survey firm delivers them. Pure and keyed like the rest.

use crate::regions::{self, TownKind};
use crate::rng::{Stream, year_key};
use crate::{Error, Options, validate};
use std::fmt::Write;

/// Stream tags of the survey (after the province's own).
mod tag {
    pub const POPULATION: u64 = 101;
    pub const MOOD: u64 = 102;
    pub const RESPONDENT: u64 = 103;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyOptions {
    /// The survey's year (answers are given in its October and November).
    pub year: i32,
    /// Respondents asked for over the province (≈ distinct responses).
    pub respondents: usize,
}

impl Default for SurveyOptions {
    fn default() -> Self {
        SurveyOptions {
            year: 2024,
            respondents: 100_000,
        }
    }
}

/// `frame.csv`, `margins.csv` and `responses.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyFiles {
    pub frame: String,
    pub margins: String,
    pub responses: String,
}

/// The answered questions of the default questionnaire, in its order.
pub const QUESTIONS: [&str; 18] = [
    "sex",
    "age_group",
    "occupation",
    "residence",
    "years_here",
    "q_safety",
    "q_safety_home",
    "q_night",
    "q_police",
    "q_dependants",
    "q_elderly_child",
    "q_food",
    "q_traffic",
    "q_environment",
    "q_service",
    "q_dispute",
    "problems",
    "suggestions",
];

/// The scored five-point items (choices "1" best … "5" worst, "9" 说不清).
const SCORED: [&str; 10] = [
    "q_safety",
    "q_safety_home",
    "q_night",
    "q_police",
    "q_elderly_child",
    "q_food",
    "q_traffic",
    "q_environment",
    "q_service",
    "q_dispute",
];

const AGE: [(&str, f64); 4] = [
    ("16_29", 0.20),
    ("30_44", 0.27),
    ("45_59", 0.28),
    ("60_plus", 0.25),
];
/// Who answers: younger people answer online more, so the sample leans
/// young and raking has work to do.
const AGE_SAMPLE: [f64; 4] = [0.28, 0.32, 0.25, 0.15];
const SEX: [(&str, f64); 2] = [("m", 0.51), ("f", 0.49)];
const OCCUPATIONS: [&str; 7] = [
    "civil", "company", "self", "farmer", "student", "retired", "other",
];
/// What people write as the problem most in need of solving; a county and
/// a township each have their own most common one, so that the comments
/// page has something to find.
const PROBLEMS: [&str; 12] = [
    "夜间路灯不足，走夜路不安全",
    "电信网络诈骗较多，老人容易上当",
    "停车难，电动车乱停乱放",
    "小区门禁形同虚设，外来人员随便进出",
    "电动车飞线充电，存在消防安全隐患",
    "广场舞噪音扰民",
    "学校周边交通拥堵，接送孩子不安全",
    "邻里纠纷调解慢，找不到人管",
    "治安巡逻太少，晚上看不到民警",
    "出租屋群租房管理混乱",
    "占道经营，流动摊贩多",
    "独居老人和留守儿童缺少照顾",
];

/// Suggestions; one leaves a phone number, as people do (taken out before
/// it is stored).
const SUGGESTIONS: [&str; 4] = [
    "加强夜间巡逻",
    "多开展反诈宣传，特别是针对老年人",
    "希望网格员多上门走访",
    "希望派出所多来巡逻，有事可联系我13800138000",
];

fn pick<'a>(s: &mut Stream, table: &[(&'a str, f64)]) -> &'a str {
    let u = s.uniform();
    let mut acc = 0.0;
    for (name, p) in table {
        acc += p;
        if u < acc {
            return name;
        }
    }
    table[table.len() - 1].0
}

/// The survey of the province `opts` describes.
pub fn generate_survey(opts: &Options, s: &SurveyOptions) -> Result<SurveyFiles, Error> {
    validate(opts)?;
    let tree = regions::build(opts.seed, opts.cities, opts.counties, opts.townships);
    let year = year_key(s.year);
    // Township populations aged 16+ and their mood (how well things go).
    let mut pops = Vec::with_capacity(tree.towns.len());
    let mut moods = Vec::with_capacity(tree.towns.len());
    for (t, town) in tree.towns.iter().enumerate() {
        let mut r = Stream::new(&[opts.seed, tag::POPULATION, t as u64]);
        let (lo, hi) = match town.kind {
            TownKind::Subdistrict => (40_000.0, 120_000.0),
            TownKind::Town => (15_000.0, 60_000.0),
            TownKind::Rural => (5_000.0, 20_000.0),
        };
        pops.push(r.range(lo, hi).round() as u64);
        let mut m = Stream::new(&[opts.seed, tag::MOOD, year, t as u64]);
        moods.push(m.range(0.70, 0.95));
    }
    let total: u64 = pops.iter().sum();

    let mut frame = String::from("region,population\n");
    for (town, p) in tree.towns.iter().zip(&pops) {
        let _ = writeln!(frame, "{},{p}", town.code);
    }
    let mut margins = String::from("region,variable,category,population\n");
    for (c, county) in tree.counties.iter().enumerate() {
        let pop: u64 = tree
            .towns
            .iter()
            .zip(&pops)
            .filter(|(t, _)| t.county == c)
            .map(|(_, p)| *p)
            .sum();
        // Each variable's categories add up to the county exactly, or
        // raking could never meet both (it would not converge).
        for (var, table) in [("sex", &SEX[..]), ("age_group", &AGE[..])] {
            let mut left = pop;
            for (k, (name, share)) in table.iter().enumerate() {
                let n = if k + 1 == table.len() {
                    left
                } else {
                    (pop as f64 * share).round() as u64
                };
                left -= n;
                let _ = writeln!(margins, "{},{var},{name},{n}", county.code);
            }
        }
    }

    let mut responses = String::from("instance_id,form_version,region,channel,started,submitted");
    for q in QUESTIONS {
        responses.push(',');
        responses.push_str(q);
    }
    responses.push('\n');
    let age_sample: Vec<(&str, f64)> = AGE.iter().map(|a| a.0).zip(AGE_SAMPLE).collect();
    for (t, town) in tree.towns.iter().enumerate() {
        // Proportional with at least 40 per township: after the invalid
        // answers, about 37 remain, above the estimates' minimum of 30.
        let n = ((s.respondents as f64 * pops[t] as f64 / total as f64).round() as usize).max(40);
        for i in 0..n {
            let mut r = Stream::new(&[opts.seed, tag::RESPONDENT, year, t as u64, i as u64]);
            let line = respondent(&mut r, s.year, &town.code, moods[t], &age_sample, t, i);
            responses.push_str(&line);
            // An ODK resubmission from a flaky phone: the same row again.
            if r.uniform() < 0.005 {
                responses.push_str(&line);
            }
        }
    }
    Ok(SurveyFiles {
        frame,
        margins,
        responses,
    })
}

fn respondent(
    r: &mut Stream,
    year: i32,
    region: &str,
    mood: f64,
    age_sample: &[(&str, f64)],
    t: usize,
    i: usize,
) -> String {
    let channel = pick(
        r,
        &[
            ("online", 0.70),
            ("interview", 0.25),
            ("paper", 0.03),
            ("hotline", 0.02),
        ],
    );
    let month = 10 + r.below(2);
    let day = 1 + r.below(28);
    let (h, m, sec) = (8 + r.below(13), r.below(60), r.below(60));
    let kind = r.uniform();
    // 3 % answer in under a minute; the rest take 1.5–10 minutes.
    let seconds = if kind < 0.03 {
        20 + r.below(35)
    } else {
        90 + r.below(510)
    };
    let start = h * 3600 + m * 60 + sec;
    let end = start + seconds;
    let started = format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00",
        start / 3600,
        start / 60 % 60,
        start % 60
    );
    let submitted = format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00",
        end / 3600,
        end / 60 % 60,
        end % 60
    );

    let sex = pick(r, &SEX);
    let age = pick(r, age_sample);
    let occupation = OCCUPATIONS[r.below(OCCUPATIONS.len())];
    let residence = if r.uniform() < 0.55 { "urban" } else { "rural" };
    let mut years = r.below(60).to_string();
    let dependants = if r.uniform() < 0.45 { "yes" } else { "no" };
    let person = r.gauss(0.0, 0.08);
    let straight = r.uniform() < 0.02;
    let mut scored: Vec<String> = Vec::with_capacity(SCORED.len());
    for _ in SCORED {
        let v = if straight {
            "1".to_string()
        } else if r.uniform() < 0.03 {
            "9".to_string()
        } else {
            let s = mood + person + r.gauss(0.0, 0.10);
            match s {
                s if s > 0.88 => "1",
                s if s > 0.72 => "2",
                s if s > 0.55 => "3",
                s if s > 0.40 => "4",
                _ => "5",
            }
            .to_string()
        };
        scored.push(v);
    }
    // q_elderly_child (index 4) only for households with dependants.
    if dependants == "no" {
        scored[4] = String::new();
    }
    let bad = r.uniform();
    if bad < 0.03 {
        // Incomplete: a required item skipped.
        let k = r.below(4);
        scored[k] = String::new();
    } else if bad < 0.04 {
        // Inconsistent: out of range, or answered where it does not apply.
        if dependants == "no" {
            scored[4] = "2".into();
        } else {
            years = "150".into();
        }
    }
    let problems = if r.uniform() < 0.3 {
        // One draw, as before: the rest of the answers stay as they were.
        let u = r.below(100);
        let county: usize = region
            .bytes()
            .take(6)
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
        PROBLEMS[match u {
            0..45 => county % PROBLEMS.len(),
            45..65 => t % PROBLEMS.len(),
            _ => u % PROBLEMS.len(),
        }]
    } else {
        ""
    };
    let s = r.uniform();
    let suggestions = if s < 0.1 {
        SUGGESTIONS[(s * 400.0) as usize % SUGGESTIONS.len()]
    } else {
        ""
    };
    let mut line = format!(
        "uuid:{t:05x}-{i:06x}-{:08x},1,{region},{channel},{started},{submitted},{sex},{age},{occupation},{residence},{years}",
        (r.uniform() * u32::MAX as f64) as u32
    );
    for (k, v) in scored.iter().enumerate() {
        if k == 4 {
            // q_dependants comes before q_elderly_child in the form.
            line.push(',');
            line.push_str(dependants);
        }
        line.push(',');
        line.push_str(v);
    }
    let _ = write!(line, ",{problems},{suggestions}");
    line.push('\n');
    line
}
